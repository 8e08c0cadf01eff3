"""Error messages raised by services and validators reach a person in their language: each failing input below is
sent in Italian and in Bulgarian (the browser's Accept-Language), and the message shown is the translated one, never
the English text."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation

from accounts.imports.chunks import events_chunk
from accounts.imports.services._common import duplicate_rows
from accounts.imports.services.rows import KINDS, rows_resolve, rows_validate
from churnapp.apikeys import api_key_create
from health.models import HealthProfile
from messaging.webhooks import UnsafeUrl, check_url
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ("it", "bg")
# (Italian, Bulgarian, English) of the messages each test expects.
NO_SUBSCRIPTION = (
    "Non c'è alcun abbonamento attivo da mettere in pausa in quella data.",
    "Няма активен абонамент, който да се постави на пауза на тази дата.",
    "There is no active subscription to pause on that date.",
)
NO_RATE = (
    "Nessun tasso di cambio per EUR al 2024-01-01 o prima",
    "Няма валутен курс за EUR към 2024-01-01 или по-рано",
    "No exchange rate for EUR on or before 2024-01-01",
)
NOT_A_NUMBER = (
    "health_below: 'value' deve essere un numero.",
    "health_below: 'value' трябва да е число.",
    "health_below: 'value' must be a number.",
)
UNKNOWN_CONDITION = (
    "Tipo di condizione sconosciuto: 'astrology'.",
    "Непознат тип условие: 'astrology'.",
    "Unknown condition type 'astrology'.",
)
NO_ACTION = (
    "Una regola richiede almeno un'azione.",
    "Правилото трябва да има поне едно действие.",
    "A rule needs at least one action.",
)
NEGATIVE_WEIGHT = (
    "deve essere zero o maggiore.",
    "трябва да е нула или повече.",
    "must be zero or more.",
)
NO_FACTOR = (
    "Un profilo richiede almeno un fattore.",
    "Профилът трябва да има поне един фактор.",
    "A profile needs at least one factor.",
)
NO_DRILLDOWN = ("Questo dettaglio non esiste.", "Няма такава разбивка.", "No such drill-down.")
BAD_COHORT = (
    "Indica la coorte nel formato YYYY-MM e k come numero.",
    "Задайте кохортата във формат YYYY-MM и k като число.",
    "Give the cohort as YYYY-MM and k as a number.",
)


def in_language(message: tuple[str, str, str], language: str) -> tuple[str, str]:
    """(the message in `language`, the English one)."""
    return message[LANGUAGES.index(language)], message[2]


def shown(response) -> str:
    return html.unescape(response.content.decode())


def assert_translated(text: str, message: tuple[str, str, str], language: str) -> None:
    translated, english = in_language(message, language)
    assert translated in text
    assert english not in text


@pytest.fixture(params=LANGUAGES)
def language(request):
    yield request.param
    # LocaleMiddleware leaves the request's language active in the thread: the tests after these read English.
    translation.deactivate()


# --- Pausing without an active subscription -----------------------------------------------------------------------


def test_pausing_nothing_active_on_the_page(client, csm, own_account, language):
    client.force_login(csm)
    today = timezone.localdate()
    response = client.post(
        reverse("winback:account-pause", args=[own_account.pk]),
        {"pause-start_on": today.isoformat(), "pause-resume_on": (today + dt.timedelta(days=10)).isoformat()},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert_translated(shown(response), NO_SUBSCRIPTION, language)


def test_pausing_nothing_active_through_the_api(client, csm, own_account, language):
    client.force_login(csm)
    response = client.post(
        reverse("api:winback-pause-list"),
        {"account": own_account.pk, "resume_on": (timezone.localdate() + dt.timedelta(days=10)).isoformat()},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert response.json()["resume_on"] == [in_language(NO_SUBSCRIPTION, language)[0]]


# --- A subscription in a currency without an exchange rate --------------------------------------------------------


def test_a_currency_without_a_rate_through_the_api(client, language):
    AccountFactory(external_id="a-1")
    _, secret = api_key_create(name="crm", scopes=["write"])
    row = {"account": "a-1", "product": "growth", "mrr": "100.00", "start_date": "2024-01-01", "currency": "EUR"}
    response = client.post(
        reverse("api:subscription-bulk"), {"rows": [row]}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE=language,
    )  # fmt: skip
    assert response.status_code == 400
    body = str(response.json())
    assert_translated(body, NO_RATE, language)
    assert "/settings/exchange-rates/" in body  # the address stays as it is


# --- An invalid rule ----------------------------------------------------------------------------------------------

RULE_POST = {
    "key": "low-health",
    "name": "Health below 70",
    "description": "",
    "cooldown_days": "7",
    "join": "all",
    "cond_0_type": "health_below",
    "cond_0_params": "value=70",
    "act_0_type": "notify",
    "act_0_params": "to=owner",
    "advanced": "",
}


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"cond_0_params": "value=abc"}, NOT_A_NUMBER),
        ({"advanced": "conditions: {type: astrology}\nactions: [{type: notify}]"}, UNKNOWN_CONDITION),
        ({"act_0_type": "", "act_0_params": ""}, NO_ACTION),
    ],
)
def test_an_invalid_rule_in_the_rule_editor(client, manager, language, post, message):
    client.force_login(manager)
    response = client.post(reverse("automations:rule-create"), {**RULE_POST, **post}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert_translated(shown(response), message, language)


# --- An invalid health profile ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("weight", "message"), [(-3, NEGATIVE_WEIGHT), (0, NO_FACTOR)])
def test_an_invalid_health_profile_in_its_editor(client, manager, language, weight, message):
    client.force_login(manager)
    profile = HealthProfile.objects.get(segment="")
    form = {"green_min": 70, "yellow_min": 40, "note": "", "weight_nps": weight, "method_nps": "percentile"}
    response = client.post(reverse("health:profile-preview", args=[profile.pk]), form, HTTP_ACCEPT_LANGUAGE=language)
    assert_translated(shown(response), message, language)


# --- Import row errors --------------------------------------------------------------------------------------------


def test_import_row_errors(language):
    rows = [
        (1, {"account_id": "a-1", "event_type": "login", "event_time": "yesterday"}),
        (2, {"account_id": "a-1", "event_type": "login", "event_time": "9999-01-01T00:00:00Z"}),
        (3, {"event_type": "login", "event_time": "2025-01-01T00:00:00Z"}),
        (4, ["not", "an", "object"]),
        (5, {"account_id": "nobody", "event_type": "login", "event_time": "2025-01-01T00:00:00Z"}),
    ]
    with translation.override(language):
        created, _, errors = events_chunk(rows)
    assert created == 0
    messages = {e["index"]: next(iter(e["errors"].values()))[0] for e in errors}
    expected = {
        "it": {
            1: "event_time non è in formato ISO 8601: 'yesterday'.",
            2: "event_time è fuori dall'intervallo ammesso (anni 1970–9000): '9999-01-01T00:00:00Z'.",
            3: "account_id è obbligatorio.",
            4: "Ogni riga deve essere un oggetto.",
            5: "Account sconosciuto: 'nobody'.",
        },
        "bg": {
            1: "event_time не е във формат ISO 8601: 'yesterday'.",
            2: "event_time е извън допустимия диапазон (години 1970–9000): '9999-01-01T00:00:00Z'.",
            3: "account_id е задължително.",
            4: "Всеки ред трябва да е обект.",
            5: "Непознат клиент: 'nobody'.",
        },
    }
    assert messages == expected[language]


def test_import_row_errors_stay_english_without_a_language():
    with translation.override("en"):
        _, _, errors = events_chunk([(1, {"account_id": "a-1", "event_type": "login", "event_time": "yesterday"})])
    assert errors == [{"index": 1, "errors": {"non_field_errors": ["event_time is not ISO 8601: 'yesterday'."]}}]


# --- Dashboards drill-down 404s -----------------------------------------------------------------------------------


class RecordViewException:
    """Test middleware, innermost: keeps the exception a view raised (the 404 page itself shows a generic text)."""

    raised: list[Exception] = []

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        RecordViewException.raised.append(exception)


@pytest.fixture
def recorded(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.RecordViewException"]
    RecordViewException.raised = []
    return RecordViewException.raised


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/dashboard/drilldown/astrology/everything/", NO_DRILLDOWN),
        (
            "/dashboard/drilldown/cohort-retention/members/?start=2024-01-01&end=2024-03-01&cohort=soon&k=0",
            BAD_COHORT,
        ),
    ],
)
def test_a_drilldown_404_carries_the_translated_message(client, viewer, recorded, language, url, message):
    client.force_login(viewer)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    assert len(recorded) == 1 and isinstance(recorded[0], Http404)
    translated, _ = in_language(message, language)
    assert str(recorded[0]) == translated


# --- Win-back API validation ----------------------------------------------------------------------------------------

PAUSE_IN_THE_PAST = (
    "Una pausa inizia oggi o più tardi.",
    "Паузата започва днес или по-късно.",
    "A pause starts today or later.",
)


def test_a_pause_in_the_past_through_the_winback_api(client, csm, own_account, language):
    client.force_login(csm)
    today = timezone.localdate()
    body = {
        "account": own_account.pk,
        "start_on": (today - dt.timedelta(days=1)).isoformat(),
        "resume_on": (today + dt.timedelta(days=10)).isoformat(),
    }
    response = client.post(
        reverse("api:winback-pause-list"), body, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 400
    assert response.json()["resume_on"] == [in_language(PAUSE_IN_THE_PAST, language)[0]]


# --- Dashboards API: 404 of an unknown KPI, 400 of a bad period -------------------------------------------------------


def test_an_unknown_kpi_through_the_dashboards_api(client, viewer, language):
    client.force_login(viewer)
    response = client.get("/api/v1/kpis/astrology/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    detail = response.json()["detail"]
    start = {"it": "KPI sconosciuto: 'astrology'. Quelli noti: ", "bg": "Непознат KPI: 'astrology'. Познати: "}
    assert detail.startswith(start[language])
    assert "churn-rate" in detail  # the known names stay as they are
    assert "Unknown KPI" not in detail


def test_a_period_ending_before_it_starts_through_the_dashboards_api(client, viewer, language):
    client.force_login(viewer)
    period = {"start": "2024-02-01", "end": "2024-01-01"}
    response = client.get("/api/v1/kpis/churn-rate/", period, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    end = {"it": ["Deve essere successiva all'inizio."], "bg": ["Трябва да е след началото."]}
    assert response.json()["end"] == end[language]


# --- Import rows of the REST API and of files: references that resolve to nothing -------------------------------------


def test_row_errors_of_unknown_references(language):
    rows = [
        (1, {"account": "nobody", "email": "a@example.com"}),
        (2, {"account": "nobody", "owner_email": "ghost@example.com"}),
    ]
    with translation.override(language):
        resolved, errors = rows_resolve(kind="contacts", rows=rows)
    assert resolved == []
    expected = {
        "it": ("Account sconosciuto: 'nobody'.", "Nessun utente con e-mail 'ghost@example.com'."),
        "bg": ("Непознат клиент: 'nobody'.", "Няма потребител с имейл 'ghost@example.com'."),
    }
    unknown_account, unknown_user = expected[language]
    assert errors == [
        {"index": 1, "errors": {"account": [unknown_account]}},
        {"index": 2, "errors": {"account": [unknown_account], "owner_email": [unknown_user]}},
    ]


def test_row_errors_of_shapes_and_duplicates(language):
    with translation.override(language):
        _, errors = rows_validate(kind="tags", rows=[(1, ["not", "an", "object"])])
        duplicates = duplicate_rows(KINDS["tags"], [(1, {"name": "vip"}), (2, {"name": "vip"})])
    shape = {"it": "Ogni riga deve essere un oggetto JSON.", "bg": "Всеки ред трябва да е JSON обект."}
    duplicate = {
        "it": "Duplicato della riga 1 nella stessa richiesta.",
        "bg": "Дубликат на ред 1 в същата заявка.",
    }
    assert errors == [{"index": 1, "errors": {"non_field_errors": [shape[language]]}}]
    assert duplicates == [{"index": 2, "errors": {"name": [duplicate[language]]}}]


def test_row_errors_stay_english_without_a_language():
    with translation.override("en"):
        _, errors = rows_resolve(kind="contacts", rows=[(1, {"account": "nobody", "email": "a@example.com"})])
    assert errors == [{"index": 1, "errors": {"account": ["Unknown account 'nobody'."]}}]


# --- Health API and messaging: a lab run that does not exist, an unsafe webhook address -------------------------------


def test_a_missing_lab_run_through_the_health_api(client, manager, language):
    client.force_login(manager)
    response = client.get("/api/v1/churn-models/lab-runs/999999/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    detail = {"it": "Questa esecuzione di laboratorio non esiste.", "bg": "Няма такова лабораторно изпълнение."}
    assert response.json()["detail"] == detail[language]


def test_an_unsafe_webhook_address(language):
    with translation.override(language), pytest.raises(UnsafeUrl) as refused:
        check_url("ftp://example.com/hook")
    message = {
        "it": "Usa un URL http:// o https:// con un nome host.",
        "bg": "Използвайте http:// или https:// адрес с име на хост.",
    }
    assert str(refused.value) == message[language]
