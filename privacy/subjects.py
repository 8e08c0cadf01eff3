"""The subject of a request — one contact, or one account with all its contacts — and what identifies it.

Identifiers are read once, before anything is scrubbed, so every place is searched for the same values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import Account, Contact, TrackingAlias
from privacy.matching import Identity, reference_patterns

CONTACT, ACCOUNT = "contact", "account"
MAX_PK = 2**63 - 1


def erased_contact_name() -> str:
    """The name an erased contact keeps, in the installation's language (stored for the team)."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Erased contact")


def erased_account_name(pk: int) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Erased account %(id)s") % {"id": pk}


def erased_text() -> str:
    """What a required text field that mentioned the subject reads after the erasure."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("[erased]")


@dataclass(frozen=True)
class Subject:
    """Whom a request is about, and how to find them.

    Two people may share a name, never an email address or an id. So `identity` (emails and ids) is searched
    everywhere, while `local_identity` (also the people's names and the company's name) is searched only in rows
    that belong to the subject's account: its own rows, and elsewhere rows that also refer to the account
    (`account_ref`: its external id, or its id as `"account_id"` in a payload or in a bulk edit's accounts).
    """

    kind: str
    account: Account
    contact: Contact | None
    contact_ids: tuple[int, ...]
    user_ids: tuple[str, ...]
    emails: tuple[str, ...]
    identity: Identity
    local_identity: Identity
    account_ref: tuple[str, ...]
    response_ids: tuple[int, ...] = field(default=())

    def matches_json(self, text: str) -> bool:
        """A JSON row (an import file's row, a payload) about the subject."""
        if self.identity.matches_json(text):
            return True
        return self.local_identity.matches_json(text) and any(
            re.search(pattern, text, re.IGNORECASE) for pattern in self.account_ref
        )

    def matches_cells(self, cells: list[str]) -> bool:
        """A CSV row about the subject: one of theirs by email or id, or by name on a row of their account."""
        if self.identity.matches_cells(cells):
            return True
        external_id = self.account.external_id.casefold()
        return self.local_identity.matches_cells(cells) and any(c.strip().casefold() == external_id for c in cells)

    @property
    def pk(self) -> int:
        return self.contact.pk if self.contact is not None else self.account.pk

    @property
    def confirmation(self) -> str:
        """What an admin types to confirm the erasure: the contact's email (else name, user id, id), the account's
        name."""
        if self.contact is None:
            return self.account.name
        c = self.contact
        return c.email or c.name or c.user_id or c.external_id or str(c.pk)

    @property
    def label(self) -> str:
        if self.contact is None:
            return self.account.name
        return self.contact.name or self.contact.email or self.contact.user_id or f"#{self.contact.pk}"


def _aliased(user_ids: set[str]) -> set[str]:
    """The other ids of the same people (Segment aliases, both ways, one step)."""
    if not user_ids:
        return set()
    pairs = TrackingAlias.objects.filter(Q(user_id__in=user_ids) | Q(previous_id__in=user_ids))
    return {value for pair in pairs.values_list("previous_id", "user_id") for value in pair}


def _people(contacts) -> tuple[set[str], set[str], set[str], set[str]]:
    tombstone = erased_contact_name()
    emails, names, user_ids, external_ids = set(), set(), set(), set()
    for email, name, user_id, external_id in contacts.values_list("email", "name", "user_id", "external_id"):
        emails.add(email)
        if name != tombstone:
            names.add(name)
        user_ids.add(user_id)
        external_ids.add(external_id)
    user_ids.discard("")
    return emails - {""}, names - {""}, user_ids | _aliased(user_ids), external_ids - {""}


def contact_subject(contact: Contact) -> Subject:
    emails, names, user_ids, external_ids = _people(Contact.objects.filter(pk=contact.pk))
    ids = [*user_ids, *external_ids]
    return Subject(
        kind=CONTACT,
        account=contact.account,
        contact=contact,
        contact_ids=(contact.pk,),
        user_ids=tuple(sorted(user_ids)),
        emails=tuple(sorted(emails)),
        identity=Identity.of(emails=emails, ids=ids),
        local_identity=Identity.of(emails=emails, names=names, ids=ids),
        account_ref=reference_patterns(pk=contact.account.pk, external_id=contact.account.external_id),
        response_ids=tuple(contact.responses.values_list("pk", flat=True)),
    )


def account_subject(account: Account) -> Subject:
    contacts = Contact.objects.filter(account=account)
    emails, names, user_ids, external_ids = _people(contacts)
    ids = [*user_ids, *external_ids, account.domain, account.external_id, account.billing_customer_id]
    return Subject(
        kind=ACCOUNT,
        account=account,
        contact=None,
        contact_ids=tuple(contacts.values_list("pk", flat=True)),
        user_ids=tuple(sorted(user_ids)),
        emails=tuple(sorted(emails)),
        identity=Identity.of(emails=emails, ids=ids),
        local_identity=Identity.of(emails=emails, names=[*names, account.name], ids=ids),
        account_ref=reference_patterns(pk=account.pk, external_id=account.external_id),
        response_ids=tuple(account.survey_responses.values_list("pk", flat=True)),
    )


def subject_object(kind: str, pk: int) -> Contact | Account | None:
    """The contact or account named by kind and id, or None when there is none."""
    if not 0 < pk <= MAX_PK:
        return None
    if kind == CONTACT:
        return Contact.objects.select_related("account").filter(pk=pk).first()
    return Account.objects.filter(pk=pk).first()
