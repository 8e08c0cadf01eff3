"""Browser: the main pages, visited as an admin, break no rule of the Content-Security-Policy (Chromium reports
every refused script, style, eval or frame in the console)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from health.models import HealthProfile
from tests.factories import AccountFactory, SubscriptionFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/accounts/",
    "/accounts/{account}/",
    "/dashboard/",
    "/dashboard/goals/",
    "/dashboard/cac/",
    "/winback/",
    "/winback/feedback/",
    "/automations/",
    "/automations/rules/new/",
    "/automations/playbooks/",
    "/automations/playbooks/new/",
    "/automations/journeys/",
    "/automations/journeys/new/",
    "/messaging/emails/",
    "/messaging/emails/new/",
    "/notifications/",
    "/health/profiles/",
    "/health/profiles/{profile}/",
    "/health/model/",
    "/health/priorities/",
    "/imports/",
    "/settings/integrations/",
    "/settings/integrations/api-keys/",
    "/settings/integrations/webhooks/",
    "/auth/password_change/",
    "/api/docs/",
    "/api/redoc/",
    "/admin/",
    "/admin/accounts/account/",
    "/admin/accounts/account/{account}/change/",
]


def _watch(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"{page.url}: {error}"))
    return messages


def _violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "content security policy" in m.lower() or "unsafe-eval" in m.lower()]


def test_no_page_logs_a_csp_violation(live_server, login, page):
    today = timezone.localdate()
    UserFactory(username="root", is_superuser=True, is_staff=True, role="Admin")
    account = AccountFactory(name="Acme Mail", status="at_risk", mrr=Decimal(300))
    SubscriptionFactory(account=account, start_date=today.replace(year=today.year - 1), mrr=Decimal(300))
    profile = HealthProfile.objects.order_by("pk").first()
    messages = _watch(page)

    page.goto(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/auth/password_reset/")
    login("root")
    for path in PAGES:
        url = live_server.url + path.format(account=account.pk, profile=profile.pk if profile else 0)
        response = page.goto(url)
        assert response.status < 400, f"{url} answered {response.status}"
        page.wait_for_load_state("networkidle")
    assert _violations(messages) == []


def test_the_check_sees_a_violation(live_server, login, page):
    """The console watch is real: an inline script injected into a page is refused and reported."""
    UserFactory(username="root", is_superuser=True, is_staff=True, role="Admin")
    messages = _watch(page)
    login("root")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1'; "
        "document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert _violations(messages)
    assert page.evaluate("() => window.x") is None
