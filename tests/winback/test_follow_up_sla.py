"""The follow-up SLA card and the "Open follow-ups" tab count the same dissatisfied answers, routed or not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AccountFactory, ContactFactory, SurveyResponseFactory
from winback import selectors, services
from winback.services.page_figures import page_facts_refresh

pytestmark = pytest.mark.django_db


def _answer(account, score, days_ago, kind="nps"):
    contact = ContactFactory(account=account)
    return SurveyResponseFactory(
        account=account, contact=contact, kind=kind, score=score,
        responded_at=timezone.now() - dt.timedelta(days=days_ago),
    )  # fmt: skip


def test_unrouted_detractors_count_as_open_follow_ups_overdue_or_pending(client, csm):
    account = AccountFactory(owner=csm)
    # Never routed (imported or from before routing): no follow-up row at all.
    old = [_answer(account, 3, days_ago=10 + i) for i in range(3)]
    fresh = _answer(account, 5, days_ago=0)
    csat = _answer(account, 1, days_ago=20, kind="csat")
    _answer(account, 9, days_ago=5)  # a promoter: nothing to follow up
    routed = _answer(account, 2, days_ago=1)
    services.response_route(response=routed)
    sla = selectors.detractor_sla(start=timezone.localdate() - dt.timedelta(days=90))
    assert (sla["total"], sla["within_sla"], sla["late"]) == (6, 0, 0)
    assert sla["overdue"] == 4  # the three old detractors and the CSAT 1, due 2 days after they were given
    assert sla["pending"] == 2  # today's detractor and the routed one, due within its SLA
    open_ids = set(selectors.open_follow_ups().values_list("pk", flat=True))
    assert open_ids == {r.pk for r in [*old, fresh, csat, routed]}
    assert len(open_ids) == sla["open"]

    services.response_follow_up(response=old[0], actor=csm, note="Called")
    assert selectors.open_follow_ups().count() == 5

    page_facts_refresh()
    client.force_login(csm)
    html = client.get(reverse("winback:feedback")).content.decode()
    assert "6 dissatisfied answers: 1 in time · 0 late" in html
    tab = client.get(reverse("winback:feedback"), {"category": "open"}).content.decode()
    assert "No answers yet." not in tab
    assert "5 answers not followed up yet" in tab


def test_answer_lists_are_paginated_with_counts(client, csm):
    account = AccountFactory(owner=csm)
    contact = ContactFactory(account=account)
    now = timezone.now()
    for i in range(57):
        SurveyResponseFactory(account=account, contact=contact, kind="nps", score=9,
                              responded_at=now - dt.timedelta(hours=i))  # fmt: skip
    client.force_login(csm)
    first = client.get(reverse("winback:feedback")).content.decode()
    assert "57 answers" in first and "Page 1 of 2 · 57 in all" in first
    second = client.get(reverse("winback:feedback"), {"page": 2}).content.decode()
    assert "Page 2 of 2" in second
    assert selectors.responses_page(page=2).object_list.__len__() == 7


def test_the_sla_card_links_to_the_same_open_follow_ups_it_counts(client, csm):
    account = AccountFactory(owner=csm)
    _answer(account, 3, days_ago=10)
    _answer(account, 4, days_ago=200)  # outside the card's 90 days: open, but not in the card
    page_facts_refresh()
    client.force_login(csm)
    html = client.get(reverse("winback:feedback")).content.decode()
    since = (timezone.localdate() - dt.timedelta(days=90)).isoformat()
    assert "1 dissatisfied answer:" in html and f"?category=open&amp;since={since}" in html
    windowed = client.get(reverse("winback:feedback"), {"category": "open", "since": since}).content.decode()
    assert "1 answer not followed up yet" in windowed
    everything = client.get(reverse("winback:feedback"), {"category": "open", "since": "nonsense"}).content.decode()
    assert "2 answers not followed up yet" in everything and "all time" in everything
