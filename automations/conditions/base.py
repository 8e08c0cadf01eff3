"""The pieces every condition is built from: the evaluation context, the compiled result (annotations shown as
"why did this fire?" and a Q), the error of a misconfigured condition, and the parsing of a leaf's values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Q,
)
from django.utils import timezone

OPEN_TICKET = ("open", "pending")


class ConditionError(ValueError):
    """The condition tree is not valid (unknown type, missing or wrong parameter)."""


@dataclass
class Compiled:
    q: Q = field(default_factory=Q)
    annotations: dict[str, Any] = field(default_factory=dict)
    # (value key in .values(), label) pairs shown as the matched values
    shows: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Context:
    now: dt.datetime
    counter: int = 0

    @property
    def today(self) -> dt.date:
        return timezone.localdate(self.now)

    def name(self, suffix: str) -> str:
        self.counter += 1
        return f"c{self.counter}_{suffix}"


def as_number(spec: dict, key: str, *, default: float | None = None) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConditionError(f"{spec.get('type')}: '{key}' must be a number.")
    return value


def as_int(spec: dict, key: str, *, default: int | None = None) -> int:
    return int(as_number(spec, key, default=default))


def as_list(spec: dict, key: str = "in") -> list[str]:
    value = spec.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConditionError(f"{spec.get('type')}: '{key}' must be a non-empty list of names.")
    return value
