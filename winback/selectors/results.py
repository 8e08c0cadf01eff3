"""Win-back results of a period for the dashboards: departures, the share won back, reactivations and the MRR
won back, per offer; and the reactivated accounts behind them."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from winback.models import CampaignEnrollment, ChurnRecord, EnrollmentStatus, Offer, Reactivation
from winback.selectors._common import ZERO


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
