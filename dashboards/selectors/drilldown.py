"""The accounts behind a number: which accounts a KPI counted, computed live with the same per-account metrics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db.models import Avg, Count
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop, ngettext, pgettext

from accounts.models import Account, HealthBand, SurveyResponse
from dashboards.kpis.formulas import DAYS_PER_MONTH
from dashboards.kpis.metrics import cohort_activity, period_account_metrics
from dashboards.kpis.periods import instant
from dashboards.params import KpiQuery
from dashboards.selectors import lifecycle, live
from winback.models import Offer

# Measures of the subscription KPIs → the per-account metric that counts an account in.
SUBSCRIPTION_MEASURES = {
    "active-start": ("n_start", gettext_noop("Active at the start")),
    "churned": ("n_churn", gettext_noop("Churned")),
    "retained": ("n_retained", gettext_noop("Active at the start and the end")),
    "contraction": ("n_contracted", gettext_noop("Contracted (downsell)")),
    "expansion": ("n_expanded", gettext_noop("Expanded")),
    "new": ("n_new", gettext_noop("New")),
    "reactivated": ("n_reactivated", gettext_noop("Reactivated")),
    "active-end": ("n_end", gettext_noop("Active at the end")),
}
ACTIVITY_MEASURES = {
    "active-start": gettext_noop("Had an event in the window before the start"),
    "churned": gettext_noop("Went inactive"),
}
SURVEY_MEASURES = {
    "nps": {"promoters": (9, 10), "passives": (7, 8), "detractors": (0, 6), "responses": (0, 10)},
    "csat": {"satisfied": (4, 5), "neutral": (3, 3), "dissatisfied": (1, 2), "responses": (1, 5)},
}
SURVEY_TITLES = {
    "promoters": gettext_noop("Promoters"),
    "passives": gettext_noop("Passives"),
    "detractors": gettext_noop("Detractors"),
    "responses": gettext_noop("Responses"),
    "satisfied": gettext_noop("Satisfied"),
    "neutral": gettext_noop("Neutral"),
    "dissatisfied": gettext_noop("Dissatisfied"),
}
COHORT_MEASURES = {
    "members": gettext_noop("In the cohort"),
    "active": gettext_noop("Still active"),
    "lost": gettext_noop("No longer active"),
}
SUBSCRIPTION_KPIS = ("churn-rate", "mrr-churn", "net-retention", "mrr-movements", "arpa", "clv")
PURCHASE_MEASURES = {
    "customers": gettext_noop("Paying customers"),
    "repeat": gettext_noop("Customers with more than one purchase"),
}
# The lifecycle KPIs: their measures, and the query parameters a measure needs.
LIFECYCLE_MEASURES = {
    "purchase-clv": PURCHASE_MEASURES,
    "repeat-purchase-rate": PURCHASE_MEASURES,
    "survival": {
        "accounts": gettext_noop("First subscription in the period"),
        "churned": gettext_noop("Churned"),
        "censored": gettext_noop("Still active"),
    },
    "health-movement": {"moved": gettext_noop("Moved between bands")},
    "engagement-frequency": {"bucket": gettext_noop("Active days")},
    "onboarding-funnel": {
        "reached": gettext_noop("Reached the milestone"),
        "not-reached": gettext_noop("Not reached the milestone"),
    },
    "winback-results": {"reactivated": gettext_noop("Reactivated")},
}
BAND_PARAMS = ("green", "yellow", "red", "unscored")


def _day(day: dt.date) -> str:
    """A day as the active language writes it ("Jan 1, 2024" in English)."""
    return date_format(day, "DATE_FORMAT")


def _window(window) -> str:
    """An inactivity window in words: "30 days", "1 month"."""
    if window.unit == "m":
        return ngettext("%(count)s month", "%(count)s months", window.count) % {"count": window.count}
    return ngettext("%(count)s day", "%(count)s days", window.count) % {"count": window.count}


def _band(code: str) -> str:
    """A health band's name in the active language, from its code in the URL."""
    labels = {band.value: str(band.label) for band in HealthBand}
    return labels.get(code) or gettext("Not scored")


@dataclass(frozen=True)
class DrillDown:
    """Accounts behind a number: `frame` has account_id plus the figures shown beside each account. The title and
    headings are in the language active when it was made."""

    title: str
    frame: pd.DataFrame
    columns: tuple[tuple[str, str], ...]  # (column, heading) shown beside the account
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # column → code → what the page shows

    @property
    def total(self) -> int:
        return len(self.frame)


def measures(kpi: str) -> dict[str, str]:
    """The measures a KPI's numbers drill into, with their titles (untranslated: gettext them to show them)."""
    if kpi in SUBSCRIPTION_KPIS:
        return {key: title for key, (_, title) in SUBSCRIPTION_MEASURES.items()}
    if kpi == "activity-churn":
        return ACTIVITY_MEASURES
    if kpi in SURVEY_MEASURES:
        return {key: SURVEY_TITLES[key] for key in SURVEY_MEASURES[kpi]}
    if kpi == "cohort-retention":
        return COHORT_MEASURES
    return LIFECYCLE_MEASURES.get(kpi, {})


def drilldown(
    *,
    kpi: str,
    measure: str,
    query: KpiQuery,
    cohort: dt.date | None = None,
    k: int | None = None,
    options: Mapping[str, str] | None = None,
) -> DrillDown:
    """The accounts counted by `measure` of `kpi` for the query; raises KeyError for an unknown pair and ValueError
    for missing or malformed `options` (the query parameters some measures need: from/to, low/high, milestone)."""
    title = gettext(measures(kpi)[measure])
    if kpi in LIFECYCLE_MEASURES:
        return _lifecycle(kpi, measure, title, query, options or {})
    scope = live.account_scope(query.filters)
    if kpi in SUBSCRIPTION_KPIS:
        metric = SUBSCRIPTION_MEASURES[measure][0]
        matrix, firsts = live.mrr_matrix([query.start, query.end], scope)
        accounts, metrics = period_account_metrics(matrix, firsts, query.start, query.end)
        mask = metrics[metric] > 0
        frame = pd.DataFrame(
            {
                "account_id": np.asarray(accounts)[mask],
                "start_mrr": metrics["start_mrr"][mask] / 100,
                "end_mrr": metrics["end_mrr"][mask] / 100,
            }
        )
        frame["change"] = frame["end_mrr"] - frame["start_mrr"]
        frame = frame.sort_values(["start_mrr", "end_mrr"], ascending=False)
        change = pgettext("MRR at the end minus at the start", "Change")
        columns = (("start_mrr", gettext("MRR %(day)s") % {"day": _day(query.start)}),
                   ("end_mrr", gettext("MRR %(day)s") % {"day": _day(query.end)}), ("change", change))  # fmt: skip
        return DrillDown(title, frame, columns)
    if kpi == "activity-churn":
        window = query.window
        flags = live.event_window_flags({"start": window.bounds(query.start), "end": window.bounds(query.end)}, scope)
        if flags.empty:
            frame = pd.DataFrame(columns=["account_id"])
        else:
            mask = flags["start"]
            if measure == "churned":
                mask = mask & ~flags["end"]
            frame = pd.DataFrame({"account_id": flags.index[mask]})
        label = gettext("%(title)s (window %(window)s)") % {"title": title, "window": _window(window)}
        return DrillDown(label, frame, ())
    if kpi in SURVEY_MEASURES:
        low, high = SURVEY_MEASURES[kpi][measure]
        responses = SurveyResponse.objects.filter(
            kind=kpi, score__gte=low, score__lte=high, responded_at__gte=instant(query.start),
            responded_at__lt=instant(query.end),
        )  # fmt: skip
        if scope is not None:
            responses = responses.filter(account__in=scope)
        rows = responses.values("account_id").annotate(responses=Count("id"), average=Avg("score")).order_by()
        frame = pd.DataFrame(list(rows), columns=["account_id", "responses", "average"])
        frame = frame.sort_values("responses", ascending=False)
        label = gettext("%(title)s (%(kpi)s responses)") % {"title": title, "kpi": kpi.upper()}
        return DrillDown(label, frame, (("responses", gettext("Responses")), ("average", gettext("Average score"))))
    if kpi == "cohort-retention":
        activity = cohort_activity(live.subscription_frame(scope), cutoff=query.end, first_cohort=cohort)
        if activity.empty or cohort is None:
            return DrillDown(title, pd.DataFrame(columns=["account_id"]), ())
        cells = activity[(activity["cohort"] == cohort) & (activity["k"] == (k or 0))]
        if measure == "active":
            cells = cells[cells["active"]]
        elif measure == "lost":
            cells = cells[~cells["active"]]
        months = k or 0
        label = ngettext(
            "%(title)s: %(cohort)s cohort, %(count)s month later",
            "%(title)s: %(cohort)s cohort, %(count)s months later",
            months,
        ) % {"title": title, "cohort": date_format(cohort, "YEAR_MONTH_FORMAT"), "count": months}
        return DrillDown(label, cells[["account_id"]], ())
    raise KeyError(kpi)


def _int_option(options: Mapping[str, str], name: str, low: int = 0, high: int = 2**31 - 1) -> int:
    value = options.get(name, "")
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise ValueError(
            gettext("Give %(name)s as a whole number from %(low)s to %(high)s.")
            % {"name": name, "low": low, "high": high}
        )
    return int(value)


def _band_option(options: Mapping[str, str], name: str) -> str:
    value = options.get(name, "")
    if value not in BAND_PARAMS:
        raise ValueError(
            gettext("Give %(name)s as one of %(bands)s.") % {"name": name, "bands": ", ".join(BAND_PARAMS)}
        )
    return "" if value == "unscored" else value


def _lifecycle(kpi: str, measure: str, title: str, query: KpiQuery, options: Mapping[str, str]) -> DrillDown:
    start, end, filters = query.start, query.end, query.filters
    if kpi in ("purchase-clv", "repeat-purchase-rate"):
        rows = lifecycle.purchases_per_account(start=start, end=end, scope=live.account_scope(filters))
        if measure == "repeat":
            rows = rows.filter(purchases__gt=1)
        frame = pd.DataFrame(list(rows), columns=["account_id", "purchases", "revenue"])
        frame["revenue"] = frame["revenue"].astype(float)
        frame = frame.sort_values(["revenue", "account_id"], ascending=[False, True])
        return DrillDown(title, frame, (("purchases", gettext("Paid invoices")),
                                       ("revenue", gettext("Revenue"))))  # fmt: skip
    if kpi == "survival":
        frame = lifecycle.account_lifetimes(start=start, end=end, filters=filters)
        if measure != "accounts":
            frame = frame[frame["event"].astype(bool) == (measure == "churned")]
        frame = frame.assign(months=(frame["duration"].astype(float) / DAYS_PER_MONTH).round(1))
        frame = frame.sort_values(["duration", "account_id"])[["account_id", "first_start", "duration", "months"]]
        columns = (("first_start", gettext("First subscription")), ("duration", gettext("Days followed")),
                   ("months", gettext("Months")))  # fmt: skip
        return DrillDown(
            gettext("%(title)s (observed on %(day)s)") % {"title": title, "day": _day(end)}, frame, columns
        )
    if kpi == "health-movement":
        from_band, to_band = _band_option(options, "from"), _band_option(options, "to")
        ids = lifecycle.band_movement_accounts(start=start, end=end, filters=filters, from_band=from_band,
                                               to_band=to_band)  # fmt: skip
        label = f"{title}: {_band(options['from'])} → {_band(options['to'])}"
        return DrillDown(label, pd.DataFrame({"account_id": sorted(ids)}), ())
    if kpi == "engagement-frequency":
        low, high = _int_option(options, "low", 0, 31), _int_option(options, "high", 0, 31)
        rows = lifecycle.engagement_accounts(start=start, end=end, filters=filters, low=low, high=high)
        frame = pd.DataFrame(rows, columns=["account_id", "active_days_30"])
        label = gettext("%(title)s: %(low)s–%(high)s in 30 days") % {"title": title, "low": low, "high": high}
        return DrillDown(label, frame, (("active_days_30", gettext("Active days (30)")),))
    if kpi == "onboarding-funnel":
        milestone = _int_option(options, "milestone")
        ids = lifecycle.onboarding_accounts(start=start, end=end, filters=filters, milestone_id=milestone,
                                            reached=measure == "reached")  # fmt: skip
        label = gettext("%(title)s (accounts created in the period)") % {"title": title}
        return DrillDown(label, pd.DataFrame({"account_id": sorted(ids)}), ())
    rows = lifecycle.reactivations(start=start, end=end, filters=filters)
    frame = pd.DataFrame(rows, columns=["account_id", "reactivated_on", "mrr_won_back", "campaign__offer"])
    frame = frame.rename(columns={"campaign__offer": "offer"}).fillna({"offer": ""})
    frame["mrr_won_back"] = frame["mrr_won_back"].astype(float)
    columns = (("reactivated_on", gettext("Reactivated on")), ("mrr_won_back", gettext("MRR won back")),
               ("offer", gettext("Offer")))  # fmt: skip
    offers = {"offer": {code: str(label) for code, label in Offer.choices}}
    return DrillDown(title, frame.drop_duplicates("account_id"), columns, offers)


def drilldown_accounts(result: DrillDown, *, limit: int | None = 100) -> list[tuple[Account, dict]]:
    """The accounts of a drill-down (the first `limit`, in its order) with their figures, in one query per 1000."""
    frame = result.frame if limit is None else result.frame.head(limit)
    ids = [int(pk) for pk in frame["account_id"]]
    found: dict[int, Account] = {}
    for i in range(0, len(ids), 1000):
        found.update(Account.objects.select_related("owner").in_bulk(ids[i : i + 1000]))
    figures = frame.set_index("account_id").to_dict("index") if len(frame.columns) > 1 else {}
    return [(found[pk], figures.get(pk, {})) for pk in ids if pk in found]
