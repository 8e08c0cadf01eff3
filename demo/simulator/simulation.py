"""The simulator's entry points: `simulation(...)` builds a history whose usage events stream month by month
(what `manage.py simulate` loads), `simulate(...)` the same history with every table in memory (tests, the churn
lab benchmark). Same seed, end date and mechanism give the same rows either way.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from demo.simulator import crm, lifecycle, population, subscriptions, support
from demo.simulator.catalogue import MECHANISMS
from demo.simulator.usage import UsageEvents

STAGES = ["acc", "life", "sub", "eng", "ev", "crm"]


@dataclass
class SimulatedData:
    """Everything the simulator generates: one DataFrame per table, rows referring to each other by position."""

    end_date: dt.date
    seed: int
    users: pd.DataFrame
    accounts: pd.DataFrame
    account_tags: pd.DataFrame
    contacts: pd.DataFrame
    subscriptions: pd.DataFrame
    events: pd.DataFrame
    tickets: pd.DataFrame
    surveys: pd.DataFrame
    activities: pd.DataFrame
    tasks: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), pd.DataFrame)}


@dataclass
class Simulation:
    """A generated history: every table as a DataFrame except the usage events, which come from `events.chunks()`
    in time order (month by month, in bounded chunks)."""

    end_date: dt.date
    seed: int
    users: pd.DataFrame
    accounts: pd.DataFrame
    account_tags: pd.DataFrame
    contacts: pd.DataFrame
    subscriptions: pd.DataFrame
    events: UsageEvents
    tickets: pd.DataFrame
    surveys: pd.DataFrame
    activities: pd.DataFrame
    tasks: pd.DataFrame

    def in_memory(self) -> SimulatedData:
        """The same history with the events gathered into one frame."""
        events = pd.concat(self.events.chunks(), ignore_index=True)
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return SimulatedData(**{**values, "events": events})


@contextmanager
def simulation(
    *, accounts: int = 300, months: int = 18, seed: int = 42, end_date: dt.date, mechanism: str = "default"
) -> Iterator[Simulation]:
    """Generate `accounts` customers signed up over `months` months of history ending on `end_date` (exclusive),
    churning by `mechanism` (one of MECHANISMS). The events' working files live in a temporary directory that
    is removed when the block ends, so read `events.chunks()` inside it."""
    if accounts < 1 or months < 1 or seed < 0:
        raise ValueError("accounts and months must be positive and the seed non-negative.")
    if mechanism not in MECHANISMS:
        raise ValueError(f"Unknown churn mechanism {mechanism!r}; choose one of {', '.join(MECHANISMS)}.")
    with tempfile.TemporaryDirectory(prefix="churnapp-simulate-") as workdir:
        yield _generate(
            accounts=accounts, months=months, seed=seed, end_date=end_date, mechanism=mechanism, workdir=Path(workdir)
        )


def simulate(
    *, accounts: int = 300, months: int = 18, seed: int = 42, end_date: dt.date, mechanism: str = "default"
) -> SimulatedData:
    """`simulation(...)` with every table in memory: fine for small histories, not for millions of events."""
    with simulation(accounts=accounts, months=months, seed=seed, end_date=end_date, mechanism=mechanism) as sim:
        return sim.in_memory()


def _generate(*, accounts: int, months: int, seed: int, end_date: dt.date, mechanism: str, workdir: Path) -> Simulation:
    """The stages in order; each has its own random stream, so a change to one leaves the others' draws alone."""
    rng = {name: np.random.default_rng([seed, i]) for i, name in enumerate(STAGES)}
    users = population.team(accounts)
    n_csm = int((users["group"] == "CSM").sum())
    world, accounts_df = population.sign_ups(rng["acc"], accounts, months, end_date, n_csm=n_csm)
    world.mechanism = mechanism
    lifecycle.lifecycle(rng["life"], world)
    subs, current = subscriptions.subscriptions(rng["sub"], world, accounts_df)
    if mechanism == "price_shock":
        subs = subscriptions.price_shocks(np.random.default_rng([seed, 99]), world, subs)
    engagement = lifecycle.engagement(rng["eng"], world)
    contacts = population.contacts(rng["crm"], world, accounts_df)
    events = UsageEvents(
        rng=rng["ev"], world=world, engagement=engagement, contacts=contacts, current=current, seed=seed,
        workdir=workdir,
    )  # fmt: skip
    tickets = support.tickets(rng["crm"], world)
    surveys = support.surveys(rng["crm"], world, engagement, contacts, tickets)
    accounts_df, account_tags = crm.account_state(
        rng["crm"], world, engagement, accounts_df, current, events.last_seen, surveys
    )
    activities, tasks = crm.crm_work(rng["crm"], world, accounts_df, current)
    return Simulation(
        end_date=end_date,
        seed=seed,
        users=users,
        accounts=accounts_df,
        account_tags=account_tags,
        contacts=contacts.drop(columns=["activity", "joined"]),
        subscriptions=subs,
        events=events,
        tickets=tickets,
        surveys=surveys,
        activities=activities,
        tasks=tasks,
    )
