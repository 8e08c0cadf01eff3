"""The kinds of rows an upsert takes and the first two steps of a batch: `rows_validate` (serializer shapes and
types, no queries) and `rows_resolve` (account external ids, user e-mails and contacts in one query each), with
the errors they raise."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _

from accounts import serializers as s
from accounts.models import Account, Activity, Contact, Subscription, SupportTicket, SurveyResponse, Tag, Task
from accounts.rates import NoRate, Rates
from churnapp.validation import (
    EVENT_TIME_RANGE,
    MAX_EVENT_TIME,
    MIN_EVENT_TIME,
    date_fields_out_of_range,
    nul_paths,
)

DATE_RANGE_MESSAGE = f"Date out of range ({EVENT_TIME_RANGE})."  # in English; rows get `date_range_message()`


def date_range_message() -> str:
    """DATE_RANGE_MESSAGE in the active language."""
    return _("Date out of range (years %(first)s–%(last)s).") % {
        "first": MIN_EVENT_TIME.year,
        "last": MAX_EVENT_TIME.year,
    }


def nul_message() -> str:
    """churnapp.parsers.NUL_MESSAGE in the active language."""
    return _("NUL (\\u0000) characters are not allowed.")


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[models.Model] | None
    serializer: type
    # Alternative natural keys, tried in order; the first whose fields are all set in a row identifies it.
    keys: tuple[tuple[str, ...], ...] = ()


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("accounts", Account, s.AccountInputSerializer, (("external_id",),)),
        Kind("contacts", Contact, s.ContactInputSerializer, (("external_id",), ("account_id", "email"))),
        Kind(
            "subscriptions",
            Subscription,
            s.SubscriptionInputSerializer,
            (("external_id",), ("account_id", "product", "start_date")),
        ),
        Kind("tickets", SupportTicket, s.TicketInputSerializer, (("external_id",),)),
        Kind(
            "surveys",
            SurveyResponse,
            s.SurveyResponseInputSerializer,
            (("external_id",), ("account_id", "kind", "responded_at")),
        ),
        Kind("tags", Tag, s.TagInputSerializer, (("name",),)),
        Kind("tasks", Task, s.TaskInputSerializer),
        Kind("activities", Activity, s.ActivityInputSerializer),
        Kind("events", None, s.EventInputSerializer),
    )
}


class RowErrors(Exception):
    """Some rows are invalid; `errors` is a list of {"index": …, "errors": {field: [messages]}}."""

    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} invalid rows")
        self.errors = errors


class RowsForbidden(RowErrors, PermissionDenied):
    """Some rows touch an account the actor may not edit (the API answers 403 with the rows' errors)."""

    def __str__(self) -> str:
        return _("You can only edit the accounts you own.")


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {key: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])] for key, msgs in detail.items()}
    return {"non_field_errors": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def rows_validate(*, kind: str, rows: Iterable[tuple[int, Any]]) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Shapes and types of each (index, raw row); returns (valid rows, errors)."""
    serializer_class = KINDS[kind].serializer
    valid, errors = [], []
    for index, raw in rows:
        if not isinstance(raw, dict):
            errors.append({"index": index, "errors": {"non_field_errors": [_("Each row must be a JSON object.")]}})
            continue
        nul = nul_paths(raw)
        if nul:  # PostgreSQL cannot store them: refused per field, the same on the REST API and in imports
            errors.append({"index": index, "errors": {path: [nul_message()] for path in nul}})
            continue
        serializer = serializer_class(data=raw)
        if serializer.is_valid():
            far = date_fields_out_of_range(serializer.validated_data)
            if far:
                errors.append({"index": index, "errors": {name: [date_range_message()] for name in far}})
                continue
            valid.append((index, dict(serializer.validated_data)))
        else:
            errors.append({"index": index, "errors": _flatten(serializer.errors)})
    return valid, errors


def rows_resolve(*, kind: str, rows: list[tuple[int, dict]]) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Turn references into ids (set-based) and map input names to model fields; returns (rows, errors)."""
    errors: list[dict] = []
    account_refs = {row["account"] for _, row in rows if "account" in row}
    accounts = dict(Account.objects.filter(external_id__in=account_refs).values_list("external_id", "pk"))
    emails = {row[f] for _, row in rows for f in ("owner_email", "assignee_email") if row.get(f)}
    User = get_user_model()
    users = {e.lower(): pk for e, pk in User.objects.filter(email__in=emails).values_list("email", "pk")}
    contacts: dict[tuple[int, str], int] = {}
    if kind == "surveys":
        wanted = {row["contact_email"].lower() for _, row in rows if row.get("contact_email")}
        for pk, account_id, email in Contact.objects.filter(
            account_id__in=accounts.values(), email__in=wanted
        ).values_list("pk", "account_id", "email"):
            contacts[(account_id, email.lower())] = pk
    rates = Rates(row.get("currency") for _, row in rows) if kind == "subscriptions" else None
    resolved = []
    for index, row in rows:
        row = dict(row)
        problems: dict[str, list[str]] = {}
        if rates is not None:
            code = row.pop("currency", "")
            try:
                row.update(rates.convert(code=code, amount=row["mrr"], day=row["start_date"]))
            except NoRate as exc:
                problems["currency"] = [str(exc)]
        if "account" in row:
            ref = row.pop("account")
            if ref in accounts:
                row["account_id"] = accounts[ref]
            else:
                problems["account"] = [_("Unknown account %(account)r.") % {"account": ref}]
        for name, target in (("owner_email", "owner_id"), ("assignee_email", "assignee_id")):
            if name in row:
                email = row.pop(name)
                if not email:
                    row[target] = None
                elif email.lower() in users:
                    row[target] = users[email.lower()]
                else:
                    problems[name] = [_("No user with e-mail %(email)r.") % {"email": email}]
        if kind == "surveys":
            email = (row.pop("contact_email", "") or "").lower()
            row["contact_id"] = contacts.get((row.get("account_id"), email)) if email else None
        if problems:
            errors.append({"index": index, "errors": problems})
        else:
            resolved.append((index, row))
    return resolved, errors
