"""The export bundle: one JSON document of everything held about a subject, streamed piece by piece (an account may
have millions of events; no part of the bundle is ever held whole).

    {"generated_at": "…", "subject": {"kind": "contact", "id": 7, "account": 3},
     "places": ["accounts.Contact", …],
     "data": {"accounts.Contact": [{…row…}], "accounts.UsageEvent": [{…}, …], …,
              "accounts.ImportJob.file": [{"import_job": 4, "file": "imports/…", "row": {…}}]}}

Rows are every stored field of the rows `privacy.targets` finds (what an erasure would scrub is exactly what is
exported), plus what is held about the subject without being personal data (an account's subscriptions, every survey
invitation sent, not only the open ones an erasure expires).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Subscription
from privacy.files import finished_jobs, matching_rows, unfinished_jobs
from privacy.places import FILES, PERSONAL_DATA_PLACES
from privacy.subjects import ACCOUNT, Subject
from privacy.targets import targets_of
from winback.models import SurveyInvitation

BATCH = 1000
INVITATIONS = "winback.SurveyInvitation"


def _dumps(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def _rows(querysets: list[QuerySet]) -> Iterator[dict]:
    for rows in querysets:
        yield from rows.order_by().values().iterator(chunk_size=BATCH)


def _file_rows(subject: Subject) -> Iterator[dict]:
    for jobs in (finished_jobs(), unfinished_jobs()):
        for job in jobs:
            for row in matching_rows(job, subject):
                yield {"import_job": job.pk, "file": job.file.name, "row": row}


def _sections(subject: Subject) -> list[tuple[str, Iterable[dict]]]:
    by_place: dict[str, list[QuerySet]] = {place.key: [] for place in PERSONAL_DATA_PLACES}
    for target in targets_of(subject):
        by_place[target.place].append(target.rows)
    # Every invitation sent to them, not only the open ones an erasure expires.
    by_place[INVITATIONS] = [SurveyInvitation.objects.filter(contact_id__in=subject.contact_ids)]
    sections: list[tuple[str, Iterable[dict]]] = [
        (key, _file_rows(subject) if key == FILES else _rows(querysets)) for key, querysets in by_place.items()
    ]
    if subject.kind == ACCOUNT:
        sections.append(("accounts.Subscription", _rows([Subscription.objects.filter(account=subject.account)])))
    return sections


def _array(rows: Iterable[dict]) -> Iterator[str]:
    yield "["
    batch: list[str] = []
    written = 0
    for row in rows:
        batch.append(_dumps(row))
        if len(batch) == BATCH:
            yield ("," if written else "") + ",\n".join(batch)
            written += len(batch)
            batch = []
    if batch:
        yield ("," if written else "") + ",\n".join(batch)
    yield "]"


def export_chunks(subject: Subject) -> Iterator[str]:
    """The bundle as text chunks, for a streamed download or a file."""
    sections = _sections(subject)
    head = {
        "generated_at": timezone.now(),
        "subject": {"kind": subject.kind, "id": subject.pk, "account": subject.account.pk},
        "places": [key for key, _ in sections],
    }
    yield _dumps(head)[:-1] + ', "data": {'
    for index, (key, rows) in enumerate(sections):
        yield ("," if index else "") + "\n" + _dumps(key) + ": "
        yield from _array(rows)
    yield "}}\n"


def export_filename(subject: Subject) -> str:
    return f"personal-data-{subject.kind}-{subject.pk}-{timezone.localdate():%Y%m%d}.json"
