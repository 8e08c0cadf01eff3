"""What each dashboard widget shows: numbers from the KPI catalog, drill-down links, charts and CSV rows.

A widget builder takes the dashboard's state (period and filters) and returns a template context with `rows`
(the widget's data, also its CSV export) — so the page, the CSV and the API all come from `dashboards.catalog`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from churnapp.templatetags import formatting
from dashboards import charts
from dashboards.catalog import KPIS, kpi_series, kpi_value
from dashboards.kpis.periods import Window
from dashboards.params import KpiQuery
from dashboards.selectors import lifecycle
from dashboards.selectors.goals import goals_progress

MONTHLY_CHURN_BENCHMARKS = {"smb": 0.05, "enterprise": 0.02}  # monthly logo churn: SMB < 5 %, enterprise < 1–2 %
RETENTION_BENCHMARK = 0.85  # B2B retention > 85 % a year
WORKLOAD_ROWS = 25  # owners shown, by MRR; the CSV has them all

# The accounts a card's main figure drills into.
PRIMARY_MEASURE = {
    "churn-rate": "churned",
    "mrr-churn": "churned",
    "net-retention": "retained",
    "arpa": "active-end",
    "activity-churn": "churned",
    "nps": "responses",
    "csat": "responses",
    "clv": "active-start",
}
NOT_CHURNED = ("onboarding", "active", "at_risk", "won_back")  # account statuses, for links to the accounts list


@dataclass(frozen=True)
class DashboardState:
    """The period and filters of the page, as validated by `DashboardFilterForm`."""

    query: KpiQuery
    period: str

    @property
    def params(self) -> list[tuple[str, str]]:
        pairs = [("period", self.period)]
        if self.period == "custom":
            pairs += [("start", self.query.start.isoformat()), ("end", self.query.end.isoformat())]
        return pairs + self.query.filters.as_params()

    @property
    def querystring(self) -> str:
        return urlencode(self.params)

    @property
    def months(self) -> int:
        return (self.query.end.year - self.query.start.year) * 12 + self.query.end.month - self.query.start.month

    def drill(self, kpi: str, measure: str, **extra) -> str:
        params = [("start", self.query.start.isoformat()), ("end", self.query.end.isoformat()),
                  *self.query.filters.as_params(), *extra.items()]  # fmt: skip
        return f"{reverse('dashboard-drilldown', args=[kpi, measure])}?{urlencode(params)}"

    def accounts_link(self, **extra) -> str:
        """The accounts list with the same filters (it understands segment, owner and plan) plus `extra`."""
        params = self.query.filters.as_params() + [
            (key, v) for key, value in extra.items() for v in (value if isinstance(value, tuple) else (value,))
        ]
        return f"{reverse('account-list')}?{urlencode(params)}"

    def api(self, kpi: str, series: bool = False) -> str:
        name = ("kpi-series-" if series else "kpi-detail-") + kpi
        params = [("start", self.query.start.isoformat()), ("end", self.query.end.isoformat()),
                  *self.query.filters.as_params()]  # fmt: skip
        return f"{reverse(name)}?{urlencode(params)}"


def pct(value: float | None, digits: int = 1) -> str:
    """A share as the pages show it (the `percent` template filter)."""
    return formatting.percent(value, digits)


def money(value: float | None) -> str:
    """An amount as the pages show it (the `money` template filter): "−$5,750"."""
    return formatting.money(value)


def number(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _detail(label: str, value: str, href: str = "", *, drill: bool = True) -> dict:
    """A figure on a card; `href` opens the accounts behind it in the drill-down panel (or a page if not `drill`)."""
    return {"label": label, "value": value, "href": href, "drill": drill and bool(href)}


def _benchmark_status(good: bool | None) -> str:
    return "" if good is None else ("good" if good else "bad")


def kpi_cards(state: DashboardState) -> dict:
    q = state.query
    values = {name: kpi_value(KPIS[name], q) for name in ("churn-rate", "mrr-churn", "net-retention", "arpa", "nps",
                                                           "csat", "clv")}  # fmt: skip
    values["activity-churn"] = kpi_value(KPIS["activity-churn"], replace(q, window=Window(1, "m")))
    churn, mrr_churn, nrr, arpa = (values[n] for n in ("churn-rate", "mrr-churn", "net-retention", "arpa"))
    nps, csat, clv, activity = (values[n] for n in ("nps", "csat", "clv", "activity-churn"))

    segments = q.filters.segments
    monthly = clv["monthly_churn_rate"]
    limit = MONTHLY_CHURN_BENCHMARKS.get(segments[0]) if len(segments) == 1 else None
    churn_ok = None if limit is None or monthly is None else monthly < limit
    yearly = state.months == 12
    grr = nrr["gross_retention_rate"]
    grr_ok = None if not yearly or grr is None else grr > RETENTION_BENCHMARK
    cards = [
        {
            "id": "churn", "kpi": "churn-rate", "title": "Logo churn", "value": pct(churn["churn_rate"]),
            "reason": churn["reasons"].get("churn_rate", ""),
            "details": [
                _detail("churned (active at start, not at end)", number(churn["n_churn"]),
                        state.drill("churn-rate", "churned")),
                _detail("active at start", number(churn["n_start"]), state.drill("churn-rate", "active-start")),
                _detail("retention", pct(churn["retention_rate"])),
                _detail("a month on average", pct(monthly)),
            ],
            "benchmark": "Monthly: SMB < 5 %, enterprise < 1–2 %", "benchmark_status": _benchmark_status(churn_ok),
            "compare": True,
        },
        {
            "id": "mrr-churn", "kpi": "mrr-churn", "title": "MRR churn", "value": pct(mrr_churn["mrr_churn_rate"]),
            "reason": mrr_churn["reasons"].get("mrr_churn_rate", ""),
            "details": [
                _detail("churned MRR", money(mrr_churn["churn_mrr"]), state.drill("mrr-churn", "churned")),
                _detail("downsell", money(mrr_churn["downsell_mrr"]), state.drill("mrr-churn", "contraction")),
                _detail("MRR at start", money(mrr_churn["start_mrr"]), state.drill("mrr-churn", "active-start")),
            ],
        },
        {
            "id": "nrr", "kpi": "net-retention", "title": "Net MRR retention",
            "value": pct(nrr["net_retention_rate"]), "reason": nrr["reasons"].get("net_retention_rate", ""),
            "details": [
                _detail("gross retention", pct(grr)),
                _detail("retained MRR", money(nrr["retained_mrr"]), state.drill("net-retention", "retained")),
                _detail("MRR at start", money(nrr["start_mrr"]), state.drill("net-retention", "active-start")),
            ],
            "benchmark": "B2B gross retention > 85 % a year", "benchmark_status": _benchmark_status(grr_ok),
        },
        {
            "id": "mrr", "kpi": "arpa", "title": "MRR at the end", "value": money(arpa["mrr"]),
            "reason": arpa["reasons"].get("mrr", ""),
            "details": [
                _detail("active accounts", number(arpa["n_active"]), state.drill("arpa", "active-end")),
                _detail("ARPA at the end", money(arpa["arpa"])),
            ],
            "compare": True,
        },
        {
            "id": "activity", "kpi": "activity-churn", "title": "Activity churn (1 month)",
            "value": pct(activity["churn_rate"]), "reason": activity["reasons"].get("churn_rate", ""),
            "details": [
                _detail("went inactive", number(activity["n_churn"]),
                        state.drill("activity-churn", "churned", window="1m")),
                _detail("active before start", number(activity["n_start"]),
                        state.drill("activity-churn", "active-start", window="1m")),
            ],
        },
        {
            "id": "nps", "kpi": "nps", "title": "NPS", "value": number(nps["nps"]),
            "reason": nps["reasons"].get("nps", ""),
            "details": [
                _detail("promoters", number(nps["n_promoters"]), state.drill("nps", "promoters")),
                _detail("passives", number(nps["n_passives"]), state.drill("nps", "passives")),
                _detail("detractors", number(nps["n_detractors"]), state.drill("nps", "detractors")),
            ],
        },
        {
            "id": "csat", "kpi": "csat", "title": "CSAT", "value": pct(None if csat["csat"] is None else
                                                                      csat["csat"] / 100, 0),
            "reason": csat["reasons"].get("csat", ""),
            "details": [
                _detail("satisfied", number(csat["n_satisfied"]), state.drill("csat", "satisfied")),
                _detail("responses", number(csat["n_responses"]), state.drill("csat", "responses")),
            ],
        },
        {
            "id": "clv", "kpi": "clv", "title": "Customer lifetime value", "value": money(clv["clv"]),
            "reason": clv["reasons"].get("clv", ""),
            "details": [
                _detail("ARPA, average of the month starts", money(clv["arpa"]), state.drill("clv", "active-start")),
                _detail("CAC", money(clv["cac"]), reverse("dashboard-cac"), drill=False),
                _detail("CLV : CAC", number(clv["clv_cac_ratio"], 1) if clv["clv_cac_ratio"] is not None else "—"),
            ],
            "compare": True,
        },
    ]  # fmt: skip
    for card in cards:
        measure = PRIMARY_MEASURE[card["kpi"]]
        card["drill"] = state.drill(
            card["kpi"], measure, **({"window": "1m"} if card["kpi"] == "activity-churn" else {})
        )
        card["definition"] = KPIS[card["kpi"]].definition
        card["api"] = state.api(card["kpi"])
    rows = [
        {"kpi": name, "key": key, "value": value}
        for name, row in values.items()
        for key, value in row.items()
        if key not in ("reasons", "start", "end", "distribution")
    ]
    return {"cards": cards, "rows": rows, "columns": ["kpi", "key", "value"]}


def _month_label(day: dt.date) -> str:
    return day.strftime("%b %Y")


def churn_trend(state: DashboardState) -> dict:
    q = state.query
    logo = kpi_series(KPIS["churn-rate"], q)
    mrr = kpi_series(KPIS["mrr-churn"], q)
    activity = kpi_series(KPIS["activity-churn"], replace(q, window=Window(1, "m")))
    labels = [_month_label(row["start"]) for row in logo]
    rows = [
        {"month": row["start"].strftime("%Y-%m"), "start": row["start"], "end": row["end"],
         "churn_rate": row["churn_rate"], "n_start": row["n_start"], "n_churn": row["n_churn"],
         "mrr_churn_rate": m["mrr_churn_rate"], "activity_churn_rate": a["churn_rate"]}
        for row, m, a in zip(logo, mrr, activity, strict=True)
    ]  # fmt: skip
    chart = charts.churn_trend(
        labels,
        {"Logo churn": [r["churn_rate"] for r in rows], "MRR churn": [r["mrr_churn_rate"] for r in rows],
         "Activity churn (1m)": [r["activity_churn_rate"] for r in rows]},
    )  # fmt: skip
    drills: list[list[str]] = [[], [], []]
    for row in rows:
        period = replace(state, query=replace(q, start=row["start"], end=row["end"]))
        row["drill"] = period.drill("churn-rate", "churned")
        row["churn_display"] = pct(row["churn_rate"])
        row["mrr_churn_display"] = pct(row["mrr_churn_rate"])
        row["activity_display"] = pct(row["activity_churn_rate"])
        drills[0].append(row["drill"])
        drills[1].append(period.drill("mrr-churn", "churned"))
        drills[2].append(period.drill("activity-churn", "churned", window="1m"))
    columns = ["month", "churn_rate", "n_start", "n_churn", "mrr_churn_rate", "activity_churn_rate"]
    return {"rows": rows, "chart": chart, "columns": columns, "drill_urls": json.dumps(drills)}


def mrr_movements(state: DashboardState) -> dict:
    rows = kpi_series(KPIS["mrr-movements"], state.query)
    # In the order of the chart's datasets: new, expansion, reactivation, contraction, churned.
    measures = ("new", "expansion", "reactivated", "contraction", "churned")
    for row in rows:
        row["month"] = row["start"].strftime("%Y-%m")
        period = replace(state, query=replace(state.query, start=row["start"], end=row["end"]))
        row["drills"] = {m: period.drill("mrr-movements", m) for m in measures}
    chart = charts.mrr_movements([_month_label(row["start"]) for row in rows], rows)
    columns = ["month", "start_mrr", "new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr",
               "churned_mrr", "end_mrr", "net_change_mrr"]  # fmt: skip
    drills = [[row["drills"][m] for row in rows] for m in measures]
    return {"rows": rows, "chart": chart, "columns": columns, "drill_urls": json.dumps(drills)}


def nps(state: DashboardState) -> dict:
    row = kpi_value(KPIS["nps"], state.query)
    rows = [{"score": score, "responses": n} for score, n in enumerate(row["distribution"])]
    links = {m: state.drill("nps", m) for m in ("promoters", "passives", "detractors", "responses")}
    return {"nps": row, "rows": rows, "chart": charts.nps_distribution(row["distribution"]), "links": links,
            "columns": ["score", "responses"]}  # fmt: skip


def cohorts(state: DashboardState) -> dict:
    row = kpi_value(KPIS["cohort-retention"], state.query)
    width = max((len(c["retention"]) for c in row["cohorts"]), default=0)
    grid = []
    for cohort in row["cohorts"]:
        month = dt.date.fromisoformat(cohort["cohort"] + "-01")
        cells = [
            {"k": k, "share": share, "active": active, "alpha": round(0.12 + 0.88 * (share or 0), 2),
             "dark": (share or 0) > 0.55, "href": state.drill("cohort-retention", "active", cohort=cohort["cohort"],
                                                               k=str(k))}
            for k, (share, active) in enumerate(zip(cohort["retention"], cohort["active"], strict=True))
        ]  # fmt: skip
        grid.append({**cohort, "month": month, "cells": cells, "pad": range(width - len(cells)),
                     "href": state.drill("cohort-retention", "members", cohort=cohort["cohort"], k="0")})  # fmt: skip
    rows = [
        {"cohort": c["cohort"], "n_accounts": c["n_accounts"], **{f"k{k}": s for k, s in enumerate(c["retention"])}}
        for c in row["cohorts"]
    ]
    return {"grid": grid, "ks": range(width), "reason": row["reasons"].get("cohorts", ""), "rows": rows,
            "columns": ["cohort", "n_accounts", *(f"k{k}" for k in range(width))]}  # fmt: skip


def health(state: DashboardState) -> dict:
    row = kpi_value(KPIS["health-bands"], replace(state.query, start=None, end=None))
    bands = row["bands"]
    for band in bands:
        # The accounts list filters by band but has no "not scored" choice.
        unscored = band["band"] == "unscored"
        band["href"] = "" if unscored else state.accounts_link(band=band["band"], status=NOT_CHURNED)
    return {"bands": bands, "total": row["n_accounts"], "reason": row["reasons"].get("bands", ""),
            "chart": charts.health_bands(bands), "rows": bands, "columns": ["band", "n_accounts", "mrr"]}  # fmt: skip


def workload(state: DashboardState) -> dict:
    owners = kpi_value(KPIS["csm-workload"], replace(state.query, start=None, end=None))["owners"]
    shown = owners[:WORKLOAD_ROWS]
    for owner in shown:
        owner["href"] = state.accounts_link(owner=str(owner["owner_id"]) if owner["owner_id"] else "none",
                                            status=NOT_CHURNED)  # fmt: skip
    columns = ["owner", "n_accounts", "mrr", "n_at_risk", "open_tasks", "overdue_tasks"]
    # Account columns come from the latest KPI facts run when there is one (the view adds its age as `facts_at`);
    # the task columns are always live.
    return {"owners": shown, "more": len(owners) - len(shown), "rows": owners, "columns": columns}


def goals(state: DashboardState) -> dict:
    today = timezone.localdate()
    quarter = (today.month - 1) // 3 + 1
    progress = goals_progress(year=today.year, quarter=quarter, today=today)
    rows = [{"goal": str(p.goal), "metric": p.goal.metric, "segment": p.goal.segment, "comparator": p.goal.comparator,
             "target": float(p.goal.target), "actual": p.actual, "status": p.status} for p in progress]  # fmt: skip
    return {"progress": progress, "quarter": f"{today.year} Q{quarter}", "rows": rows,
            "columns": ["goal", "metric", "segment", "comparator", "target", "actual", "status"]}  # fmt: skip


def purchases(state: DashboardState) -> dict:
    q = state.query
    clv = kpi_value(KPIS["purchase-clv"], q)
    repeat = kpi_value(KPIS["repeat-purchase-rate"], q)
    monthly = zip(kpi_series(KPIS["purchase-clv"], q), kpi_series(KPIS["repeat-purchase-rate"], q), strict=True)
    rows = [
        {"month": c["start"].strftime("%Y-%m"), "n_purchases": c["n_purchases"], "revenue": c["revenue"],
         "n_customers": c["n_customers"], "n_repeat": r["n_repeat"], "repeat_purchase_rate": r["repeat_purchase_rate"],
         "average_purchase_value": c["average_purchase_value"], "purchase_frequency": c["purchase_frequency"],
         "average_lifespan_months": c["average_lifespan_months"], "purchase_clv": c["purchase_clv"]}
        for c, r in monthly
    ]  # fmt: skip
    details = [
        _detail("purchase CLV", money(clv["purchase_clv"]), state.drill("purchase-clv", "customers")),
        _detail("average purchase", money(clv["average_purchase_value"])),
        _detail("purchases a customer a month", number(clv["purchase_frequency"], 2)),
        _detail("average lifespan (months)", number(clv["average_lifespan_months"], 1)),
        _detail("paid invoices", number(clv["n_purchases"])),
        _detail("paying customers", number(repeat["n_customers"]), state.drill("repeat-purchase-rate", "customers")),
        _detail("repeat customers", number(repeat["n_repeat"]), state.drill("repeat-purchase-rate", "repeat")),
    ]
    columns = ["month", "n_purchases", "revenue", "n_customers", "n_repeat", "repeat_purchase_rate",
               "average_purchase_value", "purchase_frequency", "average_lifespan_months", "purchase_clv"]  # fmt: skip
    return {
        "clv": clv, "repeat": repeat, "repeat_display": pct(repeat["repeat_purchase_rate"]),
        "details": details, "none": not clv["n_purchases"], "months": rows, "rows": rows, "columns": columns,
        "drill": state.drill("repeat-purchase-rate", "repeat"),
        "definitions": (KPIS["purchase-clv"].definition, KPIS["repeat-purchase-rate"].definition),
        "api": state.api("purchase-clv"),
    }  # fmt: skip


def survival(state: DashboardState) -> dict:
    row = kpi_value(KPIS["survival"], state.query)
    points = row["curve"]
    details = [
        _detail("accounts followed", number(row["n_accounts"]), state.drill("survival", "accounts")),
        _detail("churned", number(row["n_churned"]), state.drill("survival", "churned")),
        _detail("still active (censored)", number(row["n_censored"]), state.drill("survival", "censored")),
        _detail("median lifetime (months)", number(row["median_lifetime_months"], 1)),
        *(_detail(f"still subscribed after {m} months", pct(row[f"survival_{m}m"])) for m in (3, 6, 12)),
    ]
    return {
        "row": row, "details": details, "chart": charts.survival_curve(points),
        "reason": "" if points else "No account started its first subscription in the period.",
        "rows": points, "columns": ["day", "month", "at_risk", "events", "censored", "survival"],
        "definition": KPIS["survival"].definition, "api": state.api("survival"),
    }  # fmt: skip


BAND_LABELS = {"green": "Green", "yellow": "Yellow", "red": "Red", "unscored": "Not scored"}


def health_movement(state: DashboardState) -> dict:
    row = kpi_value(KPIS["health-movement"], state.query)
    cells = {(c["from_band"], c["to_band"]): c["n"] for c in row["transitions"]}
    bands = list(BAND_LABELS)
    grid = [
        {"band": a, "label": BAND_LABELS[a], "total": sum(cells.get((a, b), 0) for b in bands),
         "cells": [{"n": cells.get((a, b), 0), "same": a == b, "to": b,
                    "href": state.drill("health-movement", "moved", **{"from": a, "to": b})} for b in bands]}
        for a in bands
    ]  # fmt: skip
    return {
        "row": row, "grid": grid, "bands": [(b, BAND_LABELS[b]) for b in bands],
        "reason": row["reasons"].get("transitions", ""), "rows": row["transitions"],
        "columns": ["from_band", "to_band", "n"], "definition": KPIS["health-movement"].definition,
        "api": state.api("health-movement"),
    }  # fmt: skip


def engagement(state: DashboardState) -> dict:
    row = kpi_value(KPIS["engagement-frequency"], state.query)
    for bucket in row["buckets"]:
        bucket["href"] = state.drill("engagement-frequency", "bucket", low=str(bucket["min_days"]),
                                     high=str(bucket["max_days"]))  # fmt: skip
        bucket["share_display"] = pct(bucket["share"], 0)
    drills = [[b["href"] for b in row["buckets"]]]
    return {
        "row": row, "buckets": row["buckets"], "chart": charts.engagement_buckets(row["buckets"]),
        "drill_urls": json.dumps(drills), "reason": row["reasons"].get("buckets", ""), "rows": row["buckets"],
        "columns": ["bucket", "min_days", "max_days", "n_accounts", "share"],
        "definition": KPIS["engagement-frequency"].definition, "api": state.api("engagement-frequency"),
    }  # fmt: skip


def onboarding(state: DashboardState) -> dict:
    row = kpi_value(KPIS["onboarding-funnel"], state.query)
    rows = []
    for journey in row["journeys"]:
        for step in journey["steps"]:
            mid = str(step["milestone_id"])
            step["href"] = state.drill("onboarding-funnel", "reached", milestone=mid)
            step["not_href"] = state.drill("onboarding-funnel", "not-reached", milestone=mid)
            step["not_reached"] = journey["n_accounts"] - step["reached"]
            step["share_display"] = pct(step["share"], 0)
            step["width"] = round(100 * (step["share"] or 0))
            rows.append({"journey": journey["journey"], **{k: v for k, v in step.items() if "href" not in k}})
    columns = ["journey", "milestone", "reached", "not_reached", "missed", "share", "median_days"]
    signups = lifecycle.signed_up(start=state.query.start, end=state.query.end, filters=state.query.filters).count()
    return {"row": row, "journeys": row["journeys"], "reason": row["reasons"].get("journeys", ""), "rows": rows,
            "signups": signups,
            "columns": columns, "definition": KPIS["onboarding-funnel"].definition,
            "api": state.api("onboarding-funnel")}  # fmt: skip


def winback(state: DashboardState) -> dict:
    row = kpi_value(KPIS["winback-results"], state.query)
    details = [
        _detail("departures in the period (churn records)", number(row["n_churned"])),
        _detail("of them won back by the end", number(row["n_won_back"])),
        _detail("win-back rate", pct(row["winback_rate"])),
        _detail("reactivations in the period", number(row["n_reactivated"]), state.drill("winback-results",
                                                                                        "reactivated")),
        _detail("MRR won back", money(row["mrr_won_back"])),
    ]  # fmt: skip
    for offer in row["offers"]:
        offer["conversion_display"] = pct(offer["conversion_rate"])
    rows = [*row["offers"], {"offer": "all", "label": "All reactivations in the period", "contacted": None,
                             "reactivated": row["n_reactivated"], "conversion_rate": None,
                             "mrr_won_back": row["mrr_won_back"]}]  # fmt: skip
    return {
        "row": row, "details": details, "offers": row["offers"], "rows": rows,
        "columns": ["offer", "label", "contacted", "reactivated", "conversion_rate", "mrr_won_back"],
        "definition": KPIS["winback-results"].definition, "api": state.api("winback-results"),
        "reactivated_href": state.drill("winback-results", "reactivated"),
    }  # fmt: skip


WIDGETS: dict[str, tuple[str, Callable[[DashboardState], dict]]] = {
    "kpi-cards": ("Key figures", kpi_cards),
    "churn-trend": ("Churn by month", churn_trend),
    "mrr-movements": ("MRR movements by month", mrr_movements),
    "nps": ("NPS distribution", nps),
    "cohorts": ("Cohort retention", cohorts),
    "health": ("Health bands", health),
    "workload": ("CSM workload", workload),
    "goals": ("Goals this quarter", goals),
    "survival": ("Retention curve (Kaplan–Meier)", survival),
    "health-movement": ("Movement between health bands", health_movement),
    "engagement": ("Engagement frequency", engagement),
    "purchases": ("Purchases: CLV and repeat rate", purchases),
    "onboarding": ("Onboarding funnel", onboarding),
    "winback": ("Win-back results", winback),
}
