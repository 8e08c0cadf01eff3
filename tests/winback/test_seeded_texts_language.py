"""Migration 0007 writes the English texts winback seeded (email templates, churn-reason labels, theme names, survey
schedule names) in the installation's language, leaving what a manager edited and the matching keywords alone."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone, translation

from messaging.models import EmailMessage, EmailTemplate
from tests.factories import ContactFactory
from tests.winback.factories import CampaignFactory, ChurnRecordFactory, reason
from winback import emailing, seeds, services, texts
from winback.models import ChurnReason, Offer, SurveySchedule, Theme

pytestmark = pytest.mark.django_db

migration = importlib.import_module("winback.migrations.0007_seeded_texts_in_installation_language")

KEYS = list(seeds.EMAIL_TEMPLATES)
EDITED = {"winback-dunning", "winback-survey-nps"}  # by the `edited` fixture

ITALIAN_SUBJECTS = {
    "winback-dunning": "Il pagamento per {{ account.name }} non è andato a buon fine",
    "winback-survey-nps": "{{ contact.first_name }}, con quale probabilità ci consiglieresti?",
    "winback-survey-csat": "Com'è andata, {{ contact.first_name }}?",
    "winback-review-ask": "Grazie, {{ contact.first_name }}: ti va di condividerlo?",
    "winback-card-expiry": "La carta per {{ account.name }} scade a breve",
    "winback-campaign": "{{ account.name }}: sul motivo per cui ci hai lasciato",
    "winback-release-note": "{{ winback.what_changed }}: ciò che ti mancava è arrivato",
}
BULGARIAN_SUBJECTS = {
    "winback-dunning": "Плащането Ви за {{ account.name }} не беше успешно",
    "winback-survey-nps": "{{ contact.first_name }}, доколко е вероятно да ни препоръчате?",
    "winback-survey-csat": "Как се справихме, {{ contact.first_name }}?",
    "winback-review-ask": "Благодарим Ви, {{ contact.first_name }}: бихте ли го споделили?",
    "winback-card-expiry": "Картата за {{ account.name }} изтича скоро",
    "winback-campaign": "{{ account.name }}: за причината да си тръгнете",
    "winback-release-note": "{{ winback.what_changed }}: това, което Ви липсваше, вече е тук",
}


def untouched(subjects: dict[str, str]) -> dict[str, str]:
    return {key: subject for key, subject in subjects.items() if key not in EDITED}


def snapshot() -> dict:
    return {
        "templates": {t.key: (t.name, t.subject, t.body_text, t.body_html) for t in EmailTemplate.objects.all()},
        "reasons": {r.code: r.label for r in ChurnReason.objects.all()},
        "themes": sorted((t.name, t.keywords) for t in Theme.objects.all()),
        "schedules": sorted(SurveySchedule.objects.values_list("name", flat=True)),
    }


@pytest.fixture
def edited():
    """What a manager changed: the dunning subject, an HTML body, a reason label, a theme and a schedule name."""
    EmailTemplate.objects.filter(key="winback-dunning").update(subject="Payment problem at {{ account.name }}")
    EmailTemplate.objects.filter(key="winback-survey-nps").update(body_html="<p>Our own layout</p>")
    ChurnReason.objects.filter(code="price").update(label="Too expensive")
    Theme.objects.filter(name="Integrations").update(name="Connectors")
    SurveySchedule.objects.filter(name="CSAT after a resolved ticket").update(name="CSAT after support")


def test_the_seeds_are_what_the_migrations_stored():
    stored = {key: (t.name, t.subject, t.body_text) for key in KEYS for t in [EmailTemplate.objects.get(key=key)]}
    assert stored == seeds.EMAIL_TEMPLATES
    assert {r.code: r.label for r in ChurnReason.objects.filter(code__in=seeds.REASON_LABELS)} == seeds.REASON_LABELS
    assert set(seeds.THEME_NAMES) <= set(Theme.objects.values_list("name", flat=True))
    assert set(seeds.SCHEDULE_NAMES) <= set(SurveySchedule.objects.values_list("name", flat=True))


def test_italian_installation_gets_italian_seeded_texts(settings, edited):
    keywords = dict(Theme.objects.values_list("name", "keywords"))
    settings.LANGUAGE_CODE = "it"
    migration.seeded_texts_translate(apps, None)

    templates = {t.key: t for t in EmailTemplate.objects.filter(key__in=KEYS)}
    assert {key: templates[key].subject for key in untouched(ITALIAN_SUBJECTS)} == untouched(ITALIAN_SUBJECTS)
    assert templates["winback-campaign"].name == "Riconquista: nuova campagna (testo predefinito)"
    assert templates["winback-survey-csat"].body_text.startswith("Ciao {{ contact.first_name }},\n\nla tua recente")
    assert templates["winback-survey-csat"].body_text.endswith("{{ survey.expires_on }}.\n\n{{ owner.name }}")
    # Edited: kept exactly as the manager left it.
    dunning = templates["winback-dunning"]
    assert dunning.subject == "Payment problem at {{ account.name }}"
    assert (dunning.name, dunning.body_text) == seeds.EMAIL_TEMPLATES["winback-dunning"][::2]
    nps = templates["winback-survey-nps"]
    assert (nps.name, nps.subject, nps.body_text) == seeds.EMAIL_TEMPLATES["winback-survey-nps"]

    reasons = dict(ChurnReason.objects.values_list("code", "label"))
    assert reasons["price"] == "Too expensive"
    assert (reasons["product"], reasons["missing_integration"], reasons["other"]) == (
        "Prodotto",
        "Integrazione mancante",
        "Altro",
    )
    themes = dict(Theme.objects.values_list("name", "keywords"))
    assert {"Prezzi", "Assistenza", "Funzionalità", "Onboarding", "Connectors"} <= set(themes)
    assert "Pricing" not in themes and "Integrazioni" not in themes
    # The keywords match the words of (English) comments: unchanged.
    assert themes["Prezzi"] == keywords["Pricing"] and themes["Connectors"] == keywords["Connectors"]
    schedules = set(SurveySchedule.objects.values_list("name", flat=True))
    assert {"NPS 90 giorni dopo l'inizio", "NPS 60 giorni prima del rinnovo", "CSAT after support"} <= schedules


def test_bulgarian_installation_gets_bulgarian_seeded_texts(settings, edited):
    settings.LANGUAGE_CODE = "bg"
    migration.seeded_texts_translate(apps, None)

    templates = {t.key: t for t in EmailTemplate.objects.filter(key__in=KEYS)}
    assert {key: templates[key].subject for key in untouched(BULGARIAN_SUBJECTS)} == untouched(BULGARIAN_SUBJECTS)
    assert templates["winback-release-note"].body_text.startswith("Здравейте, {{ contact.first_name }},\n\n")
    assert "{{ winback.release_note_url }}" in templates["winback-release-note"].body_text
    assert templates["winback-dunning"].subject == "Payment problem at {{ account.name }}"
    assert templates["winback-survey-nps"].subject == seeds.EMAIL_TEMPLATES["winback-survey-nps"][1]

    reasons = dict(ChurnReason.objects.values_list("code", "label"))
    assert (reasons["price"], reasons["payment_failure"], reasons["onboarding"]) == (
        "Too expensive",
        "Неуспешно плащане",
        "Въвеждане",
    )
    assert {"Цени", "Поддръжка", "Въвеждане", "Функции", "Connectors"} <= set(
        Theme.objects.values_list("name", flat=True)
    )
    assert "NPS 60 дни преди подновяването" in set(SurveySchedule.objects.values_list("name", flat=True))


def test_a_theme_name_already_taken_keeps_the_seeded_theme_english(settings):
    Theme.objects.create(name="Prezzi", keywords="prezzo, costo")
    settings.LANGUAGE_CODE = "it"
    migration.seeded_texts_translate(apps, None)
    assert Theme.objects.get(name="Prezzi").keywords == "prezzo, costo"
    assert Theme.objects.filter(name="Pricing").exists()


def test_english_installation_changes_nothing(settings, edited):
    before = snapshot()
    settings.LANGUAGE_CODE = "en"
    migration.seeded_texts_translate(apps, None)
    assert snapshot() == before


def test_running_twice_changes_nothing_more(settings):
    settings.LANGUAGE_CODE = "it"
    migration.seeded_texts_translate(apps, None)
    once = snapshot()
    assert {key: once["templates"][key][1] for key in KEYS} == ITALIAN_SUBJECTS
    migration.seeded_texts_translate(apps, None)
    assert snapshot() == once


class TestCustomersReadTheInstallationLanguage:
    """What a customer reads does not depend on who triggered the mail: a Bulgarian-speaking CSM's request in an
    Italian installation still sends Italian."""

    def test_campaign_email_offer_line_and_reason_lead(self, settings):
        settings.LANGUAGE_CODE = "it"
        record = ChurnRecordFactory(
            reason=None, mrr_lost=Decimal("50"), churned_on=timezone.localdate() - dt.timedelta(days=40)
        )
        ContactFactory(account=record.account, is_primary=True)
        campaign = CampaignFactory(offer=Offer.DISCOUNT, discount_code="TORNA20", body="{{ winback.offer_line }}")
        assert reason("price")  # the reason table is seeded; this record has none
        with translation.override("bg"):
            services.campaign_enroll(campaign=campaign)
            services.campaign_send(campaign=campaign)
        body = EmailMessage.objects.get().body_text
        assert body.startswith("Ci hai detto che te ne sei andato per questo motivo: i tuoi motivi.")
        assert "Torna con TORNA20 per uno sconto sui primi mesi." in body

    def test_a_deleted_template_falls_back_to_the_seed_in_the_installation_language(self, settings):
        EmailTemplate.objects.filter(key="winback-card-expiry").delete()
        settings.LANGUAGE_CODE = "it"
        with translation.override("en"):
            text = emailing.template_text("winback-card-expiry")
        assert text.subject == "La carta per {{ account.name }} scade a breve"
        settings.LANGUAGE_CODE = "en"
        assert emailing.template_text("winback-card-expiry").subject == seeds.EMAIL_TEMPLATES["winback-card-expiry"][1]

    def test_survey_reminder_prefix(self, settings):
        settings.LANGUAGE_CODE = "bg"
        assert texts.reminder_prefix() == "Напомняне: "
