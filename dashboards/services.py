"""Writes of the dashboards app: managers' goals and CAC entries (permission checks here), and the KPI facts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from churnapp.roles import can_configure
from dashboards.kpis.periods import month_start
from dashboards.models import AcquisitionCost, Goal

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def _ensure_manager(actor: AbstractBaseUser | None) -> None:
    # `actor=None` is the system (commands, fixtures).
    if actor is not None and not can_configure(actor):
        raise PermissionDenied("Only managers and admins set goals and CAC.")


def goal_create(
    *,
    actor: AbstractBaseUser | None,
    metric: str,
    comparator: str,
    target: Decimal,
    year: int,
    quarter: int,
    segment: str = "",
) -> Goal:
    """A quarterly target; one per metric, quarter and segment (a second one replaces the first)."""
    _ensure_manager(actor)
    goal, _ = Goal.objects.update_or_create(
        metric=metric,
        year=year,
        quarter=quarter,
        segment=segment,
        defaults={"comparator": comparator, "target": target, "created_by": actor, "created_at": timezone.now()},
    )
    return goal


def goal_delete(*, actor: AbstractBaseUser | None, goal: Goal) -> None:
    _ensure_manager(actor)
    goal.delete()


def acquisition_cost_set(
    *, actor: AbstractBaseUser | None, month: dt.date, amount: Decimal, segment: str = ""
) -> AcquisitionCost:
    """Enter (or correct) the CAC of a month, for all segments or one."""
    _ensure_manager(actor)
    if amount < 0:
        raise ValidationError({"amount": "CAC cannot be negative."})
    entry, _ = AcquisitionCost.objects.update_or_create(
        month=month_start(month),
        segment=segment,
        defaults={"amount": amount, "updated_by": actor, "updated_at": timezone.now()},
    )
    return entry


def acquisition_cost_delete(*, actor: AbstractBaseUser | None, entry: AcquisitionCost) -> None:
    _ensure_manager(actor)
    entry.delete()
