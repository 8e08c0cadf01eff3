"""The permission matrix, as data: every route of the URL resolver and every operation of the OpenAPI schema ×
every actor → the expected outcome. `test_permission_matrix.py` sends each request for real and fails when a
route has no row here, so no new route escapes.

Outcomes: "allowed" (the request reached the view: 2xx, a redirect elsewhere than the login page, or 400 for the
content), "login" (redirected to the login page), "401", "403", "404", "405".
Actors: anonymous; the four roles (a CSM who owns the account the target object hangs on, and one who does not);
an admin; one API key per scope (ingest = tracking and event ingestion only, read = GET, write = CRM/helpdesk sync
upserts, admin = configuration and keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.churnapp.permission_world import ACTORS, ALLOWED, LOGIN

OK, L = ALLOWED, LOGIN


def _o(*outcomes: str) -> dict[str, str]:
    """Outcomes in the order of ACTORS: anonymous, viewer, csm_owner, csm_other, manager, admin,
    key_ingest, key_read, key_write, key_admin."""
    assert len(outcomes) == len(ACTORS)
    return dict(zip(ACTORS, outcomes, strict=True))


@dataclass(eq=False)
class Row:
    """One route (or API operation) and method, optionally a variant of its request, and what each actor gets.
    `pending`: actors whose expected outcome is the behaviour a fix in progress brings (actor → which fix); until
    it lands their old answer is reported as an expected failure, never hidden as a pass."""

    route: str
    method: str
    expect: dict[str, str]
    variant: str = ""
    pending: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.route}" + (f" [{self.variant}]" if self.variant else "")


# --- Who gets what: the recurring columns -------------------------------------------------------------------------
# Pages authenticate by session only: an API key on a page is nobody, sent to the login page like anonymous.
SIGNED_IN = _o(L, OK, OK, OK, OK, OK, L, L, L, L)
CSM_AND_UP = _o(L, "403", OK, OK, OK, OK, L, L, L, L)  # a Viewer changes nothing
OWNER_AND_MANAGERS = _o(L, "403", OK, "403", OK, OK, L, L, L, L)  # the target's owner, managers, admins
CONFIGURERS = _o(L, "403", "403", "403", OK, OK, L, L, L, L)  # managers and admins
ADMINS = _o(L, "403", "403", "403", "403", OK, L, L, L, L)  # users, keys and integrations
STAFF = _o(L, L, L, L, L, OK, L, L, L, L)  # the Django admin: staff only, others to its login page
EVERYONE = _o(*[OK] * len(ACTORS))  # public: a token or a signature is the credential, checked by the view
# The API: session users by role, keys by scope (no key reaches a page of another scope).
API_READ = _o("401", OK, OK, OK, OK, OK, "403", OK, "403", OK)
API_OWNER_WRITE = _o("401", "403", OK, "403", OK, OK, "403", "403", OK, OK)
API_MANAGER_WRITE = _o("401", "403", "403", "403", OK, OK, "403", "403", OK, OK)
API_CONFIG = _o("401", "403", "403", "403", OK, OK, "403", "403", "403", OK)
API_ADMINS = _o("401", "403", "403", "403", "403", OK, "403", "403", "403", OK)  # the audit trail
CONFIG_READ = _o("401", OK, OK, OK, OK, OK, "403", "403", "403", OK)  # the configuration API: config/admin keys
TRACKING = _o("401", "403", "403", "403", "403", "403", OK, "403", "403", OK)
EVENT_INGEST = _o("401", "403", "403", "403", OK, OK, OK, "403", OK, OK)


ADMIN_ROUTE = "/admin/*"
ADMIN_URLS = ["/admin/", "/admin/accounts/account/", "/admin/auth/user/", "/admin/axes/accessattempt/"]


# Which object a route's `pk` (`id` in the schema) names.
PK_OF: dict[str, str] = {}
# Values of the other URL kwargs: a literal, or "@name" for an object of the world (its str()).
KWARG_VALUES: dict[str, str] = {}

PK_OF.update(
    {
        "/accounts/views/{pk}/delete/": "saved_view",
        "/accounts/bulk/{pk}/": "bulk_edit",
        "/settings/exchange-rates/{pk}/delete/": "exchange_rate",
        "/accounts/bulk/{pk}/cancel/": "bulk_edit",
        "/accounts/bulk/{pk}/confirm/": "bulk_edit",
        "/accounts/{pk}/": "account",
        "/accounts/{pk}/notes/": "account",
        "/accounts/{pk}/owner/": "account",
        "/accounts/{pk}/section/{section}/": "account",
        "/accounts/{pk}/status/": "account",
        "/accounts/{pk}/tasks/": "account",
        "/tasks/{pk}/complete/": "task",
        "/automations/accounts/{pk}/": "account",
        "/automations/accounts/{pk}/enrol/": "account",
        "/automations/accounts/{pk}/team/": "account",
        "/messaging/emails/{pk}/": "email_template",
        "/messaging/emails/outbox/{pk}/resolve/": "email_message",
        "/automations/enrolments/{pk}/stop/": "enrolment",
        "/automations/journeys/{pk}/": "journey",
        "/automations/journeys/{pk}/edit/": "journey",
        "/automations/milestones/{pk}/reach/": "milestone_progress",
        "/automations/playbooks/{pk}/": "playbook",
        "/automations/playbooks/{pk}/edit/": "playbook",
        "/automations/rules/{pk}/": "rule",
        "/automations/rules/{pk}/dry-run/": "rule",
        "/automations/rules/{pk}/backtest/": "rule",
        "/automations/rules/{pk}/edit/": "rule",
        "/automations/rules/{pk}/run/": "rule",
        "/automations/rules/{pk}/toggle/": "rule",
        "/dashboard/cac/{pk}/delete/": "cac",
        "/dashboard/goals/{pk}/delete/": "goal",
        "/health/accounts/{pk}/health/": "account",
        "/health/accounts/{pk}/sentiment/": "account",
        "/health/profiles/{pk}/": "profile",
        "/health/profiles/{pk}/backtest/": "profile",
        "/health/profiles/{pk}/draft/": "profile",
        "/health/profiles/{pk}/preview/": "profile",
        "/health/profiles/{pk}/save/": "profile",
        "/imports/{pk}/": "import_job",
        "/imports/{pk}/errors.csv": "import_job",
        "/settings/integrations/api-keys/{pk}/revoke/": "revocable_key",
        "/settings/integrations/webhooks/{pk}/": "webhook_endpoint",
        "/winback/accounts/{pk}/cancel/": "account",
        "/winback/accounts/{pk}/card/": "account",
        "/winback/accounts/{pk}/pause/": "account",
        "/winback/accounts/{pk}/suppress/": "account",
        "/winback/accounts/{pk}/survey/": "account",
        "/winback/campaigns/{pk}/": "campaign",
        "/winback/campaigns/{pk}/send/": "campaign",
        "/winback/clusters/{pk}/name/": "cluster",
        "/winback/responses/{pk}/follow-up/": "survey_response",
        "/winback/themes/{pk}/loop/": "theme",
        "/api/v1/accounts/{id}/": "account",
        "/api/v1/activities/{id}/": "activity",
        "/api/v1/activities/{id}/#audit": "audit_entry",
        "/api/v1/audit-entries/{id}/": "trail_entry",
        "/api/v1/churn-models/{id}/": "churn_model",
        "/api/v1/contacts/{id}/": "contact",
        "/api/v1/events/{id}/": "event",
        "/api/v1/health-profile-versions/{id}/": "profile_version",
        "/api/v1/health-snapshots/{id}/": "snapshot",
        "/api/v1/subscriptions/{id}/": "subscription",
        "/api/v1/survey-responses/{id}/": "survey_response",
        "/api/v1/tags/{id}/": "tag",
        "/api/v1/bulk-edits/{id}/": "bulk_edit",
        "/api/v1/bulk-edits/{id}/confirm/": "bulk_edit",
        "/api/v1/bulk-edits/{id}/cancel/": "bulk_edit",
        "/api/v1/tasks/{id}/": "task",
        "/api/v1/tickets/{id}/": "ticket",
        "/api/v1/winback/churn-records/{id}/": "churn_record",
        "/api/v1/winback/survey-invitations/{id}/": "survey_invitation",
        "/privacy/accounts/{pk}/card/": "account",
        "/privacy/accounts/{pk}/erase/": "account",
        "/privacy/accounts/{pk}/export/": "account",
        "/privacy/contacts/{pk}/erase/": "contact",
        "/privacy/contacts/{pk}/export/": "contact",
        "/api/v1/privacy/exports/account/{id}/": "account",
        "/api/v1/privacy/exports/contact/{id}/": "contact",
        "/api/v1/config/goals/{id}/": "goal",
    }
)
KWARG_VALUES.update(
    {
        "/api/v1/churn-models/lab-runs/{run_id}/|run_id": "@lab_run",
        "section": "timeline",
        "rest": "new/",
        "widget": "kpi-cards",
        "kpi": "churn-rate",
        "measure": "churned",
        "signed": "not-a-valid-signature",
        "token": "not-a-valid-token",
        "uidb64": "MQ",
        "name": "no-such-kpi",
        "code": "@reason.code",
        "/api/v1/accounts/by-external-id/{external_id}/|external_id": "@account.external_id",
        "/api/v1/contacts/by-external-id/{external_id}/|external_id": "@contact.external_id",
        "/api/v1/subscriptions/by-external-id/{external_id}/|external_id": "@subscription.external_id",
        "/api/v1/tickets/by-external-id/{external_id}/|external_id": "@ticket.external_id",
        "/api/v1/survey-responses/by-external-id/{external_id}/|external_id": "@survey_response.external_id",
        "/survey/{token}/|token": "@survey_invitation.token",
        "/api/v1/config/rules/{key}/|key": "@rule.key",
        "/api/v1/config/playbooks/{key}/|key": "@playbook.key",
        "/api/v1/config/journeys/{key}/|key": "@journey.key",
        "/api/v1/config/email-templates/{key}/|key": "@email_template.key",
        "/api/v1/config/survey-schedules/{key}/|key": "@survey_schedule.key",
        "/api/v1/config/webhook-endpoints/{key}/|key": "@webhook_endpoint.key",
        "/api/v1/config/health-profiles/{key}/|key": "default",
        "/api/v1/config/health-profiles/{key}/draft/|key": "default",
        "/api/v1/config/health-profiles/{key}/preview/|key": "default",
        "/api/v1/config/health-profiles/{key}/publish/|key": "default",
        "/api/v1/config/health-profiles/{key}/versions/|key": "default",
        "issue_type": "billing",
        "/survey/{token}/thanks/|token": "@survey_invitation.token",
    }
)

# --- Request bodies (placeholders: permission_world.World.placeholders) ------------------------------------------
_AT = "2024-01-01T00:00:00Z"
ROWS_OF = {
    "accounts": {"external_id": "{own}", "name": "Owned Co renamed"},
    "contacts": {"external_id": "{contact}", "account": "{own}", "email": "{contact_email}", "name": "Pat"},
    "subscriptions": {
        "external_id": "{subscription}",
        "account": "{own}",
        "product": "core",
        "mrr": "120",
        "start_date": "2024-01-01",
    },
    "tickets": {"external_id": "{ticket}", "account": "{own}", "subject": "Help", "opened_at": _AT},
    "survey-responses": {"external_id": "{survey}", "account": "{own}", "kind": "nps", "score": 9, "responded_at": _AT},
    "tags": {"name": "vip2"},
    "tasks": {"account": "{own}", "title": "Call them"},
    "activities": {"account": "{own}", "kind": "note", "body": "Met them"},
    "events": {"account": "{own}", "event_type": "login", "occurred_at": _AT},
}
UPDATES_OF = {
    "accounts": {"name": "Renamed"},
    "contacts": {"name": "Pat 2"},
    "subscriptions": {"mrr": "130"},
    "tickets": {"subject": "Help again"},
    "survey-responses": {"comment": "Fine"},
    "tags": {"color": "red"},
    "tasks": {"title": "Call again"},
    "activities": {"body": "Met them again"},
}
# Finding: an upsert by external id must not move someone else's object to the caller's account. The target
# (contact, subscription, ticket, survey response) hangs on csm_owner's account; the body names csm_other's.
TAKEOVER_OF = {
    kind: {**ROWS_OF[kind], "account": "{other}"}
    for kind in ("contacts", "subscriptions", "tickets", "survey-responses")
}
WEB_POST_BODIES = {
    # Views that validate the form before the ownership check: a valid form, or the check is never reached.
    "/winback/responses/{pk}/follow-up/": {"note": "Called them back"},
}
API_BODIES = {
    ("/api/v1/winback/churn-records/", "post"): {"account": "{own_pk}", "reason": "price"},
    ("/api/v1/winback/pauses/", "post"): {"account": "{own_pk}", "resume_on": "2099-01-01"},
    ("/api/v1/winback/survey-invitations/", "post"): {"contact": "{contact_pk}", "kind": "nps", "send_email": False},
    ("/api/v1/bulk-edits/", "post"): {"action": "tag_add", "value": "vip", "accounts": ["{own_pk}"]},
    ("/api/v1/rule-backtests/", "post"): {"conditions": {"type": "health_below", "value": 70}, "months": 1},
}
# Query strings a route needs to reach its permission check.
QUERY = {
    "/api/v1/search/": "q=acme",
    "/dashboard/drilldown/{kpi}/{measure}/": "start=2024-01-01&end=2024-02-01",
    "/dashboard/drilldown/{kpi}/{measure}/csv/": "start=2024-01-01&end=2024-02-01",
}
TRACK = {"userId": "u-1", "event": "Signed in", "context": {"groupId": "{own}"}}


def body_for(path: str, method: str, variant: str = ""):
    """The request body a row sends (None: no body)."""
    if (path, method) in API_BODIES:
        return API_BODIES[(path, method)]
    if not path.startswith(("/api/", "/v1/")):
        return WEB_POST_BODIES.get(path, {}) if method == "post" else None
    if path.startswith("/v1/"):
        return {"batch": [{"type": "track", **TRACK}]} if path == "/v1/batch" else TRACK
    match = path.removeprefix("/api/v1/").split("/")
    kind = match[0]
    source = TAKEOVER_OF if variant == "takeover" else ROWS_OF
    if method == "post" and path.endswith("/bulk/"):
        return {"rows": [source[kind]]}
    if method == "post" and kind in source:
        return source[kind]
    if method == "put" and "/by-external-id/" in path:
        return {k: v for k, v in source[kind].items() if k != "external_id"}
    if method in ("put", "patch") and kind in UPDATES_OF:
        return {**ROWS_OF[kind], **UPDATES_OF[kind]} if method == "put" else UPDATES_OF[kind]
    if method in ("post", "put", "patch"):
        return {}
    return None


# Audit entries (kind=change, written by a manager on the owner's account): nobody rewrites them over the API.
AUDIT_LOCKED = _o("401", "403", "403", "403", "403", "403", "403", "403", "403", "403")
# An activity (a note by csm_owner) is edited by its author only, so its byline stays true.
AUTHOR_WRITE = _o("401", "403", OK, "403", "403", "403", "403", "403", "403", "403")

BULK_EDITORS = _o("401", "403", OK, OK, OK, OK, "403", "403", "403", "403")

# --- The matrix ---------------------------------------------------------------------------------------------------
ROWS: list[Row] = [
    Row(ADMIN_ROUTE, "get", STAFF),
    Row("/", "get", SIGNED_IN),
    Row("/my-day/tasks/", "get", SIGNED_IN),
    Row("/accounts/", "get", SIGNED_IN),
    Row("/favicon.ico", "get", EVERYONE),
    Row("/settings/language/", "post", EVERYONE),  # anyone may switch: a cookie, and a signed-in user's choice
    Row("/settings/integrations/", "get", ADMINS),
    Row("/search/", "get", SIGNED_IN),
    Row("/settings/exchange-rates/", "get", CONFIGURERS),
    Row("/settings/exchange-rates/", "post", CONFIGURERS),
    Row("/settings/exchange-rates/{pk}/delete/", "post", CONFIGURERS),
    Row("/api/v1/search/", "get", API_READ),
    Row("/api/v1/rule-backtests/", "post", API_READ),  # writes nothing: read keys may backtest
    Row("/accounts/bulk/", "post", CSM_AND_UP),
    Row("/accounts/bulk/{pk}/", "get", OWNER_AND_MANAGERS),  # the asker (csm_owner), managers and admins
    Row("/accounts/bulk/{pk}/cancel/", "post", OWNER_AND_MANAGERS),
    Row("/accounts/bulk/{pk}/confirm/", "post", _o(L, "403", OK, "403", "403", "403", L, L, L, L)),  # the asker only
    Row("/accounts/views/", "post", CSM_AND_UP),
    Row("/accounts/views/{pk}/delete/", "post", OWNER_AND_MANAGERS),
    Row("/accounts/{pk}/", "get", SIGNED_IN),
    Row("/accounts/{pk}/notes/", "post", OWNER_AND_MANAGERS),
    Row("/accounts/{pk}/owner/", "post", OWNER_AND_MANAGERS),
    Row("/accounts/{pk}/section/{section}/", "get", SIGNED_IN),
    Row("/accounts/{pk}/status/", "post", OWNER_AND_MANAGERS),
    Row("/accounts/{pk}/tasks/", "post", OWNER_AND_MANAGERS),
    Row("/api/docs/", "get", _o(L, OK, OK, OK, OK, OK, "403", OK, "403", OK)),
    Row("/api/redoc/", "get", _o(L, OK, OK, OK, OK, OK, "403", OK, "403", OK)),
    Row("/api/schema/", "get", API_READ),
    Row("/api/v1/", "get", API_READ),
    Row("/api/v1/kpis/{name}/", "get", _o("401", "404", "404", "404", "404", "404", "403", "404", "403", "404")),
    Row("/api/v1/kpis/{name}/series/", "get", _o("401", "404", "404", "404", "404", "404", "403", "404", "403", "404")),
    Row("/auth/login/", "get", EVERYONE),
    Row("/auth/login/", "post", EVERYONE),
    Row("/auth/logout/", "post", _o(*[L] * len(ACTORS))),
    Row("/auth/password_change/", "get", SIGNED_IN),
    Row("/auth/password_change/", "post", SIGNED_IN),
    Row("/auth/password_change/done/", "get", SIGNED_IN),
    Row("/auth/password_reset/", "get", EVERYONE),
    Row("/auth/password_reset/", "post", EVERYONE),
    Row("/auth/password_reset/done/", "get", EVERYONE),
    Row("/auth/reset/done/", "get", EVERYONE),
    Row("/auth/reset/{uidb64}/{token}/", "get", EVERYONE),
    Row("/auth/reset/{uidb64}/{token}/", "post", EVERYONE),
    Row("/automations/", "get", SIGNED_IN),
    Row("/automations/accounts/{pk}/", "get", SIGNED_IN),
    Row("/automations/accounts/{pk}/enrol/", "post", OWNER_AND_MANAGERS),
    Row("/automations/accounts/{pk}/team/", "get", OWNER_AND_MANAGERS),
    Row("/automations/accounts/{pk}/team/", "post", OWNER_AND_MANAGERS),
    Row("/automations/builtins/", "post", CONFIGURERS),
    Row("/messaging/emails/", "get", SIGNED_IN),
    Row("/messaging/emails/new/", "get", CONFIGURERS),
    Row("/messaging/emails/new/", "post", CONFIGURERS),
    Row("/messaging/emails/{pk}/", "get", CONFIGURERS),
    Row("/messaging/emails/{pk}/", "post", CONFIGURERS),
    Row("/messaging/emails/outbox/{pk}/resolve/", "post", CONFIGURERS),
    Row("/automations/enrolments/{pk}/stop/", "post", OWNER_AND_MANAGERS),
    Row("/automations/journeys/", "get", SIGNED_IN),
    Row("/automations/journeys/new/", "get", CONFIGURERS),
    Row("/automations/journeys/new/", "post", CONFIGURERS),
    Row("/automations/journeys/{pk}/", "get", SIGNED_IN),
    Row("/automations/journeys/{pk}/edit/", "get", CONFIGURERS),
    Row("/automations/journeys/{pk}/edit/", "post", CONFIGURERS),
    Row("/automations/milestones/{pk}/reach/", "post", OWNER_AND_MANAGERS),
    Row("/automations/playbooks/", "get", SIGNED_IN),
    Row("/automations/playbooks/new/", "get", CONFIGURERS),
    Row("/automations/playbooks/new/", "post", CONFIGURERS),
    Row("/automations/playbooks/{pk}/", "get", SIGNED_IN),
    Row("/automations/playbooks/{pk}/", "post", CONFIGURERS),
    Row("/automations/playbooks/{pk}/edit/", "get", CONFIGURERS),
    Row("/automations/playbooks/{pk}/edit/", "post", CONFIGURERS),
    Row("/automations/rules/dry-run/", "post", CONFIGURERS),
    Row("/automations/rules/backtest/", "post", CONFIGURERS),
    Row("/automations/rules/export/", "get", SIGNED_IN),
    Row("/automations/rules/import/", "post", CONFIGURERS),
    Row("/automations/rules/new/", "get", CONFIGURERS),
    Row("/automations/rules/new/", "post", CONFIGURERS),
    Row("/automations/rules/{pk}/", "get", SIGNED_IN),
    Row("/automations/rules/{pk}/dry-run/", "get", SIGNED_IN),
    Row("/automations/rules/{pk}/backtest/", "get", SIGNED_IN),
    Row("/automations/rules/{pk}/edit/", "get", CONFIGURERS),
    Row("/automations/rules/{pk}/edit/", "post", CONFIGURERS),
    Row("/automations/rules/{pk}/run/", "post", CONFIGURERS),
    Row("/automations/rules/{pk}/toggle/", "post", CONFIGURERS),
    Row("/dashboard/", "get", SIGNED_IN),
    Row("/dashboard/cac/", "get", SIGNED_IN),
    Row("/dashboard/cac/", "post", CONFIGURERS),
    Row("/dashboard/cac/{pk}/delete/", "post", CONFIGURERS),
    Row("/dashboard/drilldown/{kpi}/{measure}/", "get", SIGNED_IN),
    Row("/dashboard/drilldown/{kpi}/{measure}/csv/", "get", SIGNED_IN),
    Row("/dashboard/goals/", "get", SIGNED_IN),
    Row("/dashboard/goals/", "post", CONFIGURERS),
    Row("/dashboard/goals/{pk}/delete/", "post", CONFIGURERS),
    Row("/automations/emails/{rest}", "get", SIGNED_IN),  # moved to /messaging/emails/: a permanent redirect
    Row("/dashboard/widgets/{widget}/", "get", SIGNED_IN),
    Row("/dashboard/widgets/{widget}/csv/", "get", SIGNED_IN),
    Row("/e/c/{signed}/", "get", _o(*["404"] * len(ACTORS))),
    Row("/e/o/{signed}/", "get", EVERYONE),
    Row("/e/unsubscribe/{token}/", "get", EVERYONE),
    Row("/e/unsubscribe/{token}/", "post", EVERYONE),
    Row("/health/accounts/{pk}/health/", "get", SIGNED_IN),
    Row("/health/accounts/{pk}/sentiment/", "post", OWNER_AND_MANAGERS),
    Row("/health/model/", "get", SIGNED_IN),
    Row("/health/model/train/", "post", CONFIGURERS),
    Row("/health/model/lab/", "post", CONFIGURERS),
    Row("/health/priorities/", "get", SIGNED_IN),
    Row("/health/profiles/", "get", SIGNED_IN),
    Row("/health/profiles/{pk}/", "get", SIGNED_IN),
    Row("/health/profiles/{pk}/backtest/", "post", CONFIGURERS),
    Row("/health/profiles/{pk}/draft/", "post", CONFIGURERS),
    Row("/health/profiles/{pk}/preview/", "post", CONFIGURERS),
    Row("/health/profiles/{pk}/save/", "post", CONFIGURERS),
    Row("/healthz/", "get", EVERYONE),
    Row("/imports/", "get", CONFIGURERS),
    Row("/imports/", "post", CONFIGURERS),
    Row("/imports/{pk}/", "get", CONFIGURERS),
    Row("/imports/{pk}/errors.csv", "get", CONFIGURERS),
    Row("/login/", "get", EVERYONE),
    Row("/login/", "post", EVERYONE),
    Row("/logout/", "post", _o(*[L] * len(ACTORS))),
    # Single sign-on (OpenID Connect): not configured in this world, so 404 for everyone.
    Row("/oidc/authenticate/", "get", _o(*["404"] * len(ACTORS))),
    Row("/oidc/callback/", "get", _o(*["404"] * len(ACTORS))),
    Row("/notifications/", "get", SIGNED_IN),
    Row("/notifications/bell/", "get", SIGNED_IN),
    Row("/notifications/read/", "post", SIGNED_IN),
    Row("/settings/audit/", "get", ADMINS),
    Row("/settings/integrations/api-keys/", "get", ADMINS),
    Row("/settings/integrations/api-keys/", "post", ADMINS),
    Row("/settings/integrations/api-keys/{pk}/revoke/", "post", ADMINS),
    Row("/settings/integrations/webhooks/", "get", ADMINS),
    Row("/settings/integrations/webhooks/", "post", ADMINS),
    Row("/settings/integrations/webhooks/{pk}/", "get", ADMINS),
    Row("/settings/integrations/webhooks/{pk}/", "post", ADMINS),
    Row("/survey/{token}/", "get", EVERYONE),
    Row("/survey/{token}/", "post", EVERYONE),
    Row("/survey/{token}/thanks/", "get", _o(*["404"] * len(ACTORS))),
    Row("/tasks/{pk}/complete/", "post", OWNER_AND_MANAGERS),
    Row("/webhooks/helpdesk/", "post", _o(*["401"] * len(ACTORS))),
    Row("/webhooks/stripe/", "post", EVERYONE),
    Row("/winback/", "get", SIGNED_IN),
    Row("/winback/accounts/{pk}/cancel/", "get", OWNER_AND_MANAGERS),
    Row("/winback/accounts/{pk}/cancel/", "post", OWNER_AND_MANAGERS),
    Row("/winback/accounts/{pk}/card/", "get", SIGNED_IN),
    Row("/winback/accounts/{pk}/pause/", "post", OWNER_AND_MANAGERS),
    Row("/winback/accounts/{pk}/suppress/", "post", OWNER_AND_MANAGERS),
    Row("/winback/accounts/{pk}/survey/", "post", OWNER_AND_MANAGERS),
    Row("/winback/campaigns/", "post", CONFIGURERS),
    Row("/winback/campaigns/{pk}/", "get", SIGNED_IN),
    Row("/winback/campaigns/{pk}/send/", "post", CONFIGURERS),
    Row("/winback/clusters/{pk}/name/", "post", CONFIGURERS),
    Row("/winback/feedback/", "get", SIGNED_IN),
    Row("/winback/issue-routes/", "post", CONFIGURERS),
    Row("/winback/release-notes/", "post", CONFIGURERS),
    Row("/winback/responses/{pk}/follow-up/", "post", OWNER_AND_MANAGERS),
    Row("/winback/themes/recluster/", "post", CONFIGURERS),
    Row("/winback/themes/{pk}/loop/", "post", CONFIGURERS),
    Row("/api/v1/accounts/", "get", API_READ),
    Row("/api/v1/audit-entries/", "get", API_ADMINS),
    Row("/api/v1/audit-entries/{id}/", "get", API_ADMINS),
    Row("/api/v1/accounts/", "post", API_OWNER_WRITE),
    Row("/api/v1/accounts/bulk/", "post", API_OWNER_WRITE),
    Row("/api/v1/accounts/by-external-id/{external_id}/", "put", API_OWNER_WRITE),
    Row("/api/v1/accounts/{id}/", "delete", API_MANAGER_WRITE),
    Row("/api/v1/accounts/{id}/", "get", API_READ),
    Row("/api/v1/accounts/{id}/", "patch", API_OWNER_WRITE),
    Row("/api/v1/accounts/{id}/", "put", API_OWNER_WRITE),
    Row("/api/v1/activities/", "get", API_READ),
    Row("/api/v1/activities/", "post", API_OWNER_WRITE),
    Row("/api/v1/activities/bulk/", "post", API_OWNER_WRITE),
    Row("/api/v1/activities/{id}/", "delete", API_MANAGER_WRITE),
    Row("/api/v1/activities/{id}/", "get", API_READ),
    Row("/api/v1/activities/{id}/", "patch", AUTHOR_WRITE),
    Row("/api/v1/activities/{id}/", "put", AUTHOR_WRITE),
    Row("/api/v1/activities/{id}/", "patch", AUDIT_LOCKED, variant="audit"),
    Row("/api/v1/activities/{id}/", "put", AUDIT_LOCKED, variant="audit"),
    Row("/api/v1/activities/{id}/", "delete", AUDIT_LOCKED, variant="audit"),
    Row("/api/v1/churn-models/", "get", API_READ),
    Row("/api/v1/churn-models/current/", "get", API_READ),
    Row("/api/v1/churn-models/train/", "post", API_CONFIG),
    Row("/api/v1/churn-models/lab-runs/", "get", API_READ),
    Row("/api/v1/churn-models/lab-runs/", "post", API_CONFIG),
    Row("/api/v1/churn-models/lab-runs/{run_id}/", "get", API_READ),
    Row("/api/v1/churn-models/{id}/", "get", API_READ),
    Row("/api/v1/churn-predictions/", "get", API_READ),
    Row("/api/v1/contacts/", "get", API_READ),
    Row("/api/v1/contacts/", "post", API_OWNER_WRITE),
    Row("/api/v1/contacts/", "post", API_MANAGER_WRITE, variant="takeover"),
    Row("/api/v1/contacts/bulk/", "post", API_OWNER_WRITE),
    Row(
        "/api/v1/contacts/bulk/",
        "post",
        API_MANAGER_WRITE,
        variant="takeover",
    ),
    Row("/api/v1/contacts/by-external-id/{external_id}/", "put", API_OWNER_WRITE),
    Row(
        "/api/v1/contacts/by-external-id/{external_id}/",
        "put",
        API_MANAGER_WRITE,
        variant="takeover",
    ),
    Row("/api/v1/contacts/{id}/", "delete", API_MANAGER_WRITE),
    Row("/api/v1/contacts/{id}/", "get", API_READ),
    Row("/api/v1/contacts/{id}/", "patch", API_OWNER_WRITE),
    Row("/api/v1/contacts/{id}/", "put", API_OWNER_WRITE),
    Row("/api/v1/events/", "get", API_READ),
    Row("/api/v1/events/bulk/", "post", EVENT_INGEST),
    Row("/api/v1/events/{id}/", "get", API_READ),
    Row("/api/v1/health-profile-versions/", "get", API_READ),
    Row("/api/v1/health-profile-versions/{id}/", "get", API_READ),
    Row("/api/v1/health-snapshots/", "get", API_READ),
    Row("/api/v1/health-snapshots/{id}/", "get", API_READ),
    Row("/api/v1/kpis/", "get", API_READ),
    Row("/api/v1/kpis/activity-churn/", "get", API_READ),
    Row("/api/v1/kpis/activity-churn/series/", "get", API_READ),
    Row("/api/v1/kpis/arpa/", "get", API_READ),
    Row("/api/v1/kpis/arpa/series/", "get", API_READ),
    Row("/api/v1/kpis/churn-rate/", "get", API_READ),
    Row("/api/v1/kpis/churn-rate/series/", "get", API_READ),
    Row("/api/v1/kpis/clv/", "get", API_READ),
    Row("/api/v1/kpis/clv/series/", "get", API_READ),
    Row("/api/v1/kpis/cohort-retention/", "get", API_READ),
    Row("/api/v1/kpis/csat/", "get", API_READ),
    Row("/api/v1/kpis/csat/series/", "get", API_READ),
    Row("/api/v1/kpis/csm-workload/", "get", API_READ),
    Row("/api/v1/kpis/engagement-frequency/", "get", API_READ),
    Row("/api/v1/kpis/engagement-frequency/series/", "get", API_READ),
    Row("/api/v1/kpis/health-bands/", "get", API_READ),
    Row("/api/v1/kpis/health-movement/", "get", API_READ),
    Row("/api/v1/kpis/health-movement/series/", "get", API_READ),
    Row("/api/v1/kpis/mrr-churn/", "get", API_READ),
    Row("/api/v1/kpis/mrr-churn/series/", "get", API_READ),
    Row("/api/v1/kpis/mrr-movements/", "get", API_READ),
    Row("/api/v1/kpis/mrr-movements/series/", "get", API_READ),
    Row("/api/v1/kpis/net-retention/", "get", API_READ),
    Row("/api/v1/kpis/net-retention/series/", "get", API_READ),
    Row("/api/v1/kpis/nps/", "get", API_READ),
    Row("/api/v1/kpis/nps/series/", "get", API_READ),
    Row("/api/v1/kpis/onboarding-funnel/", "get", API_READ),
    Row("/api/v1/kpis/onboarding-funnel/series/", "get", API_READ),
    Row("/api/v1/kpis/purchase-clv/", "get", API_READ),
    Row("/api/v1/kpis/purchase-clv/series/", "get", API_READ),
    Row("/api/v1/kpis/repeat-purchase-rate/", "get", API_READ),
    Row("/api/v1/kpis/repeat-purchase-rate/series/", "get", API_READ),
    Row("/api/v1/kpis/survival/", "get", API_READ),
    Row("/api/v1/kpis/survival/series/", "get", API_READ),
    Row("/api/v1/kpis/winback-results/", "get", API_READ),
    Row("/api/v1/kpis/winback-results/series/", "get", API_READ),
    Row("/api/v1/subscriptions/", "get", API_READ),
    Row("/api/v1/subscriptions/", "post", API_MANAGER_WRITE),
    Row("/api/v1/subscriptions/", "post", API_MANAGER_WRITE, variant="takeover"),
    Row("/api/v1/subscriptions/bulk/", "post", API_MANAGER_WRITE),
    Row(
        "/api/v1/subscriptions/bulk/",
        "post",
        API_MANAGER_WRITE,
        variant="takeover",
    ),
    Row("/api/v1/subscriptions/by-external-id/{external_id}/", "put", API_MANAGER_WRITE),
    Row("/api/v1/subscriptions/by-external-id/{external_id}/", "put", API_MANAGER_WRITE, variant="takeover"),
    Row("/api/v1/subscriptions/{id}/", "delete", API_MANAGER_WRITE),
    Row("/api/v1/subscriptions/{id}/", "get", API_READ),
    Row("/api/v1/subscriptions/{id}/", "patch", API_MANAGER_WRITE),
    Row("/api/v1/subscriptions/{id}/", "put", API_MANAGER_WRITE),
    Row("/api/v1/survey-responses/", "get", API_READ),
    Row("/api/v1/survey-responses/", "post", API_MANAGER_WRITE),
    Row("/api/v1/survey-responses/", "post", API_MANAGER_WRITE, variant="takeover"),
    Row("/api/v1/survey-responses/bulk/", "post", API_MANAGER_WRITE),
    Row(
        "/api/v1/survey-responses/bulk/",
        "post",
        API_MANAGER_WRITE,
        variant="takeover",
    ),
    Row("/api/v1/survey-responses/by-external-id/{external_id}/", "put", API_MANAGER_WRITE),
    Row("/api/v1/survey-responses/by-external-id/{external_id}/", "put", API_MANAGER_WRITE, variant="takeover"),
    Row("/api/v1/survey-responses/{id}/", "delete", API_MANAGER_WRITE),
    Row("/api/v1/survey-responses/{id}/", "get", API_READ),
    Row("/api/v1/survey-responses/{id}/", "patch", API_MANAGER_WRITE),
    Row("/api/v1/survey-responses/{id}/", "put", API_MANAGER_WRITE),
    Row("/api/v1/tags/", "get", API_READ),
    Row("/api/v1/tags/", "post", API_MANAGER_WRITE),
    Row("/api/v1/tags/bulk/", "post", API_MANAGER_WRITE),
    Row("/api/v1/tags/{id}/", "delete", API_MANAGER_WRITE),
    Row("/api/v1/tags/{id}/", "get", API_READ),
    Row("/api/v1/tags/{id}/", "patch", API_MANAGER_WRITE),
    Row("/api/v1/tags/{id}/", "put", API_MANAGER_WRITE),
    # Bulk edits are a person's act, checked per account against their role: no API key makes one; a draft is seen
    # by its asker (csm_owner) and managers, confirmed by its asker only.
    Row("/api/v1/bulk-edits/", "get", BULK_EDITORS),
    Row("/api/v1/bulk-edits/", "post", BULK_EDITORS),
    Row("/api/v1/bulk-edits/{id}/", "get", _o("401", "403", OK, "404", OK, OK, "403", "403", "403", "403")),
    Row(
        "/api/v1/bulk-edits/{id}/confirm/",
        "post",
        _o("401", "403", OK, "404", "403", "403", "403", "403", "403", "403"),
    ),
    Row("/api/v1/bulk-edits/{id}/cancel/", "post", _o("401", "403", OK, "404", OK, OK, "403", "403", "403", "403")),
    Row("/api/v1/tasks/", "get", API_READ),
    Row("/api/v1/tasks/", "post", API_OWNER_WRITE),
    Row("/api/v1/tasks/bulk/", "post", API_OWNER_WRITE),
    Row("/api/v1/tasks/{id}/", "delete", API_MANAGER_WRITE),
    Row("/api/v1/tasks/{id}/", "get", API_READ),
    Row("/api/v1/tasks/{id}/", "patch", API_OWNER_WRITE),
    Row("/api/v1/tasks/{id}/", "put", API_OWNER_WRITE),
    Row("/api/v1/tickets/", "get", API_READ),
    Row("/api/v1/tickets/", "post", API_MANAGER_WRITE),
    Row("/api/v1/tickets/", "post", API_MANAGER_WRITE, variant="takeover"),
    Row("/api/v1/tickets/bulk/", "post", API_MANAGER_WRITE),
    Row("/api/v1/tickets/bulk/", "post", API_MANAGER_WRITE, variant="takeover"),
    Row("/api/v1/tickets/by-external-id/{external_id}/", "put", API_MANAGER_WRITE),
    Row("/api/v1/tickets/by-external-id/{external_id}/", "put", API_MANAGER_WRITE, variant="takeover"),
    Row("/api/v1/tickets/{id}/", "delete", API_MANAGER_WRITE),
    Row("/api/v1/tickets/{id}/", "get", API_READ),
    Row("/api/v1/tickets/{id}/", "patch", API_MANAGER_WRITE),
    Row("/api/v1/tickets/{id}/", "put", API_MANAGER_WRITE),
    Row("/api/v1/winback/campaigns/", "get", API_READ),
    Row("/api/v1/winback/churn-records/", "get", API_READ),
    Row("/api/v1/winback/churn-records/", "post", API_OWNER_WRITE),
    Row("/api/v1/winback/churn-records/{id}/", "get", API_READ),
    Row("/api/v1/winback/pauses/", "post", API_OWNER_WRITE),
    Row("/api/v1/winback/reasons/", "get", API_READ),
    Row("/api/v1/winback/reasons/{code}/", "get", API_READ),
    Row("/api/v1/winback/survey-invitations/", "get", API_READ),
    Row("/api/v1/winback/survey-invitations/", "post", API_OWNER_WRITE),
    Row("/api/v1/winback/survey-invitations/{id}/", "get", API_READ),
    # Data-subject requests (erase, export): admins and admin-scope keys only. The erasure pages' POST without the
    # typed confirmation re-renders the page (erases nothing); the API's POST without a body is a 400.
    Row("/privacy/accounts/{pk}/card/", "get", ADMINS),
    Row("/privacy/accounts/{pk}/erase/", "get", ADMINS),
    Row("/privacy/accounts/{pk}/erase/", "post", ADMINS),
    Row("/privacy/accounts/{pk}/export/", "get", ADMINS),
    Row("/privacy/contacts/{pk}/erase/", "get", ADMINS),
    Row("/privacy/contacts/{pk}/erase/", "post", ADMINS),
    Row("/privacy/contacts/{pk}/export/", "get", ADMINS),
    Row("/api/v1/privacy/erasures/", "post", API_ADMINS),
    Row("/api/v1/privacy/exports/account/{id}/", "get", API_ADMINS),
    Row("/api/v1/privacy/exports/contact/{id}/", "get", API_ADMINS),
    # The configuration bundle: admins and `config` / `admin` keys; its JSON Schema is read like the API's schema.
    Row("/settings/configuration/", "get", ADMINS),
    Row("/settings/configuration/download/", "get", ADMINS),
    Row("/settings/configuration/plan/", "post", ADMINS),
    Row("/settings/configuration/apply/", "post", ADMINS),
    Row("/api/v1/config/bundle/", "get", API_ADMINS),
    Row("/api/v1/config/bundle/plan/", "post", API_ADMINS),
    Row("/api/v1/config/bundle/apply/", "post", API_ADMINS),
    Row("/api/v1/config/bundle/schema.json", "get", API_READ),
    # The configuration API: `config` and `admin` keys; every signed-in role reads, managers and admins write;
    # outgoing webhooks for admins only (as their page). A delete of something in use is a 409 (allowed).
    Row("/api/v1/config/email-templates/", "get", CONFIG_READ),
    Row("/api/v1/config/email-templates/", "post", API_CONFIG),
    Row("/api/v1/config/email-templates/{key}/", "delete", API_CONFIG),
    Row("/api/v1/config/email-templates/{key}/", "get", CONFIG_READ),
    Row("/api/v1/config/email-templates/{key}/", "patch", API_CONFIG),
    Row("/api/v1/config/email-templates/{key}/", "put", API_CONFIG),
    Row("/api/v1/config/goals/", "get", CONFIG_READ),
    Row("/api/v1/config/goals/", "post", API_CONFIG),
    Row("/api/v1/config/goals/{id}/", "delete", API_CONFIG),
    Row("/api/v1/config/goals/{id}/", "get", CONFIG_READ),
    Row("/api/v1/config/goals/{id}/", "patch", API_CONFIG),
    Row("/api/v1/config/goals/{id}/", "put", API_CONFIG),
    Row("/api/v1/config/health-profiles/", "get", CONFIG_READ),
    Row("/api/v1/config/health-profiles/", "post", API_CONFIG),
    Row("/api/v1/config/health-profiles/{key}/", "get", CONFIG_READ),
    Row("/api/v1/config/health-profiles/{key}/draft/", "get", CONFIG_READ),
    Row("/api/v1/config/health-profiles/{key}/draft/", "put", API_CONFIG),
    Row("/api/v1/config/health-profiles/{key}/preview/", "post", API_CONFIG),
    Row("/api/v1/config/health-profiles/{key}/publish/", "post", API_CONFIG),
    Row("/api/v1/config/health-profiles/{key}/versions/", "get", CONFIG_READ),
    Row("/api/v1/config/issue-routes/", "get", CONFIG_READ),
    Row("/api/v1/config/issue-routes/{issue_type}/", "delete", API_CONFIG),
    Row("/api/v1/config/issue-routes/{issue_type}/", "get", CONFIG_READ),
    Row("/api/v1/config/issue-routes/{issue_type}/", "put", API_CONFIG),
    Row("/api/v1/config/journeys/", "get", CONFIG_READ),
    Row("/api/v1/config/journeys/", "post", API_CONFIG),
    Row("/api/v1/config/journeys/{key}/", "delete", API_CONFIG),
    Row("/api/v1/config/journeys/{key}/", "get", CONFIG_READ),
    Row("/api/v1/config/journeys/{key}/", "patch", API_CONFIG),
    Row("/api/v1/config/journeys/{key}/", "put", API_CONFIG),
    Row("/api/v1/config/playbooks/", "get", CONFIG_READ),
    Row("/api/v1/config/playbooks/", "post", API_CONFIG),
    Row("/api/v1/config/playbooks/{key}/", "delete", API_CONFIG),
    Row("/api/v1/config/playbooks/{key}/", "get", CONFIG_READ),
    Row("/api/v1/config/playbooks/{key}/", "patch", API_CONFIG),
    Row("/api/v1/config/playbooks/{key}/", "put", API_CONFIG),
    Row("/api/v1/config/rules/", "get", CONFIG_READ),
    Row("/api/v1/config/rules/", "post", API_CONFIG),
    Row("/api/v1/config/rules/{key}/", "delete", API_CONFIG),
    Row("/api/v1/config/rules/{key}/", "get", CONFIG_READ),
    Row("/api/v1/config/rules/{key}/", "patch", API_CONFIG),
    Row("/api/v1/config/rules/{key}/", "put", API_CONFIG),
    Row("/api/v1/config/survey-schedules/", "get", CONFIG_READ),
    Row("/api/v1/config/survey-schedules/", "post", API_CONFIG),
    Row("/api/v1/config/survey-schedules/{key}/", "delete", API_CONFIG),
    Row("/api/v1/config/survey-schedules/{key}/", "get", CONFIG_READ),
    Row("/api/v1/config/survey-schedules/{key}/", "patch", API_CONFIG),
    Row("/api/v1/config/survey-schedules/{key}/", "put", API_CONFIG),
    Row("/api/v1/config/webhook-endpoints/", "get", API_ADMINS),
    Row("/api/v1/config/webhook-endpoints/", "post", API_ADMINS),
    Row("/api/v1/config/webhook-endpoints/{key}/", "delete", API_ADMINS),
    Row("/api/v1/config/webhook-endpoints/{key}/", "get", API_ADMINS),
    Row("/api/v1/config/webhook-endpoints/{key}/", "patch", API_ADMINS),
    Row("/api/v1/config/webhook-endpoints/{key}/", "put", API_ADMINS),
    Row("/v1/alias", "post", TRACKING),
    Row("/v1/batch", "post", TRACKING),
    Row("/v1/group", "post", TRACKING),
    Row("/v1/identify", "post", TRACKING),
    Row("/v1/page", "post", TRACKING),
    Row("/v1/screen", "post", TRACKING),
    Row("/v1/track", "post", TRACKING),
]
