"""Reads of the win-back domain: churn grid, survey and NPS data, themes, follow-up SLA, campaign KPIs, payments."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.models import Account, BillingEvent, BillingEventKind, SurveyResponse, UsageEvent
from winback import conf
from winback.models import (
    Campaign,
    CampaignEnrollment,
    ChurnReason,
    ChurnRecord,
    ChurnType,
    ClusterRun,
    DunningCase,
    DunningStatus,
    EnrollmentStatus,
    IssueRoute,
    IssueType,
    Offer,
    PageFacts,
    Reactivation,
    ResponseTheme,
    SurveyInvitation,
    Theme,
    Touchpoint,
    TouchpointStatus,
    WinbackSuppression,
)

ZERO = Decimal("0")
BANDS = ("low", "mid", "high")


def reason_tree() -> list[dict]:
    """The taxonomy as [{"reason": top, "children": [...]}, …] in display order."""
    reasons = list(ChurnReason.objects.filter(is_active=True).select_related("parent"))
    tops = [r for r in reasons if r.parent_id is None]
    return [{"reason": t, "children": [r for r in reasons if r.parent_id == t.pk]} for t in tops]


def reason_choices() -> list[tuple[str, str]]:
    """Leaf-first choices for forms: top-level reasons without children, and every child as "Top › Child"."""
    choices = []
    for node in reason_tree():
        if node["children"]:
            choices += [(c.code, f"{node['reason'].label} › {c.label}") for c in node["children"]]
        else:
            choices.append((node["reason"].code, node["reason"].label))
    return choices


def reason_objects() -> list[ChurnReason]:
    return list(ChurnReason.objects.filter(is_active=True).select_related("parent"))


def churn_records(*, account: Account | None = None) -> QuerySet[ChurnRecord]:
    qs = ChurnRecord.objects.select_related("account", "reason", "reason__parent", "reactivation")
    return qs.filter(account=account) if account is not None else qs


def winback_grid() -> dict:
    """Churned accounts not won back, by top-level reason × value band: count and MRR lost (one SQL aggregate).

    A departure stays open until the account comes back (won_back_on), so an account counts once.
    """
    low, mid = conf.get("VALUE_BANDS")
    band = Case(
        When(mrr_lost__lt=low, then=Value("low")), When(mrr_lost__lt=mid, then=Value("mid")), default=Value("high")
    )
    top = Coalesce("reason__parent__code", "reason__code", Value("unknown"))
    rows = (
        ChurnRecord.objects.filter(won_back_on__isnull=True)
        .exclude(churn_type=ChurnType.DOWNGRADE)
        .annotate(top=top, band=band)
        .values("top", "band")
        .annotate(count=Count("account_id", distinct=True), mrr=Coalesce(Sum("mrr_lost"), ZERO))
        .order_by()
    )
    cells = {(r["top"], r["band"]): {"count": r["count"], "mrr": r["mrr"]} for r in rows}
    labels = dict(ChurnReason.objects.filter(parent__isnull=True).values_list("code", "label"))
    labels["unknown"] = "Not given"
    out = []
    for code, label in labels.items():
        row_cells = [{"band": b, **cells.get((code, b), {"count": 0, "mrr": ZERO})} for b in BANDS]
        total = sum(c["count"] for c in row_cells)
        if total or code != "unknown":
            out.append({"code": code, "label": label, "cells": row_cells, "total": total})
    accounts = sum(r["total"] for r in out)
    return {"bands": [(b, conf.VALUE_BAND_LABELS[b]) for b in BANDS], "rows": out, "accounts": accounts}


def churn_summary(*, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """Departures in [start, end): counts and MRR by type (involuntary shown separately) and reactivations."""
    records = ChurnRecord.objects.all()
    reactivations = Reactivation.objects.all()
    if start:
        records = records.filter(churned_on__gte=start)
        reactivations = reactivations.filter(reactivated_on__gte=start)
    if end:
        records = records.filter(churned_on__lt=end)
        reactivations = reactivations.filter(reactivated_on__lt=end)
    by_type = {
        row["churn_type"]: row
        for row in records.values("churn_type").annotate(n=Count("id"), mrr=Coalesce(Sum("mrr_lost"), ZERO))
    }
    back = reactivations.aggregate(n=Count("id"), mrr=Coalesce(Sum("mrr_won_back"), ZERO))
    attributed = reactivations.filter(touchpoint__isnull=False).count()
    return {
        "types": [
            {
                "type": t,
                "label": label,
                "count": by_type.get(t, {}).get("n", 0),
                "mrr": by_type.get(t, {}).get("mrr", ZERO),
            }
            for t, label in ChurnType.choices
        ],
        "reactivated": back["n"],
        "reactivated_attributed": attributed,
        "mrr_won_back": back["mrr"],
    }


# --- Surveys -----------------------------------------------------------------------------------------------------


def nps_summary(*, start: dt.datetime | None = None, end: dt.datetime | None = None) -> dict:
    """NPS over [start, end) per DESIGN.md: % promoters − % detractors, with the counts."""
    qs = SurveyResponse.objects.filter(kind="nps")
    if start:
        qs = qs.filter(responded_at__gte=start)
    if end:
        qs = qs.filter(responded_at__lt=end)
    agg = qs.aggregate(
        n=Count("id"), promoters=Count("id", filter=Q(score__gte=9)), detractors=Count("id", filter=Q(score__lte=6))
    )
    n = agg["n"]
    nps = round(100 * (agg["promoters"] - agg["detractors"]) / n, 1) if n else None
    return {**agg, "passives": n - agg["promoters"] - agg["detractors"], "nps": nps}


def dissatisfied_q(prefix: str = "") -> Q:
    """Answers that call for a follow-up: NPS detractors (0–6) and dissatisfied CSAT (1–2)."""
    return Q(**{f"{prefix}kind": "nps", f"{prefix}score__lte": 6}) | Q(
        **{f"{prefix}kind": "csat", f"{prefix}score__lte": 2}
    )


def _not_followed_up_q() -> Q:
    return Q(follow_up__isnull=True) | Q(follow_up__followed_up_at__isnull=True)


def open_follow_ups() -> QuerySet[SurveyResponse]:
    """Dissatisfied answers nobody has followed up yet, routed to a task or not: the "Open follow-ups" tab and
    the overdue/pending part of `detractor_sla` count exactly these."""
    return SurveyResponse.objects.filter(dissatisfied_q()).filter(_not_followed_up_q())


def _answers(category: str) -> QuerySet[SurveyResponse]:
    qs = SurveyResponse.objects.all()
    if category == "detractor":
        return qs.filter(kind="nps", score__lte=6)
    if category == "passive":
        return qs.filter(kind="nps", score__in=[7, 8])
    if category == "promoter":
        return qs.filter(kind="nps", score__gte=9)
    if category == "open":
        return open_follow_ups()
    return qs


def responses_page(
    *, category: str = "", since: dt.date | None = None, page: int | str | None = 1, per_page: int = 50
) -> Page:
    """One page of the answers (newest first) with what the feedback list shows, and the total count; filtered by
    NPS category or open follow-ups, and to the answers given since a day (the SLA card's window)."""
    answers = _answers(category)
    if since is not None:
        answers = answers.filter(responded_at__gte=dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC))
    ids = answers.order_by("-responded_at", "-id").values_list("pk", flat=True)
    current = Paginator(ids, per_page).get_page(page)
    # Pick the page first, then join: joining accounts, contacts and tasks before the LIMIT costs a scan of each.
    current.object_list = list(
        SurveyResponse.objects.filter(pk__in=list(current.object_list))
        .select_related("account", "account__owner", "contact", "follow_up", "follow_up__task__assignee")
        .prefetch_related("theme_links__theme")
        .order_by("-responded_at", "-id")
    )
    return current


def recent_responses(*, limit: int = 50, category: str = "") -> list[SurveyResponse]:
    """The latest answers with what the feedback list shows; filtered by NPS category or open follow-ups."""
    return list(responses_page(category=category, per_page=limit).object_list)


def detractor_sla(*, start: dt.date | None = None, today: dt.date | None = None) -> dict:
    """Dissatisfied answers (NPS 0–6, CSAT 1–2) answered since `start` and their follow-up against the SLA.

    Routed answers are due on their follow-up's SLA date; an answer never routed (imported, or answered before
    routing existed) is due DETRACTOR_SLA_DAYS after it was given. within: followed up by the due date (or
    followed up without an SLA date); late: followed up after it; overdue: not followed up, past due; pending:
    not followed up, not due yet. overdue + pending = the open follow-ups of the period.
    """
    today = today or timezone.localdate()
    answers = SurveyResponse.objects.filter(dissatisfied_q())
    if start:
        answers = answers.filter(responded_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC))
    routed = answers.filter(follow_up__sla_due_on__isnull=False)
    unrouted = answers.exclude(follow_up__sla_due_on__isnull=False)
    followed = Q(follow_up__followed_up_at__isnull=False)
    in_time = followed & Q(follow_up__followed_up_at__date__lte=F("follow_up__sla_due_on"))
    default_cutoff = dt.datetime.combine(today - dt.timedelta(days=conf.get("DETRACTOR_SLA_DAYS")), dt.time(),
                                         tzinfo=dt.UTC)  # fmt: skip
    counts = routed.aggregate(
        total=Count("id"),
        within=Count("id", filter=in_time),
        followed=Count("id", filter=followed),
        overdue=Count("id", filter=~followed & Q(follow_up__sla_due_on__lt=today)),
    )
    loose = unrouted.aggregate(
        total=Count("id"),
        followed=Count("id", filter=followed),
        overdue=Count("id", filter=~followed & Q(responded_at__lt=default_cutoff)),
    )
    total = counts["total"] + loose["total"]
    within = counts["within"] + loose["followed"]
    late = counts["followed"] - counts["within"]
    overdue = counts["overdue"] + loose["overdue"]
    pending = total - within - late - overdue
    return {
        "total": total,
        "within_sla": within,
        "late": late,
        "overdue": overdue,
        "pending": pending,
        "open": overdue + pending,
        # Of the answers whose SLA is decided (followed up, or past due): how many were in time.
        "rate": round(100 * within / (within + late + overdue), 1) if within + late + overdue else None,
    }


def survey_funnel(*, since: dt.datetime | None = None) -> dict:
    qs = SurveyInvitation.objects.all()
    if since:
        qs = qs.filter(created_at__gte=since)
    agg = qs.aggregate(
        invited=Count("id"),
        sent=Count("id", filter=Q(sent_at__isnull=False)),
        reminded=Count("id", filter=Q(reminded_at__isnull=False)),
        answered=Count("id", filter=Q(responded_at__isnull=False)),
    )
    agg["response_rate"] = round(100 * agg["answered"] / agg["sent"], 1) if agg["sent"] else None
    return agg


def issue_routes() -> list[dict]:
    """Every issue type with its route (person, role, SLA days); unconfigured types go to the owner."""
    routes = {r.issue_type: r for r in IssueRoute.objects.select_related("assignee")}
    default_sla = conf.get("DETRACTOR_SLA_DAYS")
    rows = []
    for value, label in IssueType.choices:
        route = routes.get(value)
        rows.append(
            {
                "issue_type": value,
                "label": label,
                "assignee_id": route.assignee_id if route else None,
                "assignee": route.assignee if route else None,
                "role": route.role if route else "",
                "sla_days": route.sla_days if route else default_sla,
            }
        )
    return rows


def latest_nps_by_account(*, account_ids: list[int] | None = None) -> dict[int, int]:
    """The most recent NPS score per account (for rules with NPS conditions): the accounts app's one definition."""
    return account_selectors.latest_survey_scores(kind="nps", account_ids=account_ids)


# --- Themes ------------------------------------------------------------------------------------------------------


def theme_stats() -> list[dict]:
    """Each theme's comment count and NPS over its NPS answers."""
    rows = (
        Theme.objects.annotate(
            n=Count("response_links", distinct=True),
            nps_n=Count("response_links", filter=Q(response_links__response__kind="nps")),
            promoters=Count(
                "response_links",
                filter=Q(response_links__response__kind="nps", response_links__response__score__gte=9),
            ),
            detractors=Count(
                "response_links",
                filter=Q(response_links__response__kind="nps", response_links__response__score__lte=6),
            ),
        )
        .order_by("-n", "name")
        .values("pk", "name", "source", "n", "nps_n", "promoters", "detractors")
    )
    return [
        {**r, "nps": round(100 * (r["promoters"] - r["detractors"]) / r["nps_n"], 1) if r["nps_n"] else None}
        for r in rows
    ]


def theme_monthly(*, months: int = 12, today: dt.date | None = None) -> dict:
    """Theme counts and NPS by month over the last `months` months.

    {"months": ["2026-01", …], "series": {theme: [{"count": n, "nps": x or None}, … one per month]}}.
    """
    today = today or timezone.localdate()
    first = (today.replace(day=1) - dt.timedelta(days=31 * (months - 1))).replace(day=1)
    rows = (
        ResponseTheme.objects.filter(response__responded_at__date__gte=first)
        .annotate(month=TruncMonth("response__responded_at"))
        .values("theme__name", "month")
        .annotate(
            n=Count("id"),
            nps_n=Count("id", filter=Q(response__kind="nps")),
            promoters=Count("id", filter=Q(response__kind="nps", response__score__gte=9)),
            detractors=Count("id", filter=Q(response__kind="nps", response__score__lte=6)),
        )
        .order_by("month")
    )
    month_keys = []
    day = first
    while day <= today:
        month_keys.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    series: dict[str, list[dict]] = defaultdict(lambda: [{"count": 0, "nps": None} for _ in month_keys])
    index = {m: i for i, m in enumerate(month_keys)}
    for r in rows:
        month = r["month"].date() if isinstance(r["month"], dt.datetime) else r["month"]
        i = index.get(month)
        if i is None:
            continue
        cell = series[r["theme__name"]][i]
        cell["count"] = r["n"]
        if r["nps_n"]:
            cell["nps"] = round(100 * (r["promoters"] - r["detractors"]) / r["nps_n"], 1)
    return {"months": [m.strftime("%Y-%m") for m in month_keys], "series": dict(series)}


def latest_cluster_run() -> ClusterRun | None:
    return ClusterRun.objects.prefetch_related("clusters__theme").first()


def cluster_examples(run: ClusterRun, per_cluster: int = 3) -> list[dict]:
    """The clusters of a run, each with a few example comments."""
    return [
        {
            "cluster": cluster,
            "examples": list(
                cluster.responses.order_by("-responded_at").values_list("comment", flat=True)[:per_cluster]
            ),
        }
        for cluster in run.clusters.all()
    ]


# --- Campaigns ---------------------------------------------------------------------------------------------------


def campaign_kpis(*, campaigns: QuerySet[Campaign] | None = None) -> list[dict]:
    """Per campaign: enrolled, contacted, suppressed, reactivated count and rate, MRR won back."""
    qs = (campaigns if campaigns is not None else Campaign.objects.all()).annotate(
        enrolled=Count("enrollments", distinct=True),
        contacted=Count("enrollments", filter=Q(enrollments__status__in=["contacted", "converted"]), distinct=True),
        suppressed=Count("enrollments", filter=Q(enrollments__status="suppressed"), distinct=True),
    )
    back = {
        row["campaign_id"]: row
        for row in Reactivation.objects.filter(campaign__isnull=False)
        .values("campaign_id")
        .annotate(n=Count("id"), mrr=Coalesce(Sum("mrr_won_back"), ZERO))
    }
    out = []
    for c in qs.prefetch_related("reasons"):
        row = back.get(c.pk, {"n": 0, "mrr": ZERO})
        out.append(
            {
                "campaign": c,
                "enrolled": c.enrolled,
                "contacted": c.contacted,
                "suppressed": c.suppressed,
                "reactivated": row["n"],
                "rate": round(100 * row["n"] / c.contacted, 1) if c.contacted else None,
                "mrr_won_back": row["mrr"],
            }
        )
    return out


def conversion_by_offer() -> list[dict]:
    """Contacted accounts and reactivations per offer type."""
    contacted = dict(
        Campaign.objects.values_list("offer").annotate(
            n=Count("enrollments", filter=Q(enrollments__status__in=["contacted", "converted"]))
        )
    )
    back = {
        r["campaign__offer"]: r
        for r in Reactivation.objects.filter(campaign__isnull=False)
        .values("campaign__offer")
        .annotate(n=Count("id"), mrr=Coalesce(Sum("mrr_won_back"), ZERO))
    }
    rows = []
    for offer, label in Campaign._meta.get_field("offer").choices:
        n = contacted.get(offer, 0)
        b = back.get(offer, {"n": 0, "mrr": ZERO})
        rows.append(
            {"offer": offer, "label": label, "contacted": n, "reactivated": b["n"], "mrr": b["mrr"],
             "rate": round(100 * b["n"] / n, 1) if n else None}
        )  # fmt: skip
    return rows


def response_by_touchpoint() -> list[dict]:
    """Touchpoints by label: how many went out, how many got a response (reactivation or reply)."""
    rows = (
        Touchpoint.objects.exclude(status=TouchpointStatus.SUPPRESSED)
        .values("channel", "label")
        .annotate(n=Count("id"), responded=Count("id", filter=Q(responded_at__isnull=False)))
        .order_by("-n")[:30]
    )
    return [{**r, "rate": round(100 * r["responded"] / r["n"], 1) if r["n"] else None} for r in rows]


def survey_contact(*, account: Account):
    """Whom to ask at an account: the primary contact, else the first contact with an email; never unsubscribed."""
    return account.contacts.filter(unsubscribed=False).exclude(email="").order_by("-is_primary", "id").first()


def account_winback_state(*, account: Account) -> dict:
    """What the Customer 360 shows: departures, reactivation, dunning, suppression, last answers."""
    return {
        "records": list(churn_records(account=account).order_by("-churned_on")[:5]),
        "dunning": DunningCase.objects.filter(account=account).first(),
        "suppressed": WinbackSuppression.objects.filter(account=account).exists(),
        "touchpoints": list(Touchpoint.objects.filter(account=account).select_related("campaign")[:5]),
        "responses": list(
            SurveyResponse.objects.filter(account=account)
            .select_related("contact", "follow_up")
            .order_by("-responded_at")[:3]
        ),
    }


# --- Payments (dunning) -------------------------------------------------------------------------------------------


def _payment_events(*, billing_kind: str, usage_types: tuple, since: dt.datetime, until: dt.datetime) -> list:
    sources = conf.get("PAYMENT_SOURCES")
    rows: list[tuple[int, dt.datetime]] = []
    if "billing" in sources:
        rows += list(
            BillingEvent.objects.filter(kind=billing_kind, occurred_at__gte=since, occurred_at__lte=until).values_list(
                "account_id", "occurred_at"
            )
        )
    if "usage" in sources and usage_types:
        rows += list(
            UsageEvent.objects.filter(
                event_type__in=usage_types, occurred_at__gte=since, occurred_at__lte=until
            ).values_list("account_id", "occurred_at")
        )
    return rows


def payment_failures(*, since: dt.datetime, until: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """(account id, time) of failed payments: Stripe facts (BillingEvent) and/or usage events, per settings."""
    return _payment_events(
        billing_kind=BillingEventKind.PAYMENT_FAILED,
        usage_types=tuple(conf.get("PAYMENT_FAILED_EVENTS")),
        since=since,
        until=until,
    )


def payment_recoveries(*, since: dt.datetime, until: dt.datetime) -> list[tuple[int, dt.datetime]]:
    return _payment_events(
        billing_kind=BillingEventKind.PAYMENT_SUCCEEDED,
        usage_types=tuple(conf.get("PAYMENT_SUCCEEDED_EVENTS")),
        since=since,
        until=until,
    )


def cards_expiring(*, since: dt.datetime) -> list[tuple[str, int, str]]:
    """(fact key, account id, expiry) of card-expiring billing facts received since `since`."""
    rows = BillingEvent.objects.filter(kind=BillingEventKind.CARD_EXPIRING, occurred_at__gte=since)
    return [
        (f"billing:{pk}", account_id, str((details or {}).get("expires_on", "")))
        for pk, account_id, details in rows.values_list("pk", "account_id", "details")
    ]


def dunning_summary() -> dict:
    agg = DunningCase.objects.aggregate(
        open=Count("id", filter=Q(status=DunningStatus.OPEN)),
        recovered=Count("id", filter=Q(status=DunningStatus.RECOVERED)),
        exhausted=Count("id", filter=Q(status=DunningStatus.EXHAUSTED)),
    )
    closed = agg["recovered"] + agg["exhausted"]
    agg["recovery_rate"] = round(100 * agg["recovered"] / closed, 1) if closed else None
    return agg


# --- Results for the dashboards ------------------------------------------------------------------------------


def winback_results(*, start: dt.date, end: dt.date, accounts: QuerySet | None = None) -> dict:
    """Win-back results of [start, end) for `accounts` (a subquery of ids; None = all), set-based:

    - `n_churned` / `churned_mrr`: churn records with churned_on in the period; `n_won_back`: of those, the ones
      reactivated before `end` (their win-back rate is n_won_back ÷ n_churned);
    - `n_reactivated` / `mrr_won_back`: reactivations in the period, whenever the account churned;
    - `offers`: per offer, churned accounts contacted (enrolments contacted or converted, enrolled in the period)
      and reactivations in the period attributed to a campaign with that offer, with their MRR.
    """
    records = ChurnRecord.objects.filter(churned_on__gte=start, churned_on__lt=end)
    back = Reactivation.objects.filter(reactivated_on__gte=start, reactivated_on__lt=end)
    enrolments = CampaignEnrollment.objects.filter(
        enrolled_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC),
        enrolled_at__lt=dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC),
        status__in=[EnrollmentStatus.CONTACTED, EnrollmentStatus.CONVERTED],
    )
    if accounts is not None:
        records, back, enrolments = (qs.filter(account__in=accounts) for qs in (records, back, enrolments))
    churned = records.aggregate(
        n=Count("id"),
        mrr=Coalesce(Sum("mrr_lost"), ZERO),
        won_back=Count("id", filter=Q(reactivation__reactivated_on__lt=end)),
    )
    won = back.aggregate(n=Count("id"), mrr=Coalesce(Sum("mrr_won_back"), ZERO))
    contacted = dict(enrolments.values("campaign__offer").annotate(n=Count("id")).values_list("campaign__offer", "n"))
    by_offer = {
        row["campaign__offer"]: row
        for row in back.filter(campaign__isnull=False)
        .values("campaign__offer")
        .annotate(n=Count("id"), mrr=Coalesce(Sum("mrr_won_back"), ZERO))
    }
    offers = [
        {"offer": offer, "label": label, "contacted": contacted.get(offer, 0),
         "reactivated": by_offer.get(offer, {}).get("n", 0), "mrr_won_back": by_offer.get(offer, {}).get("mrr", ZERO)}
        for offer, label in Offer.choices
    ]  # fmt: skip
    return {
        "n_churned": churned["n"],
        "churned_mrr": churned["mrr"],
        "n_won_back": churned["won_back"],
        "n_reactivated": won["n"],
        "mrr_won_back": won["mrr"],
        "offers": offers,
    }


def reactivated_accounts(*, start: dt.date, end: dt.date, accounts: QuerySet | None = None) -> QuerySet:
    """Reactivations in [start, end) (account_id, reactivated_on, mrr_won_back, campaign offer), newest first."""
    back = Reactivation.objects.filter(reactivated_on__gte=start, reactivated_on__lt=end)
    if accounts is not None:
        back = back.filter(account__in=accounts)
    return back.order_by("-reactivated_on").values("account_id", "reactivated_on", "mrr_won_back", "campaign__offer")


# --- Page facts (the overview and Feedback pages read these; a worker refreshes them) ----------------------------

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
    return data


def feedback_facts() -> dict | None:
    """The stored Feedback figures (None before the first refresh)."""
    facts = page_facts(key="feedback")
    if facts is None:
        return None
    return {**facts.data, "computed_at": facts.computed_at}
