"""The overview and Feedback pages read facts a worker stores; the facts equal the live computation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from churnapp.schedule import BEAT_SCHEDULE
from tests.factories import ContactFactory, SurveyResponseFactory
from tests.winback.factories import CampaignFactory, ChurnRecordFactory, SurveyInvitationFactory, reason
from winback import services
from winback.models import CampaignEnrollment, ChurnType, PageFacts, Reactivation, Touchpoint
from winback.models.page_facts import FactsDecoder, FactsEncoder
from winback.selectors.page_facts import feedback_figures, overview_figures

pytestmark = pytest.mark.django_db


def roundtrip(value):
    """What JSON storage does to the live figures: tuples become lists, Decimals stay exact."""
    import json

    return json.loads(json.dumps(value, cls=FactsEncoder), cls=FactsDecoder)


@pytest.fixture
def data(csm, own_account):
    """Churn, a campaign with an enrolment, touchpoint and reactivation, answers with themes and follow-ups."""
    price = ChurnRecordFactory(reason=reason("price"), mrr_lost=Decimal("120.50"))
    ChurnRecordFactory(reason=reason("missing_integration"), mrr_lost=Decimal("900"), churn_type="involuntary")
    campaign = CampaignFactory()
    enrollment = CampaignEnrollment.objects.create(
        campaign=campaign, churn_record=price, account=price.account, status="contacted"
    )
    touch = Touchpoint.objects.create(
        account=price.account, enrollment=enrollment, campaign=campaign, channel="email", label="Offer: email",
        occurred_at=timezone.now(), responded_at=timezone.now(),
    )  # fmt: skip
    Reactivation.objects.create(
        churn_record=price, account=price.account, reactivated_on=timezone.localdate(), mrr_won_back=Decimal("99.90"),
        touchpoint=touch, campaign=campaign,
    )  # fmt: skip
    contact = ContactFactory(account=own_account)
    for score, comment in [(2, "Too expensive for us"), (9, "Great support"), (7, "")]:
        invitation = SurveyInvitationFactory(contact=contact)
        services.survey_answer(token=invitation.token, score=score, comment=comment)
    SurveyResponseFactory(account=own_account, score=4, responded_at=timezone.now() - dt.timedelta(days=200))
    return campaign


def test_stored_facts_equal_the_live_computation(data):
    now = timezone.now()
    services.page_facts_refresh(now=now)
    overview = PageFacts.objects.get(key="overview").data
    feedback = PageFacts.objects.get(key="feedback").data
    assert overview == roundtrip(overview_figures())
    assert feedback == roundtrip(feedback_figures(now=now))
    # Decimals come back exact, not as floats or strings.
    assert overview["summary"]["mrr_won_back"] == Decimal("99.90")
    assert feedback["nps"]["n"] == 3 and overview["grid"]["accounts"] == 2


def test_pages_show_the_stored_figures_not_a_new_computation(client, manager, data):
    client.force_login(manager)
    services.page_facts_refresh()
    before = client.get(reverse("winback:feedback")).content.decode()
    assert 'id="nps-detractors">1<' in before
    # A detractor recorded without going through a service (as an import would): the page keeps the stored figure
    # until the next refresh.
    SurveyResponseFactory(score=1, responded_at=timezone.now())
    assert 'id="nps-detractors">1<' in client.get(reverse("winback:feedback")).content.decode()
    services.page_facts_refresh()
    assert 'id="nps-detractors">2<' in client.get(reverse("winback:feedback")).content.decode()


def test_overview_lists_campaigns_from_the_facts_with_their_links(client, manager, data):
    client.force_login(manager)
    services.page_facts_refresh()
    page = client.get(reverse("winback:overview")).content.decode()
    assert reverse("winback:campaign-detail", args=[data.pk]) in page and 'id="facts-as-of"' in page


def test_first_visit_on_a_fresh_install_computes_the_facts_once(client, manager, data):
    client.force_login(manager)
    assert not PageFacts.objects.exists()
    assert client.get(reverse("winback:overview")).status_code == 200
    assert PageFacts.objects.filter(key__in=["overview", "feedback"]).count() == 2


def test_a_write_the_pages_show_queues_a_refresh_after_commit(
    client, csm, own_account, data, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from winback.services.page_figures import QUEUED_KEY

    cache.delete(QUEUED_KEY)
    with time_machine.travel(timezone.now() - dt.timedelta(hours=1), tick=False):
        services.page_facts_refresh()
    stale = PageFacts.objects.get(key="feedback").computed_at
    contact = ContactFactory(account=own_account)
    with django_capture_on_commit_callbacks(execute=True):
        services.survey_answer(token=SurveyInvitationFactory(contact=contact).token, score=0)
    fresh = PageFacts.objects.get(key="feedback")
    assert fresh.computed_at > stale and fresh.data["nps"]["detractors"] == 2


def test_beat_refreshes_the_facts_every_15_minutes():
    entry = BEAT_SCHEDULE["winback-refresh-page-facts"]
    assert entry["task"] == "winback.tasks.refresh_page_facts" and entry["schedule"] == 15 * 60


def test_benchmark_command_prints_both_pages_next_to_the_live_baseline(admin_user, data):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("winback_benchmark_pages", "--requests", "2", stdout=out)
    text = out.getvalue()
    assert "overview page (reads facts)" in text and "feedback page (reads facts)" in text
    assert text.count("baseline: page + live figures") == 2


def test_overview_says_its_figures_are_all_time_unlike_the_dashboards_period(client, manager, data):
    client.force_login(manager)
    page = client.get(reverse("winback:overview")).content.decode()
    assert page.count(", all time</span>") == len(ChurnType.choices) + 2  # churn by type, reactivated, MRR won back
    assert 'id="overview-period"' in page and "within the dashboard's period" in page
    assert '<p class="muted small u-m-0">' in page
