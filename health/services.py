"""Writes of the health app a person makes: health profiles and their versions (draft, publish), CSM sentiment.

It is also the one door to the app's other services, re-exported below: scoring (`health.scores`), incremental
rescoring (`health.rescore`), usage rollups (`health.rollups`), churn-model observations (`health.observations`)
and the churn model (`health.churn_services`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account
from audit.capture import update_recorded
from churnapp import hooks
from churnapp.roles import can_configure, can_edit_account
from health import scoring
from health.churn_services import (  # noqa: F401  (the churn model's services)
    churn_model_train,
    churn_predict,
    lab_run_execute,
    lab_run_request,
    lab_split,
)
from health.models import (
    CsmSentiment,
    HealthProfile,
    HealthProfileVersion,
    VersionStatus,
)
from health.observations import observations_build, observations_frame  # noqa: F401 (the churn model's data)
from health.rescore import day_scored, health_rescore, rescore_marked  # noqa: F401 (incremental health)
from health.rollups import rollups_rebuild, rollups_refresh, rollups_refresh_marked, rollups_sweep  # noqa: F401  (the ingestion-facing services)
from health.scores import (  # noqa: F401 (scoring every account)
    health_backfill,
    health_recompute,
    published_versions,
    score_with_versions,
    scoring_lock,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

BATCH = 2000


# Profiles -----------------------------------------------------------------------------------------------------


def _ensure_configure(actor: AbstractBaseUser | None) -> None:
    if actor is not None and not can_configure(actor):
        raise PermissionDenied(_("Only managers and admins configure health profiles."))


def profile_create(*, name: str, segment: str, actor: AbstractBaseUser | None) -> HealthProfile:
    """A profile for a segment, starting as a draft copy of the default profile's published factors."""
    _ensure_configure(actor)
    if HealthProfile.objects.filter(segment=segment).exists():
        raise ValidationError(_("That segment already has a profile."))
    profile = HealthProfile.objects.create(name=name, segment=segment)
    default = HealthProfileVersion.objects.filter(profile__segment="", status=VersionStatus.PUBLISHED).first()
    HealthProfileVersion.objects.create(
        profile=profile,
        number=1,
        factors=default.factors if default else scoring.DEFAULT_FACTORS,
        green_min=default.green_min if default else 70,
        yellow_min=default.yellow_min if default else 40,
        created_by=actor,
    )
    return profile


@transaction.atomic
def profile_draft_get_or_create(*, profile: HealthProfile, actor: AbstractBaseUser | None) -> HealthProfileVersion:
    """The profile's draft; a new one starts as a copy of the published version."""
    _ensure_configure(actor)
    draft = profile.versions.filter(status=VersionStatus.DRAFT).first()
    if draft:
        return draft
    current = profile.versions.filter(status=VersionStatus.PUBLISHED).first()
    last = profile.versions.order_by("-number").first()
    return HealthProfileVersion.objects.create(
        profile=profile,
        number=(last.number + 1) if last else 1,
        factors=current.factors if current else scoring.DEFAULT_FACTORS,
        green_min=current.green_min if current else 70,
        yellow_min=current.yellow_min if current else 40,
        created_by=actor,
    )


def profile_draft_update(
    *,
    draft: HealthProfileVersion,
    factors: list[dict],
    green_min: int,
    yellow_min: int,
    note: str = "",
    actor: AbstractBaseUser | None,
) -> HealthProfileVersion:
    """Save the draft's factors and bands after validation (published versions never change)."""
    _ensure_configure(actor)
    if draft.status != VersionStatus.DRAFT:
        raise ValidationError(_("Only a draft can be edited; published versions are kept as they were."))
    errors = scoring.validate_profile(factors, green_min, yellow_min)
    if errors:
        raise ValidationError(errors)
    draft.factors = factors
    draft.green_min = green_min
    draft.yellow_min = yellow_min
    draft.note = note
    draft.save(update_fields=["factors", "green_min", "yellow_min", "note"])
    return draft


@transaction.atomic
def profile_publish(*, draft: HealthProfileVersion, actor: AbstractBaseUser | None) -> HealthProfileVersion:
    """Publish the draft: the previous published version is archived; today's scores are recomputed."""
    _ensure_configure(actor)
    draft = HealthProfileVersion.objects.select_for_update().get(pk=draft.pk)
    if draft.status != VersionStatus.DRAFT:
        raise ValidationError(_("This version is not a draft."))
    errors = scoring.validate_profile(draft.factors, draft.green_min, draft.yellow_min)
    if errors:
        raise ValidationError(errors)
    update_recorded(draft.profile.versions.filter(status=VersionStatus.PUBLISHED), status=VersionStatus.ARCHIVED)
    draft.status = VersionStatus.PUBLISHED
    draft.published_at = timezone.now()
    draft.save(update_fields=["status", "published_at"])
    hooks.notify(hooks.HEALTH_PROFILE_PUBLISHED, draft.pk)
    return draft


def sentiment_create(
    *, account: Account, rating: int, comment: str, expires_on: dt.date, author: AbstractBaseUser | None
) -> CsmSentiment:
    """A CSM's rating of an account (1–5) with a reason; it counts as a health factor until it expires."""
    if author is not None and not can_edit_account(author, account):
        raise PermissionDenied(_("You can only rate the accounts you own."))
    if not 1 <= rating <= 5:
        raise ValidationError(_("The rating is 1 (very poor) to 5 (very good)."))
    if not comment.strip():
        raise ValidationError(_("Say why: a rating needs a comment."))
    if expires_on <= timezone.localdate():
        raise ValidationError(_("The expiry date must be in the future."))
    with transaction.atomic():
        sentiment = CsmSentiment.objects.create(
            account=account, rating=rating, comment=comment.strip(), expires_on=expires_on, author=author
        )
        hooks.notify(hooks.FACTS_CHANGED, [account.pk])
    return sentiment


# Churn model ----------------------------------------------------------------------------------------------------
