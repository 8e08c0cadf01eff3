"""Writes about the people at accounts: their consent to automated email."""

from __future__ import annotations

from accounts.models import Contact
from audit.capture import update_recorded


def contact_unsubscribe(*, email: str) -> int:
    """Mark every contact with this address unsubscribed from automated email (the automations unsubscribe page)."""
    return update_recorded(Contact.objects.filter(email__iexact=email.strip(), unsubscribed=False), unsubscribed=True)
