"""Clients of the configuration API tests (imported by them; `conftest.py` is shared with the bundle tests)."""

from __future__ import annotations

from django.core.cache import cache
from rest_framework.test import APIClient

from churnapp.apikeys import api_key_create


def key_client(*scopes: str) -> APIClient:
    """A client authenticated by a fresh API key with `scopes`."""
    cache.clear()
    _, secret = api_key_create(name="config-test", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def user_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
