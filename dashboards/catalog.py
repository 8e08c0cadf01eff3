"""The KPIs by name: what each one means, which parameters it takes and how it is computed.

The API (`/api/v1/kpis/<name>/`) and the dashboard both go through `kpi_value` and `kpi_series`, so a number on
the page is the number the API answers for the same period and filters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext, gettext_noop

from dashboards import selectors
from dashboards.kpis import formulas
from dashboards.kpis.periods import split_periods
from dashboards.kpis.survival import kaplan_meier
from dashboards.params import (
    ActivityChurnParamsSerializer,
    ClvParamsSerializer,
    KpiParamsSerializer,
    KpiQuery,
    SnapshotParamsSerializer,
    SurveyParamsSerializer,
)
from dashboards.selectors import lifecycle

Period = tuple[dt.date, dt.date]
Row = dict[str, Any]


@dataclass(frozen=True)
class Kpi:
    name: str
    title: str
    definition: str
    params: type
    compute: Callable[[KpiQuery, Sequence[Period], str], list[Row]]
    kind: str = "period"  # period: over [start, end), with a series; cohort: a grid; snapshot: the accounts now
    benchmark: str = ""

    @property
    def has_series(self) -> bool:
        return self.kind == "period"

    # The title, definition and benchmark in the reader's language (the fields stay English for the API).
    @property
    def title_display(self) -> str:
        return gettext(self.title)

    @property
    def definition_display(self) -> str:
        return gettext(self.definition)

    @property
    def benchmark_display(self) -> str:
        return gettext(self.benchmark) if self.benchmark else ""


def _subscription(formula: Callable[[dict], Row]):
    def compute(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
        sums = selectors.subscription_sums(periods=periods, filters=query.filters, source=source)
        return [formula(sums[p]) for p in periods]

    return compute


def _activity(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    sums = selectors.activity_sums(periods=periods, window=query.window, filters=query.filters, source=source)
    return [{**formulas.activity_churn(sums[p]), "window": str(query.window)} for p in periods]


def _survey(kind: str, formula: Callable[[list[int]], Row]):
    def compute(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
        counts = selectors.survey_counts(
            periods=periods, kind=kind, filters=query.filters, dedupe=query.dedupe, source=source
        )
        return [formula(counts[p]) for p in periods]

    return compute


def _clv(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    months = {p: split_periods(p[0], p[1], "month") for p in periods}
    every_month = sorted({m for ms in months.values() for m in ms})
    sums = selectors.subscription_sums(periods=every_month, filters=query.filters, source=source)
    return [
        formulas.clv(
            [sums[m] for m in months[p]],
            margin=query.margin,
            cac=selectors.cac_for(start=p[0], end=p[1], segments=query.filters.segments),
        )
        for p in periods
    ]


def _cohorts(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    return [
        formulas.cohort_retention(selectors.cohort_cells(start=s, end=e, filters=query.filters, source=source))
        for s, e in periods
    ]


def _health(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    bands = selectors.health_band_counts(filters=query.filters, source=source)
    reasons = (
        {}
        if any(b["band"] != "unscored" and b["n_accounts"] for b in bands)
        else {"bands": gettext_noop("No account has a health score yet.")}
    )
    return [{"bands": bands, "n_accounts": sum(b["n_accounts"] for b in bands), "reasons": reasons}]


def _workload(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    return [{"owners": selectors.csm_workload(filters=query.filters, source=source), "reasons": {}}]


def _purchase_clv(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    months = {p: split_periods(p[0], p[1], "month") for p in periods}
    every_month = sorted({m for ms in months.values() for m in ms})
    subscriptions = selectors.subscription_sums(periods=every_month, filters=query.filters, source=source)
    bought = lifecycle.purchase_sums(periods=periods, filters=query.filters)
    return [
        formulas.purchase_clv(bought[p], [subscriptions[m] for m in months[p]], days=(p[1] - p[0]).days)
        for p in periods
    ]


def _repeat_purchases(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    bought = lifecycle.purchase_sums(periods=periods, filters=query.filters)
    return [formulas.repeat_purchase_rate(bought[p]) for p in periods]


def _survival(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    rows = []
    for start, end in periods:
        lifetimes = lifecycle.lifetime_counts(start=start, end=end, filters=query.filters, source=source)
        rows.append(formulas.survival_curve(kaplan_meier(lifetimes), observed_days=(end - start).days))
    return rows


def _band_movement(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    return [
        formulas.band_movement(lifecycle.band_movement(start=s, end=e, filters=query.filters, source=source))
        for s, e in periods
    ]


def _engagement(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    return [
        formulas.engagement_frequency(
            lifecycle.engagement_counts(start=s, end=e, filters=query.filters, source=source),
            lifecycle.ACTIVE_DAY_BUCKETS,
        )
        for s, e in periods
    ]


def _onboarding(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    return [
        formulas.onboarding_funnel(lifecycle.onboarding_funnels(start=s, end=e, filters=query.filters, source=source))
        for s, e in periods
    ]


def _winback(query: KpiQuery, periods: Sequence[Period], source: str) -> list[Row]:
    return [
        formulas.winback_results(lifecycle.winback_results(start=s, end=e, filters=query.filters)) for s, e in periods
    ]


KPIS: dict[str, Kpi] = {
    kpi.name: kpi
    for kpi in (
        Kpi(
            "churn-rate",
            gettext_noop("Logo churn"),
            gettext_noop(
                "Accounts active at the start date and not active at the end date ÷ accounts active at the start date. "
                "Retention = 1 − churn. An account is active at D when one of its subscriptions has start ≤ D < end."
            ),
            KpiParamsSerializer,
            _subscription(formulas.churn_rate),
            benchmark=gettext_noop("SMB < 5 % a month; enterprise < 1–2 % a month"),
        ),
        Kpi(
            "mrr-churn",
            gettext_noop("MRR churn"),
            gettext_noop(
                "(MRR at the start of the accounts not active at the end + downsell, the MRR lost by accounts active "
                "at both dates whose MRR went down) ÷ total MRR at the start."
            ),
            KpiParamsSerializer,
            _subscription(formulas.mrr_churn),
        ),
        Kpi(
            "net-retention",
            gettext_noop("Net and gross MRR retention"),
            gettext_noop(
                "NRR = MRR at the end of the accounts active at the start (and still active) ÷ MRR at the start. Gross "
                "retention caps each account's MRR at the end at its MRR at the start."
            ),
            KpiParamsSerializer,
            _subscription(formulas.net_retention),
            benchmark=gettext_noop("B2B gross retention > 85 %"),
        ),
        Kpi(
            "activity-churn",
            gettext_noop("Activity churn"),
            gettext_noop(
                "Accounts with a usage event in (start − W, start] and none in (end − W, end] ÷ accounts with an event "
                "in (start − W, start]; dates are instants at 00:00 UTC, W is the inactivity window."
            ),
            ActivityChurnParamsSerializer,
            _activity,
        ),
        Kpi(
            "mrr-movements",
            gettext_noop("MRR movements"),
            gettext_noop(
                "Each account's MRR at the start and at the end: new (first subscription in the period), expansion, "
                "contraction, churned and reactivation (active again after an earlier subscription ended). End MRR = "
                "start + new + expansion + reactivation − contraction − churned."
            ),
            KpiParamsSerializer,
            _subscription(formulas.mrr_movements),
        ),
        Kpi(
            "arpa",
            gettext_noop("MRR and ARPA"),
            gettext_noop(
                "MRR = sum of the MRR of the subscriptions active at the end date; ARPA = MRR ÷ accounts active then."
            ),
            KpiParamsSerializer,
            _subscription(formulas.arpa),
        ),
        Kpi(
            "nps",
            gettext_noop("NPS"),
            # xgettext:no-python-format
            gettext_noop(
                "% promoters (9–10) − % detractors (0–6) over the NPS responses in [start, end); with dedupe, each "
                "contact's latest response only."
            ),
            SurveyParamsSerializer,
            _survey("nps", formulas.nps),
        ),
        Kpi(
            "csat",
            gettext_noop("CSAT"),
            gettext_noop("Satisfied responses (4–5 on 1–5) ÷ all CSAT responses in [start, end) × 100."),
            SurveyParamsSerializer,
            _survey("csat", formulas.csat),
        ),
        Kpi(
            "clv",
            gettext_noop("Customer lifetime value"),
            gettext_noop(
                "ARPA × gross margin ÷ monthly churn rate, both pooled over the months of the period (consecutive "
                "month starts): monthly churn = Σ churned ÷ Σ active at each month start, ARPA = Σ MRR ÷ Σ active at "
                "each month start. CLV:CAC divides by the average CAC managers entered for those months."
            ),
            ClvParamsSerializer,
            _clv,
        ),
        Kpi(
            "cohort-retention",
            gettext_noop("Cohort retention"),
            gettext_noop(
                "Accounts grouped by the month of their first subscription; cell k = share of the cohort active k "
                "months after its first subscription started. Cohorts whose month starts in [start, end); a cell is "
                "shown once every member has reached it by the end date."
            ),
            KpiParamsSerializer,
            _cohorts,
            kind="cohort",
        ),
        Kpi(
            "purchase-clv",
            gettext_noop("Purchase CLV"),
            gettext_noop(
                "Average purchase value × purchase frequency × average customer lifespan. Purchases are paid invoices "
                "(billing events payment_succeeded with an amount, e.g. Stripe invoice.paid) in [start, end). Average "
                "purchase value = revenue ÷ purchases; frequency = purchases per paying customer per month (a month = "
                "365.25 ÷ 12 days); lifespan = 1 ÷ monthly logo churn, pooled over the month starts of the period as "
                "for the subscription CLV, in months."
            ),
            KpiParamsSerializer,
            _purchase_clv,
        ),
        Kpi(
            "repeat-purchase-rate",
            gettext_noop("Repeat purchase rate"),
            gettext_noop("Customers with more than one paid invoice in [start, end) ÷ customers with at least one."),
            KpiParamsSerializer,
            _repeat_purchases,
        ),
        Kpi(
            "survival",
            gettext_noop("Kaplan–Meier retention"),
            gettext_noop(
                "Accounts whose first subscription started in [start, end), followed to the end date: time from the "
                "first subscription start to churn (the end of the last subscription, when the account is not active "
                "at the end date); accounts still active at the end date are censored there. Survival S(t) is the "
                "Kaplan–Meier product over the churn times: S(t) = Π (1 − churned at t ÷ accounts still followed at t)."
            ),
            KpiParamsSerializer,
            _survival,
        ),
        Kpi(
            "health-movement",
            gettext_noop("Movement between health bands"),
            gettext_noop(
                "Accounts per pair (band on the first day of [start, end] with health snapshots, band on the last such "
                "day); not scored = no score or no snapshot that day. Improved / worsened: scored on both days and "
                "moved up / down (red < yellow < green)."
            ),
            KpiParamsSerializer,
            _band_movement,
        ),
        Kpi(
            "engagement-frequency",
            gettext_noop("Engagement frequency"),
            gettext_noop(
                "Accounts per bucket of active days — days with a meaningful usage event in the 30 days up to the last "
                "day of [start, end) with stored usage metrics (the health app's daily metrics)."
            ),
            KpiParamsSerializer,
            _engagement,
        ),
        Kpi(
            "onboarding-funnel",
            gettext_noop("Onboarding funnel"),
            gettext_noop(
                "Accounts created in [start, end) on each onboarding journey: per milestone, how many reached it (and "
                "their share), missed it, and the median days to reach it; where most drop off."
            ),
            KpiParamsSerializer,
            _onboarding,
        ),
        Kpi(
            "winback-results",
            gettext_noop("Win-back results"),
            gettext_noop(
                "Departures in [start, end) (churn records: an account that left twice counts twice) and the share of "
                "them reactivated by the end date (win-back rate); reactivations in the period (whenever the account "
                "churned) and the MRR they won back; per offer, churned accounts contacted in the period and "
                "reactivations attributed to that offer (conversion = reactivated ÷ contacted)."
            ),
            KpiParamsSerializer,
            _winback,
        ),
        Kpi(
            "health-bands",
            gettext_noop("Health bands"),
            gettext_noop(
                "Accounts that have not churned, per current health band (green, yellow, red, not scored), with their "
                "MRR."
            ),
            SnapshotParamsSerializer,
            _health,
            kind="snapshot",
        ),
        Kpi(
            "csm-workload",
            gettext_noop("CSM workload"),
            gettext_noop(
                "Per account owner: accounts that have not churned, their MRR, at-risk accounts (status at risk or red "
                "health), open tasks and overdue open tasks."
            ),
            SnapshotParamsSerializer,
            _workload,
            kind="snapshot",
        ),
    )
}


def _with_period(row: Row, period: Period | None) -> Row:
    if period is None:
        return row
    return {"start": period[0], "end": period[1], **row}


def kpi_value(kpi: Kpi, query: KpiQuery, *, source: str = selectors.AUTO) -> Row:
    """The KPI over [query.start, query.end) (or now, for snapshot KPIs)."""
    period = (query.start, query.end) if query.start else None
    return _with_period(kpi.compute(query, [period] if period else [], source)[0], period)


def kpi_series(kpi: Kpi, query: KpiQuery, *, source: str = selectors.AUTO) -> list[Row]:
    """One row per month (or quarter) of the period, empty periods included."""
    periods = query.periods()
    return [_with_period(row, p) for row, p in zip(kpi.compute(query, periods, source), periods, strict=True)]
