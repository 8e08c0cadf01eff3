"""`benchmark_audit` runs every bulk path with and without the trail and leaves nothing behind."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import Account, Contact, Task
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_the_benchmark_prints_each_path_with_and_without_the_trail_and_rolls_back():
    out = io.StringIO()
    call_command("benchmark_audit", rows=40, repeats=1, stdout=out)
    text = out.getvalue()
    expected = {"import, create": 40, "import, update": 40, "API bulk contacts": 40, "database write alone": 40,
                "rule firing": 80}  # fmt: skip  # one entry per object written: a status change and a task each
    for path, entries in expected.items():
        line = next(line for line in text.splitlines() if line.startswith(path))
        assert line.split()[-1] == str(entries), line
    assert "raw INSERT (baseline)" in text and "worst overhead of a bulk path" in text
    assert not Account.objects.exists() and not Contact.objects.exists() and not Task.objects.exists()
    assert not AuditEntry.objects.filter(object_type="accounts.account").exists()
