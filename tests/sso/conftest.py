"""A real OpenID provider (tests/oidc_provider) for the single sign-on tests, and a person's way through it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from churnapp.sso import forget_provider_metadata
from tests.oidc_provider.harness import OidcProvider

CALLBACK = "http://testserver/oidc/callback/"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    provider = OidcProvider(tmp_path_factory.mktemp("oidc-provider")).start()
    try:
        provider.seed(redirect_uris=[CALLBACK])
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def sso_settings(settings, oidc_provider):
    """churnapp pointed at the test provider (discovery fetched afresh for each test)."""
    for name, value in oidc_provider.churnapp_settings().items():
        setattr(settings, name, value)
    settings.SSO_ONLY = False
    settings.SSO_BREAK_GLASS_USERS = []
    forget_provider_metadata()
    yield settings
    forget_provider_metadata()


class ProviderBrowser:
    """A person's browser at the provider (a requests session); churnapp's side is Django's test client."""

    def __init__(self, provider: OidcProvider, client):
        self.provider = provider
        self.client = client
        self.session = requests.Session()

    def sign_in_at_provider(self, authorize_url: str, username: str, password: str) -> requests.Response:
        """Follow the authorization request to the provider's login form and submit it; the provider's last answer
        (a redirect to churnapp's callback when it let the person in)."""
        response = self.session.get(authorize_url, allow_redirects=False, timeout=30)
        if response.status_code == 302 and "/accounts/login/" in response.headers["Location"]:
            login_url = urljoin(authorize_url, response.headers["Location"])
            form = self.session.get(login_url, timeout=30)
            next_url = re.search(r'name="next" value="([^"]*)"', form.text).group(1).replace("&amp;", "&")
            data = {
                "username": username,
                "password": password,
                "next": next_url,
                "csrfmiddlewaretoken": self.session.cookies["provider_csrftoken"],
            }
            response = self.session.post(login_url, data=data, headers={"Referer": login_url}, allow_redirects=False)
            if response.status_code != 302:
                return response
            response = self.session.get(urljoin(login_url, response.headers["Location"]), allow_redirects=False)
        return response

    def sign_in(self, username: str, password: str, *, next_url: str = ""):
        """Click "Sign in with SSO", sign in at the provider, come back: churnapp's answer to the callback."""
        start = self.client.get("/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
        assert start.status_code == 302, start.content[:500]
        answer = self.sign_in_at_provider(start["Location"], username, password)
        if answer.status_code != 302 or not answer.headers["Location"].startswith(CALLBACK):
            return answer
        return self.follow_callback(answer.headers["Location"])

    def follow_callback(self, location: str):
        parts = urlsplit(location)
        return self.client.get(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})


@pytest.fixture
def provider_browser(oidc_provider, client, sso_settings):
    return ProviderBrowser(oidc_provider, client)
