"""Starts the test OpenID provider in its own process on a free port, seeds it, and stops it.

The provider is django-oauth-toolkit with OIDC (RS256 key generated here with cryptography), served by Django's
runserver with its own SQLite file in a temporary directory."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

MANAGE = Path(__file__).resolve().with_name("manage.py")
CLIENT_ID = "churnapp-test-client"
CLIENT_SECRET = "churnapp-test-secret-0123456789"
STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OidcProvider:
    def __init__(self, directory: Path):
        self.directory = directory
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.url}/o"
        self.process: subprocess.Popen | None = None
        self.log = directory / "provider.log"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "DJANGO_"))}
        return {**env, "OIDC_PROVIDER_DIR": str(self.directory), "OIDC_PROVIDER_ISSUER": self.issuer}

    def manage(self, *args: str) -> None:
        result = subprocess.run(
            [sys.executable, str(MANAGE), *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"provider {args[0]} failed:\n{result.stdout}\n{result.stderr}"

    def start(self) -> OidcProvider:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (self.directory / "rsa.pem").write_bytes(pem)
        self.manage("migrate", "--noinput", "-v", "0")
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(MANAGE), "runserver", "--noreload", f"127.0.0.1:{self.port}"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_for_port()
        return self

    def _wait_for_port(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The test provider exited:\n{self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                # Polls the port (connection refused comes back at once): not a wait for something to happen.
                time.sleep(0.05)
        raise RuntimeError(f"The test provider did not open port {self.port}:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def seed(self, *, redirect_uris: list[str] = (), users: list[dict] = ()) -> None:
        """The confidential client (CLIENT_ID / CLIENT_SECRET) with these redirect URIs, and these people
        ({"username", "password", "email", "groups", "active"}), created or updated."""
        args = ["seed_provider", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
        for uri in redirect_uris:
            args += ["--redirect-uri", uri]
        for user in users:
            args += ["--user", json.dumps(user)]
        self.manage(*args)

    def churnapp_settings(self) -> dict:
        """The settings that point churnapp at this provider."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_RP_SCOPES": "openid email profile",
            "OIDC_GROUPS_CLAIM": "groups",
            "OIDC_ROLE_MAP": {"cs-managers": "Manager", "cs-team": "CSM", "cs-admins": "Admin"},
            "OIDC_DEFAULT_ROLE": "",
        }
