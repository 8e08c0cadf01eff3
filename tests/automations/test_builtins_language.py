"""The built-in texts are installed in the installation's language (settings.LANGUAGE_CODE); codes stay codes."""

from __future__ import annotations

import re

import pytest

from automations import builtins
from automations.models import Journey, Milestone, Playbook, PlaybookStep, Rule
from automations.rules import rule_dry_run, rules_cycle
from messaging.models import EmailTemplate
from tests.factories import AccountFactory, ContactFactory, SupportTicketFactory, UserFactory

pytestmark = pytest.mark.django_db

PLACEHOLDER_OR_CODE = re.compile(r"\{\{.*?\}\}|\b(NPS|CSAT|CSM)\b")


def _install(settings, language: str) -> dict:
    """Install in `language` and return everything installed (texts and codes), then empty the tables again."""
    settings.LANGUAGE_CODE = language
    assert builtins.builtins_install() == {"email_templates": 7, "playbooks": 9, "rules": 14, "journeys": 2}
    snapshot = {
        "templates": {
            t.key: (t.name, t.subject, t.body_text)
            for t in EmailTemplate.objects.filter(key__in=[t[0] for t in builtins.EMAIL_TEMPLATES])
        },
        "playbooks": {p.key: (p.name, p.trigger, p.owner_role, p.metric) for p in Playbook.objects.all()},
        "steps": {
            (s.playbook.key, s.order): (s.kind, s.config) for s in PlaybookStep.objects.select_related("playbook")
        },
        "rules": {r.key: (r.name, r.conditions, r.actions, r.cooldown_days) for r in Rule.objects.all()},
        "journeys": {j.key: j.name for j in Journey.objects.all()},
        "milestones": {
            (m.journey.key, m.key): (m.name, m.condition, m.stage, m.owner_role, m.due_days)
            for m in Milestone.objects.select_related("journey")
        },
    }
    Playbook.objects.filter(key__in=[p[0] for p in builtins.PLAYBOOKS]).delete()  # steps go with them
    Rule.objects.filter(key__in=[r[0] for r in builtins.RULES]).delete()
    Journey.objects.filter(key__in=[j[0] for j in builtins.JOURNEYS]).delete()  # milestones go with them
    EmailTemplate.objects.filter(key__in=[t[0] for t in builtins.EMAIL_TEMPLATES]).delete()
    return snapshot


def _codes(snapshot: dict) -> dict:
    """The parts that must be the same in every language: keys, condition trees, action types and parameters."""

    def strip(value, text_keys=("title", "reason")):
        if isinstance(value, dict):
            return {k: ("<text>" if k in text_keys else strip(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return {
        "templates": sorted(snapshot["templates"]),
        "steps": {k: (kind, strip(config)) for k, (kind, config) in snapshot["steps"].items()},
        "rules": {k: (cond, strip(actions), cooldown) for k, (_, cond, actions, cooldown) in snapshot["rules"].items()},
        "milestones": {k: (cond, stage, due) for k, (_, cond, stage, _, due) in snapshot["milestones"].items()},
    }


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{\{.*?\}\}", text))


def test_english_installation_keeps_the_english_texts(settings):
    english = _install(settings, "en")
    assert english["playbooks"]["inactive-14-days"] == (
        "Inactive 14 days: re-activation sequence",
        "Inactive 14 days",
        "CSM",
        "open and click rate",
    )
    assert english["rules"]["health-below-70"][0] == "Health below 70 → follow-up task for the CSM"
    assert english["templates"]["thank-you"][1] == "Thank you, {{ account.name }}"
    assert english["steps"][("cadence-weekly-month-1", 3)][1]["title"] == "Week 2 check-in with {{ account.name }}"
    assert english["steps"][("cadence-biweekly", 1)][1]["title"] == "Bi-weekly check-in #1 with {{ account.name }}"
    assert english["milestones"][("onboarding", "account-setup")][3] == "Implementation specialist"


def test_italian_installation_writes_italian_texts_with_the_same_codes(settings):
    english, italian = _install(settings, "en"), _install(settings, "it")

    assert italian["playbooks"]["inactive-14-days"] == (
        "Inattivo da 14 giorni: sequenza di riattivazione",
        "Inattivo da 14 giorni",
        "CSM",
        "tasso di apertura e di clic",
    )
    assert italian["playbooks"]["churned-45-days"][2] == "Responsabile commerciale"
    assert italian["rules"]["payment-failed"][0] == "Pagamento non riuscito → attività"
    assert italian["templates"]["thank-you"][:2] == ("Ringraziamento dopo l'acquisto", "Grazie, {{ account.name }}")
    assert italian["templates"]["reactivation-1"][2].startswith("Ciao {{ contact.first_name }},\n\n")
    assert (
        italian["steps"][("cadence-weekly-month-1", 3)][1]["title"] == "Punto della settimana 2 con {{ account.name }}"
    )
    assert italian["steps"][("inactive-14-days", 3)][1]["reason"] == "Di nuovo attivo"
    assert italian["rules"]["payment-failed"][2][0]["title"] == (
        "Pagamento non riuscito per {{ account.name }}: verifica la carta"
    )
    assert italian["journeys"]["onboarding"] == "Onboarding (tutti i segmenti)"
    assert italian["milestones"][("onboarding", "account-setup")][3] == "Specialista di implementazione"

    assert _codes(italian) == _codes(english)
    for key, (name, subject, body) in english["templates"].items():
        assert (name, subject, body) != italian["templates"][key]
        assert _placeholders(subject) == _placeholders(italian["templates"][key][1])
        assert _placeholders(body) == _placeholders(italian["templates"][key][2])
        assert body.count("\n") == italian["templates"][key][2].count("\n")
    for key, (_, _, actions, _) in english["rules"].items():
        for spec, translated in zip(actions, italian["rules"][key][2], strict=True):
            assert _placeholders(spec.get("title", "")) == _placeholders(translated.get("title", ""))


def test_a_rule_installed_in_italian_evaluates_like_the_english_one(settings):
    settings.LANGUAGE_CODE = "it"
    builtins.builtins_install(enable_rules=True)
    UserFactory(username="lead", role="Manager")
    account = AccountFactory(owner=UserFactory(username="olive"), name="Acme", status="active", health_score=55)
    ContactFactory(account=account)
    for _ in range(3):
        SupportTicketFactory(account=account)

    rule = Rule.objects.get(key="health-below-70")
    assert rule.conditions == next(tree for key, _, tree, _, _ in builtins.RULES if key == "health-below-70")
    assert [row["name"] for row in rule_dry_run(rule=rule)["rows"]] == ["Acme"]

    rules_cycle()
    account.refresh_from_db()
    assert account.status == "at_risk"
    titles = set(account.tasks.values_list("title", flat=True))
    assert "Health score 55: ricontatta Acme" in titles
    assert "3 ticket in 7 giorni per Acme: prendi in carico l'account come account manager" in titles


def test_bulgarian_installation_writes_bulgarian_texts(settings):
    english, bulgarian = _install(settings, "en"), _install(settings, "bg")

    assert bulgarian["playbooks"]["inactive-14-days"][0] == "Неактивен 14 дни: поредица за реактивиране"
    assert bulgarian["rules"]["payment-failed"][0] == "Неуспешно плащане → задача"
    assert bulgarian["templates"]["thank-you"][1] == "Благодарим Ви, {{ account.name }}"
    assert bulgarian["templates"]["thank-you"][2].startswith("Здравейте, {{ contact.first_name }},\n\n")
    assert bulgarian["steps"][("cadence-biweekly", 3)][1]["title"] == "Двуседмична среща № 2 с {{ account.name }}"
    assert bulgarian["milestones"][("onboarding", "account-setup")][3] == "Специалист по внедряване"

    assert _codes(bulgarian) == _codes(english)
    for name, trigger, _, metric in bulgarian["playbooks"].values():
        for text in (name, trigger, metric):
            assert not re.search(r"[A-Za-z]", PLACEHOLDER_OR_CODE.sub("", text)), text
    for name, subject, _ in bulgarian["templates"].values():
        assert not re.search(r"[A-Za-z]", PLACEHOLDER_OR_CODE.sub("", name + subject)), (name, subject)
    for name, _, actions, _ in bulgarian["rules"].values():
        titles = " ".join(spec.get("title", "") for spec in actions)
        assert not re.search(r"[A-Za-z]", PLACEHOLDER_OR_CODE.sub("", name + titles)), name
    for key, (_, subject, body) in english["templates"].items():
        assert _placeholders(body) == _placeholders(bulgarian["templates"][key][2])
        assert _placeholders(subject) == _placeholders(bulgarian["templates"][key][1])
