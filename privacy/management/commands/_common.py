"""What both privacy commands share: the `contact <id|email>` / `account <id|external_id>` arguments."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts.models import Account, Contact
from privacy import selectors


def add_subject_arguments(parser) -> None:
    parser.add_argument("kind", choices=[selectors.CONTACT, selectors.ACCOUNT], help="Whose data: contact or account.")
    parser.add_argument(
        "ident", help="A contact's id or email address; an account's id or external id (its id in your product)."
    )


def subject_object(kind: str, ident: str) -> Contact | Account:
    """The one contact or account named on the command line, or a CommandError saying why there is none."""
    if kind == selectors.CONTACT:
        contacts = selectors.contact_lookup(ident)
        if not contacts:
            raise CommandError(f"No contact with id or email {ident!r}.")
        if len(contacts) > 1:
            ids = ", ".join(f"{c.pk} (account {c.account.external_id})" for c in contacts)
            raise CommandError(f"{len(contacts)} contacts have the email {ident!r}: name one by id: {ids}.")
        return contacts[0]
    account = selectors.account_lookup(ident)
    if account is None:
        raise CommandError(f"No account with id or external id {ident!r}.")
    return account
