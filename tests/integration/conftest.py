"""Integration tests: a real Celery worker (with beat) against the test database on PostgreSQL and Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path) -> Iterator[subprocess.Popen]:
    """A Celery worker process (no beat) on the test database and Redis."""
    yield from _worker(tmp_path, beat=False)


@pytest.fixture
def celery_worker_with_beat(transactional_db, tmp_path) -> Iterator[subprocess.Popen]:
    """A Celery worker process with embedded beat, the snapshot task scheduled every 2 seconds."""
    yield from _worker(tmp_path, beat=True)


def start_worker(tmp_path: Path, *, beat: bool = False, name: str = "", include: tuple[str, ...] = (),
                 extra_env: dict | None = None) -> subprocess.Popen:  # fmt: skip
    """A Celery worker process (solo pool, every queue) on the test database and Redis; its log in tmp_path."""
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.fail("Integration tests need DATABASE_URL (PostgreSQL) and REDIS_URL; run them through .ci/run.")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CHURNAPP_VAR_DIR": str(tmp_path),
        "ACCOUNT_SNAPSHOT_INTERVAL": "2",
        "DEBUG": "true",
        **(extra_env or {}),
    }
    log = open(tmp_path / f"worker{name}.log", "a")  # noqa: SIM115 — the process owns it
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "churnapp", "worker", *(["-B"] if beat else []), "--pool=solo",
         "--loglevel=INFO", "-Q", "default,ingest,scoring,email", "-n", f"ci-{os.getpid()}{name}@localhost",
         *(["--include", ",".join(include)] if include else [])],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the embedded beat is a child process of the worker
    )  # fmt: skip
    log.close()
    return proc


def stop_worker(proc: subprocess.Popen, log_path: Path | None = None) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    # Nothing of the worker may outlive the test, the embedded beat process included.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode not in (0, -15) and log_path is not None and log_path.exists():
        print(log_path.read_text()[-5000:])


def _worker(tmp_path: Path, *, beat: bool) -> Iterator[subprocess.Popen]:
    proc = start_worker(tmp_path, beat=beat)
    try:
        yield proc
    finally:
        stop_worker(proc, tmp_path / "worker.log")


@pytest.fixture
def wait_for() -> Callable[..., None]:
    def _wait(condition: Callable[[], bool], *, timeout: float = 45, message: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.25)
        raise AssertionError(f"Timed out after {timeout}s waiting for {message}.")

    return _wait


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class WebServer:
    url: str
    log: Path
    process: subprocess.Popen


def start_gunicorn(tmp_path: Path, *, workers: int = 2, extra_env: dict | None = None) -> WebServer:
    """gunicorn as production runs it (the repository's gunicorn.conf.py) on a free port and the test database."""
    if connection.vendor != "postgresql":
        pytest.fail("Integration tests need DATABASE_URL (PostgreSQL) and REDIS_URL; run them through .ci/run.")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "CHURNAPP_VAR_DIR": str(tmp_path), "DEBUG": "true",
           **(extra_env or {})}  # fmt: skip
    log_path = tmp_path / f"gunicorn-{port}.log"
    log = open(log_path, "w")  # noqa: SIM115 — the process owns it
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "churnapp.wsgi", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/healthz/", timeout=2)  # noqa: S310 — local test server
        except urllib.error.HTTPError:  # answering at all (503 while the worker starts) means it serves
            return WebServer(url=url, log=log_path, process=proc)
        except OSError:
            pass
        else:
            return WebServer(url=url, log=log_path, process=proc)
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    stop_process(proc)
    pytest.fail(f"gunicorn did not start:\n{log_path.read_text()[-3000:]}")


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def start_redis(port: int, tmp_path: Path) -> subprocess.Popen:
    """A redis-server of the test's own (never the shared one) on `port`, without persistence: a restart empties it."""
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout
        if ping.strip() == "PONG":
            return proc
        time.sleep(0.1)
    proc.kill()
    pytest.fail("redis-server did not start")


def stop_redis(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def gunicorn_server(transactional_db, tmp_path) -> Iterator[WebServer]:
    server = start_gunicorn(tmp_path)
    try:
        yield server
    finally:
        stop_process(server.process)
