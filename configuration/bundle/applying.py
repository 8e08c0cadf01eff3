"""Apply a bundle: all or nothing (one transaction), idempotent (only what the plan lists is written), through
each app's save service so validation and the audit trail stay where they are."""

from __future__ import annotations

from contextlib import nullcontext
from functools import partial
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from audit.context import Actor, acting
from configuration.bundle.base import BundleInvalid, Context
from configuration.bundle.planning import DELETE, KINDS, Plan, plan

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
        return " ".join(exc.messages)
    return str(exc)


def apply(bundle, *, prune: bool = False, actor: AbstractBaseUser | None = None, door: str | None = None) -> Plan:
    """Apply `bundle` and return what was done (its plan, with the notes to print once: new endpoints' secrets).

    `door` names the way in for the audit trail when the caller has no request (the command line); `actor` is the
    person applying it, when there is one.
    """
    result = plan(bundle, prune=prune)
    if result.empty:
        return result
    ctx = Context(actor=actor, notes=result.notes)
    scope = acting(door=door, actor=Actor.of_user(actor) if actor else None) if door else nullcontext()
    by_section = {kind.section: kind for kind in KINDS}
    with scope, transaction.atomic():
        for kind in KINDS:
            for entry in (e for e in result.entries if e.section == kind.section and e.action != DELETE):
                _run(entry.section, entry.key, partial(kind.save, entry.key, entry.item, ctx))
        for kind in reversed(KINDS):
            for entry in (e for e in result.of(DELETE) if e.section == kind.section):
                _run(entry.section, entry.key, partial(by_section[entry.section].delete, entry.key, ctx))
    return result


def _run(section: str, key: str, write) -> None:
    try:
        with transaction.atomic():
            write()
    except BundleInvalid as exc:
        raise BundleInvalid(f"{section} ({key}): {exc}") from exc
    except (ValueError, ValidationError, PermissionDenied, IntegrityError) as exc:
        raise BundleInvalid(f"{section} ({key}): {_message(exc)}") from exc
