"""Journeys and onboarding: milestones reached by events, properties, seats of use and payment; missed; funnel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, Task
from automations import journeys, rules, selectors
from automations.models import Journey, Milestone, MilestoneProgress
from tests.factories import AccountFactory, SubscriptionFactory, UsageEventFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def d(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture
def onboarding():
    j = Journey.objects.create(key="onboarding", name="Onboarding", onboarding=True)
    Milestone.objects.create(journey=j, key="setup", name="Account setup", order=1, due_days=7,
                             condition={"type": "event", "event_type": "list_imported"})  # fmt: skip
    Milestone.objects.create(journey=j, key="first-value", name="First campaign", order=2, due_days=14,
                             first_value=True, stage="adopted",
                             condition={"type": "event", "event_type": "campaign_sent"})  # fmt: skip
    Milestone.objects.create(journey=j, key="100-subscribers", name="100 subscribers", order=3, due_days=30,
                             condition={"type": "event", "event_type": "list_imported", "property": "rows",
                                        "at_least": 100})  # fmt: skip
    Milestone.objects.create(journey=j, key="paid", name="Paid", order=4, condition={"type": "paid"})
    Milestone.objects.create(journey=j, key="kickoff", name="Kick-off call", order=5, condition={"type": "manual"})
    return j


def test_milestones_are_reached_by_their_conditions_with_the_time_reached(onboarding):
    fast = AccountFactory(created_at=NOW - d(20), lifecycle_stage="onboarding")
    UsageEventFactory(account=fast, event_type="list_imported", occurred_at=NOW - d(19), properties={"rows": 40})
    UsageEventFactory(account=fast, event_type="list_imported", occurred_at=NOW - d(18), properties={"rows": 400})
    UsageEventFactory(account=fast, event_type="campaign_sent", occurred_at=NOW - d(17))
    SubscriptionFactory(account=fast, start_date=(NOW - d(15)).date(), mrr=Decimal("50"))
    stuck = AccountFactory(created_at=NOW - d(20), lifecycle_stage="onboarding")
    AccountFactory(created_at=NOW - d(400))  # too old for an onboarding template

    result = journeys.journeys_refresh(now=NOW)
    assert result["applied"] == 10
    progress = {p.milestone.key: p for p in MilestoneProgress.objects.filter(account=fast).select_related("milestone")}
    assert progress["setup"].reached_at == NOW - d(19)
    assert progress["100-subscribers"].reached_at == NOW - d(18)
    assert progress["first-value"].reached_at == NOW - d(17)
    assert progress["paid"].reached_at.date() == (NOW - d(15)).date()
    assert progress["kickoff"].reached_at is None and progress["kickoff"].missed_at is None
    fast.refresh_from_db()
    assert fast.lifecycle_stage == "adopted"  # automatic stage transition on first value
    missed = set(MilestoneProgress.objects.filter(account=stuck, missed_at__isnull=False).values_list(
        "milestone__key", flat=True))  # fmt: skip
    assert missed == {"setup", "first-value"}  # 100-subscribers is due on day 30


def test_journey_apply_is_idempotent(onboarding):
    AccountFactory(created_at=NOW - d(3))
    assert journeys.journey_apply(journey=onboarding, now=NOW) == 5
    assert journeys.journey_apply(journey=onboarding, now=NOW) == 0


def test_manual_milestone(onboarding):
    account = AccountFactory(created_at=NOW - d(3))
    journeys.journey_apply(journey=onboarding, now=NOW)
    progress = MilestoneProgress.objects.get(account=account, milestone__key="kickoff")
    user = UserFactory()
    journeys.milestone_reach(progress=progress, actor=user)
    progress.refresh_from_db()
    assert progress.reached_at and progress.reached_manually_by == user


def test_missed_milestone_fires_a_rule(onboarding):
    owner = UserFactory()
    account = AccountFactory(created_at=NOW - d(10), owner=owner)
    journeys.journeys_refresh(now=NOW)
    rules.rule_save(key="missed", name="Milestone missed", enabled=True,
                    conditions_tree={"type": "milestone_missed", "milestone": "setup"},
                    actions_list=[{"type": "create_task", "title": "Share the onboarding checklist"}])  # fmt: skip
    rules.rules_cycle()
    assert account.tasks.get().title == "Share the onboarding checklist"


def test_funnel_shares_medians_stall_and_time_to_first_value(onboarding):
    for i in range(4):
        account = AccountFactory(created_at=NOW - d(20), segment="smb")
        if i < 3:
            UsageEventFactory(account=account, event_type="list_imported", occurred_at=NOW - d(20 - (i + 1)))
        if i < 1:
            UsageEventFactory(account=account, event_type="campaign_sent", occurred_at=NOW - d(16))
    AccountFactory(created_at=NOW - d(20), segment="enterprise")
    journeys.journeys_refresh(now=NOW)
    funnel = selectors.journey_funnel(journey=onboarding, segment="smb")
    assert funnel["accounts"] == 4
    setup, first, *_ = funnel["steps"]
    assert (setup["reached"], setup["share"], setup["median_days"]) == (3, 0.75, pytest.approx(2.0))
    assert (first["reached"], first["share"], first["missed"]) == (1, 0.25, 3)
    assert funnel["stall"]["milestone"].key == "first-value"
    assert funnel["time_to_first_value"] == pytest.approx(4.0)
    cohort = f"{(NOW - d(20)):%Y-%m}"
    assert selectors.journey_cohorts(journey=onboarding) == [cohort]
    assert selectors.journey_funnel(journey=onboarding, cohort=cohort)["accounts"] == 5


def test_stages_only_move_forward_and_never_for_at_risk_or_churned(onboarding):
    accounts = {
        stage: AccountFactory(created_at=NOW - d(20), lifecycle_stage=stage)
        for stage in ("renewal", "at_risk", "trial")
    }
    for account in accounts.values():
        UsageEventFactory(account=account, event_type="campaign_sent", occurred_at=NOW - d(5))
    journeys.journeys_refresh(now=NOW)
    stages = {k: Account.objects.get(pk=a.pk).lifecycle_stage for k, a in accounts.items()}
    assert stages == {"renewal": "renewal", "at_risk": "at_risk", "trial": "adopted"}


def test_stage_moves_are_one_update_whatever_the_number_of_accounts(onboarding):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Activity

    def detect(n: int) -> int:
        accounts = [AccountFactory(created_at=NOW - d(20), lifecycle_stage="onboarding") for _ in range(n)]
        journeys.journeys_refresh(now=NOW)  # progress rows for the new accounts
        for account in accounts:
            UsageEventFactory(account=account, event_type="campaign_sent", occurred_at=NOW - d(5))
        with CaptureQueriesContext(connection) as queries:
            assert journeys.milestones_detect(now=NOW)["stage_changes"] == n
        stages = Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("lifecycle_stage", flat=True)
        assert set(stages) == {"adopted"}
        return len(queries)

    assert detect(2) == detect(12)
    assert (
        Activity.objects.filter(kind="change", details__field="lifecycle_stage", details__new="Adopted").count() == 14
    )


# --- Owner roles assign the work -------------------------------------------------------------------------------------


@pytest.fixture
def team_onboarding():
    j = Journey.objects.create(key="onb", name="Onboarding", onboarding=True)
    Milestone.objects.create(journey=j, key="setup", name="Account setup", order=1, due_days=7,
                             owner_role="Implementation specialist",
                             condition={"type": "event", "event_type": "list_imported"})  # fmt: skip
    Milestone.objects.create(journey=j, key="first-value", name="First campaign", order=2, due_days=14,
                             owner_role="CSM", condition={"type": "event", "event_type": "campaign_sent"})  # fmt: skip
    Milestone.objects.create(journey=j, key="kickoff", name="Kick-off", order=3, due_days=7,
                             condition={"type": "manual"})  # no owner role: no task  # fmt: skip
    return j


def test_a_missed_milestone_is_a_task_for_the_holder_of_its_owner_role(team_onboarding):
    owner, specialist = UserFactory(username="olive"), UserFactory(username="ivy")
    account = AccountFactory(name="Acme", created_at=NOW - d(10), owner=owner)
    journeys.account_role_assign(account=account, role="Implementation specialist", user=specialist)
    result = journeys.journeys_refresh(now=NOW)
    assert result["missed_tasks"] == 1  # setup (day 7) is missed; first value (day 14) is not due yet
    task = Task.objects.get(title__startswith="Milestone missed")
    assert (task.account, task.assignee, task.priority) == (account, specialist, "high")
    # Made by the journey, not by a rule; the account is shown beside the title, not repeated in it.
    assert (task.title, task.source, task.get_source_display()) == (
        "Milestone missed: Account setup",
        "journey",
        "Journey",
    )
    assert "Assigned to the Implementation specialist of the account." in task.description
    assert task.due_date == timezone.localdate(NOW) + d(1)
    progress = MilestoneProgress.objects.get(account=account, milestone__key="setup")
    assert progress.missed_task == task
    # Once per milestone and account: the next refresh adds nothing.
    assert journeys.journeys_refresh(now=NOW + d(0.1))["missed_tasks"] == 0
    assert Task.objects.filter(title__startswith="Milestone missed").count() == 1


def test_without_a_holder_the_account_owner_gets_it_and_the_task_says_so(team_onboarding):
    owner = UserFactory(username="olive")
    account = AccountFactory(name="Acme", created_at=NOW - d(10), owner=owner)
    journeys.journeys_refresh(now=NOW)
    task = Task.objects.get(title__startswith="Milestone missed")
    assert task.assignee == owner
    assert "No Implementation specialist is assigned to this account: assigned to the account owner" in (
        task.description
    )
    orphan = AccountFactory(name="Nobody's", created_at=NOW - d(10), owner=None)
    journeys.journeys_refresh(now=NOW)
    task = Task.objects.get(account=orphan)
    assert task.assignee is None and "it has no owner: unassigned" in task.description
    assert account.tasks.count() == 1


def test_a_milestone_due_soon_is_a_reminder_for_its_owner_role(team_onboarding, settings):
    settings.AUTOMATIONS_MILESTONE_DUE_SOON_DAYS = 2
    owner, csm = UserFactory(username="olive"), UserFactory(username="cara")
    account = AccountFactory(name="Acme", created_at=NOW - d(13), owner=owner)
    journeys.account_role_assign(account=account, role="CSM", user=csm)
    journeys.account_role_assign(account=account, role="Implementation specialist", user=None)  # nobody: a no-op
    result = journeys.journeys_refresh(now=NOW)
    assert result["due_tasks"] == 1  # first value is due tomorrow
    task = Task.objects.get(title__startswith="Milestone due")
    assert task.assignee == csm and task.priority == "normal"
    assert task.due_date == timezone.localdate(NOW - d(13) + d(14))
    assert journeys.journeys_refresh(now=NOW)["due_tasks"] == 0
    # Reached milestones and milestones without an owner role never make work.
    assert not Task.objects.filter(title__contains="Kick-off").exists()


def test_old_misses_make_no_task_when_owner_roles_are_first_configured(team_onboarding):
    AccountFactory(created_at=NOW - d(60), owner=UserFactory())
    roles_of = dict(Milestone.objects.values_list("pk", "owner_role"))
    Milestone.objects.update(owner_role="")
    journeys.journeys_refresh(now=NOW - d(20))  # missed long ago, while the milestones had no owner roles
    for pk, role in roles_of.items():
        Milestone.objects.filter(pk=pk).update(owner_role=role)
    assert journeys.journeys_refresh(now=NOW)["missed_tasks"] == 0
    assert not Task.objects.exists()


def test_the_first_start_enrolls_accounts_on_their_journeys_before_the_facts_are_built(db):
    """The demo's dashboard onboarding funnel read "no account is on an onboarding journey" until beat ran."""
    import io

    from django.core.management import call_command

    from churnapp.management.commands.bootstrap import DERIVED_STEPS
    from tests.factories import AccountFactory

    order = [step.command for step in DERIVED_STEPS]
    assert order.index("automations_install_builtins") < order.index("automations_refresh_journeys")
    assert order.index("automations_refresh_journeys") < order.index("refresh_kpi_facts")
    call_command("automations_install_builtins", stdout=io.StringIO())
    AccountFactory.create_batch(3, status="onboarding")
    out = io.StringIO()
    call_command("automations_refresh_journeys", stdout=out)
    assert MilestoneProgress.objects.filter(milestone__journey__key="onboarding").values("account").distinct().count()
    assert "applied" in out.getvalue()
