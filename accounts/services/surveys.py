"""Recording survey answers (NPS and CSAT) with their score ranges."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, SurveyKind, SurveyResponse
from churnapp import hooks


def survey_response_create(
    *,
    account: Account,
    kind: str,
    score: int,
    responded_at: dt.datetime | None = None,
    contact=None,
    comment: str = "",
    external_id: str = "",
):
    """Record an NPS (0–10) or CSAT (1–5) answer; an out-of-range score raises ValueError and records nothing."""
    ranges = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5)}
    if kind not in ranges:
        raise ValueError(_("Unknown survey kind %(kind)r.") % {"kind": kind})
    low, high = ranges[kind]
    if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
        raise ValueError(_("The score must be a whole number from %(low)s to %(high)s.") % {"low": low, "high": high})
    with transaction.atomic():
        response = SurveyResponse.objects.create(
            account=account,
            contact=contact,
            kind=kind,
            score=score,
            comment=comment.strip(),
            responded_at=responded_at or timezone.now(),
            external_id=external_id,
        )
        hooks.notify(hooks.FACTS_CHANGED, [account.pk])
    return response
