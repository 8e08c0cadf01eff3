"""Bulk edits on the accounts list: ask, confirm with the count, run (in the request or a worker), audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountStatus, Activity, ActivityKind, BulkEdit, BulkEditStatus, LifecycleStage
from accounts.services import bulk_edits
from automations.models import Enrolment, Playbook, PlaybookStep
from tests.factories import AccountFactory, TagFactory

pytestmark = pytest.mark.django_db


def _ask(client, *, action: str, scope: str = "selected", accounts=(), query: str = "", **fields):
    data = {"action": action, "scope": scope, "query": query, "accounts": [a.pk for a in accounts], **fields}
    return client.post(reverse("bulk-edit-create"), data)


def _draft(response) -> BulkEdit:
    assert response.status_code == 302, response.content
    job = BulkEdit.objects.get()
    assert response.url == reverse("bulk-edit-detail", args=[job.pk])
    return job


def _confirm(client, job: BulkEdit):
    return client.post(reverse("bulk-edit-confirm", args=[job.pk]))


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _audit(account, field: str) -> list[Activity]:
    return list(Activity.objects.filter(account=account, kind=ActivityKind.CHANGE, details__field=field))


class TestSelected:
    def test_manager_sets_the_status_of_three_ticked_accounts_after_seeing_the_count(self, client, manager):
        chosen = AccountFactory.create_batch(3)
        left = AccountFactory()
        client.force_login(manager)
        job = _draft(_ask(client, action="status", accounts=chosen, value_status="at_risk"))
        assert job.total == 3 and job.status == BulkEditStatus.DRAFT
        # Asking changes nothing: the confirmation page shows the count first.
        assert not AccountFactory._meta.model.objects.filter(status=AccountStatus.AT_RISK).exists()
        page = client.get(reverse("bulk-edit-detail", args=[job.pk])).content.decode()
        assert "3 accounts</strong> will be changed: Set status: At risk" in page
        assert "Change 3 accounts" in page

        response = _confirm(client, job)
        assert response.url == reverse("account-list")
        assert _messages(response) == ["Set status: At risk — changed 3 accounts."]
        for account in chosen:
            account.refresh_from_db()
            assert account.status == AccountStatus.AT_RISK
            [entry] = _audit(account, "status")
            assert entry.author == manager and entry.details["new"] == "At risk"
        left.refresh_from_db()
        assert left.status == AccountStatus.ACTIVE and not _audit(left, "status")
        job.refresh_from_db()
        assert (job.status, job.processed, job.changed, job.unchanged) == (BulkEditStatus.DONE, 3, 3, 0)

    def test_accounts_already_so_are_counted_not_audited(self, client, manager):
        already = AccountFactory(lifecycle_stage=LifecycleStage.RENEWAL)
        moving = AccountFactory(lifecycle_stage=LifecycleStage.ADOPTED)
        client.force_login(manager)
        job = _draft(_ask(client, action="stage", accounts=[already, moving], value_stage="renewal"))
        response = _confirm(client, job)
        assert _messages(response) == ["Set lifecycle stage: Renewal — changed 1 account; 1 already so."]
        assert not _audit(already, "lifecycle_stage") and len(_audit(moving, "lifecycle_stage")) == 1

    def test_tags_are_added_and_removed_with_an_entry_on_each_account_that_changes(self, client, manager):
        vip = TagFactory(name="vip")
        tagged, plain = AccountFactory(tags=[vip]), AccountFactory()
        client.force_login(manager)
        _confirm(client, _draft(_ask(client, action="tag_add", accounts=[tagged, plain], value_text=" vip ")))
        assert set(plain.tags.values_list("name", flat=True)) == {"vip"}
        assert [e.subject for e in _audit(plain, "tags")] == ["Tag “vip” added"]
        assert not _audit(tagged, "tags")
        BulkEdit.objects.all().delete()
        _confirm(client, _draft(_ask(client, action="tag_remove", accounts=[tagged, plain], value_text="vip")))
        assert not tagged.tags.exists() and not plain.tags.exists()
        assert [e.subject for e in _audit(tagged, "tags")] == ["Tag “vip” removed"]

    def test_a_custom_attribute_is_set_merged_and_removed(self, client, manager):
        account = AccountFactory(custom_attributes={"region": "US", "tier": "gold"})
        client.force_login(manager)
        _confirm(client, _draft(_ask(client, action="attribute", accounts=[account], key="region", value_text="EMEA")))
        account.refresh_from_db()
        assert account.custom_attributes == {"region": "EMEA", "tier": "gold"}
        [entry] = _audit(account, "attribute region")
        assert (entry.details["old"], entry.details["new"]) == ("US", "EMEA")
        BulkEdit.objects.all().delete()
        _confirm(client, _draft(_ask(client, action="attribute", accounts=[account], key="region", value_text="")))
        account.refresh_from_db()
        assert account.custom_attributes == {"tier": "gold"}

    def test_owner_is_reassigned_by_a_manager(self, client, manager, csm):
        accounts = AccountFactory.create_batch(2, owner=None)
        client.force_login(manager)
        _confirm(client, _draft(_ask(client, action="owner", accounts=accounts, value_owner=str(csm.pk))))
        assert set(csm.owned_accounts.all()) == set(accounts)
        assert all(len(_audit(a, "owner")) == 1 for a in accounts)

    def test_a_viewer_is_never_offered_as_an_owner(self, client, manager, csm, viewer):
        offered = dict(next(a for a in bulk_edits.actions() if a.key == "owner").choices())
        assert str(csm.pk) in offered and str(viewer.pk) not in offered
        account = AccountFactory(owner=None)
        client.force_login(manager)
        response = _ask(client, action="owner", accounts=[account], value_owner=str(viewer.pk))
        assert _messages(response) == ["Choose a valid value for “Assign owner”."]
        assert not BulkEdit.objects.exists()

    def test_enrol_in_a_playbook_once_with_an_audit_entry(self, client, manager):
        playbook = Playbook.objects.create(key="rescue", name="Rescue", holdout_percent=0)
        PlaybookStep.objects.create(playbook=playbook, order=1, kind="task", config={"title": "Rescue call"})
        accounts = AccountFactory.create_batch(2)
        client.force_login(manager)
        _confirm(client, _draft(_ask(client, action="playbook", accounts=accounts, value_playbook="rescue")))
        BulkEdit.objects.all().delete()
        _confirm(client, _draft(_ask(client, action="playbook", accounts=accounts, value_playbook="rescue")))
        assert Enrolment.objects.filter(playbook=playbook).count() == 2
        assert {e.source for e in Enrolment.objects.all()} == {f"user:{manager.pk}"}
        for account in accounts:
            assert [e.subject for e in _audit(account, "playbook")] == ["Enrolled in playbook “Rescue”"]


class TestAllMatching:
    def test_every_account_matching_the_filters_changes_and_no_other(self, client, manager):
        vip = TagFactory(name="vip")
        matching = [AccountFactory(status=AccountStatus.AT_RISK, tags=[vip]) for _ in range(4)]
        other_status = AccountFactory(status=AccountStatus.ACTIVE, tags=[vip])
        untagged = AccountFactory(status=AccountStatus.AT_RISK)
        client.force_login(manager)
        page = client.get(reverse("account-list") + "?status=at_risk&tag=vip").content.decode()
        assert "Apply to all 4 matching" in page
        job = _draft(_ask(client, action="tag_add", scope="matching", query="status=at_risk&tag=vip", value_text="q3"))
        assert job.total == 4 and job.scope == "matching"
        response = _confirm(client, job)
        assert response.url == reverse("account-list") + "?status=at_risk&tag=vip"
        assert all(a.tags.filter(name="q3").exists() for a in matching)
        assert not other_status.tags.filter(name="q3").exists() and not untagged.tags.filter(name="q3").exists()

    def test_invalid_filters_edit_nothing(self, client, manager):
        AccountFactory()
        client.force_login(manager)
        response = _ask(client, action="status", scope="matching", query="mrr_min=abc", value_status="churned")
        assert response.status_code == 302 and not BulkEdit.objects.exists()
        assert "filters are not valid" in _messages(response)[0]


class TestRoles:
    def test_a_csm_changes_only_their_own_accounts_and_is_told_about_the_others(
        self, client, csm, own_account, other_account
    ):
        client.force_login(csm)
        job = _draft(_ask(client, action="status", scope="matching", query="", value_status="at_risk"))
        assert (job.total, job.not_editable_count) == (1, 1)
        page = client.get(reverse("bulk-edit-detail", args=[job.pk])).content.decode()
        assert "1 of the chosen accounts belongs to another CSM and stays as it is." in page
        _confirm(client, job)
        own_account.refresh_from_db(), other_account.refresh_from_db()
        assert own_account.status == AccountStatus.AT_RISK and other_account.status == AccountStatus.ACTIVE

    def test_an_account_reassigned_after_the_confirmation_is_left_alone(self, client, csm, own_account, teammate):
        client.force_login(csm)
        job = _draft(_ask(client, action="status", accounts=[own_account], value_status="at_risk"))
        own_account.owner = teammate
        own_account.save()
        _confirm(client, job)
        own_account.refresh_from_db()
        assert own_account.status == AccountStatus.ACTIVE
        job.refresh_from_db()
        assert (job.changed, job.unchanged) == (0, 1)

    def test_a_csm_cannot_reassign_owners_in_bulk(self, client, csm, own_account, teammate):
        client.force_login(csm)
        assert "Assign owner" not in client.get(reverse("account-list")).content.decode()
        response = _ask(client, action="owner", accounts=[own_account], value_owner=str(teammate.pk))
        assert response.status_code == 403 and not BulkEdit.objects.exists()

    def test_a_viewer_cannot_bulk_edit(self, client, viewer, own_account):
        client.force_login(viewer)
        assert "Bulk edit" not in client.get(reverse("account-list")).content.decode()
        assert _ask(client, action="status", accounts=[own_account], value_status="churned").status_code == 403

    def test_only_the_asker_confirms_and_another_csm_cannot_see_the_draft(
        self, client, csm, teammate, manager, own_account
    ):
        client.force_login(csm)
        job = _draft(_ask(client, action="status", accounts=[own_account], value_status="at_risk"))
        client.force_login(teammate)
        assert client.get(reverse("bulk-edit-detail", args=[job.pk])).status_code == 403
        assert _confirm(client, job).status_code == 403
        client.force_login(manager)
        assert client.get(reverse("bulk-edit-detail", args=[job.pk])).status_code == 200
        assert _confirm(client, job).status_code == 403
        job.refresh_from_db()
        assert job.status == BulkEditStatus.DRAFT


class TestBadInput:
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"action": "explode"}, "Choose what to change."),
            ({"action": "status", "value_status": "gone"}, "Choose a valid value for “Set status”."),
            ({"action": "tag_add", "value_text": "  "}, "“Add tag” needs a value."),
            ({"action": "attribute", "value_text": "x"}, "Name the custom attribute to set."),
            ({"action": "tag_add", "value_text": "x" * 101}, "Keep the value under 100 characters"),
            ({"action": "tag_add", "value_text": "v\x00ip"}, "cannot contain a NUL character"),
            ({"action": "attribute", "key": "re\x00gion", "value_text": "EMEA"}, "cannot contain a NUL character"),
        ],
    )
    def test_a_bad_request_says_why_and_prepares_nothing(self, client, manager, fields, message):
        account = AccountFactory()
        client.force_login(manager)
        response = _ask(client, accounts=[account], **fields)
        assert response.status_code == 302 and message in _messages(response)[0]
        assert not BulkEdit.objects.exists()

    def test_nothing_selected(self, client, manager):
        client.force_login(manager)
        response = _ask(client, action="status", accounts=[], value_status="at_risk")
        assert _messages(response) == ["Select at least one account."]

    def test_confirming_twice_runs_once(self, client, manager):
        account = AccountFactory()
        client.force_login(manager)
        job = _draft(_ask(client, action="tag_add", accounts=[account], value_text="vip"))
        _confirm(client, job)
        response = _confirm(client, job)
        assert _messages(response)[-1] == "This bulk edit was already confirmed or cancelled."
        assert len(_audit(account, "tags")) == 1

    def test_a_cancelled_draft_changes_nothing(self, client, manager):
        account = AccountFactory()
        client.force_login(manager)
        job = _draft(_ask(client, action="status", accounts=[account], value_status="churned"))
        response = client.post(reverse("bulk-edit-cancel", args=[job.pk]))
        assert _messages(response) == ["Bulk edit cancelled: nothing changed."]
        assert _confirm(client, job).status_code == 302
        account.refresh_from_db()
        assert account.status == AccountStatus.ACTIVE


class TestLargeEditsInAWorker:
    @pytest.fixture
    def small_chunks(self, settings, monkeypatch):
        settings.BULK_EDIT_INLINE_LIMIT = 3
        monkeypatch.setattr(bulk_edits, "CHUNK", 2)

    def test_a_large_edit_is_queued_and_shows_its_progress(
        self, client, manager, small_chunks, monkeypatch, django_capture_on_commit_callbacks
    ):
        accounts = AccountFactory.create_batch(5)
        client.force_login(manager)
        job = _draft(_ask(client, action="status", accounts=accounts, value_status="at_risk"))
        queued: list[int] = []
        monkeypatch.setattr("accounts.tasks.run_bulk_edit.delay", queued.append)
        with django_capture_on_commit_callbacks(execute=True):
            response = _confirm(client, job)
        assert response.url == reverse("bulk-edit-detail", args=[job.pk]) and queued == [job.pk]
        job.refresh_from_db()
        assert job.status == BulkEditStatus.QUEUED
        partial = client.get(reverse("bulk-edit-detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
        assert 'hx-trigger="every 1s"' in partial and "0 / 5 accounts" in partial

        from accounts.tasks import run_bulk_edit

        assert run_bulk_edit(job.pk) == BulkEditStatus.DONE
        partial = client.get(reverse("bulk-edit-detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
        assert "every 1s" not in partial and "5 / 5 accounts" in partial
        assert all(len(_audit(a, "status")) == 1 for a in accounts)

    def test_a_worker_that_died_mid_run_resumes_without_doing_a_chunk_twice(self, manager, small_chunks):
        accounts = AccountFactory.create_batch(5)
        job = bulk_edits.bulk_edit_prepare(
            actor=manager, action="tag_add", value="vip", scope="selected", query="",
            accounts=AccountFactory._meta.model.objects.all(),
        )  # fmt: skip
        BulkEdit.objects.filter(pk=job.pk).update(status=BulkEditStatus.QUEUED)
        assert bulk_edits._run_chunk(job.pk)  # the first chunk, then the worker "dies"
        job = bulk_edits.bulk_edit_run(job_id=job.pk)  # the redelivered task
        assert (job.status, job.processed, job.changed) == (BulkEditStatus.DONE, 5, 5)
        assert all(len(_audit(a, "tags")) == 1 for a in accounts)

    def test_a_failing_chunk_rolls_back_whole_and_the_job_says_how_far_it_got(self, manager, small_chunks, monkeypatch):
        accounts = AccountFactory.create_batch(5)
        job = bulk_edits.bulk_edit_prepare(
            actor=manager, action="status", value="at_risk", scope="selected", query="",
            accounts=AccountFactory._meta.model.objects.all(),
        )  # fmt: skip
        BulkEdit.objects.filter(pk=job.pk).update(status=BulkEditStatus.QUEUED)
        calls = {"n": 0}
        real = bulk_edits.accounts_set_status_bulk

        def flaky(**kwargs):
            calls["n"] += 1
            changed = real(**kwargs)
            if calls["n"] == 2:
                raise RuntimeError("disk full")
            return changed

        monkeypatch.setattr(bulk_edits, "accounts_set_status_bulk", flaky)
        job = bulk_edits.bulk_edit_run(job_id=job.pk)
        assert job.status == BulkEditStatus.FAILED and "disk full" in job.error
        assert job.processed == 2
        statuses = [a.status for a in AccountFactory._meta.model.objects.order_by("pk")]
        assert statuses == ["at_risk", "at_risk", "active", "active", "active"]
        assert Activity.objects.filter(kind=ActivityKind.CHANGE).count() == 2
        assert len(accounts) == 5

    def test_a_stopped_edit_ends_after_its_current_chunk(self, manager, small_chunks):
        AccountFactory.create_batch(5)
        job = bulk_edits.bulk_edit_prepare(
            actor=manager, action="tag_add", value="vip", scope="selected", query="",
            accounts=AccountFactory._meta.model.objects.all(),
        )  # fmt: skip
        BulkEdit.objects.filter(pk=job.pk).update(status=BulkEditStatus.QUEUED)
        assert bulk_edits._run_chunk(job.pk)
        bulk_edits.bulk_edit_cancel(job=job, actor=manager)
        job = bulk_edits.bulk_edit_run(job_id=job.pk)
        assert (job.status, job.processed, job.changed) == (BulkEditStatus.CANCELLED, 2, 2)


class TestRecovery:
    def _queued(self, manager, **fields) -> BulkEdit:
        account = AccountFactory()
        job = bulk_edits.bulk_edit_prepare(
            actor=manager, action="tag_add", value="vip", scope="selected", query="",
            accounts=AccountFactory._meta.model.objects.filter(pk=account.pk),
        )  # fmt: skip
        BulkEdit.objects.filter(pk=job.pk).update(status=BulkEditStatus.QUEUED, **fields)
        return job

    def test_an_edit_whose_message_was_lost_is_queued_again_and_finishes(
        self, manager, monkeypatch, django_capture_on_commit_callbacks
    ):
        stale = self._queued(manager, heartbeat_at=timezone.now() - dt.timedelta(minutes=11))
        fresh = self._queued(manager, heartbeat_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            assert bulk_edits.bulk_edits_recover() == {"requeued": 1, "failed": 0}
        stale.refresh_from_db(), fresh.refresh_from_db()
        assert stale.status == BulkEditStatus.DONE and stale.changed == 1
        assert fresh.status == BulkEditStatus.QUEUED

    def test_an_edit_that_killed_its_worker_three_times_fails_with_the_reason(self, manager):
        job = self._queued(manager, heartbeat_at=timezone.now() - dt.timedelta(hours=1), attempts=3)
        assert bulk_edits.bulk_edits_recover() == {"requeued": 0, "failed": 1}
        job.refresh_from_db()
        assert job.status == BulkEditStatus.FAILED and "died each time" in job.error
