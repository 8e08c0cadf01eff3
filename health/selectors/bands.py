"""Health band movement for the dashboards: the days with snapshots in a period and how many accounts moved
from each band to each band (or which ones)."""

from __future__ import annotations

import datetime as dt

from django.db import connections
from django.db.models import F, Max, Min, Q, QuerySet

from health.models import HealthSnapshot


def snapshots() -> QuerySet[HealthSnapshot]:
    """Every daily snapshot with the profile version it was scored by, newest day first."""
    return HealthSnapshot.objects.select_related("version__profile").order_by("-day", "account")


def snapshot_day_bounds(*, start: dt.date, end: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The first and the last day in [start, end] (both inclusive) with health snapshots; (None, None) if none."""
    bounds = HealthSnapshot.objects.filter(day__gte=start, day__lte=end).aggregate(first=Min("day"), last=Max("day"))
    return bounds["first"], bounds["last"]


def _band_pairs(*, start_day: dt.date, end_day: dt.date, accounts: QuerySet | None, by_group: bool = False) -> QuerySet:
    """Per account with a snapshot on either day: its band on `start_day` (`from_band`) and on `end_day`
    (`to_band`); null where it has no snapshot that day, "" where its snapshot has no score. `by_group` adds
    the account's segment and plan (`g_segment`, `g_plan`)."""
    snapshots = HealthSnapshot.objects.filter(day__in=[start_day, end_day])
    if accounts is not None:
        snapshots = snapshots.filter(account__in=accounts)
    groups = {"g_segment": F("account__segment"), "g_plan": F("account__plan")} if by_group else {}
    return (
        snapshots.values("account_id", **groups)
        .annotate(from_band=Max("band", filter=Q(day=start_day)), to_band=Max("band", filter=Q(day=end_day)))
        .order_by()
    )


def band_transitions(
    *, start_day: dt.date, end_day: dt.date, accounts: QuerySet | None = None, by_group: bool = False
) -> list[dict]:
    """How many accounts moved from each band on `start_day` to each band on `end_day`: rows of from_band,
    to_band (green, yellow, red or "" — not scored, or no snapshot that day) and n, and with `by_group` per
    segment and plan of the account (for the dashboards' facts). One grouped query, counted again in the
    database (the per-account pairs never leave it). `accounts`: a subquery of account ids."""
    pairs = _band_pairs(start_day=start_day, end_day=end_day, accounts=accounts, by_group=by_group)
    sql, params = pairs.query.sql_with_params()
    groups = ("segment", "plan") if by_group else ()
    columns = "".join(f"pairs.g_{name}, " for name in groups)
    with connections[pairs.db].cursor() as cursor:  # the replica when the request reads from it
        cursor.execute(
            f"SELECT {columns}COALESCE(pairs.from_band, ''), COALESCE(pairs.to_band, ''), COUNT(*) "
            f"FROM ({sql}) pairs GROUP BY {', '.join(str(i) for i in range(1, len(groups) + 3))}",
            params,
        )
        names = [*groups, "from_band", "to_band", "n"]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def band_transition_accounts(
    *, start_day: dt.date, end_day: dt.date, from_band: str, to_band: str, accounts: QuerySet | None = None
) -> QuerySet:
    """Ids of the accounts that moved from `from_band` to `to_band` ("" = not scored or no snapshot)."""

    def band(name: str, value: str) -> Q:
        return Q(**{name: value}) if value else Q(**{f"{name}__isnull": True}) | Q(**{name: ""})

    pairs = _band_pairs(start_day=start_day, end_day=end_day, accounts=accounts)
    return pairs.filter(band("from_band", from_band) & band("to_band", to_band)).values_list("account_id", flat=True)
