"""Constructed churn data for the model lab's tests: `Facts` where the right answer is known, no database."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from health.features.inputs import Facts

START = dt.date(2024, 1, 1)


def planted_facts(*, n: int = 240, days: int = 540, seed: int = 3, leak: bool = True) -> tuple[Facts, dict]:
    """Accounts using `login` and `report_viewed` daily at their own, very different levels. A churner's
    `report_viewed` falls to a fifth over the ~75 days before it leaves while `login` stays as it was: the signal
    is the change of one event type against its own past, not its level (levels differ tenfold between accounts).

    With `leak`, every account carries today's custom attribute `cancel_flag` (set for the churners) and a segment
    that gives the churners away: facts without history, which the as-of rules must keep out of every observation.
    Returns the facts and {account_id: churn day or None}.
    """
    rng = np.random.default_rng(seed)
    signup = rng.integers(0, 200, n)
    churn = np.where(rng.random(n) < 0.35, signup + rng.integers(150, days, n), 10**6)
    churn = np.where(churn < days, churn, 10**6)
    level = rng.lognormal(0.5, 0.9, n)
    login_level = rng.lognormal(0.8, 0.4, n)
    ids = np.arange(1, n + 1)
    rows, activity = [], []
    for i in range(n):
        last = min(int(churn[i]), days)
        t = np.arange(int(signup[i]), last)
        decay = np.clip((churn[i] - t) / 75, 0.2, 1.0) if churn[i] < 10**6 else np.ones(len(t))
        reports = rng.poisson(level[i] * decay)
        logins = rng.poisson(login_level[i] * np.ones(len(t)))
        day = np.array([START + dt.timedelta(days=int(x)) for x in t], dtype=object)
        for kind, counts in (("report_viewed", reports), ("login", logins)):
            used = counts > 0
            rows.append(pd.DataFrame({"account_id": ids[i], "day": day[used], "event_type": kind, "n": counts[used]}))
        total = reports + logins
        used = total > 0
        activity.append(pd.DataFrame({"account_id": ids[i], "day": day[used], "events": total[used],
                                      "active_users": np.minimum(total[used], 3)}))  # fmt: skip
    churn_day = {
        int(ids[i]): (START + dt.timedelta(days=int(churn[i]))) if churn[i] < 10**6 else None for i in range(n)
    }
    subs = pd.DataFrame(
        {"account_id": ids, "product": rng.choice(["starter", "growth"], n),
         "start_date": [START + dt.timedelta(days=int(s)) for s in signup],
         "end_date": [churn_day[int(a)] for a in ids], "mrr": rng.choice([50.0, 200.0], n), "quantity": 3,
         "billing_period": 1}
    )  # fmt: skip
    accounts = pd.DataFrame({"account_id": ids, "created_day": [START + dt.timedelta(days=int(s)) for s in signup]})
    if leak:
        churned = np.array([churn_day[int(a)] is not None for a in ids])
        accounts["segment"] = np.where(churned, "enterprise", "smb")
        accounts["custom_attributes"] = [{"cancel_flag": bool(c), "employees": 10} for c in churned]
    facts = Facts(
        daily=pd.concat(rows, ignore_index=True),
        activity=pd.concat(activity, ignore_index=True),
        subscriptions=subs,
        tickets=pd.DataFrame(columns=["account_id", "day"]),
        surveys=pd.DataFrame(columns=["account_id", "kind", "score", "day"]),
        accounts=accounts,
    )
    return facts, churn_day


def end_of(days: int = 540) -> dt.date:
    return START + dt.timedelta(days=days)
