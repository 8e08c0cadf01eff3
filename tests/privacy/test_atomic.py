"""An erasure is all or nothing: a failure at any point leaves every table and every import file as it was."""

from __future__ import annotations

import pytest

from privacy.files import TEMP_SUFFIX, FileRewrites
from privacy.services import erase_contact
from privacy.services import erasure as erasure_module
from tests.privacy.planting import PERSON_MARKERS, files_mentioning, tables_mentioning

pytestmark = pytest.mark.django_db


class Boom(RuntimeError):
    pass


def _snapshot(media) -> tuple[dict, dict, dict]:
    files = {str(p): p.read_bytes() for p in sorted(media.rglob("*")) if p.is_file()}
    return tables_mentioning(PERSON_MARKERS), files_mentioning(media, PERSON_MARKERS), files


@pytest.mark.parametrize("failing_place", ["accounts.Task", "messaging.Notification", "accounts.Contact"])
def test_a_failure_midway_changes_nothing(planted, media, admin_user, monkeypatch, failing_place):
    before = _snapshot(media)
    apply = erasure_module._apply

    def failing(target):
        if target.place == failing_place:
            raise Boom(failing_place)
        return apply(target)

    monkeypatch.setattr(erasure_module, "_apply", failing)
    with pytest.raises(Boom):
        erase_contact(contact=planted.contact, actor=admin_user, door="ui")
    assert _snapshot(media) == before
    planted.contact.refresh_from_db()
    assert planted.contact.email.startswith("zq-marker")


def test_a_failure_after_the_files_were_prepared_leaves_no_trace(planted, media, admin_user, monkeypatch):
    before = _snapshot(media)

    def failing_record(*args, **kwargs):
        raise Boom("record")

    monkeypatch.setattr(erasure_module, "_record", failing_record)
    with pytest.raises(Boom):
        erase_contact(contact=planted.contact, actor=admin_user, door="ui")
    assert _snapshot(media) == before
    assert not [p for p in media.rglob(f"*{TEMP_SUFFIX}")]


def test_the_files_change_only_once_the_transaction_commits(
    planted, media, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        erase_contact(contact=planted.contact, actor=admin_user, door="ui")
    assert files_mentioning(media, PERSON_MARKERS)  # not swapped in yet
    assert len(list(media.rglob(f"*{TEMP_SUFFIX}"))) == 2
    for callback in callbacks:
        callback()
    assert files_mentioning(media, PERSON_MARKERS) == {}
    assert not list(media.rglob(f"*{TEMP_SUFFIX}"))


def test_discard_forgets_prepared_files(tmp_path):
    rewrites = FileRewrites()
    temp = tmp_path / f"a.csv{TEMP_SUFFIX}"
    temp.write_text("x")
    rewrites.prepared.append((temp, tmp_path / "a.csv"))
    rewrites.discard()
    assert not temp.exists() and rewrites.prepared == []
