"""What an erasure would change, place by place: the confirmation page and `manage.py erase` show it first."""

from __future__ import annotations

from dataclasses import dataclass

from privacy.files import finished_jobs, mentions_subject
from privacy.places import FILES, PERSONAL_DATA_PLACES, Place
from privacy.subjects import Subject
from privacy.targets import targets_of


@dataclass(frozen=True)
class PlanRow:
    place: Place
    count: int  # rows (files, for the import files) the erasure would scrub


def erasure_plan(subject: Subject) -> list[PlanRow]:
    """Every place of PERSONAL_DATA_PLACES with the number of the subject's rows in it (0 included)."""
    counts = {place.key: 0 for place in PERSONAL_DATA_PLACES}
    for target in targets_of(subject):
        counts[target.place] += target.rows.count()
    counts[FILES] = sum(1 for job in finished_jobs() if mentions_subject(job, subject))
    return [PlanRow(place, counts[place.key]) for place in PERSONAL_DATA_PLACES]
