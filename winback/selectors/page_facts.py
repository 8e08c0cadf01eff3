"""Page facts: the win-back overview's and the Feedback page's aggregates, computed now (a worker stores them)
and read back from the stored rows."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from winback import conf
from winback.models import Campaign, ChurnType, Offer, PageFacts
from winback.selectors.campaigns import campaign_kpis, conversion_by_offer, response_by_touchpoint
from winback.selectors.churn import NOT_GIVEN, churn_summary, winback_grid
from winback.selectors.dunning import dunning_summary
from winback.selectors.sla import detractor_sla
from winback.selectors.surveys import nps_summary, survey_funnel
from winback.selectors.themes import theme_monthly, theme_stats

# The Feedback page's NPS, SLA and response-rate cards cover this many days.
FEEDBACK_WINDOW_DAYS = 90


def overview_figures() -> dict:
    """The win-back overview's aggregates, computed now (the facts refresh stores them; tests compare)."""
    return {
        "grid": winback_grid(),
        "summary": churn_summary(),
        "campaigns": [
            {**{k: v for k, v in row.items() if k != "campaign"}, "campaign_id": row["campaign"].pk}
            for row in campaign_kpis()
        ],
        "by_offer": conversion_by_offer(),
        "by_touchpoint": response_by_touchpoint(),
        "dunning": dunning_summary(),
    }


def feedback_figures(*, now: dt.datetime | None = None) -> dict:
    """The Feedback page's aggregates over the last FEEDBACK_WINDOW_DAYS, computed now."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=FEEDBACK_WINDOW_DAYS)
    return {
        "window_days": FEEDBACK_WINDOW_DAYS,
        "nps": nps_summary(start=since),
        "sla": detractor_sla(start=since.date(), today=timezone.localdate(now)),
        "sla_since": since.date().isoformat(),
        "funnel": survey_funnel(since=since),
        "themes": theme_stats(),
        "theme_monthly": theme_monthly(today=timezone.localdate(now)),
    }


def page_facts(*, key: str) -> PageFacts | None:
    return PageFacts.objects.filter(key=key).first()


def overview_facts() -> dict | None:
    """The stored overview figures with their campaigns attached (None before the first refresh)."""
    facts = page_facts(key="overview")
    if facts is None:
        return None
    data = dict(facts.data)
    campaigns = Campaign.objects.in_bulk([row["campaign_id"] for row in data["campaigns"]])
    data["campaigns"] = [
        {**row, "campaign": campaigns[row["campaign_id"]]}
        for row in data["campaigns"]
        if row["campaign_id"] in campaigns
    ]
    data["computed_at"] = facts.computed_at
    return _labelled(data)


def _labelled(data: dict) -> dict:
    """The stored figures with their labels in the reader's language (the facts store codes and English labels)."""
    grid = data.get("grid")
    if grid:
        bands = [(code, conf.VALUE_BAND_LABELS.get(code, label)) for code, label in grid["bands"]]
        rows = [{**row, "label": NOT_GIVEN} if row["code"] == "unknown" else row for row in grid["rows"]]
        data["grid"] = {**grid, "bands": bands, "rows": rows}
    summary = data.get("summary")
    if summary:
        labels = dict(ChurnType.choices)
        types = [{**row, "label": labels.get(row["type"], row["label"])} for row in summary["types"]]
        data["summary"] = {**summary, "types": types}
    if data.get("by_offer"):
        labels = dict(Offer.choices)
        data["by_offer"] = [{**row, "label": labels.get(row["offer"], row["label"])} for row in data["by_offer"]]
    return data


def feedback_facts() -> dict | None:
    """The stored Feedback figures (None before the first refresh)."""
    facts = page_facts(key="feedback")
    if facts is None:
        return None
    return {**facts.data, "computed_at": facts.computed_at}
