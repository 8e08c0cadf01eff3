"""Survey schedules and issue routes as configuration: save (validated like every model) and delete. The survey
schedules were edited only in the Django admin; the configuration API and bundle write them through here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext

from churnapp.roles import can_configure
from churnapp.slugs import free_slug
from winback.models import IssueRoute, SurveySchedule

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

SCHEDULE_FIELDS = (
    "key",
    "name",
    "kind",
    "trigger",
    "offset_days",
    "segment",
    "sample_rate",
    "expires_after_days",
    "reminder_after_days",
    "is_active",
)


def _ensure_configure(actor: AbstractBaseUser | None) -> None:
    # `actor=None` is the system (an API key whose scope was checked, a command).
    if actor is not None and not can_configure(actor):
        raise PermissionDenied(gettext("Only managers and admins configure surveys and routing."))


@transaction.atomic
def survey_schedule_save(
    *, values: dict, schedule: SurveySchedule | None = None, actor: AbstractBaseUser | None = None
) -> SurveySchedule:
    """Create or update a survey schedule from `values` (any of SCHEDULE_FIELDS), validated as a whole (a missing
    key is made from the name)."""
    _ensure_configure(actor)
    schedule = schedule or SurveySchedule()
    for name in SCHEDULE_FIELDS:
        if name in values:
            setattr(schedule, name, values[name])
    if not schedule.key:
        schedule.key = free_slug(SurveySchedule.objects.exclude(pk=schedule.pk), schedule.name, fallback="survey")
    schedule.full_clean()
    schedule.save()
    return schedule


def survey_schedule_delete(*, schedule: SurveySchedule, actor: AbstractBaseUser | None = None) -> None:
    """Delete a schedule; invitations it sent stay (their schedule becomes empty)."""
    _ensure_configure(actor)
    schedule.delete()


def issue_route_delete(*, route: IssueRoute, actor: AbstractBaseUser | None = None) -> None:
    """Forget the routing of an issue type: its dissatisfied answers go to the account owner again."""
    _ensure_configure(actor)
    route.delete()
