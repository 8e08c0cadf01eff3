"""Writes about the people at accounts: their consent to automated email."""

from __future__ import annotations

from accounts.models import Contact


def contact_unsubscribe(*, email: str) -> int:
    """Mark every contact with this address unsubscribed from automated email (the automations unsubscribe page)."""
    return Contact.objects.filter(email__iexact=email.strip(), unsubscribed=False).update(unsubscribed=True)
