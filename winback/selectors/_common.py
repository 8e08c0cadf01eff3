"""What several of the win-back reads share."""

from __future__ import annotations

from decimal import Decimal

ZERO = Decimal("0")
