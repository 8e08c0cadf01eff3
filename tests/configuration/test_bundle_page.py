"""The configuration page for admins: download, upload → plan → confirm → applied; and the command line."""

from __future__ import annotations

import copy
import io

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from automations.models import Rule
from configuration import bundle
from tests.configuration.bundle_world import demo_configuration

pytestmark = pytest.mark.django_db
PAGE = "/settings/configuration/"


@pytest.fixture
def exported():
    demo_configuration()
    return bundle.export_bundle()


def _edited(exported: dict) -> tuple[dict, str]:
    data = copy.deepcopy(exported)
    data["rules"][0]["cooldown_days"] = 45
    return data, data["rules"][0]["key"]


def test_admin_downloads_uploads_sees_the_plan_and_applies(client, admin_user, exported):
    client.force_login(admin_user)
    page = client.get(PAGE)
    assert page.status_code == 200 and b'data-testid="bundle-upload"' in page.content
    download = client.get(PAGE + "download/")
    assert download["Content-Disposition"].startswith('attachment; filename="churnapp-configuration-')
    assert yaml.safe_load(download.content) == exported

    data, key = _edited(exported)
    upload = SimpleUploadedFile("churnapp.yaml", bundle.dump(data).encode(), content_type="application/yaml")
    planned = client.post(PAGE + "plan/", {"file": upload})
    assert planned.status_code == 200
    html = planned.content.decode()
    assert f"<code>{key}</code>" in html and "<code>cooldown_days</code>" in html and "<code>45</code>" in html
    assert Rule.objects.get(key=key).cooldown_days != 45
    confirm = planned.context["confirm"]

    applied = client.post(PAGE + "apply/", {"text": confirm["text"].value(), "prune": ""})
    assert applied.status_code == 200 and b'data-testid="bundle-applied"' in applied.content
    assert Rule.objects.get(key=key).cooldown_days == 45
    entry = AuditEntry.objects.filter(object_type="automations.rule").latest("id")
    assert (entry.door, entry.actor_label) == ("ui", "admin")

    again = client.post(PAGE + "plan/", {"text": bundle.dump(data)})
    assert b'data-testid="bundle-plan-empty"' in again.content


def test_a_bad_upload_shows_the_message_and_changes_nothing(client, admin_user, exported):
    client.force_login(admin_user)
    data = copy.deepcopy(exported)
    data["playbooks"][0]["steps"] = [{"kind": "email", "config": {"template": "gone"}}]
    response = client.post(PAGE + "plan/", {"text": bundle.dump(data)})
    assert response.status_code == 400
    assert "no email template &#x27;gone&#x27;" in response.content.decode()
    assert client.post(PAGE + "plan/", {"text": "  "}).status_code == 400
    assert client.post(PAGE + "apply/", {"text": "rules: [\n"}).status_code == 400
    assert bundle.export_bundle() == exported


@pytest.mark.parametrize("who", ["manager", "csm"])
def test_managers_and_csms_get_403(client, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(PAGE).status_code == 403
    assert client.get(PAGE + "download/").status_code == 403
    assert client.post(PAGE + "plan/", {"text": "version: 1\n"}).status_code == 403
    assert client.post(PAGE + "apply/", {"text": "version: 1\n"}).status_code == 403


def test_the_command_exports_plans_and_applies(exported, tmp_path):
    path = tmp_path / "churnapp.yaml"
    call_command("config", "export", "--output", str(path), stdout=io.StringIO())
    assert yaml.safe_load(path.read_text()) == exported
    stdout = io.StringIO()
    call_command("config", "export", stdout=stdout)
    assert yaml.safe_load(stdout.getvalue()) == exported

    data, key = _edited(exported)
    path.write_text(bundle.dump(data))
    planned = io.StringIO()
    call_command("config", "apply", str(path), "--plan", stdout=planned)
    old = exported["rules"][0]["cooldown_days"]
    assert planned.getvalue() == (
        f"~ change rules {key}\n    cooldown_days: {old} → 45\nPlan: 0 to create, 1 to change, 0 to delete.\n"
    )
    assert Rule.objects.get(key=key).cooldown_days == old

    applied = io.StringIO()
    call_command("config", "apply", str(path), stdout=applied)
    assert applied.getvalue().endswith("Applied: 0 created, 1 changed, 0 deleted.\n")
    assert Rule.objects.get(key=key).cooldown_days == 45
    assert AuditEntry.objects.filter(object_type="automations.rule").latest("id").door == "command"
    again = io.StringIO()
    call_command("config", "apply", str(path), stdout=again)
    assert again.getvalue() == "No changes: the configuration already matches the bundle.\n"


def test_the_command_reports_a_bad_file(exported, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nrules:\n- key: x\n  name: X\n  conditions: {}\n  actions: []\n")
    with pytest.raises(CommandError, match=r"rules\[0\]\.actions: \[\] should be non-empty"):
        call_command("config", "apply", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("config", "apply", str(tmp_path / "missing.yaml"))
