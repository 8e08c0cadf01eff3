"""The interface language: the browser's by default, each person's own choice once made, switched from any page."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from churnapp.models import UserPreference

pytestmark = pytest.mark.django_db


def test_the_browser_language_is_the_default(client, csm):
    client.force_login(csm)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="bg,en;q=0.5").content.decode()
    assert "Моят ден" in page and '<html lang="bg">' in page


def test_english_without_a_choice_or_a_known_browser_language(client, csm):
    client.force_login(csm)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert ">My day<" in page and '<html lang="en">' in page


def test_a_persons_choice_wins_over_the_browser_and_follows_them(client, csm):
    client.force_login(csm)
    response = client.post(reverse("language-set"), {"language": "it", "next": reverse("account-list")})
    assert response.status_code == 302 and response["Location"] == reverse("account-list")
    assert UserPreference.objects.get(user=csm).language == "it"
    client.cookies.clear()  # another device: no cookie, an English browser
    client.force_login(csm)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "La mia giornata" in page


def test_an_empty_choice_follows_the_browser_again(client, csm):
    UserPreference.objects.create(user=csm, language="it")
    client.force_login(csm)
    client.post(reverse("language-set"), {"language": ""})
    assert UserPreference.objects.get(user=csm).language == ""
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="bg").content.decode()
    assert "Моят ден" in page


def test_an_unknown_language_is_refused_and_nothing_is_stored(client, csm):
    client.force_login(csm)
    assert client.post(reverse("language-set"), {"language": "xx"}).status_code == 400
    assert not UserPreference.objects.filter(user=csm).exists()


def test_signed_out_the_choice_is_a_cookie(client):
    response = client.post(reverse("language-set"), {"language": "bg", "next": reverse("login")})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "bg"


def test_a_next_address_on_another_site_is_not_followed(client, csm):
    client.force_login(csm)
    response = client.post(reverse("language-set"), {"language": "it", "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")
