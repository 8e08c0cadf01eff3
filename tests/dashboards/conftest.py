"""A hand-computed book of accounts for the KPI tests (see `book` for the figures)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.factories import AccountFactory, SubscriptionFactory, UsageEventFactory

S = dt.date(2024, 1, 1)
E = dt.date(2024, 2, 1)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def sub(account, start: str, end: str | None, mrr: int, product: str = "growth"):
    return SubscriptionFactory(
        account=account, start_date=d(start), end_date=d(end) if end else None, mrr=Decimal(mrr), product=product
    )


@pytest.fixture
def book(db, csm, teammate):
    """Accounts over [S, E] = [2024-01-01, 2024-02-01], with what each one contributes:

    | account | subscriptions                                   | MRR(S) | MRR(E) | movement            |
    |---------|-------------------------------------------------|--------|--------|---------------------|
    | A ent   | open since 2023-06-01 (100)                     | 100    | 100    | retained            |
    | B ent   | 2023-01-01 → 2024-02-01 (ends exactly on E)     | 200    | —      | churned 200         |
    | C       | open since 2024-01-01 (starts exactly on S)     | 50     | 50     | retained            |
    | D       | 2023-03-01 → 2024-01-01 (ends exactly on S)     | —      | —      | not counted         |
    | Up      | 100 until 2024-01-15, then 150 (upgrade)        | 100    | 150    | expansion 50        |
    | Down    | 300 until 2024-01-20, then 120 (downgrade)      | 300    | 120    | contraction 180     |
    | Addon   | plan 100 open + add-on 40 until 2024-01-10      | 140    | 100    | contraction 40      |
    | Back    | 60 in 2023-01 → 2023-07, again 70 from 01-10    | —      | 70     | reactivation 70     |
    | New     | open since 2024-01-05                           | —      | 90     | new 90              |
    | Brief   | 2024-01-05 → 2024-01-25                         | —      | —      | not counted         |
    | Empty   | no subscription                                 | —      | —      | not counted         |

    Active at S: 6 accounts, 890 MRR. Active at E: 7 accounts, 680 MRR. A and B are enterprise and owned by the
    teammate on plan "enterprise"; the others are SMB, owned by the CSM (Empty and Brief unassigned),
    on plan "growth" except Up ("pro").
    """
    ent = {"segment": "enterprise", "owner": teammate, "plan": "enterprise"}
    smb = {"segment": "smb", "owner": csm, "plan": "growth"}
    accounts = {
        "A": AccountFactory(name="A", **ent),
        "B": AccountFactory(name="B", **ent),
        "C": AccountFactory(name="C", **smb),
        "D": AccountFactory(name="D", **smb),
        "Up": AccountFactory(name="Up", **{**smb, "plan": "pro"}),
        "Down": AccountFactory(name="Down", **smb),
        "Addon": AccountFactory(name="Addon", **smb),
        "Back": AccountFactory(name="Back", **smb),
        "New": AccountFactory(name="New", **smb),
        "Brief": AccountFactory(name="Brief", **{**smb, "owner": None}),
        "Empty": AccountFactory(name="Empty", **{**smb, "owner": None}),
    }
    a = accounts
    sub(a["A"], "2023-06-01", None, 100)
    sub(a["B"], "2023-01-01", "2024-02-01", 200)
    sub(a["C"], "2024-01-01", None, 50)
    sub(a["D"], "2023-03-01", "2024-01-01", 80)
    sub(a["Up"], "2023-05-01", "2024-01-15", 100)
    sub(a["Up"], "2024-01-15", None, 150, product="pro")
    sub(a["Down"], "2023-02-01", "2024-01-20", 300)
    sub(a["Down"], "2024-01-20", None, 120)
    sub(a["Addon"], "2023-09-01", None, 100)
    sub(a["Addon"], "2023-10-01", "2024-01-10", 40, product="addon")
    sub(a["Back"], "2023-01-01", "2023-07-01", 60)
    sub(a["Back"], "2024-01-10", None, 70)
    sub(a["New"], "2024-01-05", None, 90)
    sub(a["Brief"], "2024-01-05", "2024-01-25", 30)
    return accounts


@pytest.fixture
def activity(book):
    """Usage events around S = 2024-01-01 and E = 2024-02-01 (instants at 00:00 UTC).

    W = 30d: start window (12-02, 01-01], end window (01-02, 02-01].
    W = 1m:  start window (12-01, 01-01], end window (01-01, 02-01].
    | account | events                                  | 30d              | 1m               |
    |---------|-----------------------------------------|------------------|------------------|
    | A       | 12-15, 01-20                            | retained         | retained         |
    | B       | 12-31 23:59                             | churned          | churned          |
    | C       | 01-01 00:00 (= S), 02-01 00:00 (= E)    | retained         | retained         |
    | Up      | 12-02 00:00 (open lower bound)          | not counted      | churned          |
    | Down    | 12-20, 01-02 00:00                      | churned          | retained         |
    | New     | 01-10 only                              | not counted      | not counted      |
    30d: 4 at start, 2 churned.  1m: 5 at start, 2 churned.
    """
    events = {
        "A": ["2023-12-15T10:00", "2024-01-20T10:00"],
        "B": ["2023-12-31T23:59"],
        "C": ["2024-01-01T00:00", "2024-02-01T00:00"],
        "Up": ["2023-12-02T00:00"],
        "Down": ["2023-12-20T09:00", "2024-01-02T00:00"],
        "New": ["2024-01-10T12:00"],
    }
    for name, times in events.items():
        for time in times:
            UsageEventFactory(account=book[name], occurred_at=at(time))
    return book
