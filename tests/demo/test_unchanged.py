"""The simulator generates exactly what it generated before it streamed its events month by month.

The figures below were computed with the generator as it was before, holding every event in memory (rows and the
first 16 hex digits of a SHA-256 of each table as CSV, per mechanism), and the database fingerprint of a load by
`manage.py simulate` at the small scale of `test_simulator`. Small account blocks and event chunks make the
streaming cross many block and chunk boundaries on these small histories.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from accounts.models import UsageEvent
from demo.simulator import simulate, simulation, usage
from tests.demo.test_simulator import _fingerprint, _run

CASES = [
    (
        dict(accounts=60, months=8, seed=7, end_date=dt.date(2025, 6, 15), mechanism="default"),
        {
            "users": (3, "b8abc0552aefbbe1"),
            "accounts": (60, "f1f6a3ba2b193648"),
            "account_tags": (19, "db48f2c8f3b9400e"),
            "contacts": (255, "ad2f6a54f51b07c2"),
            "subscriptions": (76, "1d59ccf5f7fe3df6"),
            "events": (10239, "6340dce2af23ac3a"),
            "tickets": (106, "150cddf415be3de1"),
            "surveys": (49, "48dbc33d3bd84f35"),
            "activities": (129, "ec56f3d98c915a6b"),
            "tasks": (37, "8d4098eaeed9b21e"),
        },
    ),
    (
        dict(accounts=50, months=7, seed=3, end_date=dt.date(2025, 12, 1), mechanism="silent"),
        {
            "users": (3, "b8abc0552aefbbe1"),
            "accounts": (50, "54c3e2850f75ad9e"),
            "account_tags": (12, "fa9e757c29b8be13"),
            "contacts": (243, "ff583ebab0ceacfc"),
            "subscriptions": (58, "a00eb58fdac228a7"),
            "events": (9219, "8b1c10e4832e8566"),
            "tickets": (53, "fe1af9070a69fb3e"),
            "surveys": (24, "7a6ef1194dca05f4"),
            "activities": (79, "cc38212fc6ac1546"),
            "tasks": (22, "25d0c4d11d525b0a"),
        },
    ),
    (
        dict(accounts=50, months=7, seed=3, end_date=dt.date(2025, 12, 1), mechanism="price_shock"),
        {
            "users": (3, "b8abc0552aefbbe1"),
            "accounts": (50, "c971533f01f17e74"),
            "account_tags": (12, "fa9e757c29b8be13"),
            "contacts": (243, "ff583ebab0ceacfc"),
            "subscriptions": (60, "9348279b71f09e54"),
            "events": (9220, "f33309cbab5814c3"),
            "tickets": (53, "fe1af9070a69fb3e"),
            "surveys": (24, "7a6ef1194dca05f4"),
            "activities": (79, "cc38212fc6ac1546"),
            "tasks": (22, "25d0c4d11d525b0a"),
        },
    ),
    (
        dict(accounts=40, months=6, seed=4, end_date=dt.date(2025, 12, 1), mechanism="ticket_storm"),
        {
            "users": (3, "b8abc0552aefbbe1"),
            "accounts": (40, "620123549478f68d"),
            "account_tags": (11, "c64aaa9e8eaae939"),
            "contacts": (225, "895760d3e40d55d0"),
            "subscriptions": (52, "37cac09e55634771"),
            "events": (6898, "617fe837f56dc106"),
            "tickets": (51, "32e2311f9f9a8102"),
            "surveys": (28, "47d34f96433abe28"),
            "activities": (78, "30318caf11b917f4"),
            "tasks": (24, "99a20b70c7716397"),
        },
    ),
    (
        dict(accounts=40, months=6, seed=4, end_date=dt.date(2025, 12, 1), mechanism="usage_decay"),
        {
            "users": (3, "b8abc0552aefbbe1"),
            "accounts": (40, "b2cf530c70fb9d72"),
            "account_tags": (11, "ff80527a3761bb6e"),
            "contacts": (225, "895760d3e40d55d0"),
            "subscriptions": (52, "4bbd7d97e86cb181"),
            "events": (7012, "c3bd8e1a6069d8be"),
            "tickets": (44, "35d0905dd7f6e549"),
            "surveys": (28, "55e9a75789c18f4a"),
            "activities": (81, "bafacacb5c2a649a"),
            "tasks": (15, "050a25d56b66beab"),
        },
    ),
]
FINGERPRINT = "e1b5772b8484b6acaa02ac0d0b643c6c3e7b6cd356ebbe670fd8ca5ad6740f07"  # SMALL, seed 7, END 2025-06-15
FINGERPRINT_EVENTS = 7824


def _figures(data) -> dict[str, tuple[int, str]]:
    return {
        name: (len(frame), hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()[:16])
        for name, frame in data.frames().items()
    }


@pytest.fixture(params=["one block", "small blocks"])
def blocks(request, monkeypatch):
    if request.param == "small blocks":
        monkeypatch.setattr(usage, "ACCOUNT_BLOCK", 7)
        monkeypatch.setattr(usage, "EVENT_CHUNK", 500)


@pytest.mark.parametrize(("options", "expected"), CASES, ids=[case[0]["mechanism"] for case in CASES])
def test_same_seed_gives_the_rows_the_in_memory_generator_gave(blocks, options, expected):
    assert _figures(simulate(**options)) == expected


def test_events_stream_in_time_order_in_bounded_chunks(monkeypatch):
    monkeypatch.setattr(usage, "EVENT_CHUNK", 400)
    with simulation(**CASES[0][0]) as sim:
        chunks = list(sim.events.chunks())
    assert max(len(chunk) for chunk in chunks) <= 400 and sum(map(len, chunks)) == sim.events.count
    times = [chunk["occurred_at"] for chunk in chunks]
    assert all(a.max() <= b.min() for a, b in zip(times, times[1:], strict=False))
    assert all(t.dt.strftime("%Y-%m").nunique() == 1 for t in times), "a chunk never spans two months"


@pytest.mark.django_db
def test_simulate_loads_the_rows_it_loaded_before(monkeypatch):
    monkeypatch.setattr(usage, "EVENT_CHUNK", 1_000)
    _run()
    assert UsageEvent.objects.count() == FINGERPRINT_EVENTS
    assert _fingerprint() == FINGERPRINT
