"""Band movement and engagement frequency: the health reads the dashboard uses, against hand-counted fixtures."""

from __future__ import annotations

import datetime as dt

import pytest

from health import selectors as health
from health.models import AccountMetrics, HealthProfileVersion, HealthSnapshot
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

DAY_A, DAY_B = dt.date(2024, 1, 1), dt.date(2024, 1, 31)


def snap(account, day: dt.date, band: str) -> None:
    version = HealthProfileVersion.objects.first()
    score = {"green": 80, "yellow": 55, "red": 20, "": None}[band]
    HealthSnapshot.objects.create(account=account, day=day, version=version, score=score, band=band)


@pytest.fixture
def moves(db):
    """Bands on Jan 1 → Jan 31:

    | account  | segment    | Jan 1       | Jan 31      |
    |----------|------------|-------------|-------------|
    | g1, g2   | smb        | green       | green       |
    | g2y      | smb        | green       | yellow      |
    | y2r      | enterprise | yellow      | red         |
    | r2g      | smb        | red         | green       |
    | arrived  | smb        | (none)      | yellow      |
    | left     | enterprise | red         | (none)      |
    | unscored | smb        | not scored  | green       |
    """
    smb, ent = {"segment": "smb"}, {"segment": "enterprise"}
    a = {name: AccountFactory(name=name, **(ent if name in ("y2r", "left") else smb))
         for name in ("g1", "g2", "g2y", "y2r", "r2g", "arrived", "left", "unscored")}  # fmt: skip
    pairs = (("g1", "green", "green"), ("g2", "green", "green"), ("g2y", "green", "yellow"),
             ("y2r", "yellow", "red"), ("r2g", "red", "green"), ("unscored", "", "green"))  # fmt: skip
    for name, first, last in pairs:
        snap(a[name], DAY_A, first)
        snap(a[name], DAY_B, last)
    snap(a["arrived"], DAY_B, "yellow")
    snap(a["left"], DAY_A, "red")
    snap(a["g1"], dt.date(2024, 1, 15), "red")  # a day in between is not what the movement compares
    return a


def _matrix(rows):
    return {(r["from_band"], r["to_band"]): r["n"] for r in rows}


def test_band_transitions_count_each_pair_of_bands(moves):
    assert health.snapshot_day_bounds(start=dt.date(2023, 12, 20), end=dt.date(2024, 2, 1)) == (DAY_A, DAY_B)
    assert health.snapshot_day_bounds(start=dt.date(2024, 3, 1), end=dt.date(2024, 4, 1)) == (None, None)
    rows = health.band_transitions(start_day=DAY_A, end_day=DAY_B)
    assert _matrix(rows) == {
        ("green", "green"): 2,
        ("green", "yellow"): 1,
        ("yellow", "red"): 1,
        ("red", "green"): 1,
        ("", "yellow"): 1,
        ("red", ""): 1,
        ("", "green"): 1,
    }


def test_band_transitions_in_scope_and_their_accounts(moves):
    from accounts.models import Account

    ent = Account.objects.filter(segment="enterprise").values("pk")
    assert _matrix(health.band_transitions(start_day=DAY_A, end_day=DAY_B, accounts=ent)) == {
        ("yellow", "red"): 1,
        ("red", ""): 1,
    }
    ids = health.band_transition_accounts(start_day=DAY_A, end_day=DAY_B, from_band="", to_band="green")
    assert set(ids) == {moves["unscored"].pk}
    ids = health.band_transition_accounts(start_day=DAY_A, end_day=DAY_B, from_band="green", to_band="green")
    assert set(ids) == {moves["g1"].pk, moves["g2"].pk}


def test_active_days_read_the_stored_metrics_of_one_day(db):
    a, b = AccountFactory(), AccountFactory()
    AccountMetrics.objects.create(account=a, day=DAY_A, active_days_30=3)
    AccountMetrics.objects.create(account=a, day=DAY_B, active_days_30=12)
    AccountMetrics.objects.create(account=b, day=DAY_B, active_days_30=0)
    assert health.metrics_day_on_or_before(day=dt.date(2024, 2, 1)) == DAY_B
    assert health.metrics_day_on_or_before(day=dt.date(2024, 1, 30)) == DAY_A
    assert health.metrics_day_on_or_before(day=dt.date(2024, 1, 30), since=dt.date(2024, 1, 2)) is None
    assert sorted(health.active_days_on(day=DAY_B).values_list("active_days_30", flat=True)) == [0, 12]


def kpi(name: str, start: dt.date, end: dt.date, **options):
    from dashboards.catalog import KPIS, kpi_value
    from dashboards.params import KpiQuery

    return kpi_value(KPIS[name], KpiQuery(start=start, end=end, **options), source="live")


def test_health_movement_kpi_counts_improved_and_worsened(moves):
    row = kpi("health-movement", dt.date(2024, 1, 1), dt.date(2024, 2, 1))
    assert (row["from_day"], row["to_day"]) == (DAY_A, DAY_B)
    assert row["n_accounts"] == 8
    assert (row["n_improved"], row["n_worsened"], row["n_unchanged"]) == (1, 2, 2)  # r2g; g2y, y2r; g1, g2
    cells = {(c["from_band"], c["to_band"]): c["n"] for c in row["transitions"]}
    assert len(cells) == 16  # every pair of green, yellow, red, unscored
    assert cells[("green", "green")] == 2 and cells[("unscored", "yellow")] == 1 and cells[("red", "unscored")] == 1
    assert cells[("red", "red")] == 0


def test_health_movement_kpi_filters_and_empty_periods(moves):
    from dashboards.params import KpiFilters

    ent = kpi("health-movement", dt.date(2024, 1, 1), dt.date(2024, 2, 1), filters=KpiFilters(segments=("enterprise",)))
    assert (ent["n_accounts"], ent["n_worsened"], ent["n_improved"]) == (2, 1, 0)
    none = kpi("health-movement", dt.date(2024, 3, 1), dt.date(2024, 4, 1))
    assert (
        none["transitions"] == []
        and none["from_day"] is None
        and "No health snapshot" in none["reasons"]["transitions"]
    )
    one_day = kpi("health-movement", dt.date(2024, 1, 20), dt.date(2024, 1, 31))
    assert one_day["transitions"] == [] and "one day" in one_day["reasons"]["transitions"]


@pytest.fixture
def engagement(db):
    """Stored metrics of Jan 31 2024 (the last day of January with metrics) for six accounts:
    active days 0, 2, 3, 10, 25 (smb) and 7 (enterprise); and of Jan 15 (not the last day) for one more."""
    rows = [(0, "smb"), (2, "smb"), (3, "smb"), (10, "smb"), (25, "smb"), (7, "enterprise")]
    for days, segment in rows:
        AccountMetrics.objects.create(account=AccountFactory(segment=segment), day=DAY_B, active_days_30=days)
    AccountMetrics.objects.create(account=AccountFactory(), day=dt.date(2024, 1, 15), active_days_30=30)


def test_engagement_frequency_buckets_the_last_metrics_day(engagement):
    row = kpi("engagement-frequency", dt.date(2024, 1, 1), dt.date(2024, 2, 1))
    assert row["day"] == DAY_B and row["n_accounts"] == 6
    assert [(b["bucket"], b["n_accounts"]) for b in row["buckets"]] == [
        ("0", 1), ("1-3", 2), ("4-7", 1), ("8-14", 1), ("15-21", 0), ("22-30", 1),
    ]  # fmt: skip
    assert row["buckets"][1]["share"] == pytest.approx(2 / 6)
    assert row["average_active_days"] == pytest.approx(47 / 6, abs=0.01)


def test_engagement_frequency_filters_and_empty_periods(engagement):
    from dashboards.params import KpiFilters

    ent = kpi(
        "engagement-frequency", dt.date(2024, 1, 1), dt.date(2024, 2, 1), filters=KpiFilters(segments=("enterprise",))
    )
    assert [b["n_accounts"] for b in ent["buckets"]] == [0, 0, 1, 0, 0, 0]
    # The period ending Jan 31 (exclusive) reads Jan 15, its last metrics day.
    mid = kpi("engagement-frequency", dt.date(2024, 1, 1), DAY_B)
    assert mid["day"] == dt.date(2024, 1, 15) and mid["buckets"][-1]["n_accounts"] == 1
    none = kpi("engagement-frequency", dt.date(2024, 3, 1), dt.date(2024, 4, 1))
    assert none["day"] is None and none["n_accounts"] == 0 and none["reasons"]["buckets"]
    assert all(b["share"] is None for b in none["buckets"])
