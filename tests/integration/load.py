"""A Segment-like load for the fault suite: senders that resend a batch (same message ids) until it is
acknowledged, recording what the server answered and when."""

from __future__ import annotations

import base64
import collections
import contextlib
import threading
import time
from collections.abc import Iterator

import orjson
import requests

BATCH = 50


class Sender(threading.Thread):
    """One client: batches of `BATCH` track events with ids `<prefix>-<n>-<batch>-<i>`, each resent until a 200."""

    def __init__(self, n: int, url: str, key: str, stop: threading.Event, *, prefix: str, group: str = "acc-load"):
        super().__init__(daemon=True)
        self.n, self.url, self.stop, self.prefix, self.group = n, url, stop, prefix, group
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        self.headers = {"Authorization": auth, "Content-Type": "application/json"}
        self.acked: list[str] = []
        self.client_errors = 0
        self.reported_duplicates = 0
        self.slowest = 0.0
        self.statuses: collections.Counter[str] = collections.Counter()  # "503", "connection error", …
        self.last_error_at = 0.0  # time.monotonic() of the last answer that was not a 200
        self.unreadable: list[str] = []  # error answers that were not JSON

    def run(self) -> None:
        batch_no = 0
        while not self.stop.is_set():
            ids = [f"{self.prefix}-{self.n}-{batch_no}-{i}" for i in range(BATCH)]
            body = orjson.dumps({"batch": [{"type": "track", "userId": "u", "event": "Login", "messageId": m,
                                            "context": {"groupId": self.group}} for m in ids]})  # fmt: skip
            for _ in range(120):
                started = time.monotonic()
                try:
                    response = requests.post(f"{self.url}/v1/batch", data=body, timeout=30, headers=self.headers)
                except requests.RequestException:
                    response = None
                self.slowest = max(self.slowest, time.monotonic() - started)
                if response is not None and response.status_code == 200:
                    self.acked += ids
                    self.reported_duplicates += response.json()["duplicates"]
                    break
                self.client_errors += 1
                self.last_error_at = time.monotonic()
                self.statuses["connection error" if response is None else str(response.status_code)] += 1
                if response is not None and not response.headers.get("Content-Type", "").startswith("application/json"):
                    self.unreadable.append(response.text[:200])
                time.sleep(0.5)
            batch_no += 1


@contextlib.contextmanager
def run_load(url: str, key: str, *, clients: int, prefix: str, group: str = "acc-load") -> Iterator[list[Sender]]:
    """`clients` senders posting to `url` for the block's duration; on leaving it they stop and are joined (each
    finishes the batch it is resending). An error in the block stops them without waiting."""
    stop = threading.Event()
    senders = [Sender(n, url, key, stop, prefix=prefix, group=group) for n in range(clients)]
    try:
        for sender in senders:
            sender.start()
        yield senders
    finally:
        stop.set()
    for sender in senders:
        sender.join(timeout=120)


def acked_ids(senders: list[Sender]) -> list[str]:
    """Every message id the server acknowledged, across senders."""
    return [m for sender in senders for m in sender.acked]
