"""The permission matrix's machinery: the route inventory (URL resolver and OpenAPI schema), one small set of
real objects, the actors' clients, and the outcome of one request. The expectations are data, in
`permission_matrix.py`; the test is `test_permission_matrix.py`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from audit.models import AuditEntry
from churnapp.apikeys import api_key_create

ACTORS = (
    "anonymous",
    "viewer",
    "csm_owner",  # owns the account every object of the world hangs on
    "csm_other",  # a CSM who owns another account
    "manager",
    "admin",
    "key_ingest",
    "key_read",
    "key_write",
    "key_admin",
)
KEY_SCOPES = {"key_ingest": "ingest", "key_read": "read", "key_write": "write", "key_admin": "admin"}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# --- Route inventory ----------------------------------------------------------------------------------------------

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _route_text(pattern) -> str:
    text = str(pattern.pattern)
    if text.startswith("^") or text.endswith("$"):
        text = _REGEX_GROUP.sub(r"{\1}", text.lstrip("^").rstrip("$"))
        text = text.replace("\\.", ".")
    return _CONVERTER.sub(r"{\1}", text)


def url_routes() -> set[str]:
    """Every route of the URL resolver as `/path/{kwarg}/`; the admin site is one route, `/admin/*`; the format
    suffix twins DRF adds (`.json`) answer like the route they copy and are left out."""
    routes: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin":
                    routes.add(f"/{prefix}{_route_text(pattern)}*")
                    continue
                walk(pattern.url_patterns, prefix + _route_text(pattern))
            elif isinstance(pattern, URLPattern):
                text = prefix + _route_text(pattern)
                if "{format}" not in text:
                    routes.add("/" + text)

    walk(get_resolver().url_patterns, "")
    return routes


def api_operations() -> set[tuple[str, str]]:
    """Every (path, method) of the OpenAPI schema drf-spectacular generates, as `/api/docs/` documents it."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {(path, method) for path, item in schema["paths"].items() for method in item if method in HTTP_METHODS}


def schema_path_of(route: str) -> str:
    """The schema's spelling of a resolver route (drf-spectacular names a `pk` lookup `id`)."""
    return route.replace("{pk}", "{id}")


# --- The world: one small set of real objects ---------------------------------------------------------------------


@dataclass
class World:
    objects: dict
    users: dict
    keys: dict
    sessions: dict = field(default_factory=dict)

    def kwargs(self, route: str, pk_of: dict[str, str], kwarg_values: dict[str, str], variant: str = "") -> dict:
        values = {}
        for name in re.findall(r"{(\w+)}", route):
            if name in ("pk", "id"):
                values[name] = str(self.objects[pk_of.get(f"{route}#{variant}", pk_of.get(route))].pk)
            else:
                value = kwarg_values.get(f"{route}|{name}", kwarg_values.get(name))
                if value.startswith("@"):
                    obj_name, _, attribute = value[1:].partition(".")
                    value = getattr(self.objects[obj_name], attribute or "pk")
                values[name] = str(value)
        return values

    def fill(self, value):
        """Placeholders `{own}`-style in request bodies: attributes of the world's objects."""
        if isinstance(value, str) and value.startswith("{") and value.endswith("_pk}"):
            return self.placeholders[value[1:-1]]
        if isinstance(value, str):
            return value.format_map(self.placeholders)
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value

    @property
    def placeholders(self) -> dict[str, str]:
        o = self.objects
        return {
            "own": o["account"].external_id,
            "own_pk": o["account"].pk,
            "contact_pk": o["contact"].pk,
            "other": o["other_account"].external_id,
            "contact": o["contact"].external_id,
            "subscription": o["subscription"].external_id,
            "ticket": o["ticket"].external_id,
            "survey": o["survey_response"].external_id,
            "contact_email": o["contact"].email,
            "csm_owner_email": self.users["csm_owner"].email,
            "today": dt.date.today().isoformat(),
        }


def build_world() -> World:
    from accounts.models import BulkEdit, ExchangeRate, ImportJob
    from automations.builtins import builtins_install
    from automations.models import Enrolment, Journey, Milestone, MilestoneProgress, Playbook, Rule
    from dashboards.models import AcquisitionCost, Goal
    from health.models import ChurnLabRun, ChurnModelVersion, HealthProfile, HealthProfileVersion, HealthSnapshot
    from messaging.models import EmailMessage, EmailTemplate, Notification, WebhookEndpoint
    from tests.factories import (
        AccountFactory,
        ActivityFactory,
        ContactFactory,
        SavedViewFactory,
        SubscriptionFactory,
        SupportTicketFactory,
        SurveyResponseFactory,
        TagFactory,
        TaskFactory,
        UsageEventFactory,
        UserFactory,
    )
    from tests.winback.factories import CampaignFactory, ChurnRecordFactory, SurveyInvitationFactory
    from winback.models import ChurnReason, ClusterRun, IssueRoute, SurveySchedule, Theme, ThemeCluster

    cache.clear()
    now = timezone.now()
    users = {
        "viewer": UserFactory(username="m-viewer", role="Viewer"),
        "csm_owner": UserFactory(username="m-owner", email="owner@example.com", role="CSM"),
        "csm_other": UserFactory(username="m-other", role="CSM"),
        "manager": UserFactory(username="m-manager", role="Manager"),
        "admin": UserFactory(username="m-admin", is_superuser=True, is_staff=True, role="Admin"),
    }
    account = AccountFactory(owner=users["csm_owner"], external_id="acc-own", name="Owned Co")
    other_account = AccountFactory(owner=users["csm_other"], external_id="acc-other", name="Other Co")
    contact = ContactFactory(account=account, external_id="contact-own", email="pat@own.example")
    builtins_install()
    profile = HealthProfile.objects.order_by("pk").first()
    version = HealthProfileVersion.objects.filter(profile=profile).order_by("pk").first()
    playbook = Playbook.objects.order_by("pk").first()
    journey = Journey.objects.order_by("pk").first()
    run = ClusterRun.objects.create(n_clusters=1)
    objects = {
        "account": account,
        "other_account": other_account,
        "contact": contact,
        "subscription": SubscriptionFactory(account=account, external_id="sub-own", mrr=Decimal(100)),
        "ticket": SupportTicketFactory(account=account, external_id="ticket-own"),
        "survey_response": SurveyResponseFactory(account=account, contact=contact, external_id="survey-own"),
        "activity": ActivityFactory(account=account, author=users["csm_owner"]),
        "task": TaskFactory(account=account, assignee=users["csm_owner"]),
        "tag": TagFactory(name="vip"),
        "event": UsageEventFactory(account=account),
        "saved_view": SavedViewFactory(owner=users["csm_owner"], name="Mine", shared=True),
        "profile": profile,
        "profile_version": version,
        "snapshot": HealthSnapshot.objects.create(
            account=account, day=dt.date.today(), version=version, score=50, band="yellow"
        ),
        "churn_model": ChurnModelVersion.objects.create(status="promoted"),
        "lab_run": ChurnLabRun.objects.create(
            train_until=dt.date(2025, 6, 1),
            test_from=dt.date(2025, 6, 1),
            test_until=dt.date(2025, 9, 1),
            horizon_days=90,
        ),
        "audit_entry": ActivityFactory(
            account=account, author=users["manager"], kind="change", subject="Status changed from Active to Churned"
        ),
        "rule": Rule.objects.order_by("pk").first(),
        "playbook": playbook,
        "journey": journey,
        "milestone_progress": MilestoneProgress.objects.create(
            account=account, milestone=Milestone.objects.filter(journey=journey).order_by("pk").first(), started_at=now
        ),
        "enrolment": Enrolment.objects.create(playbook=playbook, account=account),
        "email_template": EmailTemplate.objects.order_by("pk").first(),
        "email_message": EmailMessage.objects.create(
            to_email="pat@example.com", subject="Renewal", body_text="Hello", status="unknown"
        ),
        "notification": Notification.objects.create(title="Hello", user=users["csm_owner"]),
        "goal": Goal.objects.create(metric="mrr", comparator="gte", target=Decimal(1), year=2024, quarter=1),
        "cac": AcquisitionCost.objects.create(month=dt.date(2024, 1, 1), amount=Decimal(1)),
        "import_job": ImportJob.objects.create(kind="accounts", original_name="a.csv", created_by=users["csm_owner"]),
        "exchange_rate": ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2024, 1, 1), rate=Decimal(1)),
        "bulk_edit": BulkEdit.objects.create(
            action="tag_add",
            params={"value": "x"},
            summary="Add tag",
            account_ids=[account.pk],
            created_by=users["csm_owner"],
        ),
        "webhook_endpoint": WebhookEndpoint.objects.create(url="https://example.com/hook", events=["ping"], secret="s"),
        "churn_record": ChurnRecordFactory(account=AccountFactory(owner=users["csm_owner"], status="churned")),
        "reason": ChurnReason.objects.order_by("pk").first(),
        "survey_invitation": SurveyInvitationFactory(contact=contact),
        "campaign": CampaignFactory(),
        "cluster": ThemeCluster.objects.create(run=run, index=0, top_terms=["ship"]),
        "theme": Theme.objects.order_by("pk").first() or Theme.objects.create(name="Shipping"),
    }
    objects["revocable_key"] = api_key_create(name="revocable", scopes=["read"])[0]
    # The configuration API's objects: a survey schedule (seeded), an issue route, a draft of the default profile.
    objects["survey_schedule"] = SurveySchedule.objects.order_by("pk").first()
    objects["issue_route"] = IssueRoute.objects.create(issue_type="billing", role="Manager", sla_days=2)
    objects["profile_draft"] = HealthProfileVersion.objects.create(
        profile=HealthProfile.objects.get(segment=""), number=99, status="draft"
    )
    objects["trail_entry"] = AuditEntry.objects.order_by("pk").first()
    keys = {actor: api_key_create(name=actor, scopes=[scope])[1] for actor, scope in KEY_SCOPES.items()}
    return World(objects=objects, users=users, keys=keys)


def log_in(world: World) -> None:
    """One session per user, made once: each request then starts from a fresh client holding its cookie (a request
    that logs out only ends its own client's session)."""
    for actor, user in world.users.items():
        client = Client()
        client.force_login(user)
        world.sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value


def client_for(world: World, actor: str) -> Client:
    client = Client(raise_request_exception=False)
    if actor in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[actor]
    elif actor in world.keys:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.keys[actor]}"
    return client


# --- Outcomes -----------------------------------------------------------------------------------------------------

ALLOWED = "allowed"  # reached the view and was judged on its content: 2xx, a redirect elsewhere than login, 400
LOGIN = "login"  # redirected to the login page
REFUSALS = {401: "401", 403: "403", 404: "404", 405: "405"}


def outcome(response) -> str:
    if response.status_code >= 500:
        return f"{response.status_code} (server error)"
    if response.status_code in (301, 302) and response["Location"].split("?")[0].endswith("/login/"):
        return LOGIN
    return REFUSALS.get(response.status_code, ALLOWED)
