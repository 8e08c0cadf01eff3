"""API keys: create (the secret is returned once), authenticate, revoke. Only a SHA-256 hash is stored.

A key looks like `ck_<prefix>_<secret>`: the 8-character prefix finds the row, the hash of the whole key proves
it. Secrets carry 192 bits of randomness, so a fast hash is enough (no password-style stretching needed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.capture import update_recorded
from churnapp.models import ApiKey, ApiScope

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

KEY_PREFIX = "ck_"
# last_used_at is written at most this often per key, so authentication does not cost a write per request.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, name: str, scopes: list[str], created_by: AbstractBaseUser | None = None) -> tuple[ApiKey, str]:
    """Create a key and return it with its full secret, which is never shown or stored again."""
    unknown = set(scopes) - set(ApiScope.values)
    if unknown or not scopes:
        raise ValueError(f"Scopes must be some of {', '.join(ApiScope.values)}; got {', '.join(scopes) or 'none'}.")
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
    key = ApiKey.objects.create(
        name=name, prefix=prefix, key_hash=_hash(raw), scopes=sorted(set(scopes)), created_by=created_by
    )
    return key, raw


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching `raw_key`, or None. Records the use (at most once a minute per key)."""
    if not raw_key.startswith(KEY_PREFIX) or raw_key.count("_") < 2:
        return None
    prefix = raw_key[len(KEY_PREFIX) :].split("_", 1)[0]
    key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash(raw_key)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke a key for good (idempotent): requests with it get 401 from now on."""
    if key.revoked_at is None:
        update_recorded(ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True), revoked_at=timezone.now())
        key.refresh_from_db(fields=["revoked_at"])
    return key


def api_key_list() -> QuerySet[ApiKey]:
    """Every key, active and revoked, with who created it (the admin's list)."""
    return ApiKey.objects.select_related("created_by")


def api_key_summary() -> dict[str, object]:
    """How many keys are active and revoked, and the one used last (the integrations overview)."""
    keys = ApiKey.objects.all()
    return {
        "active_keys": keys.filter(revoked_at__isnull=True).count(),
        "revoked_keys": keys.filter(revoked_at__isnull=False).count(),
        "last_used_key": keys.filter(last_used_at__isnull=False).order_by("-last_used_at").first(),
    }
