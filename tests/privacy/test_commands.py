"""`manage.py erase` prints the plan and asks (or erases at once with --yes); `manage.py export_personal_data`
streams the bundle to a file or standard output; unknown or ambiguous subjects are clear CommandErrors."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Contact
from tests.factories import AccountFactory, ContactFactory
from tests.privacy.planting import EMAIL, NAME, PERSON_MARKERS, tables_mentioning

pytestmark = pytest.mark.django_db


def _run(*args, answer: str | None = None, monkeypatch=None) -> str:
    if monkeypatch is not None:
        monkeypatch.setattr("builtins.input", lambda prompt: answer)
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_erase_contact_by_email_with_yes(planted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out = _run("erase", "contact", EMAIL, "--yes")
    assert "accounts.UsageEvent" in out and "Kept:" in out and "Erased:" in out
    assert tables_mentioning(PERSON_MARKERS) == {}
    assert planted.account.activities.get(subject="Personal data erased").details["door"] == "command"


def test_erase_asks_and_a_no_erases_nothing(planted, monkeypatch):
    with pytest.raises(CommandError, match="Nothing erased"):
        _run("erase", "contact", str(planted.contact.pk), answer="n", monkeypatch=monkeypatch)
    planted.contact.refresh_from_db()
    assert planted.contact.name == NAME


def test_erase_asks_and_a_yes_erases(planted, monkeypatch):
    out = _run("erase", "contact", str(planted.contact.pk), answer="y", monkeypatch=monkeypatch)
    assert "Erased:" in out
    assert Contact.objects.get(pk=planted.contact.pk).email == ""


def test_erase_without_a_terminal_erases_nothing(planted, monkeypatch):
    def no_input(prompt):
        raise EOFError

    monkeypatch.setattr("builtins.input", no_input)
    with pytest.raises(CommandError, match="Nothing erased"):
        call_command("erase", "account", planted.account.external_id, stdout=io.StringIO())


def test_erase_account_by_external_id_and_by_id():
    first, second = AccountFactory(external_id="crm-1"), AccountFactory()
    _run("erase", "account", "crm-1", "--yes")
    _run("erase", "account", str(second.pk), "--yes")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.external_id, second.external_id) == (f"erased-{first.pk}", f"erased-{second.pk}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("contact", "999999"), "No contact with id or email '999999'"),
        (("contact", "nobody@example.test"), "No contact"),
        (("account", "no-such-account"), "No account with id or external id 'no-such-account'"),
        (("account", "999999"), "No account"),
    ],
)
def test_unknown_subjects_are_command_errors(args, message):
    with pytest.raises(CommandError, match=message):
        _run("erase", *args, "--yes")
    with pytest.raises(CommandError, match=message):
        _run("export_personal_data", *args)


def test_an_email_of_several_contacts_must_be_named_by_id():
    one, two = ContactFactory(email="twice@example.test"), ContactFactory(email="twice@example.test")
    with pytest.raises(CommandError, match=rf"2 contacts .*{one.pk} .*{two.pk} "):
        _run("erase", "contact", "TWICE@example.test", "--yes")


def test_export_to_standard_output_and_to_a_file(planted, tmp_path):
    bundle = json.loads(_run("export_personal_data", "contact", EMAIL))
    assert bundle["subject"]["id"] == planted.contact.pk
    target = tmp_path / "bundle.json"
    _run("export_personal_data", "account", str(planted.account.pk), "--output", str(target))
    assert json.loads(target.read_text())["subject"] == {
        "kind": "account", "id": planted.account.pk, "account": planted.account.pk,
    }  # fmt: skip
