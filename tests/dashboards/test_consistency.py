"""One number everywhere: on simulated books, each figure shown in several places reads the same in each.

For three simulator seeds (60 accounts × 12 months, derived state built as the demo builds it), every figure
below is read from each page, widget, CSV and API that shows it and compared, or compared with the documented
difference between two differently named figures:

| figure                          | read from                                                             |
|---------------------------------|-----------------------------------------------------------------------|
| a person's open / overdue tasks | My day, dashboard workload (widget CSV, KPI API), accounts selector   |
| latest NPS of an account        | accounts selector, health metrics, win-back card, churn drivers       |
| renewal date                    | Account (Customer 360, list, My day), selector, days_to_renewal       |
| onboarding counts               | dashboard widget (facts), KPI live, journey page, drill-down          |
| churned accounts, ARPA          | dashboard cards, KPI API, win-back widget (named apart)               |
| follow-up SLA / open follow-ups | Feedback SLA card, Open follow-ups tab, selector                      |
| days since meaningful activity  | stored metrics, daily rollups, Customer 360 definition                |
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.models import Account, AccountStatus
from automations.journeys import journeys_refresh
from automations.models import Journey
from automations.selectors import journey_funnel, milestone_accounts
from dashboards.catalog import KPIS, kpi_value
from dashboards.kpis.periods import add_months, month_start
from dashboards.params import KpiQuery
from health.models import AccountMetrics, ChurnPrediction, UsageDaily
from tests.factories import TaskFactory, UserFactory
from winback import selectors as winback_selectors
from winback.services.page_figures import page_facts_refresh

pytestmark = [pytest.mark.django_db]

SEEDS = (3, 17, 42)
DERIVE = [
    ("refresh_snapshots", {}),
    ("rebuild_rollups", {}),
    ("recompute_health", {"backfill_days": 7}),
    ("train_churn_model", {"months": 12, "predict": True}),
    ("winback_backfill", {}),
    ("automations_install_builtins", {}),
]


@pytest.fixture
def book(settings, tmp_path):
    """Build a simulated book for a seed, derive its state, refresh the precomputed facts."""
    settings.CHURNAPP_VAR_DIR = str(tmp_path)

    def build(seed: int, accounts: int = 60) -> dt.date:
        out = io.StringIO()
        call_command("simulate", accounts=accounts, months=12, seed=seed, stdout=out)
        for name, options in DERIVE:
            try:
                call_command(name, stdout=out, **options)
            except Exception as exc:  # noqa: BLE001 - a step the data cannot support (e.g. too little history)
                out.write(f"{name} skipped: {exc}\n")
        journeys_refresh()
        call_command("refresh_kpi_facts", stdout=out)
        page_facts_refresh()
        return timezone.localdate()

    return build


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return list(csv.DictReader(io.StringIO(body)))


def check_tasks(client, today):
    # Work a CSM is given after the last facts refresh shows at once everywhere: tasks are never stale.
    csm = Account.objects.exclude(owner=None).select_related("owner").first().owner
    TaskFactory(account=Account.objects.filter(owner=csm).first(), assignee=csm, due_date=today - dt.timedelta(1))
    counts = account_selectors.open_task_counts(today=today)
    manager = UserFactory(username="consistency-manager", role="Manager")
    client.force_login(manager)
    api = {row["owner_id"]: row for row in client.get("/api/v1/kpis/csm-workload/").json()["owners"]}
    widget = {row["owner"]: row for row in _csv(client.get("/dashboard/widgets/workload/csv/"))}
    people = [pk for pk in counts if pk is not None]
    assert people, "the simulated book has open tasks"
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.filter(pk__in=people):
        expected = counts[user.pk]
        assert (api[user.pk]["open_tasks"], api[user.pk]["overdue_tasks"]) == (
            expected["open_tasks"], expected["overdue_tasks"],
        )  # fmt: skip
        name = user.get_full_name() or user.get_username()
        assert (int(widget[name]["open_tasks"]), int(widget[name]["overdue_tasks"])) == (
            expected["open_tasks"], expected["overdue_tasks"],
        )  # fmt: skip
        client.force_login(user)
        html = client.get(reverse("home"), {"scope": "mine"}).content.decode()
        shown = re.search(r'id="my-task-counts">\((\d+) open(?:, (\d+) overdue)?', html)
        assert shown, "My day shows the counts"
        assert (int(shown[1]), int(shown[2] or 0)) == (expected["open_tasks"], expected["overdue_tasks"])


def check_latest_nps(client, today):
    from health.metrics import compute_metrics

    latest = account_selectors.latest_survey_scores(kind="nps")
    assert latest, "the simulated book has NPS answers"
    assert winback_selectors.latest_nps_by_account() == latest
    ids = list(latest)[:15]
    metrics = compute_metrics(as_of=today, account_ids=ids)
    for pk in ids:
        assert metrics.at[pk, "nps"] == latest[pk]
    manager = UserFactory(username="nps-reader", role="Manager")
    client.force_login(manager)
    for pk in ids[:5]:
        card = client.get(reverse("winback:account-card", args=[pk])).content.decode()
        shown = re.findall(r"NPS (\d+)", card)
        if shown:  # the card lists the last answers of any kind: its newest NPS is the latest NPS
            assert int(shown[0]) == latest[pk]
        health = client.get(reverse("health:account-health", args=[pk])).content.decode()
        assert "no data for latest NPS" not in health


def check_renewals(client, today):
    expected = account_selectors.next_renewal_dates(day=today)
    active = set(account_selectors.accounts_active_on(day=today).values_list("pk", flat=True))
    assert set(expected) == active
    cached = dict(Account.objects.filter(pk__in=active).values_list("pk", "renewal_date"))
    assert cached == expected
    latest_day = AccountMetrics.objects.order_by("-day").values_list("day", flat=True).first()
    for pk, days in AccountMetrics.objects.filter(day=latest_day, account_id__in=active).values_list(
        "account_id", "days_to_renewal"
    ):
        if days is not None:
            renewal = account_selectors.next_renewal_dates(day=latest_day, account_ids=[pk])[pk]
            assert days == (renewal - latest_day).days
    manager = UserFactory(username="renewal-reader", role="Manager")
    day = account_selectors.my_day(user=manager, team=True, today=today)
    soon = {pk for pk, d in expected.items() if d <= today + dt.timedelta(days=60)}
    soon -= set(Account.objects.filter(status=AccountStatus.CHURNED).values_list("pk", flat=True))
    listed = {a.pk for a in day["renewals"]}
    assert listed == soon if len(soon) <= 50 else listed <= soon  # My day lists the first 50
    client.force_login(manager)
    pk, renewal = next(iter(expected.items()))
    page = client.get(reverse("account-detail", args=[pk])).content.decode()
    assert f"{renewal:%b} {renewal.day}, {renewal.year}" in page


def check_onboarding(client, today):
    end = month_start(today)
    start = add_months(end, -12)
    query = KpiQuery(start=start, end=end)
    facts = kpi_value(KPIS["onboarding-funnel"], query, source="auto")
    live = kpi_value(KPIS["onboarding-funnel"], query, source="live")
    assert [(j["n_accounts"], [(s["reached"], s["missed"]) for s in j["steps"]]) for j in facts["journeys"]] == [
        (j["n_accounts"], [(s["reached"], s["missed"]) for s in j["steps"]]) for j in live["journeys"]
    ]
    for journey in live["journeys"]:
        reached = [s["reached"] for s in journey["steps"]]
        assert reached == sorted(reached, reverse=True), "the funnel never rises"
    for journey in Journey.objects.filter(onboarding=True):
        page = journey_funnel(journey=journey)
        reached = [s["reached"] for s in page["steps"]]
        assert reached == sorted(reached, reverse=True)
        assert all(s["drop"] >= 0 for s in page["steps"])
        for step in page["steps"]:
            assert milestone_accounts(milestone=step["milestone"], reached=True).count() == step["reached"]
    manager = UserFactory(username="onboarding-reader", role="Manager")
    client.force_login(manager)
    html = client.get("/dashboard/widgets/onboarding/", {"period": "12m"}).content.decode()
    created = Account.objects.filter(
        created_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC),
        created_at__lt=dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC),
    ).count()
    assert re.search(rf'id="onboarding-signups">{created} account', html)
    for journey in live["journeys"]:
        assert f"{journey['n_accounts']} of them on this journey" in html


def check_churn_and_arpa(client, today):
    end = month_start(today)
    start = add_months(end, -12)
    params = {"start": start.isoformat(), "end": end.isoformat()}
    manager = UserFactory(username="kpi-reader", role="Manager")
    client.force_login(manager)
    churn = client.get("/api/v1/kpis/churn-rate/", params).json()
    arpa = client.get("/api/v1/kpis/arpa/", params).json()
    winback = client.get("/api/v1/kpis/winback-results/", params).json()
    query = KpiQuery(start=start, end=end)
    assert churn["n_churn"] == kpi_value(KPIS["churn-rate"], query, source="live")["n_churn"]
    assert arpa["arpa"] == kpi_value(KPIS["arpa"], query, source="live")["arpa"]
    cards = client.get("/dashboard/widgets/kpi-cards/", {"period": "12m"}).content.decode()
    assert re.search(rf"churned \(active at start, not at end\)</dt><dd>(<a[^>]*>)?{churn['n_churn']:,}<", cards)
    arpa_text = "—" if arpa["arpa"] is None else f"${arpa['arpa']:,.0f}"
    assert f"ARPA at the end</dt><dd>{arpa_text}<" in cards
    departures = winback_selectors.winback_results(start=start, end=end)["n_churned"]
    assert winback["n_churned"] == departures
    wb = client.get("/dashboard/widgets/winback/", {"period": "12m"}).content.decode()
    assert re.search(rf"departures in the period \(churn records\)</dt><dd>(<a[^>]*>)?{departures:,}<", wb)
    for html in (cards, wb):
        assert "figure-definitions" in html


def check_follow_ups(client, today):
    figures = winback_selectors.feedback_facts()
    sla = figures["sla"]
    since = dt.date.fromisoformat(figures["sla_since"])
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    open_in_window = winback_selectors.open_follow_ups().filter(responded_at__gte=start).count()
    assert sla["overdue"] + sla["pending"] == open_in_window
    manager = UserFactory(username="feedback-reader", role="Manager")
    client.force_login(manager)
    tab = client.get(reverse("winback:feedback"), {"category": "open", "since": since.isoformat()}).content.decode()
    shown = re.search(r'id="answers-count">(\d+) answer', tab)
    assert shown and int(shown[1]) == open_in_window


def check_meaningful_activity(client, today):
    latest_day = AccountMetrics.objects.order_by("-day").values_list("day", flat=True).first()
    rows = AccountMetrics.objects.filter(day=latest_day).values_list("account_id", "days_since_meaningful")[:20]
    for pk, days in rows:
        last = (
            UsageDaily.objects.filter(account_id=pk, meaningful=True, day__lte=latest_day)
            .order_by("-day")
            .values_list("day", flat=True)
            .first()
        )
        if last is not None and days is not None:
            assert days == (latest_day - last).days
    if ChurnPrediction.objects.exists():
        pk = ChurnPrediction.objects.values_list("account_id", flat=True).first()
        manager = UserFactory(username="meaningful-reader", role="Manager")
        client.force_login(manager)
        html = client.get(reverse("health:account-health", args=[pk])).content.decode()
        assert "A meaningful day is a day on which one user did at least" in html


def check_churn_drivers(client, today):
    """Drivers read the facts the health breakdown shows, whatever the model's feature names ("missing:nps",
    "num__missingindicator_nps"): never "no data" beside a value, and the value is the stored one."""
    from health import scoring
    from health.selectors.drivers import account_metric_facts, churn_drivers

    predictions = list(ChurnPrediction.objects.select_related("account").order_by("-day", "account_id")[:60])
    assert predictions, "the simulated book trains a model"
    named = 0
    for prediction in predictions:
        facts = account_metric_facts(account=prediction.account, day=prediction.day)
        rows = churn_drivers(drivers=prediction.drivers, facts=facts)
        for kind in ("nps", "csat"):  # the model's own labels say "latest NPS score": no data beside an answer
            if facts.get(kind) is not None:
                said = [r["label"] for r in rows if r["label"].startswith(f"no data for {scoring.factor_label(kind)}")]
                assert not said, (prediction.account_id, said)
        for row in rows:
            for key, value in facts.items():
                label = scoring.factor_label(key)
                if row["label"] == f"no data for {label}":
                    assert value is None, (prediction.account_id, row)
                elif row["label"] in (label, f"{label} on record"):
                    named += 1
                    assert row["value"] == (None if value is None else round(value, 2)), (prediction.account_id, row)
    assert named, "some drivers are stored metrics"
    client.force_login(UserFactory(username="driver-reader", role="Manager"))
    for prediction in predictions[:5]:
        html = client.get(reverse("health:account-health", args=[prediction.account_id])).content.decode()
        facts = account_metric_facts(account=prediction.account, day=prediction.day)
        if facts.get("nps") is not None:
            assert "no data for latest NPS" not in html


@pytest.mark.parametrize("seed", SEEDS)
def test_every_figure_agrees_on_every_page(seed, book, client):
    today = book(seed)
    check_tasks(client, today)
    check_latest_nps(client, today)
    check_renewals(client, today)
    check_onboarding(client, today)
    check_churn_and_arpa(client, today)
    check_follow_ups(client, today)
    check_meaningful_activity(client, today)


def test_churn_drivers_read_the_facts_of_the_breakdown(book, client):
    # 60 accounts churn too rarely to train a model; 150 do, so the promoted model's drivers are checked too.
    today = book(42, accounts=150)
    check_churn_drivers(client, today)
