"""An account erasure changes no figure: on a simulated book, every KPI of the catalogue (value and series, from the
precomputed facts and computed live), the KPI facts rebuilt after the erasure, and the daily usage rollups rebuilt
from the scrubbed events are the same as before it."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from accounts.models import Account, Contact, SurveyResponse
from dashboards import selectors as dashboard_selectors
from dashboards.catalog import KPIS, kpi_series, kpi_value
from dashboards.kpis.periods import add_months, month_start
from dashboards.params import KpiQuery
from health.models import UsageDaily
from privacy.services import erase_account, erase_contact

pytestmark = pytest.mark.django_db
FACT_MODELS = ("PeriodFact", "CohortFact", "AccountSnapshotFact", "TaskLoadFact", "LifetimeFact")
FACT_MODELS += ("BandMovementFact", "EngagementFact", "OnboardingFact")
VOLATILE = {"id", "run", "run_id", "computed_at", "created_at", "updated_at"}


@pytest.fixture
def book(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    out = io.StringIO()
    call_command("simulate", accounts=12, months=6, seed=5, stdout=out)
    for name, options in (("rebuild_rollups", {}), ("recompute_health", {"backfill_days": 2})):
        call_command(name, stdout=out, **options)
    call_command("refresh_kpi_facts", stdout=out)


def _figures() -> dict:
    end = month_start(timezone.localdate())
    start = add_months(end, -6)
    figures = {}
    for name, kpi in KPIS.items():
        for source in (dashboard_selectors.AUTO, dashboard_selectors.LIVE):
            for dedupe in (False, True) if name in ("nps", "csat") else (False,):
                query = (
                    KpiQuery(start=None, end=None) if kpi.kind == "snapshot" else KpiQuery(start, end, dedupe=dedupe)
                )
                figures[name, source, dedupe] = kpi_value(kpi, query, source=source)
                if kpi.has_series:
                    figures[name, source, dedupe, "series"] = kpi_series(kpi, query, source=source)
    return figures


def _facts() -> dict:
    tables = {}
    for name in FACT_MODELS:
        model = apps.get_model("dashboards", name)
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE]
        tables[name] = sorted(model.objects.values_list(*fields), key=repr)
    return tables


def _rollups() -> list:
    return sorted(
        UsageDaily.objects.values_list("account_id", "day", "events", "active_users", "meaningful", "by_type"), key=repr
    )


def _busiest_account() -> Account:
    return Account.objects.annotate(n=Count("usage_events")).order_by("-n", "pk").first()


def test_an_account_erasure_changes_no_kpi(book, admin_user, django_capture_on_commit_callbacks):
    account = _busiest_account()
    assert account.contacts.exists() and account.usage_events.exclude(user_id="").exists()
    figures, facts, rollups = _figures(), _facts(), _rollups()
    with django_capture_on_commit_callbacks(execute=True):
        summary = erase_account(account=account, actor=admin_user, door="command")
    assert summary.counts["accounts.UsageEvent"] > 0 and summary.counts["accounts.Contact"] > 0
    assert _figures() == figures  # the facts of the run before the erasure, and live
    call_command("refresh_kpi_facts", stdout=io.StringIO())
    call_command("rebuild_rollups", stdout=io.StringIO())
    assert _facts() == facts
    assert _figures() == figures
    assert _rollups() == rollups


def test_a_contact_erasure_changes_no_kpi_either(book, admin_user):
    """The contact row stays (anonymous), so "latest answer per contact" still de-duplicates the same answers."""
    contact = (
        Contact.objects.annotate(n=Count("responses")).filter(n__gt=0).order_by("-n", "pk").first()
        or Contact.objects.order_by("pk").first()
    )
    SurveyResponse.objects.create(
        account=contact.account, contact=contact, kind="nps", score=2, responded_at=timezone.now(), comment="again"
    )
    figures = _figures()
    erase_contact(contact=contact, actor=admin_user, door="api")
    assert _figures() == figures
