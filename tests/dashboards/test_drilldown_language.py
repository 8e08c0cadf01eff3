"""The drill-down page speaks the reader's language: its title, the columns beside each account and the figures in
them (dates, offers) are in Italian or Bulgarian when the reader asks for them, and read as before in English."""

from __future__ import annotations

import html
import re

import pytest

from tests.dashboards.test_lifecycle_kpis import lifetimes  # noqa: F401 (fixture)
from tests.dashboards.test_outcome_kpis import winbacks  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

JANUARY = {"start": "2024-01-01", "end": "2024-02-01"}
DRILLS = {
    "mrr": ("/dashboard/drilldown/churn-rate/churned/", JANUARY),
    "window": ("/dashboard/drilldown/activity-churn/churned/", {**JANUARY, "window": "30d"}),
    "cohort": (
        "/dashboard/drilldown/cohort-retention/members/",
        {"start": "2024-01-01", "end": "2024-03-01", "cohort": "2024-01", "k": "2"},
    ),  # fmt: skip
    "winback": ("/dashboard/drilldown/winback-results/reactivated/", JANUARY),
    "survival": ("/dashboard/drilldown/survival/churned/", {"start": "2024-01-01", "end": "2024-07-01"}),
    "nps": ("/dashboard/drilldown/nps/promoters/", JANUARY),
}

# What each page shows in English, and what it shows in each language instead (title, headings, figures).
ENGLISH = {
    "mrr": ["Churned", "MRR Jan 1, 2024", "MRR Feb 1, 2024", "Change"],
    "window": ["Went inactive (window 30 days)"],
    "cohort": ["In the cohort: Jan 2024 cohort, 2 months later"],
    "winback": ["Reactivated", "Reactivated on", "MRR won back", "Offer", "Jan 20, 2024", "Discount code"],
    "survival": ["Churned (observed on Jul 1, 2024)", "First subscription", "Days followed", "Months"],
    "nps": ["Promoters (NPS responses)", "Responses", "Average score"],
}
TRANSLATED = {
    "it": {
        "mrr": ["MRR al 1 gen 2024", "MRR al 1 feb 2024", "Variazione"],
        "window": ["(finestra di 30 giorni)"],
        "cohort": ["Nella coorte: coorte di gen 2024, 2 mesi dopo"],
        "winback": ["Riattivati", "Riattivato il", "MRR riconquistato", "Offerta", "20 gen 2024"],
        "survival": ["(osservazione al 1 lug 2024)", "Primo abbonamento", "Giorni osservati", "Mesi"],
        "nps": ["Promotori (risposte NPS)", "Risposte", "Punteggio medio"],
    },
    "bg": {
        "mrr": ["MRR към 1 ян 2024", "MRR към 1 фев 2024", "Промяна"],
        "window": ["(прозорец от 30 дни)"],
        "cohort": ["В кохортата: кохорта от ян 2024, 2 месеца по-късно"],
        "winback": ["Реактивирани", "Реактивиран на", "Върнат MRR", "Оферта", "20 ян 2024"],
        "survival": ["(наблюдение към 1 юли 2024)", "Първи абонамент", "Наблюдавани дни", "Месеци"],
        "nps": ["Промоутъри (NPS отговори)", "Отговори", "Средна оценка"],
    },
}
# English words that must not be left on the translated pages (titles and headings of the drill-downs).
LEFT_IN_ENGLISH = re.compile(
    r"\b(Churned|Change|window|cohort|months? later|Went inactive|In the cohort|Reactivated|Offer|won back|observed on"
    r"|First subscription|Days followed|Months|Promoters|Responses|Average score|Discount code|Jan|Feb|Jul)\b"
)


@pytest.fixture
def world(book, activity, winbacks, lifetimes):  # noqa: F811
    from tests.dashboards.conftest import at
    from tests.factories import SurveyResponseFactory

    SurveyResponseFactory(account=activity["C"], kind="nps", score=10, responded_at=at("2024-01-10T00:00"))


def _page(client, drill, language: str | None = None) -> str:
    url, params = drill
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = client.get(url, params, **headers)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _heading_and_table(page: str) -> str:
    """The page's <title>, drill-down heading and table: what the drill-down itself writes."""
    title = re.search(r"<title>(.*?)</title>", page, re.S)[1]
    body = page[page.index('<div id="drilldown-table"') :]
    body = re.sub(r'<span title="[^"]*">.*?</span>', "", body, flags=re.S)  # the KPI's definition: not ours
    return title + re.sub(r'href="[^"]*"', "", body)  # links carry codes (window=30d, from=unscored)


def test_drilldowns_read_as_before_in_english(client, manager, world):
    client.force_login(manager)
    for drill, texts in ENGLISH.items():
        page = _page(client, DRILLS[drill])
        for text in texts:
            assert text in page, (drill, text)


@pytest.mark.parametrize("language", ["it", "bg"])
def test_drilldowns_read_in_the_readers_language(client, manager, world, language):
    client.force_login(manager)
    for drill, texts in TRANSLATED[language].items():
        page = _page(client, DRILLS[drill], language)
        for text in texts:
            assert text in page, (language, drill, text)
        left = LEFT_IN_ENGLISH.findall(_heading_and_table(page))
        assert not left, (language, drill, left)


@pytest.mark.parametrize(("language", "band"), [("it", "Senza punteggio → Verde"), ("bg", "Без оценка → Зелена")])
def test_band_and_engagement_titles_are_translated(client, manager, language, band):
    client.force_login(manager)
    moved = _page(client, ("/dashboard/drilldown/health-movement/moved/", {**JANUARY, "from": "unscored",
                                                                           "to": "green"}), language)  # fmt: skip
    assert band in moved and "unscored" not in _heading_and_table(moved)
    bucket = _page(client, ("/dashboard/drilldown/engagement-frequency/bucket/", {**JANUARY, "low": "1",
                                                                                  "high": "3"}), language)  # fmt: skip
    assert ("1–3 in 30 giorni" if language == "it" else "1–3 за 30 дни") in bucket
    assert "in 30 days" not in bucket and "Active days (30)" not in bucket
