"""Factories for the win-back tests."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

import factory
from django.utils import timezone

from tests.factories import AccountFactory, ContactFactory
from winback import models


def reason(code: str) -> models.ChurnReason:
    return models.ChurnReason.objects.get(code=code)


class ChurnRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ChurnRecord

    account = factory.SubFactory(AccountFactory, status="churned")
    churn_type = models.ChurnType.VOLUNTARY
    reason = factory.LazyFunction(lambda: reason("price"))
    mrr_lost = Decimal("200.00")
    churned_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=10))
    source = models.ChurnSource.SUBSCRIPTIONS


class SurveyInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SurveyInvitation

    contact = factory.SubFactory(ContactFactory)
    account = factory.LazyAttribute(lambda i: i.contact.account)
    kind = "nps"
    token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=14))


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Campaign
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Campaign {n}")
    offer = models.Offer.PLAN_CHANGE
    subject = "{{ account.name }}: about why you left"
    body = "You left because of {{ churn.reason }}. {{ winback.offer_line }}"

    @factory.post_generation
    def reason_codes(self, create, extracted, **kwargs):
        if create and extracted:
            self.reasons.set(models.ChurnReason.objects.filter(code__in=extracted))
