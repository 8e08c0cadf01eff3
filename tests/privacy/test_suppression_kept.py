"""Erasing a person empties their address on the suppression list but keeps its digest: an address imported again
later is still never emailed, and the address itself is nowhere in the database."""

from __future__ import annotations

import pytest
from django.core import mail

from messaging.email.outbox import email_queue, email_queue_many
from messaging.email.tracking import email_unsubscribe
from messaging.models import EmailStatus, Suppression, address_digest
from privacy.services.erasure import erase_contact
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_an_erased_unsubscriber_imported_again_is_still_not_emailed():
    account = AccountFactory()
    contact = ContactFactory(account=account, email="Gone@Example.io")
    Suppression.objects.create(email="gone@example.io", reason="unsubscribed")

    erase_contact(contact=contact, actor=None, door="command")

    row = Suppression.objects.get()
    assert row.email is None and row.email_hash == address_digest("gone@example.io")
    assert not Suppression.objects.filter(email__icontains="gone").exists()

    again = ContactFactory(account=account, email="GONE@example.io")  # a later import brings the address back
    one = email_queue(to_email=again.email, subject="Hi", body_text="Hello", contact=again, source="test")
    [many] = email_queue_many(
        messages=[{"to_email": again.email, "subject": "Hi", "body_text": "Hello", "contact": again, "source": "test"}]
    )
    assert one.status == many.status == EmailStatus.SUPPRESSED
    assert mail.outbox == []


def test_a_second_unsubscribe_of_the_same_address_finds_the_erased_row():
    row = Suppression.objects.create(email="x@example.io", reason="bounced")
    Suppression.objects.filter(pk=row.pk).update(email=None)
    assert email_unsubscribe(email=" X@Example.io ").pk == row.pk
    assert Suppression.objects.count() == 1
