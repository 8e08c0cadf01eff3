"""Built-in templates: email templates, the example automations of PRODUCT.md §4 as rules, the five playbooks of
its table plus the engagement cadences, and an email-marketing customer journey with an onboarding template.

The human-readable texts (names, subjects, bodies, task and notification titles, reasons, roles, metrics) are
marked for translation (lazily; the email templates with gettext_noop) and written in the installation's language
(`settings.LANGUAGE_CODE`) by `builtins_install`; keys, condition trees, codes and `{{ … }}` template variables
are the same in every language.

`builtins_install` is idempotent (by key) and never overwrites what a manager edited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from audit.capture import record_objects
from automations.models import Journey, Milestone, Playbook, PlaybookStep, Rule
from automations.rules import rule_save
from messaging.models import EmailTemplate

ACTIVE = {"type": "status", "in": ["onboarding", "active", "at_risk", "won_back"]}

# Plain English strings (rendered as they are elsewhere, e.g. in previews), marked for translation and translated by
# `builtins_install`.
EMAIL_TEMPLATES = [
    ("reactivation-1",
     gettext_noop("Re-activation 1: what you built"),
     gettext_noop("What {{ account.name }} set up is still there"),
     gettext_noop("Hi {{ contact.first_name }},\n\nIt has been quiet at {{ account.name }} since "
                  "{{ usage.quiet_since }}. What you set up on {{ account.plan }} ({{ usage.features_used }}) is "
                  "still there, ready to go.\n\nReply to this email and I will set up a 15-minute walkthrough of "
                  "the next step.\n\n{{ owner.name }}")),
    ("reactivation-2",
     gettext_noop("Re-activation 2: a quick win"),
     gettext_noop("One quick win for {{ account.name }}"),
     gettext_noop("Hi {{ contact.first_name }},\n\nTeams like yours get the most value from automated welcome "
                  "series. Here is a 5-minute guide: {{ site.url }}/guides/welcome-series\n\n{{ owner.name }}")),
    ("proactive-check-in",
     gettext_noop("Proactive check-in"),
     gettext_noop("Checking in on your recent tickets"),
     gettext_noop("Hi {{ contact.first_name }},\n\nI saw your team opened several support tickets this week. I "
                  "want to make sure everything is resolved: can we talk this week?\n\n{{ owner.name }}")),
    ("thank-you",
     gettext_noop("Thank-you after purchase"),
     gettext_noop("Thank you, {{ account.name }}"),
     gettext_noop("Hi {{ contact.first_name }},\n\nThank you for choosing the {{ account.plan }} plan. I am your "
                  "customer success manager: reply any time.\n\n{{ owner.name }}")),
    ("feedback-request",
     gettext_noop("Feedback a week after purchase"),
     gettext_noop("How is your first week going?"),
     gettext_noop("Hi {{ contact.first_name }},\n\nYou have had {{ account.plan }} for a week. What is one thing "
                  "we could do better? Just reply.\n\n{{ owner.name }}")),
    ("onboarding-checklist",
     gettext_noop("Onboarding checklist"),
     gettext_noop("Your onboarding checklist"),
     gettext_noop("Hi {{ contact.first_name }},\n\nHere is where {{ account.name }} stands in onboarding and the "
                  "next step: import a list, send a first campaign, set up an automation.\n\n{{ owner.name }}")),
    ("winback-outreach",
     gettext_noop("Win-back outreach"),
     gettext_noop("A lot has changed since you left"),
     gettext_noop("Hi {{ contact.first_name }},\n\nWe have shipped a lot since {{ account.name }} left. I would "
                  "love to show you what is new — and what we fixed.\n\n{{ owner.name }}")),
]  # fmt: skip


def _week_check_in(week: int) -> str:
    return gettext("Week %(week)s check-in with {{ account.name }}") % {"week": week}


def _biweekly_check_in(number: int) -> str:
    return gettext("Bi-weekly check-in #%(number)s with {{ account.name }}") % {"number": number}


# Numbered titles: a translatable format, filled in when the text is read (in the language active then).
_week_check_in_lazy = lazy(_week_check_in, str)
_biweekly_check_in_lazy = lazy(_biweekly_check_in, str)


def _task(title: str, assignee: str = "owner", priority: str = "normal", due: int = 3) -> dict:
    return {"kind": "task", "config": {"title": title, "assignee": assignee, "priority": priority, "due_in_days": due}}


def _email(template: str, to: str = "contact") -> dict:
    return {"kind": "email", "config": {"template": template, "to": to}}


def _wait(days: int) -> dict:
    return {"kind": "wait", "config": {"days": days}}


def _stop_if(condition: dict, reason: str) -> dict:
    return {"kind": "branch", "config": {"condition": condition, "reason": reason}}


ACTIVE_AGAIN = {"not": {"type": "inactive_days", "days": 3}}
HEALTH_RECOVERED = {"not": {"type": "health_below", "value": 70}}

PLAYBOOKS = [
    ("inactive-14-days", _("Inactive 14 days: re-activation sequence"), _("Inactive 14 days"), "CSM",
     _("open and click rate"),
     [_email("reactivation-1"), _wait(4), _stop_if(ACTIVE_AGAIN, _("Active again")), _email("reactivation-2"),
      _wait(7), _stop_if(ACTIVE_AGAIN, _("Active again")),
      _task(_("Call {{ account.name }}: still inactive after two emails"))]),
    ("onboarding-milestone-missed", _("Onboarding milestone missed"), _("Onboarding milestone missed"),
     _("Implementation specialist"), _("time to activation"),
     [_task(_("Share the onboarding checklist with {{ account.name }}"), "role:Manager", "high", 1),
      _email("onboarding-checklist"), _wait(7), _task(_("Check onboarding completion for {{ account.name }}"))]),
    ("nps-below-7", _("NPS dropped below 7"), _("NPS drops below 7"), _("CS lead"),
     _("NPS improvement after follow-up"),
     [_task(_("Analyse the detractor feedback of {{ account.name }} and suggest next actions"), "role:Manager",
            "high", 2),
      _wait(14), _task(_("Follow up with {{ account.name }} on the actions taken"))]),
    ("several-tickets", _("Several support tickets in 10 days"), _("Several support tickets in 10 days"),
     _("Product manager"), _("fewer repeat tickets"),
     [_task(_("Look for a recurring problem in the tickets of {{ account.name }}"), "role:Manager", "high", 3),
      _task(_("Follow up with {{ account.name }} on their tickets")), _wait(10),
      _stop_if(HEALTH_RECOVERED, _("Health recovered")),
      _task(_("Tickets still hurting {{ account.name }}: escalate"))]),
    ("churned-45-days", _("Churned, 45 days inactive: win-back"), _("Churned, 45 days inactive"),
     _("Account executive"), _("win-back conversion rate"),
     [_task(_("Personalised win-back outreach to {{ account.name }}"), "owner", "normal", 5),
      _email("winback-outreach")]),
    ("cadence-weekly-month-1", _("Cadence: weekly check-in in month 1"), _("New customer"), "CSM",
     _("time to first value"),
     [step for week in range(4) for step in (_task(_week_check_in_lazy(week + 1), due=2), _wait(7))][:-1]),
    ("cadence-biweekly", _("Cadence: every two weeks mid-cycle"), _("Mid-cycle customer"), "CSM", _("health trend"),
     [step for n in range(3) for step in (_task(_biweekly_check_in_lazy(n + 1)), _wait(14))][:-1]),
    ("cadence-qbr", _("Cadence: quarterly business review"), _("Long-standing customer"), "CSM", _("renewal rate"),
     [_task(_("Prepare the quarterly business review of {{ account.name }}"), due=7), _wait(90),
      _task(_("Prepare the next quarterly business review of {{ account.name }}"), due=7)]),
    ("purchase-thank-you", _("Purchase: thank-you, feedback a week later"), _("A purchase"), "CSM",
     _("reply rate"),
     [_email("thank-you"), _wait(7), _email("feedback-request")]),
]  # fmt: skip

RULES = [
    ("health-below-70", _("Health below 70 → follow-up task for the CSM"),
     {"all": [{"type": "health_below", "value": 70}, ACTIVE]},
     [{"type": "create_task", "title": _("Health {{ match.Health_score }}: follow up with {{ account.name }}"),
       "due_in_days": 3}], 14),
    ("ticket-open-5-days", _("Ticket open > 5 days → alert the owner"),
     {"all": [{"type": "ticket_open_longer", "days": 5}, ACTIVE]},
     [{"type": "notify", "to": "owner",
       "title": _("A ticket of {{ account.name }} is open for more than 5 days")}], 7),
    ("no-login-10-days", _("No login for 10 days → At risk + tag"),
     {"all": [{"type": "inactive_days", "days": 10}, {"type": "status", "in": ["onboarding", "active"]}]},
     [{"type": "set_status", "status": "at_risk"}, {"type": "add_tag", "tag": "inactive-10d"}], 30),
    ("three-tickets-7-days", _("3 tickets in 7 days → At risk, account manager, team, check-in email"),
     {"all": [{"type": "tickets_in_days", "count": 3, "days": 7}, ACTIVE]},
     [{"type": "set_status", "status": "at_risk"},
      {"type": "create_task",
       "title": _("3 tickets in 7 days at {{ account.name }}: take over as account manager"),
       "assignee": "role:Manager", "priority": "high", "due_in_days": 2},
      {"type": "notify", "to": "role:Manager", "title": _("{{ account.name }}: 3 tickets in 7 days")},
      {"type": "send_email", "template": "proactive-check-in", "to": "contact"}], 14),
    ("nps-below-7", _("NPS below 7 → task for the CS lead"),
     {"all": [{"type": "nps_at_most", "value": 6, "days": 7}, {"type": "no_open_followup", "kind": "nps"}]},
     [{"type": "create_task", "title": _("Detractor NPS {{ match.Latest_NPS }} at {{ account.name }}"),
       "assignee": "role:Manager", "priority": "high", "due_in_days": 3},
      {"type": "enrol_playbook", "playbook": "nps-below-7"}], 30),
    ("dissatisfied-survey", _("Dissatisfied survey → high-priority task with a due date"),
     {"all": [{"type": "csat_at_most", "value": 2, "days": 7}, {"type": "no_open_followup", "kind": "csat"}]},
     [{"type": "create_task",
       "title": _("Dissatisfied customer (CSAT {{ match.Latest_CSAT }}) at {{ account.name }}"),
       "priority": "urgent", "due_in_days": 1}], 14),
    ("upsell-seats", _("Seats nearly full → message the sales rep"),
     {"all": [{"type": "seat_utilisation_at_least", "percent": 90}, ACTIVE]},
     [{"type": "notify", "to": "owner", "title": _("Upsell signal: {{ account.name }} uses most of its seats")},
      {"type": "add_tag", "tag": "upsell"}], 30),
    ("purchase-thank-you", _("A purchase → thank-you + feedback email a week later"),
     {"all": [{"type": "purchase_within", "days": 2}]},
     [{"type": "enrol_playbook", "playbook": "purchase-thank-you"}], 60),
    ("ticket-unresolved-48h", _("Ticket unresolved 48 h → reminder to support"),
     {"all": [{"type": "ticket_open_longer", "hours": 48}]},
     [{"type": "notify", "to": "owner",
       "title": _("Reminder: a ticket of {{ account.name }} is unresolved after 48 h"), "slack": True}], 2),
    ("inactive-14-playbook", _("Inactive 14 days → re-activation playbook"),
     {"all": [{"type": "inactive_days", "days": 14}, ACTIVE]},
     [{"type": "enrol_playbook", "playbook": "inactive-14-days"}], 30),
    ("milestone-missed", _("Onboarding milestone missed → onboarding playbook"),
     {"type": "milestone_missed"},
     [{"type": "enrol_playbook", "playbook": "onboarding-milestone-missed"}], 30),
    ("several-tickets-10-days", _("Several tickets in 10 days → product follow-up playbook"),
     {"all": [{"type": "tickets_in_days", "count": 4, "days": 10}, ACTIVE]},
     [{"type": "enrol_playbook", "playbook": "several-tickets"}], 30),
    ("payment-failed", _("Payment failed → task"), {"all": [{"type": "payment_failed", "days": 7}, ACTIVE]},
     [{"type": "create_task", "title": _("Payment failed at {{ account.name }}: check the card"),
       "priority": "high", "due_in_days": 1}], 14),
    ("silent-churn", _("No expansion or adoption for 90 days → task"),
     {"all": [{"type": "no_expansion_days", "days": 90}, {"type": "renewal_within", "days": 60}]},
     [{"type": "create_task", "title": _("Silent churn risk before renewal: {{ account.name }}"),
       "due_in_days": 7}], 60),
]  # fmt: skip

JOURNEYS = [
    ("email-marketing-lifecycle", _("Email-marketing customer journey"), False, "", [
        ("trial-signup", _("Trial signup"), {"type": "event", "event_type": "login"}, "", None, False),
        ("first-campaign", _("First campaign sent"), {"type": "event", "event_type": "campaign_sent"}, "onboarding",
         None, True),
        ("100-subscribers", _("100 subscribers imported"),
         {"type": "event", "event_type": "list_imported", "property": "rows", "at_least": 100}, "", None, False),
        ("paid", _("Paid"), {"type": "paid"}, "adopted", None, False),
        ("advanced-adoption", _("Automation created"), {"type": "event", "event_type": "automation_created"}, "",
         None, False),
    ]),
    ("onboarding", _("Onboarding (all segments)"), True, "", [
        ("account-setup", _("Account setup: list imported"), {"type": "event", "event_type": "list_imported"}, "", 7,
         False),
        ("first-value", _("First value: campaign sent"), {"type": "event", "event_type": "campaign_sent"}, "", 14,
         True),
        ("advanced-adoption", _("Advanced adoption: automation created"),
         {"type": "event", "event_type": "automation_created"}, "", 45, False),
    ]),
]  # fmt: skip

# Built-in rules whose conditions changed: the earlier tree, replaced on install when a rule still has it.
# (The survey rules now leave an answer alone when a high-priority follow-up task — e.g. the win-back
# detractor routing's call-back — is already open, instead of creating a second task for the same answer.)
SUPERSEDED_CONDITIONS = {
    "nps-below-7": {"all": [{"type": "nps_at_most", "value": 6, "days": 7}]},
    "dissatisfied-survey": {"all": [{"type": "csat_at_most", "value": 2, "days": 7}]},
}

# "CSM" is the role code the milestone tasks recognise (see journeys._assign): the same in every language.
OWNER_ROLES = {"account-setup": _("Implementation specialist"), "first-value": "CSM", "advanced-adoption": "CSM"}


def _plain(value):
    """`value` with every lazy translation turned into a plain str (in the active language), deeply."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    return value


def builtins_install(*, enable_rules: bool = False) -> dict[str, int]:
    """Install the built-in templates (missing ones only), their texts in the installation's language
    (`settings.LANGUAGE_CODE`). Rules are installed disabled unless `enable_rules`."""
    with translation.override(settings.LANGUAGE_CODE):
        return _install(enable_rules=enable_rules)


@transaction.atomic
def _install(*, enable_rules: bool) -> dict[str, int]:
    counts = {"email_templates": 0, "playbooks": 0, "rules": 0, "journeys": 0}
    for key, name, subject, body in EMAIL_TEMPLATES:
        name, subject, body = gettext(name), gettext(subject), gettext(body)
        _, created = EmailTemplate.objects.get_or_create(
            key=key, defaults={"name": name, "subject": subject, "body_text": body}
        )
        counts["email_templates"] += created
    for key, name, trigger, owner_role, metric, steps in _plain(PLAYBOOKS):
        playbook, created = Playbook.objects.get_or_create(
            key=key, defaults={"name": name, "trigger": trigger, "owner_role": owner_role, "metric": metric}
        )
        if created:
            steps_made = PlaybookStep.objects.bulk_create(
                [PlaybookStep(playbook=playbook, order=n, **step) for n, step in enumerate(steps, start=1)]
            )
            record_objects(PlaybookStep, created=steps_made)
            counts["playbooks"] += 1
    rules = _plain(RULES)
    for key, old_tree in SUPERSEDED_CONDITIONS.items():  # installed before; unchanged since: take the new tree
        rule = Rule.objects.filter(key=key).first()
        if rule is not None and rule.conditions == old_tree:
            rule.conditions = next(tree for k, _, tree, _, _ in rules if k == key)
            rule.save(update_fields=["conditions", "updated_at"])
    for key, name, tree, actions_list, cooldown in rules:
        if not Rule.objects.filter(key=key).exists():
            rule_save(key=key, name=name, conditions_tree=tree, actions_list=actions_list, cooldown_days=cooldown,
                      enabled=enable_rules)  # fmt: skip
            counts["rules"] += 1
    owner_roles = _plain(OWNER_ROLES)
    for key, name, onboarding, segment, milestones in _plain(JOURNEYS):
        journey, created = Journey.objects.get_or_create(
            key=key, defaults={"name": name, "onboarding": onboarding, "segment": segment}
        )
        if created:
            milestones_made = Milestone.objects.bulk_create(
                [
                    Milestone(
                        journey=journey,
                        key=mkey,
                        name=mname,
                        order=n,
                        condition=cond,
                        stage=stage,
                        due_days=due,
                        first_value=fv,
                        owner_role=owner_roles.get(mkey, "") if onboarding else "",
                    )
                    for n, (mkey, mname, cond, stage, due, fv) in enumerate(milestones, start=1)
                ]  # fmt: skip
            )
            record_objects(Milestone, created=milestones_made)
            counts["journeys"] += 1
    return counts
