"""Widgets of what the accounts signal: health bands and the movement between them, engagement frequency, the
onboarding funnel and the NPS distribution."""

from __future__ import annotations

import json
from dataclasses import replace

from django.utils.translation import gettext_lazy as _

from dashboards import charts
from dashboards.catalog import KPIS, kpi_value
from dashboards.selectors import lifecycle
from dashboards.widgets._common import NOT_CHURNED, pct
from dashboards.widgets.state import DashboardState


def nps(state: DashboardState) -> dict:
    row = kpi_value(KPIS["nps"], state.query)
    rows = [{"score": score, "responses": n} for score, n in enumerate(row["distribution"])]
    links = {m: state.drill("nps", m) for m in ("promoters", "passives", "detractors", "responses")}
    return {"nps": row, "rows": rows, "chart": charts.nps_distribution(row["distribution"]), "links": links,
            "columns": ["score", "responses"]}  # fmt: skip


def health(state: DashboardState) -> dict:
    row = kpi_value(KPIS["health-bands"], replace(state.query, start=None, end=None))
    bands = row["bands"]
    for band in bands:
        # The accounts list filters by band but has no "not scored" choice.
        unscored = band["band"] == "unscored"
        band["href"] = "" if unscored else state.accounts_link(band=band["band"], status=NOT_CHURNED)
    return {"bands": bands, "total": row["n_accounts"], "reason": row["reasons"].get("bands", ""),
            "chart": charts.health_bands(bands), "rows": bands, "columns": ["band", "n_accounts", "mrr"],
            "money_columns": ["mrr"]}  # fmt: skip


BAND_LABELS = {"green": _("Green"), "yellow": _("Yellow"), "red": _("Red"), "unscored": _("Not scored")}


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
        "columns": ["from_band", "to_band", "n"], "definition": KPIS["health-movement"].definition_display,
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
        "definition": KPIS["engagement-frequency"].definition_display, "api": state.api("engagement-frequency"),
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
            "columns": columns, "definition": KPIS["onboarding-funnel"].definition_display,
            "api": state.api("onboarding-funnel")}  # fmt: skip
