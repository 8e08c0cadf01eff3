"""Precomputed figures of the win-back overview and Feedback pages, refreshed by a worker (pages never aggregate)."""

from __future__ import annotations

import json
from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise


class FactsEncoder(json.JSONEncoder):
    """JSON that keeps Decimal amounts exact (as {"__decimal__": "12.30"}), so facts read back as computed."""

    def default(self, o):
        if isinstance(o, Decimal):
            return {"__decimal__": str(o)}
        if isinstance(o, Promise):  # a lazy label: the pages put the reader's label back when they read the facts
            return str(o)
        return super().default(o)

    def encode(self, o):
        return super().encode(_tag(o))


def _tag(value):
    # json.JSONEncoder.default is only asked about objects it cannot encode; Decimal must be tagged up front too.
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, dict):
        return {k: _tag(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tag(v) for v in value]
    return value


class FactsDecoder(json.JSONDecoder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, object_hook=self._hook, **kwargs)

    @staticmethod
    def _hook(obj: dict):
        if set(obj) == {"__decimal__"}:
            return Decimal(obj["__decimal__"])
        return obj


class PageFacts(models.Model):
    """One page's heavy aggregates as of `computed_at` ("overview", "feedback"), written only by the refresh."""

    key = models.CharField(max_length=32, unique=True)
    data = models.JSONField(encoder=FactsEncoder, decoder=FactsDecoder, default=dict)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key} facts as of {self.computed_at:%Y-%m-%d %H:%M}"
