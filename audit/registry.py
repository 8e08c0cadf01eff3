"""Which models the trail records, and how: the facts a team edits and every configuration object.

Derived state written by the workers (cached MRR, health, last seen, counters) is left out: it changes every few
minutes from facts that are themselves recorded. Secrets are recorded as changed, never with their value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Audited:
    model: str  # "app_label.ModelName"
    label: str | Promise = ""  # what the trail page calls it
    account: str | None = None  # the attribute holding the account's id, for the timeline link
    exclude: frozenset[str] = field(default_factory=frozenset)
    secret: frozenset[str] = field(default_factory=frozenset)
    skip: tuple[str, object] | None = None  # (attribute, value): such rows are not recorded

    def skips(self, instance) -> bool:
        return self.skip is not None and getattr(instance, self.skip[0], None) == self.skip[1]


ALWAYS_EXCLUDED = frozenset({"id", "updated_at", "created_at"})
HIDDEN = "[hidden]"

AUDITED: tuple[Audited, ...] = (
    # Facts
    Audited(
        "accounts.Account",
        _("Account"),
        account="id",
        exclude=frozenset(
            {"mrr", "seats", "last_seen_at", "health_score", "health_band", "health_trend", "health_scored_at"}
            | {"churn_probability"}
        ),
    ),
    Audited("accounts.Contact", _("Contact"), account="account_id"),
    Audited("accounts.Subscription", _("Subscription"), account="account_id"),
    Audited("accounts.Task", _("Task"), account="account_id"),
    # Notes, calls, meetings; the timeline's own change entries are what this trail records in full.
    Audited("accounts.Activity", _("Timeline note"), account="account_id", skip=("kind", "change")),
    Audited("accounts.SupportTicket", _("Support ticket"), account="account_id"),
    Audited("accounts.SurveyResponse", _("Survey answer"), account="account_id"),
    # Configuration
    Audited("automations.Rule", _("Rule"), exclude=frozenset({"last_evaluated_at", "last_matched"})),
    Audited("automations.Playbook", _("Playbook")),
    Audited("automations.PlaybookStep", _("Playbook step")),
    Audited("automations.Journey", _("Journey")),
    Audited("automations.Milestone", _("Milestone")),
    Audited("health.HealthProfile", _("Health profile")),
    Audited("health.HealthProfileVersion", _("Health profile version")),
    Audited("messaging.EmailTemplate", _("Email template")),
    Audited(
        "messaging.WebhookEndpoint",
        _("Outgoing webhook"),
        secret=frozenset({"secret"}),
        exclude=frozenset({"consecutive_failures"}),
    ),
    Audited("winback.SurveySchedule", _("Survey schedule")),
    Audited("winback.IssueRoute", _("Issue routing")),
    Audited("dashboards.Goal", _("Goal")),
    Audited("churnapp.ApiKey", _("API key"), secret=frozenset({"key_hash"}), exclude=frozenset({"last_used_at"})),
    Audited("auth.User", _("User"), secret=frozenset({"password"}), exclude=frozenset({"last_login"})),
)
