"""Bulk edits over the API: a draft with the count, the caller's rights per account, confirmation, progress."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AccountStatus, Activity, ActivityKind, BulkEdit, BulkEditStatus
from accounts.services import bulk_edits
from churnapp.apikeys import api_key_create
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/bulk-edits/"


def _post(client, body: dict, url: str = URL):
    return client.post(url, body, content_type="application/json")


def _status_audits(account) -> list[Activity]:
    return list(Activity.objects.filter(account=account, kind=ActivityKind.CHANGE, details__field="status"))


def test_a_manager_edits_every_account_matching_filters_after_seeing_the_count(client, manager):
    at_risk = AccountFactory.create_batch(3, status=AccountStatus.AT_RISK)
    active = AccountFactory(status=AccountStatus.ACTIVE)
    client.force_login(manager)

    response = _post(client, {"action": "tag_add", "value": "save-desk", "filters": {"status": "at_risk"}})
    assert response.status_code == 201, response.content
    draft = response.json()
    assert (draft["status"], draft["total"], draft["scope"], draft["query"]) == (
        "draft",
        3,
        "matching",
        "status=at_risk",
    )
    assert not any(a.tags.exists() for a in at_risk)  # a draft changes nothing

    done = _post(client, {}, f"{URL}{draft['id']}/confirm/").json()
    assert (done["status"], done["changed"], done["unchanged"]) == ("done", 3, 0)
    assert all(list(a.tags.values_list("name", flat=True)) == ["save-desk"] for a in at_risk)
    assert not active.tags.exists()
    assert client.get(f"{URL}{draft['id']}/").json()["processed"] == 3


def test_a_csm_changes_only_their_own_accounts_and_the_answer_counts_the_others(
    client, csm, own_account, other_account
):
    client.force_login(csm)
    body = {"action": "status", "value": "at_risk", "accounts": [own_account.pk, other_account.pk], "confirm": True}
    response = _post(client, body)
    assert response.status_code == 201, response.content
    job = response.json()
    assert (job["status"], job["total"], job["not_editable_count"], job["changed"]) == ("done", 1, 1, 1)
    own_account.refresh_from_db()
    other_account.refresh_from_db()
    assert (own_account.status, other_account.status) == (AccountStatus.AT_RISK, AccountStatus.ACTIVE)
    [entry] = _status_audits(own_account)
    assert entry.author == csm and not _status_audits(other_account)


def test_a_csm_cannot_assign_owners_in_bulk_and_sees_only_their_own_edits(client, csm, manager, own_account):
    client.force_login(csm)
    response = _post(client, {"action": "owner", "value": str(csm.pk), "accounts": [own_account.pk]})
    assert response.status_code == 403
    assert "cannot assign owner in bulk" in response.json()["detail"]
    mine = _post(client, {"action": "tag_add", "value": "vip", "accounts": [own_account.pk]}).json()
    theirs = BulkEdit.objects.create(action="tag_add", params={"value": "x"}, summary="x", created_by=manager)
    assert [j["id"] for j in client.get(URL).json()["results"]] == [mine["id"]]
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    client.force_login(manager)
    refused = client.post(f"{URL}{mine['id']}/confirm/")
    assert (refused.status_code, refused.json()["detail"]) == (
        403,
        "Only the person who prepared this bulk edit can confirm it.",
    )
    assert client.post(f"{URL}{mine['id']}/cancel/").json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"action": "status", "value": "at_risk"}, "non_field_errors", "Give either `accounts` or `filters`."),
        ({"action": "status", "value": "at_risk", "accounts": [1], "filters": {}}, "non_field_errors", "either"),
        ({"action": "explode", "value": "x", "accounts": [1]}, "action", "not a valid choice"),
        ({"action": "status", "value": "on_fire", "accounts": ["{own}"]}, "non_field_errors", "valid value"),
        ({"action": "tag_add", "value": "", "accounts": ["{own}"]}, "non_field_errors", "needs a value"),
        ({"action": "status", "value": "churned", "filters": {"status": "on_fire"}}, "filters", "valid choice"),
        ({"action": "status", "value": "churned", "accounts": [999999]}, "non_field_errors", "at least one"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_nothing_prepared(client, manager, body, field, message):
    own = AccountFactory()
    client.force_login(manager)
    if body.get("accounts") == ["{own}"]:
        body = {**body, "accounts": [own.pk]}
    response = _post(client, body)
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert not BulkEdit.objects.exists()


def test_api_keys_and_viewers_cannot_make_bulk_edits(client, viewer):
    account = AccountFactory()
    _, secret = api_key_create(name="crm", scopes=["write", "read"])
    body = {"action": "status", "value": "at_risk", "accounts": [account.pk]}
    response = client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403
    assert response.json()["detail"] == "Bulk edits are made by a signed-in person, not by an API key."
    client.force_login(viewer)
    assert _post(client, body).status_code == 403
    assert not BulkEdit.objects.exists()


def test_a_large_edit_runs_in_a_worker_and_the_api_shows_its_progress(
    client, manager, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.BULK_EDIT_INLINE_LIMIT = 3
    monkeypatch.setattr(bulk_edits, "CHUNK", 2)
    accounts = AccountFactory.create_batch(5)
    queued: list[int] = []
    monkeypatch.setattr("accounts.tasks.run_bulk_edit.delay", queued.append)
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        body = {"action": "status", "value": "at_risk", "accounts": [a.pk for a in accounts], "confirm": True}
        job = _post(client, body).json()
    assert (job["status"], job["processed"], queued) == ("queued", 0, [job["id"]])

    from accounts.tasks import run_bulk_edit  # the worker's task, run here as the worker would

    assert run_bulk_edit(job["id"]) == BulkEditStatus.DONE
    progress = client.get(reverse("api:bulk-edit-detail", args=[job["id"]])).json()
    assert (progress["status"], progress["processed"], progress["changed"]) == ("done", 5, 5)
    assert all(len(_status_audits(a)) == 1 for a in accounts)
