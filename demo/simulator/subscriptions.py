"""Subscription rows per account (plan and seat changes, churn, pauses, win-backs, add-ons) and, for the
`price_shock` mechanism, the price rises before churn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo.simulator.catalogue import (
    ANNUAL_DISCOUNT,
    BASE_FEE,
    NEVER,
    PLAN_RANGE,
    PLANS,
    R_PAYMENT,
    REASONS,
    SEAT_PRICE,
)
from demo.simulator.world import World, dates, instants


def plan_price(plan: int, seats: int, annual: bool) -> float:
    return round(float(BASE_FEE[plan] + SEAT_PRICE[plan] * seats) * (ANNUAL_DISCOUNT if annual else 1.0), 2)


def seat_change(rng: np.random.Generator, w: World, i: int, day: int, plan: int, seats: int) -> tuple[int, int]:
    """A plan/seat change: engaged accounts grow, and accounts heading for the door shrink first."""
    low, high = PLAN_RANGE[w.segment[i]]
    pressure = 0.8 * w.z[i] + 0.4 - (2.0 if w.churn[i] - day < 60 else 0.0)
    if rng.random() < 1 / (1 + np.exp(-pressure)):
        new_seats = max(seats + 1, int(np.ceil(seats * rng.uniform(1.1, 1.5))))
        return (min(plan + 1, high) if rng.random() < 0.25 else plan), new_seats
    new_seats = max(1, int(seats * rng.uniform(0.6, 0.9)))
    return (max(plan - 1, low) if rng.random() < 0.2 else plan), new_seats


def subscriptions(rng: np.random.Generator, w: World, accounts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subscription rows per account, plus each account's latest plan, seats, MRR and renewal day."""
    rows: list[tuple] = []
    current: list[tuple] = []
    period = accounts["billing_period"].to_numpy()
    for i in range(len(w.signup)):
        plan, seats = int(accounts["initial_plan"].iat[i]), int(accounts["initial_seats"].iat[i])
        annual, churned = bool(w.annual[i]), w.churn[i] <= w.days
        primary_end = int(min(w.churn[i], w.pause[i], w.days))

        changes: set[int] = set()
        if primary_end - w.signup[i] > 31:
            count = rng.poisson((primary_end - w.signup[i]) / 30.44 * 0.05 * np.exp(0.4 * w.z[i]))
            changes = set(rng.integers(w.signup[i] + 30, primary_end, count).tolist())
            downsell = int(w.churn[i] - rng.integers(15, 60))  # some shrink before they cancel
            if w.reason[i] != R_PAYMENT and rng.random() < 0.3 and w.signup[i] + 30 < downsell < primary_end:
                changes.add(downsell)
        row_start = int(w.signup[i])
        for day in sorted(changes):
            new_plan, new_seats = seat_change(rng, w, i, day, plan, seats)
            if (new_plan, new_seats) != (plan, seats):
                rows.append(
                    (i, PLANS[plan], plan_price(plan, seats, annual), seats, "seats", row_start, day, "canceled", "")
                )
                plan, seats, row_start = new_plan, new_seats, day
        mrr = plan_price(plan, seats, annual)
        if churned:
            rows.append(
                (i, PLANS[plan], mrr, seats, "seats", row_start, int(w.churn[i]), "canceled", REASONS[w.reason[i]])
            )
        elif w.pause[i] < NEVER:
            rows.append((i, PLANS[plan], mrr, seats, "seats", row_start, int(w.pause[i]), "canceled", ""))
            rows.append((i, PLANS[plan], 0.0, seats, "seats", int(w.pause[i]), NEVER, "paused", ""))
        else:
            dunning = w.reason[i] == R_PAYMENT and w.churn[i] - 21 < w.days  # card failing, not yet canceled
            rows.append(
                (i, PLANS[plan], mrr, seats, "seats", row_start, NEVER, "past_due" if dunning else "active", "")
            )
        if w.react[i] < NEVER:
            plan = max(plan - int(rng.random() < 0.4), PLAN_RANGE[w.segment[i]][0])
            seats = max(1, int(seats * rng.uniform(0.5, 1.0)))
            mrr = plan_price(plan, seats, annual)
            rows.append((i, PLANS[plan], mrr, seats, "seats", int(w.react[i]), NEVER, "active", ""))

        addon_start = int(w.signup[i] + rng.integers(0, 120))
        if rng.random() < (0.12, 0.3, 0.45)[w.segment[i]] and addon_start < primary_end:
            product = ("sms_credits", "advanced_analytics", "dedicated_ip")[int(rng.integers(0, 3))]
            addon_mrr = float(rng.choice([20, 49, 99, 149, 299]))
            if rng.random() < 0.2 and primary_end - addon_start > 60:  # dropped the add-on, kept the plan
                end, status, reason = int(addon_start + rng.integers(30, primary_end - addon_start)), "canceled", ""
            elif primary_end < w.days:  # goes with the plan when the account churns or pauses
                end, status, reason = primary_end, "canceled", REASONS[w.reason[i]] if churned else ""
            else:
                end, status, reason = NEVER, "active", ""
            rows.append((i, product, addon_mrr, 1, "add-on", addon_start, end, status, reason))

        anchor = int(w.react[i] if w.react[i] < NEVER else w.signup[i])
        renews = annual and (not churned or w.react[i] < NEVER)
        current.append((PLANS[plan], seats, mrr, anchor + 365 * ((w.days - anchor) // 365 + 1) if renews else NEVER))

    columns = ["account", "product", "mrr", "quantity", "units", "start", "end", "status", "cancellation_reason"]
    frame = pd.DataFrame(rows, columns=columns).sort_values(["account", "start", "product"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame.insert(
        1,
        "external_id",
        [
            f"SUB-{a + 1:06d}-{k:02d}"
            for a, k in zip(frame["account"], frame.groupby("account").cumcount(), strict=True)
        ],
    )
    frame["billing_period"] = period[frame["account"]]
    frame["created_at"] = instants(w.start, frame["start"].to_numpy(), np.zeros(len(frame)))
    frame["start_date"] = dates(w.start, frame.pop("start").to_numpy())
    frame["end_date"] = dates(w.start, frame.pop("end").to_numpy())
    current_df = pd.DataFrame(current, columns=["plan", "seats", "mrr", "renewal"])
    current_df["amount_due"] = (current_df["mrr"] * period).round(2)
    return frame, current_df


def price_shocks(rng: np.random.Generator, w: World, subscriptions: pd.DataFrame) -> pd.DataFrame:
    """A price rise of 20–40 % on the main subscription one to three months before each churn (and, at random,
    for 6 % of the accounts that stay): the row active that day ends there and a dearer copy continues it."""
    n = len(w.signup)
    shock = np.where(w.churn < NEVER, w.churn - rng.integers(30, 91, n), NEVER)
    staying = (w.churn >= NEVER) & (rng.random(n) < 0.06)
    shock = np.where(staying, w.signup + rng.integers(60, 600, n), shock)
    rise = rng.uniform(1.2, 1.4, n)
    start = w.start
    rows = []
    for row in subscriptions.itertuples(index=False):
        i = int(row.account)
        day = shock[i]
        begin = (row.start_date - start).days
        end = (row.end_date - start).days if row.end_date is not None else NEVER
        if row.units == "seats" and day < w.days and begin < day < end and day > w.signup[i] + 30:
            shocked = (dates(start, np.array([day]))[0], round(float(row.mrr) * rise[i], 2))
            rows.append(row._replace(end_date=shocked[0], status="canceled", cancellation_reason="")._asdict())
            rows.append(row._replace(start_date=shocked[0], mrr=shocked[1], external_id=f"{row.external_id}-p",
                                     created_at=pd.Timestamp(shocked[0], tz="UTC"))._asdict())  # fmt: skip
        else:
            rows.append(row._asdict())
    return pd.DataFrame(rows, columns=subscriptions.columns).sort_values(["account", "start_date"], kind="stable")
