"""Finding the subject of a request: by id for the pages and the API, by id, email or external id for the
commands, and the contacts the Customer 360's personal data card lists."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Account, Contact
from privacy.subjects import ACCOUNT, CONTACT, MAX_PK, Subject, account_subject, contact_subject

CARD_CONTACTS = 100


def subject_for(obj: Contact | Account) -> Subject:
    return contact_subject(obj) if isinstance(obj, Contact) else account_subject(obj)


def contact_lookup(ident: str) -> list[Contact]:
    """Contacts named by an id or an email address (one person may be a contact of several accounts)."""
    ident = ident.strip()
    contacts = Contact.objects.select_related("account").order_by("pk")
    if ident.isdigit():
        return list(contacts.filter(pk=int(ident))) if 0 < int(ident) <= MAX_PK else []
    return list(contacts.filter(email__iexact=ident)) if ident else []


def account_lookup(ident: str) -> Account | None:
    """The account with this id, else with this external id."""
    ident = ident.strip()
    if ident.isdigit() and 0 < int(ident) <= MAX_PK:
        account = Account.objects.filter(pk=int(ident)).first()
        if account is not None:
            return account
    return Account.objects.filter(external_id=ident).first() if ident else None


def account_contacts(account: Account, *, limit: int = CARD_CONTACTS) -> tuple[list[Contact], int]:
    """The account's contacts for the card (the first `limit`) and how many there are."""
    contacts: QuerySet[Contact] = account.contacts.order_by("-is_primary", "name", "pk")
    return list(contacts[:limit]), contacts.count()


__all__ = ["ACCOUNT", "CONTACT", "account_contacts", "account_lookup", "contact_lookup", "subject_for"]
