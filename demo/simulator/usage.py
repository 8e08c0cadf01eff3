"""Product usage events, generated in bounded memory and handed out in time order, month by month.

The events are the same, draw for draw, as generating them all at once: Poisson counts per user and day, account
by account, then each vectorised draw over every event in that order (key work or a login, the event type, the
properties, the time of day), then the failed card charges, then, over the events sorted by time, the delay before
each was received. Holding all of them would take memory proportional to accounts × months, so:

1. `_count`: the Poisson counts, a block of accounts at a time, written to disk as (user, day) pairs;
2. each later draw gets its own copy of the random stream (`_fork`), placed where that draw starts by drawing and
   discarding what comes before it; `_classify` then decides each event's type block by block;
3. `_detail`: properties and times, block by block; each finished event is appended to its month's file;
4. `chunks()`: per month, that month's events and failed charges, sorted by time, numbered and given their
   receive delay, at most `EVENT_CHUNK` rows at a time.

Only per-account arrays, one block of accounts and one month of compact records are in memory at once; the rest
is in the `workdir` the caller owns (see `demo.simulator.simulation`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from demo.simulator.catalogue import (
    EVENT_RATE,
    INTEGRATIONS,
    KEY_EVENT_SHARE,
    KEY_EVENTS,
    NEVER,
    R_PAYMENT,
    REGION_NOON_UTC,
    REPORTS,
)
from demo.simulator.world import World, calendar, instants, work_seconds

# Accounts per block of the generation passes, and events per chunk handed to the loader.
ACCOUNT_BLOCK = 1_000
EVENT_CHUNK = 250_000

EVENT_TYPES = np.array([*KEY_EVENTS, "login", "payment_failed"], dtype=object)
LOGIN, PAYMENT_FAILED = len(KEY_EVENTS), len(KEY_EVENTS) + 1
SENT, CREATED, REPORT, INTEGRATION, IMPORTED = (
    list(KEY_EVENTS).index(name)
    for name in ("campaign_sent", "campaign_created", "report_viewed", "integration_connected", "list_imported")
)
# The choice-valued properties: event type → (property, choices); the record keeps the index of the choice.
CHOICES = {
    CREATED: ("channel", np.array(["email", "email", "email", "sms"])),
    REPORT: ("report", np.array(REPORTS)),
    INTEGRATION: ("integration", np.array(INTEGRATIONS)),
}
# One finished event on disk: `time` is seconds from the window's start, `value` the property (a number or the
# index of a choice), `order` its position in generation order (ties in time keep it).
RECORD = np.dtype(
    [("account", "<i8"), ("user", "<i8"), ("time", "<i8"), ("type", "i1"), ("value", "<f8"), ("order", "<i8")]
)

Draw = Callable[[np.random.Generator, int], np.ndarray]


class UsageEvents:
    """The usage events of one simulated history: `count`, `last_seen` per account and `chunks()` in time order.

    Building it runs the passes that need every event (the counts, the types, the details); `chunks()` can be
    iterated more than once and yields the same frames each time.
    """

    def __init__(
        self,
        *,
        rng: np.random.Generator,
        world: World,
        engagement: np.ndarray,
        contacts: pd.DataFrame,
        current: pd.DataFrame,
        seed: int,
        workdir: Path,
    ) -> None:
        self.w, self.seed, self.workdir = world, seed, workdir
        self.month_start = world.month_starts()
        self.user_ids = contacts["user_id"].to_numpy()
        self.contact_account = contacts["account"].to_numpy()
        self.blocks = range(0, len(world.signup), ACCOUNT_BLOCK)

        # Each draw after the counts gets a copy of the stream placed where the all-at-once generator started it:
        # the stream is moved past the previous draw over every event by drawing it again and discarding it.
        sizes = self._count(rng, engagement, contacts)
        key = _fork(rng)
        rng = _advance(rng, _uniform, sizes)
        kind = _fork(rng)
        rng = _advance(rng, _kind, sizes)
        silent = _fork(rng)
        if world.mechanism == "silent":
            rng = _advance(rng, _uniform, sizes)
        per_type = self._classify(engagement, key=key, kind=kind, silent=silent)
        cursors = {}
        for name, draw, counts in (
            ("recipients", _recipients, per_type[:, SENT]),
            *((f"choice-{t}", _choice(choices), per_type[:, t]) for t, (_, choices) in CHOICES.items()),
            ("rows", _rows, per_type[:, IMPORTED]),
            ("seconds", _time_noise, sizes),
        ):
            cursors[name] = _fork(rng)
            rng = _advance(rng, draw, counts)
        self._failed_charges(rng, current, first_order=sum(sizes))
        self._received = rng.bit_generator.state  # the receive delays come last, in time order
        self.last_time = np.full(len(world.signup), -1, dtype=np.int64)
        self.count = sum(sizes) + len(self.failed)
        self._detail(cursors)

    # --- the passes ------------------------------------------------------------------------------------------------

    def _count(self, rng: np.random.Generator, engagement: np.ndarray, contacts: pd.DataFrame) -> list[int]:
        """Poisson counts per user and day from engagement; saves each block's (user, day) pairs, returns sizes."""
        w, sizes = self.w, []
        days_calendar = calendar(w)
        offsets = np.searchsorted(self.contact_account, np.arange(len(w.signup) + 1))
        activity, joined = contacts["activity"].to_numpy(), contacts["joined"].to_numpy()
        for b, first_account in enumerate(self.blocks):
            users, days = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
            for i in range(first_account, min(first_account + ACCOUNT_BLOCK, len(w.signup))):
                first, last = int(w.signup[i]), int(w.days if w.react[i] < NEVER else min(w.churn[i], w.days))
                if last <= first:
                    continue
                members = slice(offsets[i], offsets[i + 1])
                day = np.arange(first, last)
                rate = (
                    EVENT_RATE
                    * (engagement[i, first:last] * days_calendar[first:last])[None, :]
                    * activity[members, None]
                )
                counts = rng.poisson(rate * (day[None, :] >= joined[members, None]))
                user, d = np.nonzero(counts)
                repeat = counts[user, d]
                users.append(np.repeat(user + offsets[i], repeat))
                days.append(np.repeat(d + first, repeat))
            pairs = np.stack([np.concatenate(users), np.concatenate(days)])
            np.save(self._path("pairs", b), pairs.astype(np.int32))  # half the disk; read back as int64
            sizes.append(pairs.shape[1])
        return sizes

    def _classify(
        self,
        engagement: np.ndarray,
        *,
        key: np.random.Generator,
        kind: np.random.Generator,
        silent: np.random.Generator,
    ) -> np.ndarray:
        """Each event's type; saves them per block and returns the count of each type per block (blocks × types)."""
        w = self.w
        per_type = np.zeros((len(self.blocks), len(EVENT_TYPES)), dtype=np.int64)
        for b in range(len(self.blocks)):
            user, day = np.load(self._path("pairs", b)).astype(np.int64)
            account = self.contact_account[user]
            # Engaged days carry more real work; on quiet days people log in and leave.
            is_key = key.random(len(user)) < np.clip(0.08 + 0.22 * engagement[account, day], 0.04, 0.5)
            types = np.where(is_key, _kind(kind, len(user)), LOGIN).astype(np.int8)
            if w.mechanism == "silent":  # churners stop viewing reports over the ~75 days before they leave
                fading = np.clip((w.churn[account] - day) / 75, 0, 1)
                stopped = (types == REPORT) & (w.churn[account] < NEVER) & (silent.random(len(user)) > fading)
                types[stopped] = LOGIN
            np.save(self._path("types", b), types)
            per_type[b] = np.bincount(types, minlength=len(EVENT_TYPES))
        return per_type

    def _failed_charges(self, rng: np.random.Generator, current: pd.DataFrame, *, first_order: int) -> None:
        """Failed card charges: the dunning retries before an involuntary churn, and a few that later recovered."""
        w = self.w
        dunning = np.flatnonzero((w.reason == R_PAYMENT) & (w.churn < NEVER))
        account = np.concatenate([np.repeat(dunning, 3), np.flatnonzero(rng.random(len(w.signup)) < 0.05)])
        day = np.concatenate(
            [np.repeat(w.churn[dunning], 3) - np.tile([21, 14, 7], len(dunning)),
             w.signup[account[3 * len(dunning):]] + rng.integers(30, 400, len(account) - 3 * len(dunning))]
        )  # fmt: skip
        alive = (day >= w.signup[account]) & (day < np.minimum(w.churn[account], w.days))
        account, day = account[alive], day[alive]
        failed = np.zeros(len(account), dtype=RECORD)
        failed["account"], failed["user"], failed["time"] = account, -1, day * 86400 + 6 * 3600
        failed["type"], failed["value"] = PAYMENT_FAILED, current["amount_due"].to_numpy()[account]
        failed["order"] = first_order + np.arange(len(account))
        self.failed = failed

    def _detail(self, cursors: dict[str, np.random.Generator]) -> None:
        """Properties and times per block; appends each event to its month's file and notes when accounts were seen."""
        w, order = self.w, 0
        for b in range(len(self.blocks)):
            user, day = np.load(self._path("pairs", b)).astype(np.int64)
            types = np.load(self._path("types", b))
            self._path("pairs", b).unlink()
            self._path("types", b).unlink()
            account = self.contact_account[user]
            value = np.zeros(len(user))
            sent = types == SENT
            recipients = _recipients(cursors["recipients"], int(sent.sum())) * (1 + w.segment[account[sent]])
            value[sent] = recipients.astype(int)
            for t in CHOICES:
                chosen = types == t
                value[chosen] = _choice(CHOICES[t][1])(cursors[f"choice-{t}"], int(chosen.sum()))
            imported = types == IMPORTED
            value[imported] = _rows(cursors["rows"], int(imported.sum()))
            time = day * 86400 + work_seconds(cursors["seconds"], REGION_NOON_UTC[w.region[account]])

            records = np.zeros(len(user), dtype=RECORD)
            records["account"], records["user"], records["time"] = account, user, time
            records["type"], records["value"] = types, value
            records["order"] = order + np.arange(len(user))
            order += len(user)
            if len(user):
                np.maximum.at(self.last_time, account, time)
            month = np.searchsorted(self.month_start, day, side="right") - 1
            for m in np.unique(month):
                with self._path("month", m).open("ab") as out:
                    records[month == m].tofile(out)

    # --- the output ------------------------------------------------------------------------------------------------

    @property
    def last_seen(self) -> np.ndarray:
        """Per account, the time of its latest product event (NaT for none), as Timestamps."""
        seen = np.flatnonzero(self.last_time >= 0)
        latest = instants(self.w.start, np.zeros(len(seen)), self.last_time[seen])
        latest.index = seen
        return latest.reindex(range(len(self.w.signup))).to_numpy()

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The events in time order, at most `EVENT_CHUNK` rows at a time, each month's rows before the next's."""
        received = _restore(self._received)
        failed_month = np.searchsorted(self.month_start, self.failed["time"] // 86400, side="right") - 1
        number = 0
        for m in range(len(self.month_start)):
            path = self._path("month", m)
            usage = np.fromfile(path, dtype=RECORD) if path.exists() else np.zeros(0, dtype=RECORD)
            records = np.concatenate([usage, self.failed[failed_month == m]])
            records = records[np.lexsort((records["order"], records["account"], records["time"]))]
            for first in range(0, len(records), EVENT_CHUNK):
                part = records[first : first + EVENT_CHUNK]
                yield self._frame(part, first_number=number, received=received)
                number += len(part)
        if not number:  # no event at all: one empty frame, so readers still get the columns
            yield self._frame(np.zeros(0, dtype=RECORD), first_number=0, received=received)

    def _frame(self, part: np.ndarray, *, first_number: int, received: np.random.Generator) -> pd.DataFrame:
        """The loader's columns for a run of time-ordered records; `received` draws the receive delays in order."""
        types, value = part["type"], part["value"]
        user_id = np.full(len(part), "", dtype=object)
        usage = types != PAYMENT_FAILED
        user_id[usage] = self.user_ids[part["user"][usage]]
        properties = np.full(len(part), "{}", dtype=object)
        for t, prop in ((SENT, "recipients"), (IMPORTED, "rows")):
            properties[types == t] = _json_values(prop, value[types == t].astype(np.int64))
        for t, (prop, choices) in CHOICES.items():
            properties[types == t] = _json_values(prop, choices[value[types == t].astype(np.int64)])
        properties[~usage] = _json_values("amount", value[~usage])
        frame = pd.DataFrame(
            {
                "account": part["account"],
                "user_id": user_id,
                "event_type": EVENT_TYPES[types],
                "occurred_at": instants(self.w.start, np.zeros(len(part)), part["time"]),
                "properties": properties,
            }
        )
        numbers = pd.Series(np.arange(first_number, first_number + len(part)))
        frame["message_id"] = (f"sim-{self.seed}-" + numbers.astype(str)).to_numpy(dtype=object)
        frame["received_at"] = frame["occurred_at"] + pd.to_timedelta(received.integers(1, 30, len(frame)), unit="s")
        return frame

    def _path(self, kind: str, index: int) -> Path:
        return self.workdir / f"events-{kind}-{index:05d}.{'npy' if kind != 'month' else 'bin'}"


# --- random streams ------------------------------------------------------------------------------------------------


def _fork(rng: np.random.Generator) -> np.random.Generator:
    """An independent copy of a stream at its current position."""
    return _restore(rng.bit_generator.state)


def _restore(state: dict) -> np.random.Generator:
    copy = np.random.Generator(np.random.PCG64())
    copy.bit_generator.state = state
    return copy


def _advance(rng: np.random.Generator, draw: Draw, sizes: Iterable[int]) -> np.random.Generator:
    """Move `rng` past the draws `draw` makes for `sizes` events (a block at a time); returns it."""
    for size in sizes:
        draw(rng, int(size))
    return rng


def _uniform(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.random(size)


def _kind(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.choice(len(KEY_EVENTS), size, p=KEY_EVENT_SHARE)


def _recipients(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.lognormal(6.2, 1.0, size)


def _rows(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.integers(50, 20000, size)


def _time_noise(rng: np.random.Generator, size: int) -> np.ndarray:
    """What `work_seconds` draws, without its location (which does not change how much of the stream it uses)."""
    return rng.normal(0.0, 2.5, size)


def _choice(choices: np.ndarray) -> Draw:
    """The index a `rng.choice(choices, size)` draw picks (the same draws: `choice` picks an index, then the value)."""
    return lambda rng, size: rng.choice(np.arange(len(choices)), size)


def _json_values(key: str, values: np.ndarray) -> np.ndarray:
    """'{"key": value}' strings for many values at once (numbers unquoted, strings JSON-quoted)."""
    if values.dtype.kind in "iuf":
        return ('{"' + key + '": ' + pd.Series(values).astype(str) + "}").to_numpy(dtype=object)
    choices, index = np.unique(values, return_inverse=True)
    return np.array([json.dumps({key: str(c)}) for c in choices], dtype=object)[index]
