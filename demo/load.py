"""Writes a simulated history (`demo.simulator.Simulation`) into the database, all or nothing.

PostgreSQL gets COPY (psycopg2 `copy_expert`, chunked in-memory CSV) for the child tables, which is what makes
millions of usage events load in seconds; other databases (SQLite in development) get `bulk_create` in batches.
Accounts are always bulk-created so their primary keys come back for the child rows. The usage events arrive in
chunks (month by month) and each chunk is written before the next is built, so memory does not grow with them.

Simulated accounts are recognised by their external id prefix `ACC-`; users and tags are shared and only ever
created if missing, never deleted.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, models, reset_queries, transaction

from accounts.models import (
    Account,
    Activity,
    Contact,
    Subscription,
    SupportTicket,
    SurveyResponse,
    Tag,
    Task,
    UsageEvent,
)
from accounts.services import account_refresh_snapshots
from churnapp.roles import Role, ensure_role_groups
from demo.simulator import TAG_COLORS, Simulation

SIMULATED_PREFIX = "ACC-"
BATCH_SIZE = 5_000
COPY_CHUNK = 250_000


class SimulationExists(Exception):
    """Simulated accounts are already in the database and the caller did not ask to replace them."""


@dataclass
class LoadReport:
    """What a load wrote: rows per table, seconds per step, and the snapshot refresh result."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    refresh: dict[str, int] = field(default_factory=dict)
    method: str = ""

    @property
    def events_per_minute(self) -> float:
        elapsed = self.seconds.get("events", 0.0)
        return self.counts.get("events", 0) / elapsed * 60 if elapsed else 0.0


def simulation_exists() -> bool:
    return Account.objects.filter(external_id__startswith=SIMULATED_PREFIX).exists()


def simulation_delete() -> int:
    """Delete the simulated accounts and every row hanging off them; returns how many accounts went."""
    simulated = Account.objects.filter(external_id__startswith=SIMULATED_PREFIX)
    # The events table is by far the largest: one set-based DELETE instead of letting the collector walk it.
    UsageEvent.objects.filter(account__in=simulated).delete()
    count = simulated.count()
    simulated.delete()
    _check_deferred_constraints()
    return count


@transaction.atomic
def simulation_load(*, data: Simulation, replace: bool = False) -> LoadReport:
    """Write everything in one transaction, then refresh the accounts' cached MRR, seats and renewal.

    Raises SimulationExists when simulated accounts exist and `replace` is false; with `replace` they are deleted
    first. A failure anywhere rolls the whole load back.
    """
    report = LoadReport(method="COPY" if connection.vendor == "postgresql" else "bulk_create")
    with _timed(report, "delete"):
        if simulation_exists():
            if not replace:
                raise SimulationExists(
                    "Simulated accounts (external ids starting with ACC-) already exist; use --replace to delete "
                    "and regenerate them."
                )
            report.counts["deleted_accounts"] = simulation_delete()

    with _timed(report, "users"):
        user_pks = _users(data.users)
        tag_pks = {name: Tag.objects.get_or_create(name=name, defaults={"color": color})[0].pk
                   for name, color in TAG_COLORS.items()}  # fmt: skip
    with _timed(report, "accounts"):
        account_pks = _accounts(data.accounts, user_pks)
        Account.tags.through.objects.bulk_create(
            [
                Account.tags.through(account_id=account_pks[a], tag_id=tag_pks[t])
                for a, t in zip(data.account_tags["account"], data.account_tags["tag"], strict=True)
            ],
            batch_size=BATCH_SIZE,
        )
    with _timed(report, "contacts"):
        contacts = data.contacts.assign(account=account_pks[data.contacts["account"]]).rename(
            columns={"account": "account_id"}
        )
        _write(Contact, contacts)
        # Any earlier simulated contacts are gone by now, so the prefix picks exactly this load's rows.
        loaded = Contact.objects.filter(account__external_id__startswith=SIMULATED_PREFIX)
        by_external_id = dict(loaded.values_list("external_id", "pk"))
        contact_pks = np.array([by_external_id[e] for e in data.contacts["external_id"]], dtype=np.int64)

    def with_keys(frame: pd.DataFrame, users: tuple[str, ...] = ()) -> pd.DataFrame:
        """Swap the generator's row positions for primary keys (`account` → `account_id`, …)."""
        out = frame.rename(columns={"account": "account_id", **{name: f"{name}_id" for name in users}})
        out["account_id"] = account_pks[frame["account"]]
        for name in users:
            out[f"{name}_id"] = user_pks[frame[name]]
        return out

    with _timed(report, "subscriptions"):
        _write(Subscription, with_keys(data.subscriptions))
    report.counts["subscriptions"] = len(data.subscriptions)
    report.counts["events"] = 0
    for chunk in data.events.chunks():  # generated while the previous chunk is already written
        with _timed(report, "events"):
            _write(UsageEvent, with_keys(chunk))
        report.counts["events"] += len(chunk)
        reset_queries()  # with DEBUG on, the connection's log of the last 9,000 bulk INSERTs would hold hundreds of MB
    tables = [
        ("tickets", SupportTicket, with_keys(data.tickets)),
        ("surveys", SurveyResponse, with_keys(data.surveys).assign(contact=contact_pks[data.surveys["contact"]])),
        ("activities", Activity, with_keys(data.activities, users=("author",))),
        ("tasks", Task, with_keys(data.tasks, users=("assignee", "created_by"))),
    ]
    for name, model, frame in tables:
        with _timed(report, name):
            _write(model, frame.rename(columns={"contact": "contact_id"}))
        report.counts[name] = len(frame)
    report.counts.update(
        users=len(data.users), accounts=len(data.accounts), account_tags=len(data.account_tags), contacts=len(contacts)
    )

    with _timed(report, "snapshots"):
        report.refresh = account_refresh_snapshots(today=data.end_date)
        # The refresh derives churned / won back from subscriptions, which the generator made consistent; the
        # statuses it cannot know (onboarding, at risk) are the generated ones, set again in case anything drifted.
        for status, pks in pd.Series(account_pks).groupby(data.accounts["status"].to_numpy()):
            for start in range(0, len(pks), BATCH_SIZE):  # bounded IN lists (SQLite caps query parameters)
                chunk = pks.iloc[start : start + BATCH_SIZE].tolist()
                Account.objects.filter(pk__in=chunk).exclude(status=status).update(status=status)
    return report


# --- writing -----------------------------------------------------------------------------------------------------


class _timed:
    """Adds the seconds a block took to `report.seconds[name]`."""

    def __init__(self, report: LoadReport, name: str) -> None:
        self.report, self.name = report, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.report.seconds[self.name] = self.report.seconds.get(self.name, 0.0) + time.perf_counter() - self.start


def _users(users: pd.DataFrame) -> np.ndarray:
    """Get or create the CSM team and the manager, each in their role group; returns pks by row."""
    if Group.objects.filter(name__in=[Role.CSM, Role.MANAGER]).count() < 2:
        ensure_role_groups()
    groups = {g.name: g for g in Group.objects.filter(name__in=[Role.CSM, Role.MANAGER])}
    user_model = get_user_model()
    pks = []
    for row in users.itertuples(index=False):
        user, created = user_model.objects.get_or_create(
            username=row.username,
            defaults={"first_name": row.first_name, "last_name": row.last_name, "email": row.email},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(groups[row.group])
        pks.append(user.pk)
    return np.array(pks, dtype=np.int64)


def _accounts(accounts: pd.DataFrame, user_pks: np.ndarray) -> np.ndarray:
    """Bulk-create the accounts (both backends return their pks); returns pks by row."""
    rows = _python_values(accounts.assign(owner=user_pks[accounts["owner"]]).rename(columns={"owner": "owner_id"}))
    created = Account.objects.bulk_create([Account(**row) for row in rows], batch_size=BATCH_SIZE)
    return np.array([a.pk for a in created], dtype=np.int64)


def _write(model: type[models.Model], frame: pd.DataFrame) -> None:
    """Insert a frame whose columns are the model's attribute names: COPY on PostgreSQL, else bulk_create."""
    if connection.vendor == "postgresql":
        _copy(model, frame)
    else:  # model instances are heavy: build them a batch at a time
        for start in range(0, len(frame), BATCH_SIZE):
            rows = _python_values(frame.iloc[start : start + BATCH_SIZE])
            model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH_SIZE)


def _python_values(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values: datetimes, None for missing, dicts for JSON text."""
    columns = {}
    for name, series in frame.items():
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            values = [None if pd.isna(v) else v.to_pydatetime() for v in series]
        elif name == "properties":
            values = [json.loads(v) for v in series]
        elif series.dtype.kind in "iub":
            values = series.tolist()
        elif series.dtype.kind == "f":  # money
            values = [Decimal(f"{v:.2f}") for v in series]
        else:
            values = series.to_numpy(dtype=object)
        columns[name] = values
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _copy(model: type[models.Model], frame: pd.DataFrame) -> None:
    """COPY a frame into the model's table as CSV, in chunks so the buffer stays a few dozen MB."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    text = pd.DataFrame({name: _csv_text(series) for name, series in frame.items()})
    # Django keeps defaults in Python, not in the schema: COPY must send every NOT NULL column itself.
    for name, f in fields.items():
        if name not in text and not f.primary_key:
            default = f.get_default()
            text[name] = json.dumps(default) if isinstance(f, models.JSONField) else _csv_scalar(default)
    columns = [fields[name].column for name in text.columns]
    # CSV reads an unquoted empty field as NULL; blank strings in NOT NULL text columns must stay ''.
    not_null = [
        fields[name].column
        for name in text.columns
        if isinstance(fields[name], models.CharField | models.TextField) and not fields[name].null
    ]
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) FROM STDIN WITH (FORMAT csv"
    sql += f", FORCE_NOT_NULL ({', '.join(map(quote, not_null))}))" if not_null else ")"
    with connection.cursor() as cursor:
        for start in range(0, len(text), COPY_CHUNK):
            buffer = io.StringIO()
            text.iloc[start : start + COPY_CHUNK].to_csv(buffer, header=False, index=False)
            buffer.seek(0)
            cursor.copy_expert(sql, buffer)
    _check_deferred_constraints()


def _check_deferred_constraints() -> None:
    """Run the pending foreign-key checks now instead of at commit (PostgreSQL).

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED; checking them after each step counts their time with
    the step that caused it, so the events rate includes them.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _csv_text(series: pd.Series) -> pd.Series:
    """A column as COPY-ready values: timestamps as ISO text (fast, via lookup tables), JSON dumped, money to cents."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return pd.Series(_timestamp_text(series), index=series.index)
    if series.dtype.kind == "f":
        return series.map("{:.2f}".format)
    if series.dtype == object and len(series) and isinstance(series.iat[0], dict):
        return series.map(json.dumps)
    return series


def _csv_scalar(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


def _timestamp_text(series: pd.Series) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS+00' for whole-second UTC timestamps, None for NaT.

    Formatting millions of timestamps one by one dominates a COPY; composing them from a table of dates and a
    table of the 86,400 times of day is an order of magnitude faster.
    """
    missing = series.isna().to_numpy()
    seconds = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[s]").astype(np.int64)
    seconds = np.where(missing, 0, seconds)
    day, second = np.divmod(seconds, 86400)
    first = int(day[~missing].min()) if (~missing).any() else 0
    dates = np.datetime_as_string(np.arange(first, int(day.max()) + 1).astype("datetime64[D]")).astype(object) + " "
    out = dates[np.clip(day - first, 0, None)] + _times_of_day()[second]
    out[missing] = None
    return out


def _times_of_day() -> np.ndarray:
    midnight = np.datetime64("2000-01-01T00:00:00", "s")
    stamps = np.datetime_as_string(midnight + np.arange(86400).astype("timedelta64[s]"))
    return np.array([s[11:] + "+00" for s in stamps], dtype=object)
