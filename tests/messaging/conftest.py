from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _on_commit_runs_immediately(monkeypatch):
    """Unit tests run inside one transaction: run after-commit hooks (task enqueues) at once, as a commit would."""
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, using=None, robust=False: func())
