"""Win-back campaigns: KPIs per campaign, conversion per offer and responses per touchpoint."""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from winback.models import Campaign, Reactivation, Touchpoint, TouchpointStatus
from winback.selectors._common import ZERO


def campaign_kpis(*, campaign_ids: list[int] | None = None) -> list[dict]:
    """Per campaign (every one, or those of `campaign_ids`): enrolled, contacted, suppressed, reactivated count
    and rate, MRR won back."""
    campaigns = Campaign.objects.all() if campaign_ids is None else Campaign.objects.filter(pk__in=campaign_ids)
    qs = campaigns.annotate(
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
