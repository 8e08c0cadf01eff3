"""factory_boy factories for every model of the accounts domain."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import models
from churnapp.roles import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=Role(extracted).value))


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag-{n}")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Account
        skip_postgeneration_save = True

    external_id = factory.Sequence(lambda n: f"acc-{n:05d}")
    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.LazyAttribute(lambda a: f"{a.name.lower().replace(' ', '')}.example")
    segment = models.Segment.SMB
    plan = "growth"
    status = models.AccountStatus.ACTIVE
    lifecycle_stage = models.LifecycleStage.ADOPTED

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.add(*extracted)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    user_id = factory.Sequence(lambda n: f"u{n}")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Subscription

    account = factory.SubFactory(AccountFactory)
    product = "growth"
    mrr = Decimal("100.00")
    quantity = 5
    start_date = dt.date(2024, 1, 1)
    end_date = None


class UsageEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.UsageEvent

    account = factory.SubFactory(AccountFactory)
    user_id = "u1"
    event_type = "campaign_sent"
    occurred_at = factory.LazyFunction(timezone.now)
    message_id = factory.Sequence(lambda n: f"msg-{n}")


class SupportTicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SupportTicket

    account = factory.SubFactory(AccountFactory)
    external_id = factory.Sequence(lambda n: f"T-{n}")
    subject = factory.Sequence(lambda n: f"Cannot export report #{n}")
    opened_at = factory.LazyFunction(timezone.now)


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SurveyResponse

    account = factory.SubFactory(AccountFactory)
    kind = models.SurveyKind.NPS
    score = 8
    responded_at = factory.LazyFunction(timezone.now)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Activity

    account = factory.SubFactory(AccountFactory)
    kind = models.ActivityKind.NOTE
    body = "Checked in about the renewal."


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Task

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Follow up #{n}")
    assignee = factory.LazyAttribute(lambda t: t.account.owner)
    due_date = factory.LazyFunction(timezone.localdate)


class SavedViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SavedView

    name = factory.Sequence(lambda n: f"View {n}")
    owner = factory.SubFactory(UserFactory)
    query = "status=at_risk"
