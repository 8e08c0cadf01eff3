"""Widgets of churn, revenue and retention over the period: churn and MRR movements by month, cohort retention,
the survival curve, purchases (CLV and repeat rate) and win-back results."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dashboards import charts
from dashboards.catalog import KPIS, kpi_series, kpi_value
from dashboards.kpis.periods import Window
from dashboards.widgets._common import detail_of, money, number, pct
from dashboards.widgets.state import DashboardState


def _month_label(day: dt.date) -> str:
    return date_format(day, "YEAR_MONTH_FORMAT")


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
        {_("Logo churn"): [r["churn_rate"] for r in rows], _("MRR churn"): [r["mrr_churn_rate"] for r in rows],
         _("Activity churn (1m)"): [r["activity_churn_rate"] for r in rows]},
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
    money_columns = columns[1:]
    return {"rows": rows, "chart": chart, "columns": columns, "money_columns": money_columns,
            "drill_urls": json.dumps(drills)}  # fmt: skip


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
        detail_of(_("purchase CLV"), money(clv["purchase_clv"]), state.drill("purchase-clv", "customers")),
        detail_of(_("average purchase"), money(clv["average_purchase_value"])),
        detail_of(_("purchases a customer a month"), number(clv["purchase_frequency"], 2)),
        detail_of(_("average lifespan (months)"), number(clv["average_lifespan_months"], 1)),
        detail_of(_("paid invoices"), number(clv["n_purchases"])),
        detail_of(
            _("paying customers"), number(repeat["n_customers"]), state.drill("repeat-purchase-rate", "customers")
        ),
        detail_of(_("repeat customers"), number(repeat["n_repeat"]), state.drill("repeat-purchase-rate", "repeat")),
    ]
    columns = ["month", "n_purchases", "revenue", "n_customers", "n_repeat", "repeat_purchase_rate",
               "average_purchase_value", "purchase_frequency", "average_lifespan_months", "purchase_clv"]  # fmt: skip
    return {
        "clv": clv, "repeat": repeat, "repeat_display": pct(repeat["repeat_purchase_rate"]),
        "details": details, "none": not clv["n_purchases"], "months": rows, "rows": rows, "columns": columns,
        "money_columns": ["revenue", "average_purchase_value", "purchase_clv"],
        "drill": state.drill("repeat-purchase-rate", "repeat"),
        "definitions": (KPIS["purchase-clv"].definition_display, KPIS["repeat-purchase-rate"].definition_display),
        "api": state.api("purchase-clv"),
    }  # fmt: skip


def survival(state: DashboardState) -> dict:
    row = kpi_value(KPIS["survival"], state.query)
    points = row["curve"]
    details = [
        detail_of(_("accounts followed"), number(row["n_accounts"]), state.drill("survival", "accounts")),
        detail_of(_("churned"), number(row["n_churned"]), state.drill("survival", "churned")),
        detail_of(_("still active (censored)"), number(row["n_censored"]), state.drill("survival", "censored")),
        detail_of(_("median lifetime (months)"), number(row["median_lifetime_months"], 1)),
        *(
            detail_of(_("still subscribed after %(months)s months") % {"months": m}, pct(row[f"survival_{m}m"]))
            for m in (3, 6, 12)
        ),
    ]
    return {
        "row": row, "details": details, "chart": charts.survival_curve(points),
        "reason": "" if points else _("No account started its first subscription in the period."),
        "rows": points, "columns": ["day", "month", "at_risk", "events", "censored", "survival"],
        "definition": KPIS["survival"].definition_display, "api": state.api("survival"),
    }  # fmt: skip


def winback(state: DashboardState) -> dict:
    row = kpi_value(KPIS["winback-results"], state.query)
    details = [
        detail_of(_("departures in the period (churn records)"), number(row["n_churned"])),
        detail_of(_("of them won back by the end"), number(row["n_won_back"])),
        detail_of(_("win-back rate"), pct(row["winback_rate"])),
        detail_of(_("reactivations in the period"), number(row["n_reactivated"]), state.drill("winback-results",
                                                                                        "reactivated")),
        detail_of(_("MRR won back"), money(row["mrr_won_back"])),
    ]  # fmt: skip
    for offer in row["offers"]:
        offer["conversion_display"] = pct(offer["conversion_rate"])
    rows = [*row["offers"], {"offer": "all", "label": _("All reactivations in the period"), "contacted": None,
                             "reactivated": row["n_reactivated"], "conversion_rate": None,
                             "mrr_won_back": row["mrr_won_back"]}]  # fmt: skip
    return {
        "row": row, "details": details, "offers": row["offers"], "rows": rows,
        "columns": ["offer", "label", "contacted", "reactivated", "conversion_rate", "mrr_won_back"],
        "money_columns": ["mrr_won_back"],
        "definition": KPIS["winback-results"].definition_display, "api": state.api("winback-results"),
        "reactivated_href": state.drill("winback-results", "reactivated"),
    }  # fmt: skip
