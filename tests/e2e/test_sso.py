"""Single sign-on in the browser, against a real OpenID provider started in its own process (django-oauth-toolkit,
tests/oidc_provider): "Sign in with SSO", the provider's login form, back on My day with the role of the person's
group; a person deactivated at the provider cannot get in, nor stay in."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from churnapp.sso import forget_provider_metadata
from tests.oidc_provider.harness import OidcProvider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory):
    provider = OidcProvider(tmp_path_factory.mktemp("oidc-provider-e2e")).start()
    yield provider
    provider.stop()


@pytest.fixture
def sso(live_server, settings, oidc_provider):
    """churnapp (the live server) pointed at the provider, which knows its callback."""
    oidc_provider.seed(redirect_uris=[f"{live_server.url}/oidc/callback/"])
    for name, value in oidc_provider.churnapp_settings().items():
        setattr(settings, name, value)
    forget_provider_metadata()
    yield oidc_provider
    forget_provider_metadata()


def _person(username, groups, *, active=True):
    return {"username": username, "password": f"pw-{username}-123", "email": f"{username}@example.com",
            "groups": groups, "active": active, "first_name": username.title()}  # fmt: skip


def _sign_in_with_sso(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.get_by_role("link", name="Sign in with SSO").click()
    page.get_by_label("Provider username").fill(username)
    page.get_by_label("Provider password").fill(f"pw-{username}-123")
    page.get_by_role("button", name="Continue").click()


def test_a_manager_signs_in_with_sso_and_lands_on_my_day_as_manager(live_server, page, sso):
    sso.seed(users=[_person("mia", ["cs-managers"])])

    _sign_in_with_sso(page, live_server, "mia")

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page).to_have_title(re.compile("My day"))
    expect(page.get_by_text(re.compile(r"Mia · Manager"))).to_be_visible()
    expect(page.get_by_role("link", name="Imports")).to_be_visible()  # managers' navigation


def test_a_csm_gets_the_csm_role_and_no_manager_navigation(live_server, page, sso):
    sso.seed(users=[_person("carl", ["cs-team"])])

    _sign_in_with_sso(page, live_server, "carl")

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text(re.compile(r"Carl · CSM"))).to_be_visible()
    expect(page.get_by_role("link", name="Imports")).to_have_count(0)


def test_a_person_deactivated_at_the_provider_cannot_get_in(live_server, page, sso):
    sso.seed(users=[_person("olga", ["cs-managers"], active=False)])

    _sign_in_with_sso(page, live_server, "olga")

    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")  # still at the provider
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_a_person_deactivated_at_the_provider_is_signed_out_at_the_next_check(live_server, page, sso):
    sso.seed(users=[_person("pete", ["cs-team"])])
    _sign_in_with_sso(page, live_server, "pete")
    expect(page.get_by_text(re.compile(r"Pete · CSM"))).to_be_visible()

    sso.seed(users=[_person("pete", ["cs-team"], active=False)])
    cookie = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(cookie["value"])
    session["oidc_id_token_expiration"] = 0  # the check at the provider is due
    session.save()
    page.goto(f"{live_server.url}/accounts/")

    expect(page.get_by_role("alert")).to_contain_text("Your session at the sign-in provider has ended")
    page.goto(f"{live_server.url}/accounts/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/accounts/$"))
