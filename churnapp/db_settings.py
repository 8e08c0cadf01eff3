"""Database settings, read from the environment by `churnapp.settings` (which calls `read`).

- `DATABASE_URL`: the primary; SQLite in the project folder when unset (WAL, so the web server reads while the
  worker writes).
- `DATABASE_REPLICA_URL` (PostgreSQL only): a streaming replica. Dashboards, the KPI API and the accounts list read
  from it; every write and every other read stays on the primary (`churnapp.dbrouting`).
This module is imported while settings load: it imports nothing of Django but the exception.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

SQLITE = "django.db.backends.sqlite3"


def read(env, base_dir: Path) -> tuple[dict, list[str], list[str]]:
    """(DATABASES, DATABASE_ROUTERS, the system checks silenced for the engine)."""
    default = env.db("DATABASE_URL", default=f"sqlite:///{base_dir / 'db.sqlite3'}")
    default["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    silenced = []
    if default["ENGINE"] == SQLITE:
        default["CONN_MAX_AGE"] = 0
        default.setdefault("OPTIONS", {}).update(
            {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
        )
        # Covering indexes (INCLUDE) are a PostgreSQL feature; on SQLite they are plain indexes, as intended.
        silenced.append("models.W040")
    # A pooled connection is checked before reuse: after a database restart the first request reconnects.
    default["CONN_HEALTH_CHECKS"] = default["CONN_MAX_AGE"] != 0
    databases, routers = {"default": default}, []
    replica_url = env.str("DATABASE_REPLICA_URL", default="")
    if replica_url:
        replica = env.db_url_config(replica_url)
        if default["ENGINE"] == SQLITE or replica["ENGINE"] == SQLITE:
            raise ImproperlyConfigured("DATABASE_REPLICA_URL: a replica needs PostgreSQL for both databases.")
        replica.update(CONN_MAX_AGE=default["CONN_MAX_AGE"], CONN_HEALTH_CHECKS=default["CONN_HEALTH_CHECKS"])
        replica["TEST"] = {"MIRROR": "default"}  # the test database lives on the primary and streams to the replica
        databases["replica"] = replica
        routers.append("churnapp.dbrouting.ReplicaRouter")
    return databases, routers, silenced
