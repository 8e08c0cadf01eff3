"""Single sign-on's configuration: the environment variables, the role mapping, and SSO off by default."""

from __future__ import annotations

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from churnapp import sso_settings
from churnapp.roles import Role
from churnapp.sso import role_for_groups, sso_enabled

OFF = {"OIDC_ISSUER": "", "OIDC_RP_CLIENT_ID": "", "OIDC_OP_AUTHORIZATION_ENDPOINT": "", "SSO_ONLY": False}


def _project() -> dict:
    return {
        "AUTHENTICATION_BACKENDS": ["lockout", "django.contrib.auth.backends.ModelBackend"],
        "MIDDLEWARE": ["churnapp.middleware.UserLanguageMiddleware", "messages"],
        "TEMPLATES": [{"OPTIONS": {"context_processors": []}}],
    }


def _read(monkeypatch, **variables):
    for name in (
        "OIDC_ISSUER",
        "OIDC_CLIENT_ID",
        "OIDC_CLIENT_SECRET",
        "OIDC_ROLE_MAP",
        "OIDC_DEFAULT_ROLE",
        "SSO_ONLY",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    project = _project()
    return sso_settings.read(environ.Env(), project), project


def test_the_environment_configures_sso(monkeypatch):
    values, project = _read(
        monkeypatch,
        OIDC_ISSUER="https://id.example.com/realms/cs/",
        OIDC_CLIENT_ID="churnapp",
        OIDC_CLIENT_SECRET="s3cret",
        OIDC_ROLE_MAP="cs-managers=Manager, cs-team=csm,cs-admins=ADMIN",
        OIDC_DEFAULT_ROLE="viewer",
        SSO_ONLY="true",
        SSO_BREAK_GLASS_USERS="admin,root",
    )
    assert values["OIDC_ISSUER"] == "https://id.example.com/realms/cs"
    assert values["OIDC_RP_CLIENT_ID"] == "churnapp" and values["OIDC_RP_SCOPES"] == "openid email profile"
    assert values["OIDC_ROLE_MAP"] == {"cs-managers": "Manager", "cs-team": "CSM", "cs-admins": "Admin"}
    assert values["OIDC_DEFAULT_ROLE"] == "Viewer" and values["OIDC_GROUPS_CLAIM"] == "groups"
    assert values["SSO_ONLY"] is True and values["SSO_BREAK_GLASS_USERS"] == ["admin", "root"]
    assert values["OIDC_RP_SIGN_ALGO"] == "RS256" and values["OIDC_USE_PKCE"] is True
    assert project["AUTHENTICATION_BACKENDS"] == [
        "lockout",
        "churnapp.sso.PasswordLoginGate",
        "django.contrib.auth.backends.ModelBackend",
        "churnapp.sso.SSOBackend",
    ]
    assert project["MIDDLEWARE"][1] == "churnapp.sso_middleware.SessionRefresh"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"SSO_ONLY": "true"}, "SSO_ONLY needs single sign-on"),
        ({"OIDC_ISSUER": "https://id.example.com", "OIDC_CLIENT_ID": "c"}, "Set OIDC_CLIENT_SECRET"),
        ({"OIDC_ROLE_MAP": "cs-managers=Boss"}, "unknown role 'Boss'"),
        ({"OIDC_ROLE_MAP": "cs-managers"}, "is not group=Role"),
        ({"OIDC_DEFAULT_ROLE": "Owner"}, "OIDC_DEFAULT_ROLE: unknown role"),
    ],
)
def test_a_configuration_that_cannot_work_stops_start_up_with_a_message(monkeypatch, variables, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        _read(monkeypatch, **variables)


def test_explicit_endpoints_need_all_four_without_an_issuer(monkeypatch):
    monkeypatch.setenv("OIDC_OP_AUTHORIZATION_ENDPOINT", "https://id.example.com/auth")
    with pytest.raises(ImproperlyConfigured, match="OIDC_OP_TOKEN_ENDPOINT"):
        _read(monkeypatch, OIDC_CLIENT_ID="c", OIDC_CLIENT_SECRET="s")


def test_the_settings_name_the_roles_as_churnapp_roles_does():
    assert set(sso_settings.ROLE_NAMES) == {role.value for role in Role}


def test_sso_is_off_by_default(monkeypatch):
    values, _ = _read(monkeypatch)
    assert values["OIDC_RP_CLIENT_ID"] == "" and values["OIDC_ISSUER"] == ""


@pytest.mark.parametrize(
    ("groups", "default", "role"),
    [
        (["cs-team"], "", Role.CSM),
        (["sales", "CS-Managers"], "", Role.MANAGER),  # group names compare without case
        (["cs-team", "cs-admins", "cs-managers"], "", Role.ADMIN),  # the broadest wins
        ("cs-team", "", Role.CSM),  # a provider that sends one group as a string
        (["sales"], "", None),
        ([], "", None),
        (None, "Viewer", Role.VIEWER),
        (["sales"], "CSM", Role.CSM),
    ],
)
def test_groups_map_to_roles(settings, groups, default, role):
    settings.OIDC_ROLE_MAP = {"cs-managers": "Manager", "cs-team": "CSM", "cs-admins": "Admin"}
    settings.OIDC_DEFAULT_ROLE = default
    assert role_for_groups(groups) == role


def test_sso_needs_a_client_id_and_an_issuer_or_endpoint(settings):
    for name, value in OFF.items():
        setattr(settings, name, value)
    assert not sso_enabled()
    settings.OIDC_RP_CLIENT_ID = "c"
    assert not sso_enabled()
    settings.OIDC_ISSUER = "https://id.example.com"
    assert sso_enabled()
