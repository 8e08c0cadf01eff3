"""Churn records: the reason taxonomy, the win-back grid of open departures, the departures of a period, and
what an account's Customer 360 shows of its win-back state."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Count, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, SurveyResponse
from winback import conf
from winback.models import (
    ChurnReason,
    ChurnRecord,
    ChurnType,
    DunningCase,
    Reactivation,
    Touchpoint,
    WinbackSuppression,
)
from winback.selectors._common import ZERO

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


def active_reasons() -> QuerySet[ChurnReason]:
    """The reasons a CSM can pick, with their parent."""
    return ChurnReason.objects.filter(is_active=True).select_related("parent")


def reason_objects() -> list[ChurnReason]:
    return list(active_reasons())


def churn_records(*, account: Account | None = None) -> QuerySet[ChurnRecord]:
    qs = ChurnRecord.objects.select_related("account", "reason", "reason__parent", "reactivation")
    return qs.filter(account=account) if account is not None else qs


NOT_GIVEN = _("Not given")


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
    labels["unknown"] = NOT_GIVEN
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
