"""What several widgets share: figures formatted as the pages show them, a card's detail line, and the account
statuses that are not churned."""

from __future__ import annotations

from churnapp.templatetags import formatting

NOT_CHURNED = ("onboarding", "active", "at_risk", "won_back")  # account statuses, for links to the accounts list


def pct(value: float | None, digits: int = 1) -> str:
    """A share as the pages show it (the `percent` template filter)."""
    return formatting.percent(value, digits)


def money(value: float | None) -> str:
    """An amount as the pages show it (the `money` template filter): "−$5,750"."""
    return formatting.money(value)


def number(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def detail_of(label: str, value: str, href: str = "", *, drill: bool = True) -> dict:
    """A figure on a card; `href` opens the accounts behind it in the drill-down panel (or a page if not `drill`)."""
    return {"label": label, "value": value, "href": href, "drill": drill and bool(href)}
