"""The facts the features are computed from (`Facts`, one plain frame each), an empty set of them, and the
part of them known at the end of a day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from health.features._common import observation_dates


@dataclass
class Facts:
    """The facts the features are computed from, one frame each (dates as datetime.date).

    daily: account_id, day, event_type, n — event counts per account, day and type (the rollups' by_type)
    activity: account_id, day, events, active_users — the rollups' activity per account and day
    subscriptions: account_id, product, start_date, end_date (exclusive, None = open), mrr, quantity,
        billing_period
    tickets: account_id, day (opened)
    surveys: account_id, kind (nps|csat), score, day (answered)
    accounts: account_id, created_day (and any current attributes, which are never read as features)
    """

    daily: pd.DataFrame
    activity: pd.DataFrame
    subscriptions: pd.DataFrame
    tickets: pd.DataFrame
    surveys: pd.DataFrame
    accounts: pd.DataFrame


def empty_facts() -> Facts:
    return Facts(
        daily=pd.DataFrame(columns=["account_id", "day", "event_type", "n"]),
        activity=pd.DataFrame(columns=["account_id", "day", "events", "active_users"]),
        subscriptions=pd.DataFrame(
            columns=["account_id", "product", "start_date", "end_date", "mrr", "quantity", "billing_period"]
        ),
        tickets=pd.DataFrame(columns=["account_id", "day"]),
        surveys=pd.DataFrame(columns=["account_id", "kind", "score", "day"]),
        accounts=pd.DataFrame(columns=["account_id", "created_day"]),
    )


def facts_until(facts: Facts, today: dt.date) -> Facts:
    """Only what was known at the end of `today`: days, tickets and answers up to it, subscriptions started by then
    (an end date after `today` is still unknown: the subscription counts as open)."""
    stamp = pd.Timestamp(today)

    def upto(frame: pd.DataFrame, column: str = "day") -> pd.DataFrame:
        return frame if frame.empty else frame[observation_dates(frame[column]) <= stamp]

    subs = upto(facts.subscriptions, "start_date").copy()
    if not subs.empty:
        later = observation_dates(subs["end_date"]) > stamp
        subs["end_date"] = subs["end_date"].where(~later, None)
    return Facts(
        daily=upto(facts.daily),
        activity=upto(facts.activity),
        subscriptions=subs,
        tickets=upto(facts.tickets),
        surveys=upto(facts.surveys),
        accounts=facts.accounts,
    )
