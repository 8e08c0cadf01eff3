"""Messaging settings with working defaults; each can be overridden in Django settings (MESSAGING_<NAME>)."""

from __future__ import annotations

from django.conf import settings

_DEFAULTS: dict[str, object] = {
    # One global contact-frequency cap across all automated mail: at most EMAIL_CAP_COUNT emails per contact
    # within EMAIL_CAP_DAYS days (manual and notification mail to staff is not capped).
    "EMAIL_CAP_COUNT": 1,
    "EMAIL_CAP_DAYS": 3,
    # A message claimed by a worker but not sent after this long is re-queued by the recovery sweep.
    "EMAIL_STALE_CLAIM_MINUTES": 15,
    # A queued message no worker has claimed after this long has lost its send task: the sweep sends it again
    # (harmless if the task still exists: the claim is a conditional update, one worker sends).
    "EMAIL_UNCLAIMED_MINUTES": 2,
    # Slack-compatible incoming webhook for notifications (empty: off).
    "SLACK_WEBHOOK_URL": "",
}

# User agents of link scanners and mail-security proxies whose opens and clicks are not the reader's.
BOT_USER_AGENT_MARKERS = (
    "bot",
    "crawler",
    "spider",
    "preview",
    "scanner",
    "proofpoint",
    "mimecast",
    "barracuda",
    "safelinks",
    "urldefense",
    "python-requests",
    "curl/",
    "wget",
    "headlesschrome",
    "go-http-client",
    "microsoft office existence discovery",
)


def get(name: str):
    return getattr(settings, f"MESSAGING_{name}", _DEFAULTS[name])
