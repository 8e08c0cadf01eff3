"""Every command in the README's code blocks works when copied, in a fresh checkout with nothing exported.

The commands are read from README.md itself, so the README cannot drift from the code. `make run` and `make test`
are the two commands CI runs as they are (the newcomer stage and the first stage); every other line runs here in
a copy of the checkout whose only configuration is the `var/local.env` that `make run` writes. Servers (gunicorn,
the Celery worker and beat) must start and answer, then are stopped.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
RUN_BY_CI = {"make run", "make test"}
# What a reader types where the README shows a placeholder or a file of their own.
EXAMPLE_FILES = {"accounts.csv": "account_id,name,segment\nacme,Acme Mail,SMB\nglobex,Globex,Enterprise\n"}
# The production block runs with the variables the README's production table calls required.
PRODUCTION_ENV = {"DEBUG": "false", "SECRET_KEY": "p" * 60, "ALLOWED_HOSTS": "127.0.0.1,localhost"}
SERVERS = ("gunicorn", "celery")


def readme_blocks() -> list[tuple[str, list[str]]]:
    """(the heading above the block, its command lines) for every ```sh block."""
    text = README.read_text()
    blocks = []
    for match in re.finditer(r"```sh\n(.*?)```", text, re.S):
        heading = re.findall(r"^#+ (.+)$", text[: match.start()], re.M)[-1]
        lines = [re.sub(r"\s+#.*$", "", line).strip() for line in match.group(1).splitlines()]
        blocks.append((heading, [line for line in lines if line and not line.startswith("#")]))
    return blocks


def test_the_readme_has_commands_to_check():
    commands = [c for _, lines in readme_blocks() for c in lines]
    assert {"make run", "make test"} <= set(commands)
    assert any("changepassword" in c for c in commands) and any("create_api_key" in c for c in commands)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fresh_checkout(tmp_path_factory) -> Path:
    """The tracked files of this checkout in a new folder, the shared virtualenv, and `make var/local.env`."""
    dest = tmp_path_factory.mktemp("checkout")
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    for name in files:
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    (dest / ".venv").symlink_to(sys.prefix)  # the virtualenv running these tests, as `make run` would install it
    for name, content in EXAMPLE_FILES.items():
        (dest / name).write_text(content)
    result = subprocess.run(["make", "var/local.env"], cwd=dest, env=_bare_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return dest


def _bare_env(**extra: str) -> dict[str, str]:
    """The environment of a person who exported nothing for churnapp."""
    unset = {
        *("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "CELERY_TASK_ALWAYS_EAGER"),
        *("CHURNAPP_VAR_DIR", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "MAKEFLAGS", "MAKELEVEL"),
    }
    return {**{k: v for k, v in os.environ.items() if k not in unset}, **extra}


def _run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    stdin = "a-long-passphrase-2026\na-long-passphrase-2026\n" if "changepassword" in command else ""
    return subprocess.run(
        shlex.split(command), cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=300,
        start_new_session=True,  # no controlling terminal: password prompts read standard input
    )  # fmt: skip


def _serve(command: str, cwd: Path, env: dict[str, str]) -> str:
    """Start a server command, wait until it answers (HTTP) or reports ready (Celery), stop it; returns its log."""
    port = _free_port()
    command = re.sub(r"--bind \S+", f"--bind 127.0.0.1:{port}", command)
    log = cwd / f"server-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            shlex.split(command), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and proc.poll() is None:
                if command.startswith("gunicorn"):
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=5) as response:
                            if response.status == 200:
                                break
                    except OSError:
                        pass
                elif "ready." in log.read_text() or "beat: Starting" in log.read_text():
                    break
                time.sleep(0.5)
            else:
                pytest.fail(f"{command} did not become ready:\n{log.read_text()[-3000:]}")
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    return log.read_text()


def test_every_readme_command_works_when_copied(fresh_checkout):
    env = _bare_env()
    # The demo users the README names exist after a small simulated history.
    setup = [".venv/bin/python manage.py migrate --noinput",
             ".venv/bin/python manage.py simulate --accounts 12 --months 3 --seed 1"]  # fmt: skip
    for command in setup:
        result = _run(command, fresh_checkout, env)
        assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    checked = []
    for heading, commands in readme_blocks():
        production = "Production" in heading
        database = f"sqlite:///{fresh_checkout / 'production.sqlite3'}"
        # In the production image `python`, `gunicorn` and `celery` are the installed ones: the virtualenv's here.
        path = f"{fresh_checkout / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"
        block_env = _bare_env(**PRODUCTION_ENV, DATABASE_URL=database, PATH=path) if production else env
        for command in commands:
            if command in RUN_BY_CI:
                continue
            assert not command.startswith("make "), f"{command}: only `make run` and `make test` belong in code blocks"
            if command.split()[0] in SERVERS:
                _serve(command, fresh_checkout, block_env)
            else:
                result = _run(command, fresh_checkout, block_env)
                assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
            checked.append(command)
    assert len(checked) >= 7, checked
