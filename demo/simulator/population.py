"""Who is in the demo world: the CSM team, the accounts signing up in monthly cohorts (segment, plan, seats,
billing, firmographics) and each account's product users (contacts)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from churnapp.months import month_start_after
from demo.simulator.catalogue import (
    ANNUAL_SHARE,
    CHANNELS,
    CITIES,
    COHORT_GROWTH,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    NAME_NOUN,
    NAME_PREFIX,
    NAME_SUFFIX,
    NEVER,
    PLAN_MIX,
    REGION_NOON_UTC,
    REGIONS,
    SEGMENT_SHARE,
    SEGMENTS,
    SYLLABLE_A,
    SYLLABLE_B,
    TITLES,
)
from demo.simulator.world import World, choose_rows, instants, work_seconds


def team(n_accounts: int) -> pd.DataFrame:
    """The CSM team (about one per 60 accounts, at least two) and their manager."""
    n_csm = max(2, round(n_accounts / 60))
    rows = []
    for k in range(n_csm):
        first, last = FIRST_NAMES[k % len(FIRST_NAMES)], LAST_NAMES[(k * 7) % len(LAST_NAMES)]
        username = f"csm.{first}" if k < len(FIRST_NAMES) else f"csm.{first}{k // len(FIRST_NAMES) + 1}"
        rows.append((username, first.title(), last.title(), f"{username}@churnapp.example", "CSM"))
    rows.append(("manager.mia", "Mia", "Lindqvist", "manager.mia@churnapp.example", "Manager"))
    return pd.DataFrame(rows, columns=["username", "first_name", "last_name", "email", "group"])


def company_names(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    """Believable, distinct company names and domains from word lists and syllables."""
    prefix, noun, suffix = NAME_PREFIX.split(), NAME_NOUN.split(), NAME_SUFFIX.split()
    syl_a, syl_b = SYLLABLE_A.split(), SYLLABLE_B.split()
    picks = rng.integers(0, 1000, size=(n, 4))
    names, domains, seen = [], [], set()
    for i, (a, b, c, style) in enumerate(picks):
        if style % 3:
            name = f"{prefix[a % len(prefix)]} {noun[b % len(noun)]} {suffix[c % len(suffix)]}"
        else:
            name = syl_a[a % len(syl_a)] + syl_b[b % len(syl_b)] + ("" if c % 2 else f" {suffix[c % len(suffix)]}")
        if name in seen:
            name = f"{name} {CITIES[i % len(CITIES)]}"
        if name in seen:
            name = f"{name} {i}"
        seen.add(name)
        names.append(name)
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        domains.append(f"{slug}.{('com', 'io', 'co')[style % 3]}")
    return names, domains


def sign_ups(
    rng: np.random.Generator, n: int, months: int, end_date: dt.date, *, n_csm: int
) -> tuple[World, pd.DataFrame]:
    """Sign-ups in growing monthly cohorts, with segment, plan, seats, billing and firmographics."""
    start = month_start_after(end_date.replace(day=1), -(months - 1))
    days = (end_date - start).days
    month_start = np.array([(month_start_after(start, m) - start).days for m in range(months + 1)])
    open_days = np.clip(np.minimum(month_start[1:], days) - month_start[:-1], 0, None)
    weights = COHORT_GROWTH ** np.arange(months) * open_days / 31
    if weights.sum() == 0:  # one month ending on its first day: no day to sign anyone up on
        raise ValueError("The end date must leave at least one day in the window.")
    per_month = rng.multinomial(n, weights / weights.sum())
    signup = np.sort(
        np.concatenate(
            [s + rng.integers(0, max(o, 1), c) for s, o, c in zip(month_start[:-1], open_days, per_month, strict=True)]
        )
    )

    segment = rng.choice(3, size=n, p=SEGMENT_SHARE)
    plan = choose_rows(rng, PLAN_MIX[segment])
    seats = np.select(
        [segment == 0, segment == 1],
        [np.minimum(1 + rng.geometric(0.35, n), 25), np.clip(rng.lognormal(np.log(15), 0.5, n), 5, 80)],
        np.clip(rng.lognormal(np.log(80), 0.6, n), 30, 600),
    ).astype(int)
    annual = rng.random(n) < ANNUAL_SHARE[segment]
    baseline = rng.lognormal(-0.15, 0.55, n) * np.array([1.0, 1.05, 1.1])[segment]
    region = rng.choice(4, size=n, p=[0.45, 0.3, 0.15, 0.1])
    names, domains = company_names(rng, n)
    industry = rng.choice(INDUSTRIES, size=n)
    channel = rng.choice(CHANNELS, size=n, p=[0.35, 0.25, 0.2, 0.1, 0.1])
    employees = (seats * rng.uniform(3, 12, n)).astype(int) + 2
    accounts = pd.DataFrame(
        {
            "external_id": [f"ACC-{i + 1:06d}" for i in range(n)],
            "name": names,
            "domain": domains,
            "owner": rng.integers(0, n_csm, n),
            "segment": SEGMENTS[segment],
            "initial_plan": plan,
            "initial_seats": seats,
            "billing_period": np.where(annual, 12, 1),
            "custom_attributes": [
                {"industry": i, "region": r, "employees": int(e), "acquisition_channel": c}
                for i, r, e, c in zip(industry, REGIONS[region], employees, channel, strict=True)
            ],
            "created_at": instants(start, signup, work_seconds(rng, REGION_NOON_UTC[region])),
        }
    )
    world = World(
        start=start,
        days=days,
        signup=signup,
        segment=segment,
        region=region,
        annual=annual,
        baseline=baseline,
        z=(np.log(baseline) + 0.15) / 0.55,
        **{k: np.full(n, NEVER) for k in ("churn", "react", "pause", "dip_start")},
        reason=np.zeros(n, dtype=int),
        decay_window=np.ones(n, dtype=int),
        decay_floor=np.ones(n),
        dip_len=np.zeros(n, dtype=int),
    )
    return world, accounts


def contacts(rng: np.random.Generator, w: World, accounts: pd.DataFrame) -> pd.DataFrame:
    """The product users of each account; `activity` and `joined` are latent and dropped from the output."""
    seats = accounts["initial_seats"].to_numpy()
    extra = np.select([w.segment == 0, w.segment == 1], [rng.poisson(1.5, len(seats)), 2 + rng.poisson(4, len(seats))],
                      5 + rng.poisson(10, len(seats)))  # fmt: skip
    count = np.minimum(seats, 1 + extra)
    account = np.repeat(np.arange(len(seats)), count)
    k = np.arange(len(account)) - np.repeat(np.cumsum(count) - count, count)
    first = rng.choice(FIRST_NAMES, len(account))
    last = rng.choice(LAST_NAMES, len(account))
    domains = accounts["domain"].to_numpy()
    emails, taken = [], set()
    for a, f, la in zip(account, first, last, strict=True):
        local = f"{f}.{la}"
        while (a, local) in taken:
            local += str(len(local) % 10)
        taken.add((a, local))
        emails.append(f"{local}@{domains[a]}")
    joined = w.signup[account] + np.where(k == 0, 0, rng.integers(0, 90, len(account)))
    activity = rng.lognormal(-0.32, 0.8, len(account)) * np.where(rng.random(len(account)) < 0.15, 0.1, 1.0)
    activity = np.where(k == 0, activity * 1.5, activity)  # the champion uses it most
    ext = [f"{a + 1:06d}_{j:02d}" for a, j in zip(account, k, strict=True)]
    return pd.DataFrame(
        {
            "account": account,
            "external_id": [f"CON-{e}" for e in ext],
            "user_id": [f"usr_{e}" for e in ext],
            "email": emails,
            "name": [f"{f.title()} {la.title()}" for f, la in zip(first, last, strict=True)],
            "title": rng.choice(TITLES, len(account)),
            "is_primary": k == 0,
            "created_at": instants(w.start, joined, work_seconds(rng, REGION_NOON_UTC[w.region[account]])),
            "activity": activity,
            "joined": joined,
        }
    )
