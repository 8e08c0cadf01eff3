"""factory_boy factories for the messaging models."""

from __future__ import annotations

import factory

from messaging import models


class EmailTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.EmailTemplate
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"template-{n}")
    name = factory.Sequence(lambda n: f"Template {n}")
    subject = "Hello {{ contact.first_name }} from {{ account.name }}"
    body_text = (
        "Hi {{ contact.first_name }},\n\nYour plan: {{ account.plan }}. "
        "See https://example.com/guide\n\n{{ owner.name }}"
    )
    body_html = ""


class EmailMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.EmailMessage

    to_email = factory.Sequence(lambda n: f"person{n}@customer.example")
    subject = "Subject"
    body_text = "Body"
    source = "rule"


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Notification

    title = factory.Sequence(lambda n: f"Notification {n}")
