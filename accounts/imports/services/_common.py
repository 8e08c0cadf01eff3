"""Helpers shared by the upsert modules: natural keys of rows, duplicates within a request, who may write which
accounts, and setting an account's tags."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.imports.services.rows import Kind
from accounts.models import Account, Tag

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def key_of(kind: Kind, row: dict) -> tuple | None:
    for key in kind.keys:
        if all(row.get(f) not in (None, "") for f in key):
            return (key, *(row[f] for f in key))
    return None


def duplicate_rows(kind: Kind, rows: list[tuple[int, dict]]) -> list[dict]:
    seen: dict[tuple, int] = {}
    errors = []
    for index, row in rows:
        key = key_of(kind, row)
        if key is None:
            continue
        if key in seen:
            errors.append(
                {
                    "index": index,
                    "errors": {key[0][0]: [_("Duplicate of row %(row)s in the same request.") % {"row": seen[key]}]},
                }
            )
        else:
            seen[key] = index
    return errors


def unwritable_accounts(actor: AbstractBaseUser | None, account_ids: set[int]) -> set[int]:
    """The accounts among `account_ids` the actor may not edit. Managers, admins, API keys and the system write
    everywhere; a CSM only on the accounts they own."""
    if actor is None or getattr(actor, "api_key", None) is not None or actor.has_perm("accounts.assign_owner"):
        return set()
    owned = set(Account.objects.filter(pk__in=account_ids, owner=actor).values_list("pk", flat=True))
    return account_ids - owned


def ensure_actor_may_write(actor: AbstractBaseUser | None, account_ids: set[int]) -> None:
    if unwritable_accounts(actor, account_ids):
        raise PermissionDenied(_("You can only edit the accounts you own."))


def account_tags_set(tags: dict[int, list[str]]) -> None:
    names = {name for names in tags.values() for name in names}
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    by_name = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
    through = Account.tags.through
    through.objects.filter(account_id__in=tags).delete()
    through.objects.bulk_create(
        [through(account_id=a, tag_id=by_name[n]) for a, names in tags.items() for n in set(names)]
    )
