"""Texts a worker or service stores for the team (task titles and descriptions, touchpoint labels, timeline entries)
are written in the installation's language (settings.LANGUAGE_CODE), whatever the language of the request or user
that triggered them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts import services as account_services
from accounts.models import AccountStatus, Activity, Task
from automations import journeys
from automations.models import Journey, Milestone, MilestoneProgress
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory, SurveyResponseFactory, UserFactory
from tests.winback.factories import ChurnRecordFactory
from winback import services as winback_services
from winback.models import ReleaseNote, Touchpoint

pytestmark = pytest.mark.django_db

# Sentences (not data) of the English texts: none may be left in a text stored in another language.
ENGLISH = [
    "check-in (", "after churn", "left over", "unknown reason", "churned on", "Call and ask", "CSM check-in",
    "Detractor", "Passive", "from Dana", "call back", "ask what would", "No comment", "Followed up", "It's live",
    ": email", "Milestone", "milestone", "is due", "was due", "not reached", "Owner role", "Assigned", "assigned",
    "changed from", "Status",
]  # fmt: skip


def assert_no_english(*texts: str) -> None:
    for text in texts:
        found = [phrase for phrase in ENGLISH if phrase in text]
        assert not found, f"English left in {text!r}: {found}"


def in_language(language: str, func, *args, **kwargs):
    with translation.override(language):
        return func(*args, **kwargs)


def test_the_csm_reminder_task_and_touchpoint_are_in_the_installation_language(settings):
    settings.LANGUAGE_CODE = "it"
    today = timezone.localdate()
    record = ChurnRecordFactory(
        reason=None, account__name="Acme Mail", account__segment="smb", mrr_lost=Decimal("200"),
        churned_on=today - dt.timedelta(days=30),
    )  # fmt: skip
    with translation.override("bg"):  # the request's language is not the installation's
        assert winback_services.csm_reminders_create(today=today) == 1
    task = Task.objects.get(account=record.account)
    assert task.title == "Check-in di riconquista (30 giorni dopo il churn): andato via per un motivo sconosciuto"
    churned_on = in_language("it", date_format, record.churned_on, "DATE_FORMAT")
    assert task.description.startswith(f"Acme Mail è andato via il {churned_on} (Volontario, ")
    assert task.description.endswith("Chiama e chiedi se è cambiato ciò che lo ha spinto ad andarsene.")
    touch = Touchpoint.objects.get(account=record.account, channel="task")
    assert touch.label == "Check-in del CSM 1 di 3"
    assert_no_english(task.title, task.description, touch.label)


def test_a_release_note_campaign_and_its_touchpoints_are_in_the_installation_language(settings):
    settings.LANGUAGE_CODE = "bg"
    record = ChurnRecordFactory()  # left over price
    ContactFactory(account=record.account, is_primary=True)
    note = ReleaseNote.objects.create(title="Shopify", url="https://example.com/shopify")
    with translation.override("it"):
        campaign = winback_services.release_note_publish(note=note, reason_codes=["price"])
    assert campaign.name == "Вече е налице: Shopify"
    touch = Touchpoint.objects.get(campaign=campaign)
    assert touch.label == "Вече е налице: Shopify: имейл"
    assert_no_english(campaign.name)


@pytest.mark.parametrize(
    ("installation", "request_language", "detractor", "passive", "no_comment", "followed_up"),
    [
        (
            "it",
            "bg",
            "Detrattore: NPS 3 da Dana Reyes (fatturazione o prezzo): richiama",
            "Passivo: NPS 8 da Dana Reyes: chiedi cosa lo porterebbe a un 10",
            "Nessun commento lasciato.",
            "Ricontattato per NPS 3",
        ),
        (
            "bg",
            "it",
            "Критик: NPS 3 от Dana Reyes (фактуриране или цена): обадете се",
            "Пасивен: NPS 8 от Dana Reyes: попитайте какво би направило оценката 10",
            "Без коментар.",
            "Последващо действие по NPS 3",
        ),
    ],
)
def test_survey_follow_up_tasks_are_in_the_installation_language(
    settings, own_account, csm, installation, request_language, detractor, passive, no_comment, followed_up
):
    settings.LANGUAGE_CODE = installation
    contact = ContactFactory(account=own_account, name="Dana Reyes")
    low = SurveyResponseFactory(account=own_account, contact=contact, score=3, comment="")
    middle = SurveyResponseFactory(account=own_account, contact=contact, score=8, comment="")
    anonymous = SurveyResponseFactory(account=own_account, contact=None, score=2, comment="Too slow")
    with translation.override(request_language):
        tasks = [winback_services.response_route(response=r, issue_type="billing").task for r in (low, middle)]
        anonymous_task = winback_services.response_route(response=anonymous).task
        winback_services.response_follow_up(response=low, actor=csm, note="Called back")
    assert [t.title for t in tasks] == [detractor, passive]
    assert [t.description for t in tasks] == [no_comment, no_comment]
    assert anonymous_task.description == "“Too slow”"
    assert ("un contatto" if installation == "it" else "контакт") in anonymous_task.title
    subject = Activity.objects.filter(account=own_account, subject__contains="NPS 3").latest("id").subject
    assert subject == followed_up
    assert_no_english(*(t.title for t in tasks), *(t.description for t in tasks), anonymous_task.title, subject)


def test_milestone_tasks_due_and_missed_are_in_the_installation_language(settings):
    settings.LANGUAGE_CODE = "it"
    settings.AUTOMATIONS_MILESTONE_DUE_SOON_DAYS = 2
    now = timezone.now()
    journey = Journey.objects.create(key="onb", name="Onboarding", onboarding=True)
    Milestone.objects.create(journey=journey, key="setup", name="Account setup", order=1, due_days=7,
                             owner_role="Implementation specialist",
                             condition={"type": "event", "event_type": "list_imported"})  # fmt: skip
    Milestone.objects.create(journey=journey, key="first-value", name="First campaign", order=2, due_days=14,
                             owner_role="CSM", condition={"type": "event", "event_type": "campaign_sent"})  # fmt: skip
    owner = UserFactory(username="olive")
    account = AccountFactory(name="Acme", created_at=now - dt.timedelta(days=13), owner=owner)
    orphan = AccountFactory(name="Nobody's", created_at=now - dt.timedelta(days=10), owner=None)
    with translation.override("bg"):
        result = journeys.journeys_refresh(now=now)
    assert (result["due_tasks"], result["missed_tasks"]) == (1, 2)

    def when(account, key):
        progress = MilestoneProgress.objects.get(account=account, milestone__key=key)
        return in_language("it", date_format, timezone.localdate(progress.due_at), "MONTH_DAY_FORMAT")

    missed = Task.objects.get(account=account, title__startswith="Traguardo mancato")
    assert missed.title == "Traguardo mancato: Account setup"
    assert missed.description == (
        f"Il traguardo di onboarding “Account setup” (Onboarding) scadeva il {when(account, 'setup')} e non è stato "
        "raggiunto.\nRuolo del responsabile: Implementation specialist. Nessuno ha il ruolo Implementation "
        "specialist per questo account: assegnata invece al responsabile dell'account."
    )
    due = Task.objects.get(account=account, title__startswith="Traguardo in scadenza")
    assert due.title == f"Traguardo in scadenza il {when(account, 'first-value')}: First campaign"
    assert due.description == (
        f"Il traguardo di onboarding “First campaign” (Onboarding) scade il {when(account, 'first-value')} e non è "
        "ancora raggiunto.\nRuolo del responsabile: CSM. Assegnata al responsabile dell'account (CSM)."
    )
    unassigned = Task.objects.get(account=orphan)
    assert unassigned.assignee is None
    assert unassigned.description.endswith("e l'account non ha un responsabile: non assegnata.")
    assert_no_english(missed.title, missed.description, due.title, due.description, unassigned.description)


@pytest.mark.parametrize(
    ("installation", "request_language", "subject"),
    [("it", "bg", "Stato cambiato da Attivo a Perso"), ("bg", "it", "Статус променен от Активен на Отпаднал")],
)
def test_a_status_change_from_the_snapshot_is_stored_in_the_installation_language(
    settings, installation, request_language, subject
):
    settings.LANGUAGE_CODE = installation
    today = dt.date(2024, 6, 15)
    account = AccountFactory(status=AccountStatus.ACTIVE)
    SubscriptionFactory(account=account, start_date=dt.date(2024, 1, 1), end_date=today)
    with translation.override(request_language):
        assert account_services.account_refresh_snapshots(today=today)["churned"] == 1
    entry = Activity.objects.get(account=account)
    assert entry.subject == subject
    assert_no_english(entry.subject)


def test_with_english_installed_the_stored_texts_stay_english(settings, own_account):
    settings.LANGUAGE_CODE = "en"
    contact = ContactFactory(account=own_account, name="Dana Reyes")
    response = SurveyResponseFactory(account=own_account, contact=contact, score=3, comment="")
    with translation.override("it"):
        task = winback_services.response_route(response=response, issue_type="billing").task
    assert (task.title, task.description) == ("Detractor: NPS 3 from Dana Reyes (billing or price): call back",
                                              "No comment left.")  # fmt: skip
