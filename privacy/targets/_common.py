"""What the target modules share: the Target itself and the expressions an erasure writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.db.models.functions import MD5, Concat

from accounts.models import Account
from privacy.matching import Identity
from privacy.subjects import Subject

DELETE = "delete"


@dataclass(frozen=True)
class Target:
    """Rows of one place holding the subject's data, and what the erasure does to them: `update` (field → value
    or expression), DELETE, or a function of the queryset for the rare row that needs more than one UPDATE."""

    place: str
    rows: QuerySet
    update: dict | str | Callable[[QuerySet], int] = field(default_factory=dict)
    gated: bool = False  # audit entries: only inside the audit trail's open gate


def user_token(salt: str):
    """`erased:<md5(salt + user id)>`: one token per user id, unlinkable to it once the salt is gone."""
    return Concat(Value("erased:"), MD5(Concat(Value(salt), F("user_id"))), output_field=CharField())


def value_when(condition: Q, value, field_name: str):
    return Case(When(condition, then=Value(value)), default=F(field_name))


def query_identity(identity: Identity) -> Identity:
    """The same identity as it appears in a URL query string (saved views, bulk edits)."""
    return Identity.of(
        emails=[*identity.emails, *(quote(e) for e in identity.emails)],
        names=[*identity.names, *(quote_plus(n) for n in identity.names)],
    )


def scrub_attributes(subject: Subject) -> Callable[[QuerySet], int]:
    """Contact erasure: drop the account's custom attributes that mention the person (one row, one UPDATE)."""

    def scrub(rows: QuerySet) -> int:
        changed = 0
        for pk, attributes in rows.values_list("pk", "custom_attributes"):
            kept = {k: v for k, v in (attributes or {}).items() if not mentions_value(subject.local_identity, k, v)}
            changed += Account.objects.filter(pk=pk).update(custom_attributes=kept)
        return changed

    return scrub


def mentions_value(identity: Identity, key: str, value) -> bool:
    return identity.matches_json(json.dumps({key: value}))
