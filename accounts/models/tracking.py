"""State of the tracking pipeline: messages waiting for their account (PendingMessage) and Segment aliases."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class PendingMessage(models.Model):
    """A tracking message (track/page/screen/identify) whose account is not known yet.

    Nothing is dropped: the message waits here, keyed by its user and group ids, and is replayed through the
    tracking pipeline as soon as a `group` call, an import or the API makes its account known.
    """

    message_id = models.CharField(max_length=128, unique=True)
    type = models.CharField(max_length=16)
    user_id = models.CharField(max_length=128, blank=True, db_index=True)
    group_id = models.CharField(max_length=128, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class TrackingAlias(models.Model):
    """A Segment `alias`: `previous_id` (an anonymous or former user id) is the same person as `user_id`, so
    messages sent under the previous id find that user's contact and account."""

    previous_id = models.CharField(max_length=128, unique=True)
    user_id = models.CharField(max_length=128, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.previous_id} → {self.user_id}"
