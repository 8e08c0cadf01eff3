"""The key figures widget: one card per headline KPI with its details, drill-down links and benchmark."""

from __future__ import annotations

from dataclasses import replace

from django.urls import reverse
from django.utils.translation import gettext as _

from churnapp.money import currency
from dashboards.api import money_keys
from dashboards.catalog import KPIS, kpi_value
from dashboards.kpis.periods import Window
from dashboards.widgets._common import detail_of, money, number, pct
from dashboards.widgets.state import DashboardState

MONTHLY_CHURN_BENCHMARKS = {"smb": 0.05, "enterprise": 0.02}  # monthly logo churn: SMB < 5 %, enterprise < 1–2 %
RETENTION_BENCHMARK = 0.85  # B2B retention > 85 % a year

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


def _reason(text: str) -> str:
    """Why a figure is empty, in the reader's language (the formulas give it in English, as the API does)."""
    return _(text) if text else ""


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
            "id": "churn", "kpi": "churn-rate", "title": _("Logo churn"), "value": pct(churn["churn_rate"]),
            "reason": _reason(churn["reasons"].get("churn_rate", "")),
            "details": [
                detail_of(_("churned (active at start, not at end)"), number(churn["n_churn"]),
                        state.drill("churn-rate", "churned")),
                detail_of(_("active at start"), number(churn["n_start"]), state.drill("churn-rate", "active-start")),
                detail_of(_("retention"), pct(churn["retention_rate"])),
                detail_of(_("a month on average"), pct(monthly)),
            ],
            "benchmark": _("Monthly: SMB < 5 %, enterprise < 1–2 %"), "benchmark_status": _benchmark_status(churn_ok),
            "compare": True,
        },
        {
            "id": "mrr-churn", "kpi": "mrr-churn", "title": _("MRR churn"), "value": pct(mrr_churn["mrr_churn_rate"]),
            "reason": _reason(mrr_churn["reasons"].get("mrr_churn_rate", "")),
            "details": [
                detail_of(_("churned MRR"), money(mrr_churn["churn_mrr"]), state.drill("mrr-churn", "churned")),
                detail_of(_("downsell"), money(mrr_churn["downsell_mrr"]), state.drill("mrr-churn", "contraction")),
                detail_of(_("MRR at start"), money(mrr_churn["start_mrr"]), state.drill("mrr-churn", "active-start")),
            ],
        },
        {
            "id": "nrr", "kpi": "net-retention", "title": _("Net MRR retention"),
            "value": pct(nrr["net_retention_rate"]), "reason": _reason(nrr["reasons"].get("net_retention_rate", "")),
            "details": [
                detail_of(_("gross retention"), pct(grr)),
                detail_of(_("retained MRR"), money(nrr["retained_mrr"]), state.drill("net-retention", "retained")),
                detail_of(_("MRR at start"), money(nrr["start_mrr"]), state.drill("net-retention", "active-start")),
            ],
            "benchmark": _("B2B gross retention > 85 % a year"), "benchmark_status": _benchmark_status(grr_ok),
        },
        {
            "id": "mrr", "kpi": "arpa", "title": _("MRR at the end"), "value": money(arpa["mrr"]),
            "reason": _reason(arpa["reasons"].get("mrr", "")),
            "details": [
                detail_of(_("active accounts"), number(arpa["n_active"]), state.drill("arpa", "active-end")),
                detail_of(_("ARPA at the end"), money(arpa["arpa"])),
            ],
            "compare": True,
        },
        {
            "id": "activity", "kpi": "activity-churn", "title": _("Activity churn (1 month)"),
            "value": pct(activity["churn_rate"]), "reason": _reason(activity["reasons"].get("churn_rate", "")),
            "details": [
                detail_of(_("went inactive"), number(activity["n_churn"]),
                        state.drill("activity-churn", "churned", window="1m")),
                detail_of(_("active before start"), number(activity["n_start"]),
                        state.drill("activity-churn", "active-start", window="1m")),
            ],
        },
        {
            "id": "nps", "kpi": "nps", "title": "NPS", "value": number(nps["nps"]),
            "reason": _reason(nps["reasons"].get("nps", "")),
            "details": [
                detail_of(_("promoters"), number(nps["n_promoters"]), state.drill("nps", "promoters")),
                detail_of(_("passives"), number(nps["n_passives"]), state.drill("nps", "passives")),
                detail_of(_("detractors"), number(nps["n_detractors"]), state.drill("nps", "detractors")),
            ],
        },
        {
            "id": "csat", "kpi": "csat", "title": "CSAT", "value": pct(None if csat["csat"] is None else
                                                                      csat["csat"] / 100, 0),
            "reason": _reason(csat["reasons"].get("csat", "")),
            "details": [
                detail_of(_("satisfied"), number(csat["n_satisfied"]), state.drill("csat", "satisfied")),
                detail_of(_("responses"), number(csat["n_responses"]), state.drill("csat", "responses")),
            ],
        },
        {
            "id": "clv", "kpi": "clv", "title": _("Customer lifetime value"), "value": money(clv["clv"]),
            "reason": _reason(clv["reasons"].get("clv", "")),
            "details": [
                detail_of(
                    _("ARPA, average of the month starts"), money(clv["arpa"]), state.drill("clv", "active-start")
                ),
                detail_of("CAC", money(clv["cac"]), reverse("dashboard-cac"), drill=False),
                detail_of(_("CLV : CAC"), number(clv["clv_cac_ratio"], 1) if clv["clv_cac_ratio"] is not None else "—"),
            ],
            "compare": True,
        },
    ]  # fmt: skip
    for card in cards:
        measure = PRIMARY_MEASURE[card["kpi"]]
        card["drill"] = state.drill(
            card["kpi"], measure, **({"window": "1m"} if card["kpi"] == "activity-churn" else {})
        )
        card["definition"] = KPIS[card["kpi"]].definition_display
        card["api"] = state.api(card["kpi"])
    code = currency()
    rows = [
        {"kpi": name, "key": key, "value": value, "currency": code if key in money_keys(name) else ""}
        for name, row in values.items()
        for key, value in row.items()
        if key not in ("reasons", "start", "end", "distribution")
    ]
    # Amounts in some rows only: each row names its own currency (empty for counts and rates).
    return {"cards": cards, "rows": rows, "columns": ["kpi", "key", "value", "currency"]}
