"""Single sign-on settings, read from the environment by `churnapp.settings` (which calls `read`).

SSO is off unless OIDC_CLIENT_ID and OIDC_ISSUER (or the four explicit endpoints) are set. The endpoints come from
the issuer's /.well-known/openid-configuration, fetched on first use: the provider need not answer at start-up.
A configuration that cannot work (no secret, SSO_ONLY without SSO, an unknown role) stops start-up with a message.
This module is imported while settings load: it imports nothing of Django but the exception.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

# churnapp.roles.Role's values (the settings cannot import the roles module: it needs the app registry).
ROLE_NAMES = ("Admin", "Manager", "CSM", "Viewer")
ENDPOINT_VARIABLES = (
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT",
)


def role_name(name: str, variable: str) -> str:
    """A role as churnapp.roles names it, whatever its case."""
    by_lower = {role.lower(): role for role in ROLE_NAMES}
    if name.strip().lower() not in by_lower:
        raise ImproperlyConfigured(f"{variable}: unknown role {name.strip()!r} (one of {', '.join(ROLE_NAMES)}).")
    return by_lower[name.strip().lower()]


def role_map(raw: list[str]) -> dict[str, str]:
    """["cs-managers=Manager", "cs-team=CSM"] → {"cs-managers": "Manager", "cs-team": "CSM"}."""
    mapping = {}
    for item in raw:
        group, sign, role = item.partition("=")
        if not sign or not group.strip():
            raise ImproperlyConfigured(f"OIDC_ROLE_MAP: {item!r} is not group=Role.")
        mapping[group.strip()] = role_name(role, "OIDC_ROLE_MAP")
    return mapping


def read(env, project: dict) -> dict:
    """The OIDC_* and SSO_* settings (mozilla-django-oidc's names where it reads them), after wiring the backends,
    the session-refresh middleware and the login pages' context into the project's settings."""
    values = {
        "OIDC_ISSUER": env.str("OIDC_ISSUER", default="").rstrip("/"),
        "OIDC_RP_CLIENT_ID": env.str("OIDC_CLIENT_ID", default=""),
        "OIDC_RP_CLIENT_SECRET": env.str("OIDC_CLIENT_SECRET", default=""),
        "OIDC_RP_SCOPES": env.str("OIDC_SCOPES", default="openid email profile"),
        **{name: env.str(name, default="") for name in ENDPOINT_VARIABLES},
        "OIDC_RP_SIGN_ALGO": "RS256",  # signed ID tokens only, checked with the provider's JWKS
        "OIDC_USE_PKCE": True,
        "OIDC_TIMEOUT": env.int("OIDC_TIMEOUT", default=10),  # seconds for each call to the provider
        # A signed-in person's session is checked again at the provider (prompt=none) after this many seconds.
        "OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS": env.int("OIDC_RENEW_SECONDS", default=15 * 60),
        "OIDC_GROUPS_CLAIM": env.str("OIDC_GROUPS_CLAIM", default="groups"),
        "OIDC_ROLE_MAP": role_map(env.list("OIDC_ROLE_MAP", default=[])),
        "OIDC_DEFAULT_ROLE": role_name(default, "OIDC_DEFAULT_ROLE")
        if (default := env.str("OIDC_DEFAULT_ROLE", default="").strip())
        else "",
        "SSO_ONLY": env.bool("SSO_ONLY", default=False),
        "SSO_BREAK_GLASS_USERS": env.list("SSO_BREAK_GLASS_USERS", default=[]),
    }
    if values["OIDC_RP_CLIENT_ID"] and (values["OIDC_ISSUER"] or values["OIDC_OP_AUTHORIZATION_ENDPOINT"]):
        if not values["OIDC_RP_CLIENT_SECRET"]:
            raise ImproperlyConfigured("Set OIDC_CLIENT_SECRET (single sign-on is configured with OIDC_CLIENT_ID).")
        missing = [name for name in ENDPOINT_VARIABLES if not values[name]]
        if not values["OIDC_ISSUER"] and missing:
            raise ImproperlyConfigured(f"Set OIDC_ISSUER, or every endpoint ({', '.join(missing)} missing).")
    elif values["SSO_ONLY"]:
        raise ImproperlyConfigured("SSO_ONLY needs single sign-on: set OIDC_ISSUER and OIDC_CLIENT_ID.")

    backends = project["AUTHENTICATION_BACKENDS"]
    backends.insert(1, "churnapp.sso.PasswordLoginGate")  # after the lockout, before any password is checked
    backends.append("churnapp.sso.SSOBackend")
    middleware = project["MIDDLEWARE"]
    middleware.insert(
        middleware.index("churnapp.middleware.UserLanguageMiddleware") + 1, "churnapp.sso_middleware.SessionRefresh"
    )
    project["TEMPLATES"][0]["OPTIONS"]["context_processors"].append("churnapp.sso.login_options")
    # Refused SSO sign-ins are not password failures: no login lockout counts them.
    values["AXES_WHITELIST_CALLABLE"] = "churnapp.sso.is_sso_callback"
    return values
