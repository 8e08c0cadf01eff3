from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountStatus, Activity, ActivityKind, SavedView, Task, TaskStatus
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    SubscriptionFactory,
    SupportTicketFactory,
    SurveyResponseFactory,
    TagFactory,
    TaskFactory,
    UsageEventFactory,
)

pytestmark = pytest.mark.django_db

SECTIONS = ["timeline", "subscriptions", "usage", "tickets", "contacts", "tasks"]


def _read_urls(account) -> list[str]:
    return [
        reverse("home"),
        reverse("account-list"),
        reverse("account-detail", args=[account.pk]),
        *[reverse("account-section", args=[account.pk, s]) for s in SECTIONS],
        reverse("password_change"),
    ]


class TestEveryPageNeedsLogin:
    def test_anonymous_is_sent_to_login(self, client, own_account):
        for url in _read_urls(own_account):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login")), url

    def test_anonymous_cannot_post(self, client, own_account):
        response = client.post(reverse("account-note-create", args=[own_account.pk]), {"body": "x", "kind": "note"})
        assert response.status_code == 302
        assert not Activity.objects.exists()

    def test_api_refuses_anonymous(self, client):
        assert client.get("/api/v1/accounts/").status_code in (401, 403)

    def test_login_page_is_public(self, client):
        assert client.get(reverse("login")).status_code == 200
        assert client.get(reverse("password_reset")).status_code == 200


@pytest.mark.parametrize("role", ["viewer", "csm", "teammate", "manager", "admin_user"])
def test_every_role_reads_every_page(client, request, role, own_account):
    client.force_login(request.getfixturevalue(role))
    for url in _read_urls(own_account):
        assert client.get(url).status_code == 200, url


# Who may write on the CSM's own account: the owner, managers and admins; not a viewer or another CSM.
WRITE_MATRIX = [("csm", True), ("teammate", False), ("viewer", False), ("manager", True), ("admin_user", True)]


@pytest.mark.parametrize(("role", "allowed"), WRITE_MATRIX)
class TestWritePermissions:
    def test_add_note(self, client, request, role, allowed, own_account):
        client.force_login(request.getfixturevalue(role))
        response = client.post(
            reverse("account-note-create", args=[own_account.pk]), {"kind": "note", "body": "Spoke to the champion."}
        )
        assert response.status_code == (302 if allowed else 403)
        assert Activity.objects.filter(kind="note").exists() == allowed

    def test_add_task(self, client, request, role, allowed, own_account):
        client.force_login(request.getfixturevalue(role))
        response = client.post(
            reverse("account-task-create", args=[own_account.pk]), {"title": "QBR prep", "priority": "normal"}
        )
        assert response.status_code == (302 if allowed else 403)
        assert Task.objects.exists() == allowed

    def test_change_status(self, client, request, role, allowed, own_account):
        client.force_login(request.getfixturevalue(role))
        response = client.post(reverse("account-status-change", args=[own_account.pk]), {"status": "at_risk"})
        assert response.status_code == (302 if allowed else 403)
        own_account.refresh_from_db()
        assert (own_account.status == AccountStatus.AT_RISK) == allowed

    def test_change_owner(self, client, request, role, allowed, own_account, teammate):
        client.force_login(request.getfixturevalue(role))
        response = client.post(reverse("account-owner-change", args=[own_account.pk]), {"owner": teammate.pk})
        assert response.status_code == (302 if allowed else 403)
        own_account.refresh_from_db()
        assert (own_account.owner == teammate) == allowed


def test_status_change_writes_an_audit_entry(client, csm, own_account):
    client.force_login(csm)
    client.post(reverse("account-status-change", args=[own_account.pk]), {"status": "at_risk"})
    entry = Activity.objects.get(account=own_account, kind=ActivityKind.CHANGE)
    assert entry.author == csm
    assert entry.details == {"field": "status", "old": "Active", "new": "At risk"}


def test_owner_change_writes_an_audit_entry(client, manager, own_account, teammate):
    client.force_login(manager)
    client.post(reverse("account-owner-change", args=[own_account.pk]), {"owner": teammate.pk})
    entry = Activity.objects.get(account=own_account, kind=ActivityKind.CHANGE)
    assert entry.details["field"] == "owner"
    assert entry.details["new"] == teammate.get_full_name()


class TestBadInput:
    def test_unknown_account_is_404(self, client, csm):
        client.force_login(csm)
        assert client.get(reverse("account-detail", args=[999999])).status_code == 404
        assert client.get(reverse("account-section", args=[999999, "timeline"])).status_code == 404
        assert client.post(reverse("account-note-create", args=[999999]), {"body": "x"}).status_code == 404

    def test_unknown_section_is_404(self, client, csm, own_account):
        client.force_login(csm)
        assert client.get(reverse("account-section", args=[own_account.pk, "nope"])).status_code == 404

    @pytest.mark.parametrize(
        "query",
        [
            "mrr_min=abc",
            "mrr_max=-5",
            "status=bogus",
            "renewal_within=lots",
            "page=banana",
            "page=99999",
            "ordering=;drop",
            "tag=unknown",
            "owner=%00",
            "owner=%C2%B9",
            "segment=xx&band=purple",
        ],
    )
    def test_malformed_list_parameters_never_500(self, client, csm, own_account, query):
        client.force_login(csm)
        response = client.get(f"{reverse('account-list')}?{query}")
        assert response.status_code == 200

    def test_malformed_filter_shows_field_error(self, client, csm, own_account):
        client.force_login(csm)
        response = client.get(reverse("account-list") + "?mrr_min=abc")
        assert b"Enter a number" in response.content

    def test_empty_note_shows_field_error_and_saves_nothing(self, client, csm, own_account):
        client.force_login(csm)
        response = client.post(
            reverse("account-note-create", args=[own_account.pk]), {"kind": "note", "body": ""}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        assert b"This field is required" in response.content
        assert not Activity.objects.exists()

    def test_unknown_status_changes_nothing(self, client, csm, own_account):
        client.force_login(csm)
        client.post(reverse("account-status-change", args=[own_account.pk]), {"status": "gone"})
        own_account.refresh_from_db()
        assert own_account.status == AccountStatus.ACTIVE
        assert not Activity.objects.exists()

    def test_task_with_bad_date_shows_error(self, client, csm, own_account):
        client.force_login(csm)
        response = client.post(
            reverse("account-task-create", args=[own_account.pk]),
            {"title": "Call", "due_date": "31/31/2024", "priority": "normal"},
            HTTP_HX_REQUEST="true",
        )
        assert b"Enter a valid date" in response.content
        assert not Task.objects.exists()


class TestAccountList:
    def test_search_by_name_domain_and_external_id(self, client, csm):
        AccountFactory(name="Acme Mail", domain="acme.io", external_id="CRM-1")
        AccountFactory(name="Globex", domain="globex.com", external_id="CRM-2")
        client.force_login(csm)
        for q in ("acme", "ACME.IO", "CRM-1"):
            names = [a.name for a in client.get(reverse("account-list"), {"q": q}).context["accounts"]]
            assert names == ["Acme Mail"], q

    def test_filters_combine(self, client, csm, teammate):
        champion = TagFactory(name="champion-left")
        hit = AccountFactory(owner=csm, status="at_risk", segment="enterprise", mrr=900, tags=[champion])
        AccountFactory(owner=csm, status="at_risk", segment="smb", mrr=900, tags=[champion])
        AccountFactory(owner=teammate, status="at_risk", segment="enterprise", mrr=900, tags=[champion])
        AccountFactory(owner=csm, status="active", segment="enterprise", mrr=900)
        AccountFactory(owner=csm, status="at_risk", segment="enterprise", mrr=10, tags=[champion])
        client.force_login(csm)
        query = {"owner": "me", "status": "at_risk", "segment": "enterprise", "tag": "champion-left", "mrr_min": 100}
        assert list(client.get(reverse("account-list"), query).context["accounts"]) == [hit]

    def test_renewal_window(self, client, csm):
        today = timezone.localdate()
        soon = AccountFactory(renewal_date=today + dt.timedelta(days=30))
        AccountFactory(renewal_date=today + dt.timedelta(days=90))
        AccountFactory(renewal_date=today - dt.timedelta(days=1))
        client.force_login(csm)
        assert list(client.get(reverse("account-list"), {"renewal_within": 60}).context["accounts"]) == [soon]

    def test_sort_by_mrr_descending(self, client, csm):
        for mrr in (50, 500, 5):
            AccountFactory(mrr=mrr)
        client.force_login(csm)
        accounts = client.get(reverse("account-list"), {"ordering": "-mrr"}).context["accounts"]
        assert [int(a.mrr) for a in accounts] == [500, 50, 5]

    def test_htmx_filter_renders_only_the_table(self, client, csm):
        AccountFactory(name="Acme Mail")
        client.force_login(csm)
        response = client.get(
            reverse("account-list"), {"q": "acme"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="account-table"
        )
        body = response.content.decode()
        assert 'id="account-table"' in body
        assert "<html" not in body
        assert "Acme Mail" in body

    def test_list_query_count_does_not_grow_with_rows(self, client, csm, django_assert_max_num_queries):
        client.force_login(csm)
        tags = [TagFactory(name="a"), TagFactory(name="b")]
        AccountFactory.create_batch(3, owner=csm, tags=tags)
        client.get(reverse("account-list"))  # warm caches (content types, session)
        # 13: the page, the filters' and the bulk edit's options (statuses, playbooks), whatever the rows.
        with django_assert_max_num_queries(13) as small:
            client.get(reverse("account-list"))
        AccountFactory.create_batch(22, owner=csm, tags=tags)
        with django_assert_max_num_queries(len(small.captured_queries)):
            client.get(reverse("account-list"))

    def test_saved_view_round_trip(self, client, csm, teammate):
        client.force_login(csm)
        client.post(
            reverse("saved-view-create"), {"name": "Big at risk", "query": "status=at_risk&mrr_min=500"}, follow=True
        )
        view = SavedView.objects.get()
        assert view.owner == csm and view.query == "status=at_risk&mrr_min=500" and not view.shared
        client.force_login(teammate)
        assert b"Big at risk" not in client.get(reverse("account-list")).content
        client.force_login(csm)
        client.post(
            reverse("saved-view-create"),
            {"name": "Big at risk", "query": "status=at_risk", "shared": "on"},
            follow=True,
        )
        client.force_login(teammate)
        assert b"Big at risk" in client.get(reverse("account-list")).content
        assert client.post(reverse("saved-view-delete", args=[view.pk])).status_code == 403
        assert SavedView.objects.exists()


class TestCustomer360:
    def _full_account(self, owner):
        account = AccountFactory(owner=owner, name="Acme Mail")
        SubscriptionFactory.create_batch(2, account=account)
        SupportTicketFactory.create_batch(3, account=account)
        SurveyResponseFactory.create_batch(2, account=account, comment="Love it")
        ActivityFactory.create_batch(3, account=account)
        TaskFactory.create_batch(3, account=account)
        UsageEventFactory.create_batch(5, account=account)
        return account

    def test_sections_query_counts_are_fixed(self, client, csm, django_assert_max_num_queries):
        account = self._full_account(csm)
        client.force_login(csm)
        client.get(reverse("account-detail", args=[account.pk]))
        with django_assert_max_num_queries(8):
            client.get(reverse("account-detail", args=[account.pk]))
        for section in SECTIONS:
            with django_assert_max_num_queries(10):
                assert client.get(reverse("account-section", args=[account.pk, section])).status_code == 200
        # More rows, same query counts.
        SupportTicketFactory.create_batch(10, account=account)
        ActivityFactory.create_batch(10, account=account)
        TaskFactory.create_batch(10, account=account)
        for section in SECTIONS:
            with django_assert_max_num_queries(10):
                client.get(reverse("account-section", args=[account.pk, section]))

    def test_timeline_merges_notes_tickets_and_surveys_newest_first(self, client, csm):
        account = AccountFactory(owner=csm)
        now = timezone.now()
        ActivityFactory(account=account, body="old note", occurred_at=now - dt.timedelta(days=3))
        SupportTicketFactory(account=account, subject="Import broken", opened_at=now - dt.timedelta(days=2))
        SurveyResponseFactory(account=account, score=3, comment="Too slow", responded_at=now - dt.timedelta(days=1))
        client.force_login(csm)
        body = client.get(reverse("account-section", args=[account.pk, "timeline"])).content.decode()
        assert body.index("Too slow") < body.index("Import broken") < body.index("old note")

    def test_adding_a_note_returns_the_timeline_with_it(self, client, csm, own_account):
        client.force_login(csm)
        response = client.post(
            reverse("account-note-create", args=[own_account.pk]),
            {"kind": "call", "subject": "Renewal call", "body": "They want SSO."},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200
        assert "They want SSO." in response.content.decode()
        activity = Activity.objects.get()
        assert (activity.kind, activity.author, activity.account) == ("call", csm, own_account)

    def test_viewer_sees_no_edit_forms(self, client, viewer, own_account):
        client.force_login(viewer)
        assert (
            b"Add to timeline" not in client.get(reverse("account-section", args=[own_account.pk, "timeline"])).content
        )
        assert b"account-status-change" not in client.get(reverse("account-detail", args=[own_account.pk])).content


class TestMyDay:
    def test_overdue_tasks_first_then_by_due_date(self, client, csm, own_account):
        today = timezone.localdate()
        later = TaskFactory(account=own_account, assignee=csm, title="later", due_date=today + dt.timedelta(days=5))
        overdue = TaskFactory(account=own_account, assignee=csm, title="overdue", due_date=today - dt.timedelta(days=2))
        undated = TaskFactory(account=own_account, assignee=csm, title="undated", due_date=None)
        TaskFactory(account=own_account, assignee=csm, title="done", status=TaskStatus.DONE)
        client.force_login(csm)
        context = client.get(reverse("home")).context
        assert context["tasks"] == [overdue, later, undated]
        assert context["overdue_count"] == 1

    def test_at_risk_and_renewals_are_only_mine(self, client, csm, teammate):
        today = timezone.localdate()
        mine = AccountFactory(owner=csm, status="at_risk", renewal_date=today + dt.timedelta(days=10))
        AccountFactory(owner=teammate, status="at_risk", renewal_date=today + dt.timedelta(days=10))
        AccountFactory(owner=csm, renewal_date=today + dt.timedelta(days=61))
        client.force_login(csm)
        context = client.get(reverse("home")).context
        assert context["at_risk"] == [mine]
        assert context["renewals"] == [mine]

    def test_completing_a_task(self, client, csm, own_account):
        task = TaskFactory(account=own_account, assignee=csm)
        client.force_login(csm)
        client.post(reverse("task-complete", args=[task.pk]), {"outcome": "Booked QBR"})
        task.refresh_from_db()
        assert task.status == TaskStatus.DONE and task.outcome == "Booked QBR"

    def test_another_csm_cannot_complete_my_task(self, client, teammate, csm, own_account):
        task = TaskFactory(account=own_account, assignee=csm)
        client.force_login(teammate)
        assert client.post(reverse("task-complete", args=[task.pk])).status_code == 403
        task.refresh_from_db()
        assert task.status == TaskStatus.OPEN


def test_manager_without_a_book_sees_the_team_day(client, manager, csm):
    at_risk = AccountFactory(owner=csm, status="at_risk")
    client.force_login(manager)
    context = client.get(reverse("home")).context
    assert context["team"] is True
    assert context["at_risk"] == [at_risk]
    assert client.get(reverse("home"), {"scope": "mine"}).context["at_risk"] == []


def test_csm_sees_their_own_day_by_default(client, csm, teammate):
    AccountFactory(owner=teammate, status="at_risk")
    client.force_login(csm)
    context = client.get(reverse("home")).context
    assert context["team"] is False and context["at_risk"] == []


def test_any_in_a_filter_select_means_no_filter(client, csm):
    AccountFactory(name="Acme Mail", status="at_risk")
    client.force_login(csm)
    response = client.get(reverse("account-list"), {"q": "acme", "status": "", "segment": "", "tag": "", "mrr_min": ""})
    assert [a.name for a in response.context["accounts"]] == ["Acme Mail"]
    assert not response.context["filterset"].errors


def test_owner_pickers_offer_working_roles_only(client, manager, csm, viewer, own_account):
    client.force_login(manager)
    body = client.get(reverse("account-detail", args=[own_account.pk])).content.decode()
    assert f'<option value="{csm.pk}"' in body
    assert f'<option value="{viewer.pk}"' not in body
    response = client.post(reverse("account-owner-change", args=[own_account.pk]), {"owner": viewer.pk})
    own_account.refresh_from_db()
    assert own_account.owner == csm  # a viewer cannot own accounts
    assert response.status_code == 302


def test_my_day_task_rows_do_not_repeat_the_account_name(client, csm):
    from tests.factories import TaskFactory

    account = AccountFactory(owner=csm, name="Ecolux Media")
    TaskFactory(account=account, assignee=csm, title="Call Ecolux Media about the renewal")
    TaskFactory(account=account, assignee=csm, title="Milestone missed: Account setup", source="journey")
    client.force_login(csm)
    html = client.get(reverse("home")).content.decode()
    beside = f' · <a href="/accounts/{account.pk}/">Ecolux Media</a>'
    # The title naming the account links to it; the other shows the account beside it: never both.
    assert html.count(beside) == 1
    assert f'<a href="/accounts/{account.pk}/">Call Ecolux Media about the renewal</a>' in html
    assert "Journey" in html


def test_a_csm_on_another_csms_account_is_told_it_is_read_only(client, csm, teammate, other_account, own_account):
    client.force_login(csm)
    theirs = client.get(reverse("account-detail", args=[other_account.pk])).content.decode()
    assert 'id="read-only-hint"' in theirs and "Read-only: this account belongs to" in theirs
    mine = client.get(reverse("account-detail", args=[own_account.pk])).content.decode()
    assert 'id="read-only-hint"' not in mine


def test_subscriptions_table_shows_status_before_the_wide_columns(client, csm, own_account):
    from tests.factories import SubscriptionFactory

    SubscriptionFactory(account=own_account)
    client.force_login(csm)
    html = client.get(reverse("account-section", args=[own_account.pk, "subscriptions"])).content.decode()
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", html)
    assert headers[:2] == ["Product", "Status"], headers  # visible without scrolling the narrow side column
    assert '<div class="table-wrap">' in html


def test_no_page_tells_a_user_to_run_a_management_command():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    templates = [p for p in root.glob("**/templates/**/*.html") if ".venv" not in p.parts]
    assert templates
    offenders = [
        str(p.relative_to(root)) for p in templates if re.search(r"manage\.py|recompute_health", p.read_text())
    ]
    assert offenders == []
