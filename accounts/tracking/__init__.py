"""The Segment-compatible tracking pipeline: identify, track (page, screen), group and alias messages → facts.

- `group`: groupId is the account's external id; traits create or update the account (known keys map to fields,
  the rest become custom attributes) and the user is linked to it as a contact.
- `identify`: traits update the contacts with that userId (email, name, title; the rest merge into traits).
- `track` / `page` / `screen`: a usage event of the account given by `context.groupId`, else of the user's contact.
- `alias`: previousId (an anonymous or former id) is the same person as userId: contacts known by the previous
  id take the user id, and messages under the previous id (waiting or later) go to that user's account.
- Clock skew: when the client sends `sentAt`, the event time is `receivedAt − (sentAt − timestamp)`, so a device
  whose clock is off still lands at the right instant (Segment's own correction).
- Duplicates: `messageId` de-duplicates events; a message without one gets a content-derived id.
- Nothing is dropped: a message whose account is not known yet waits in PendingMessage and is replayed when the
  account (group call, API, import) or the user's contact appears.

Everything here is set-based: a batch of any size costs a fixed number of queries. Modules: `messages` (parsing
and validation), `traits` (traits → fields), `identity` (accounts, contacts and aliases of the messages) and
`ingest` (writing a batch, keeping and replaying waiting messages); the public names are re-exported here.
"""

from __future__ import annotations

from accounts.tracking.ingest import (
    DEADLOCK_ATTEMPTS,
    RETRYABLE_PGCODES,
    TrackingResult,
    pending_messages_replay,
    tracking_ingest,
)
from accounts.tracking.messages import (
    EVENT_TYPES,
    MAX_ID_LENGTH,
    SUPPORTED_TYPES,
    InvalidMessage,
    Message,
    parse_message,
)
from accounts.tracking.traits import ACCOUNT_TRAITS, CONTACT_TRAITS

__all__ = [
    "EVENT_TYPES",
    "SUPPORTED_TYPES",
    "MAX_ID_LENGTH",
    "RETRYABLE_PGCODES",
    "DEADLOCK_ATTEMPTS",
    "ACCOUNT_TRAITS",
    "CONTACT_TRAITS",
    "TrackingResult",
    "Message",
    "InvalidMessage",
    "parse_message",
    "tracking_ingest",
    "pending_messages_replay",
]
