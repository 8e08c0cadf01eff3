"""The lifecycle widgets on the dashboard: they render, drill down to the accounts behind their numbers, export
CSV, show their definitions and the same numbers as the API."""

from __future__ import annotations

import csv
import io

import pytest

from tests.dashboards.test_health_kpis import engagement, moves  # noqa: F401 (fixtures)
from tests.dashboards.test_lifecycle_kpis import KM_E, KM_S, lifetimes, purchases  # noqa: F401 (fixtures)
from tests.dashboards.test_outcome_kpis import onboarding, winbacks  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

JANUARY = {"period": "custom", "start": "2024-01-01", "end": "2024-02-01"}
DRILL = {"start": "2024-01-01", "end": "2024-02-01"}
NEW_WIDGETS = ("survival", "health-movement", "engagement", "purchases", "onboarding", "winback")


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def _names(response) -> set[str]:
    import re

    return set(re.findall(r'<a href="/accounts/\d+/">([^<]+)</a>', response.content.decode()))


def test_the_page_has_a_shell_for_each_new_widget(client, manager):
    client.force_login(manager)
    page = client.get("/dashboard/", JANUARY).content.decode()
    for widget in NEW_WIDGETS:
        assert f'id="widget-{widget}"' in page
        assert f'hx-get="/dashboard/widgets/{widget}/?' in page


def test_survival_widget_curve_drilldown_and_csv(client, viewer, lifetimes):  # noqa: F811
    client.force_login(viewer)
    params = {"period": "custom", "start": KM_S.isoformat(), "end": KM_E.isoformat()}
    body = client.get("/dashboard/widgets/survival/", params).content.decode()
    assert 'data-chart="chart-survival"' in body and "Kaplan–Meier" in body
    assert "62.5 %" not in body and "37.5 %" in body  # survival after 3 months
    rows = _csv(client.get("/dashboard/widgets/survival/csv/", params))
    assert [(r["day"], r["events"], r["censored"]) for r in rows][:3] == [("30", "2", "0"), ("31", "1", "0"),
                                                                         ("60", "2", "0")]  # fmt: skip
    drill = {"start": KM_S.isoformat(), "end": KM_E.isoformat()}
    assert _names(client.get("/dashboard/drilldown/survival/censored/", drill)) == {"a4", "a5", "a6"}
    assert _names(client.get("/dashboard/drilldown/survival/churned/", drill)) == {"a1", "a2", "a3", "a7", "a8"}


def test_health_movement_widget_matrix_and_drilldown(client, viewer, moves):  # noqa: F811
    client.force_login(viewer)
    body = client.get("/dashboard/widgets/health-movement/", JANUARY).content.decode()
    assert "<strong>1</strong> improved" in body and "<strong>2</strong> worsened" in body
    assert "/dashboard/drilldown/health-movement/moved/?" in body
    both = _names(client.get("/dashboard/drilldown/health-movement/moved/", {**DRILL, "from": "green", "to": "green"}))
    assert both == {"g1", "g2"}
    new = _names(
        client.get("/dashboard/drilldown/health-movement/moved/", {**DRILL, "from": "unscored", "to": "yellow"})
    )
    assert new == {"arrived"}
    rows = _csv(client.get("/dashboard/widgets/health-movement/csv/", JANUARY))
    assert {(r["from_band"], r["to_band"]): r["n"] for r in rows}[("green", "yellow")] == "1"


def test_engagement_widget_buckets_drilldown_and_csv(client, viewer, engagement):  # noqa: F811
    client.force_login(viewer)
    body = client.get("/dashboard/widgets/engagement/", JANUARY).content.decode()
    assert 'data-chart="chart-engagement"' in body and "6 accounts on Jan 31, 2024" in body
    response = client.get("/dashboard/drilldown/engagement-frequency/bucket/", {**DRILL, "low": "1", "high": "3"})
    assert "2 accounts" in response.content.decode()
    rows = _csv(client.get("/dashboard/widgets/engagement/csv/", JANUARY))
    assert [r["n_accounts"] for r in rows] == ["1", "2", "1", "1", "0", "1"]


def test_purchases_widget_figures_drilldown_and_csv(client, viewer, purchases):  # noqa: F811
    client.force_login(viewer)
    body = client.get("/dashboard/widgets/purchases/", JANUARY).content.decode()
    assert "33.3 %" in body  # repeat purchase rate
    assert "No paid invoice" not in body
    assert _names(client.get("/dashboard/drilldown/repeat-purchase-rate/repeat/", DRILL)) == {"p1"}
    assert _names(client.get("/dashboard/drilldown/purchase-clv/customers/", DRILL)) == {"p1", "p2", "p3"}
    rows = _csv(client.get("/dashboard/widgets/purchases/csv/", JANUARY))
    assert [(r["month"], r["n_purchases"], r["n_repeat"]) for r in rows] == [("2024-01", "4", "1")]


def test_purchases_widget_says_when_there_are_no_purchases(client, viewer, book):
    client.force_login(viewer)
    body = client.get("/dashboard/widgets/purchases/", JANUARY).content.decode()
    assert "No paid invoice in this period" in body and "simulator creates none" in body


def test_onboarding_widget_funnel_and_drilldowns(client, viewer, onboarding):  # noqa: F811
    client.force_login(viewer)
    body = client.get("/dashboard/widgets/onboarding/", JANUARY).content.decode()
    # How many were created in the period, and how many of them are on the journey: two counts, both named.
    assert "3 accounts created in the period" in body and "Onboarding · 3 of them on this journey" in body
    assert "First value" in body
    setup = onboarding["milestones"][0]
    reached = {**DRILL, "milestone": str(setup.pk)}
    assert _names(client.get("/dashboard/drilldown/onboarding-funnel/reached/", reached)) == {"fast", "slow"}
    assert _names(client.get("/dashboard/drilldown/onboarding-funnel/not-reached/", reached)) == {"stuck"}
    rows = _csv(client.get("/dashboard/widgets/onboarding/csv/", JANUARY))
    assert [(r["milestone"], r["reached"], r["not_reached"]) for r in rows] == [
        ("Setup", "2", "1"), ("First value", "1", "2"), ("Paid", "1", "2"),
    ]  # fmt: skip


def test_winback_widget_results_drilldown_and_csv(client, viewer, winbacks):  # noqa: F811
    client.force_login(viewer)
    body = client.get("/dashboard/widgets/winback/", JANUARY).content.decode()
    assert "33.3 %" in body and "$120" in body and "Discount code" in body and "50.0 %" in body
    assert _names(client.get("/dashboard/drilldown/winback-results/reactivated/", DRILL)) == {"p", "old"}
    rows = _csv(client.get("/dashboard/widgets/winback/csv/", JANUARY))
    by_offer = {r["offer"]: r for r in rows}
    assert (by_offer["discount"]["contacted"], by_offer["discount"]["reactivated"]) == ("2", "1")
    assert by_offer["all"]["reactivated"] == "2"


def test_new_widgets_say_why_when_there_is_nothing(client, viewer):
    client.force_login(viewer)
    texts = {w: client.get(f"/dashboard/widgets/{w}/", JANUARY).content.decode() for w in NEW_WIDGETS}
    assert "No account started its first subscription" in texts["survival"]
    assert "No health snapshot in the period" in texts["health-movement"]
    assert "No stored usage metrics" in texts["engagement"]
    assert "No onboarding journey is set up" in texts["onboarding"]
    assert "No account churned in the period" in texts["winback"]


def test_widget_numbers_are_the_api_numbers(client, manager, winbacks, lifetimes):  # noqa: F811
    client.force_login(manager)
    api = client.get("/api/v1/kpis/winback-results/", DRILL).json()
    body = client.get("/dashboard/widgets/winback/", JANUARY).content.decode()
    assert f"{100 * api['winback_rate']:.1f} %" in body and f"${api['mrr_won_back']:,.0f}" in body
    params = {"start": KM_S.isoformat(), "end": KM_E.isoformat()}
    curve = client.get("/api/v1/kpis/survival/", params).json()
    rows = _csv(client.get("/dashboard/widgets/survival/csv/", {"period": "custom", **params}))
    assert [float(r["survival"]) for r in rows] == [p["survival"] for p in curve["curve"]]


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/drilldown/health-movement/moved/?start=2024-01-01&end=2024-02-01&from=purple&to=green",
        "/dashboard/drilldown/health-movement/moved/?start=2024-01-01&end=2024-02-01",
        "/dashboard/drilldown/engagement-frequency/bucket/?start=2024-01-01&end=2024-02-01&low=x&high=3",
        "/dashboard/drilldown/engagement-frequency/bucket/?start=2024-01-01&end=2024-02-01&low=1&high=99",
        "/dashboard/drilldown/onboarding-funnel/reached/?start=2024-01-01&end=2024-02-01&milestone=-1",
        "/dashboard/drilldown/onboarding-funnel/reached/?start=2024-01-01&end=2024-02-01&milestone=%C2%B9",
        "/dashboard/drilldown/survival/bogus/?start=2024-01-01&end=2024-02-01",
    ],
)
def test_bad_lifecycle_drilldowns_are_404(client, viewer, url):
    client.force_login(viewer)
    assert client.get(url).status_code == 404


def test_new_widgets_use_a_bounded_number_of_queries(client, manager, book, django_assert_max_num_queries):
    client.force_login(manager)
    limits = {"survival": 8, "health-movement": 8, "engagement": 8, "purchases": 24, "onboarding": 10,
              "winback": 10}  # fmt: skip
    for widget, limit in limits.items():
        with django_assert_max_num_queries(limit):
            client.get(f"/dashboard/widgets/{widget}/", {"period": "12m"})
