"""Forms of the automations pages. The rule editor builds the condition tree and action list from rows
(type + "key=value; key=value" parameters), or takes them as YAML for nested groups."""

from __future__ import annotations

import yaml
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import LifecycleStage, Segment
from automations import actions as actions_mod
from automations import conditions as conditions_mod
from automations.models import Playbook

CONDITION_ROWS = 5
ACTION_ROWS = 4
LIST_KEYS = {"in", "has", "lacks"}


def parse_params(text: str) -> dict:
    """'value=70; days=10; in=smb,enterprise' → {"value": 70, "days": 10, "in": ["smb", "enterprise"]}."""
    out: dict = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValidationError(gettext("“%(part)s” is not key=value.") % {"part": part.strip()})
        key, value = (s.strip() for s in part.split("=", 1))
        if key in LIST_KEYS:
            out[key] = [v.strip() for v in value.split(",") if v.strip()]
            continue
        parsed = yaml.safe_load(value) if value else ""
        out[key] = parsed if isinstance(parsed, int | float | bool) else value
    return out


def format_params(spec: dict) -> str:
    parts = []
    for key, value in spec.items():
        if key == "type":
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        parts.append(f"{key}={value}")
    return "; ".join(parts)


def flat_rows(tree: dict) -> tuple[str, list[dict]] | None:
    """('all'|'any', leaves) when the tree is one flat group (or one leaf), else None (needs YAML)."""
    if "type" in tree:
        return "all", [tree]
    for join in ("all", "any"):
        leaves = tree.get(join)
        if isinstance(leaves, list) and all(isinstance(c, dict) and "type" in c for c in leaves):
            return join, leaves
    return None


class RuleForm(forms.Form):
    key = forms.SlugField(max_length=100, help_text=_("Stable identifier, used by YAML import/export."))
    name = forms.CharField(max_length=200, label=_("Name"))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Description"))
    cooldown_days = forms.IntegerField(min_value=0, max_value=3650, initial=7, label=_("Cooldown (days)"))
    join = forms.ChoiceField(choices=[("all", _("all of these hold (AND)")), ("any", _("any of these holds (OR)"))],
                             label=_("Fire when"))  # fmt: skip
    advanced = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        required=False,
        label=_("Advanced: conditions and actions as YAML"),
        help_text=_("Overrides the rows. Use for nested groups: {all: [..., {any: [...]}, {not: {...}}]}."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        condition_choices = [("", "—")] + [(k, label) for k, (label, _) in conditions_mod.CONDITIONS.items()]
        action_choices = [("", "—")] + [(k, label) for k, (label, _) in actions_mod.ACTIONS.items()]
        for i in range(CONDITION_ROWS):
            self.fields[f"cond_{i}_type"] = forms.ChoiceField(
                choices=condition_choices, required=False, label=gettext("Condition %(n)s") % {"n": i + 1}
            )
            self.fields[f"cond_{i}_params"] = forms.CharField(required=False, label=gettext("Parameters"))
        for i in range(ACTION_ROWS):
            self.fields[f"act_{i}_type"] = forms.ChoiceField(
                choices=action_choices, required=False, label=gettext("Action %(n)s") % {"n": i + 1}
            )
            self.fields[f"act_{i}_params"] = forms.CharField(required=False, label=gettext("Parameters"))

    @classmethod
    def initial_for(cls, rule) -> dict:
        initial = {"key": rule.key, "name": rule.name, "description": rule.description,
                   "cooldown_days": rule.cooldown_days}  # fmt: skip
        flat = flat_rows(rule.conditions or {})
        if flat is None or len(flat[1]) > CONDITION_ROWS or len(rule.actions) > ACTION_ROWS:
            initial["advanced"] = yaml.safe_dump({"conditions": rule.conditions, "actions": rule.actions},
                                                 sort_keys=False, allow_unicode=True)  # fmt: skip
            return initial
        initial["join"] = flat[0]
        for i, leaf in enumerate(flat[1]):
            initial[f"cond_{i}_type"], initial[f"cond_{i}_params"] = leaf["type"], format_params(leaf)
        for i, action in enumerate(rule.actions):
            initial[f"act_{i}_type"], initial[f"act_{i}_params"] = action.get("type", ""), format_params(action)
        return initial

    def condition_rows(self):
        return [(self[f"cond_{i}_type"], self[f"cond_{i}_params"]) for i in range(CONDITION_ROWS)]

    def action_rows(self):
        return [(self[f"act_{i}_type"], self[f"act_{i}_params"]) for i in range(ACTION_ROWS)]

    def clean(self):
        data = super().clean()
        advanced = (data.get("advanced") or "").strip()
        try:
            if advanced:
                parsed = yaml.safe_load(advanced)
                if not isinstance(parsed, dict):
                    raise ValidationError(gettext("The YAML needs 'conditions:' and 'actions:'."))
                tree, acts = parsed.get("conditions") or {}, parsed.get("actions") or []
            else:
                leaves, acts = [], []
                for i in range(CONDITION_ROWS):
                    if data.get(f"cond_{i}_type"):
                        leaves.append({"type": data[f"cond_{i}_type"], **parse_params(data.get(f"cond_{i}_params"))})
                for i in range(ACTION_ROWS):
                    if data.get(f"act_{i}_type"):
                        acts.append({"type": data[f"act_{i}_type"], **parse_params(data.get(f"act_{i}_params"))})
                if not leaves:
                    raise ValidationError(gettext("Add at least one condition."))
                tree = {data.get("join") or "all": leaves}
            conditions_mod.validate(tree)
        except yaml.YAMLError as exc:
            raise ValidationError(gettext("Not valid YAML: %(error)s") % {"error": exc}) from exc
        except conditions_mod.ConditionError as exc:
            raise ValidationError(str(exc)) from exc
        data["conditions_tree"], data["actions_list"] = tree, acts
        return data


class RuleImportForm(forms.Form):
    file = forms.FileField(required=False, label=_("YAML file"))
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False, label=_("…or paste YAML"))

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        data["yaml"] = upload.read().decode("utf-8", "replace") if upload else (data.get("text") or "")
        if not data["yaml"].strip():
            raise ValidationError(gettext("Choose a file or paste YAML."))
        return data


class PlaybookSettingsForm(forms.ModelForm):
    class Meta:
        model = Playbook
        fields = ["enabled", "holdout_percent"]

    def clean_holdout_percent(self):
        value = self.cleaned_data["holdout_percent"]
        if value > 50:
            raise ValidationError(gettext("Hold out at most %(max)s%% of accounts.") % {"max": 50})
        return value


class EnrolForm(forms.Form):
    playbook = forms.ModelChoiceField(queryset=Playbook.objects.filter(enabled=True).order_by("name"))


# --- Journey editor --------------------------------------------------------------------------------------------------

MILESTONE_ROWS = 6


class JourneyForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    key = forms.SlugField(max_length=100, help_text=_("Stable identifier, used by rules (milestone_missed)."))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Description"))
    onboarding = forms.BooleanField(required=False, label=_("Onboarding template"),
                                    help_text=_("Applies to new accounts (their first 90 days); due offsets count "
                                                "from the account's start."))  # fmt: skip
    segment = forms.ChoiceField(required=False, label=_("Segment"), help_text=_("Blank: every segment."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", gettext("every segment")), *Segment.choices]
        kinds = [("", "—"), ("event", gettext("Event")), ("attribute", gettext("Property threshold")),
                 ("active_users", gettext("Active users")), ("paid", gettext("Paid")),
                 ("manual", gettext("Manual"))]  # fmt: skip
        stages = [("", gettext("no stage change")), *LifecycleStage.choices]
        for i in range(MILESTONE_ROWS):
            num = {"n": i + 1}
            self.fields[f"ms_{i}_name"] = forms.CharField(
                max_length=200, required=False, label=gettext("Milestone %(n)s") % num
            )
            self.fields[f"ms_{i}_kind"] = forms.ChoiceField(
                choices=kinds, required=False, label=gettext("Reached by (milestone %(n)s)") % num
            )
            self.fields[f"ms_{i}_params"] = forms.CharField(
                required=False, label=gettext("Parameters of milestone %(n)s") % num
            )
            self.fields[f"ms_{i}_stage"] = forms.ChoiceField(
                choices=stages, required=False, label=gettext("Stage when reached (milestone %(n)s)") % num
            )
            self.fields[f"ms_{i}_owner_role"] = forms.CharField(
                max_length=64, required=False, label=gettext("Owner role (milestone %(n)s)") % num
            )
            self.fields[f"ms_{i}_due_days"] = forms.IntegerField(
                min_value=0, max_value=3650, required=False, label=gettext("Due after days (milestone %(n)s)") % num
            )
            self.fields[f"ms_{i}_first_value"] = forms.BooleanField(
                required=False, label=gettext("First value (milestone %(n)s)") % num
            )
            self.fields[f"ms_{i}_key"] = forms.CharField(required=False, widget=forms.HiddenInput)

    @classmethod
    def initial_for(cls, journey) -> dict:
        initial = {f: getattr(journey, f) for f in ("name", "key", "description", "onboarding", "segment")}
        for i, m in enumerate(journey.milestones.order_by("order")[:MILESTONE_ROWS]):
            condition = dict(m.condition or {})
            initial |= {f"ms_{i}_name": m.name, f"ms_{i}_kind": condition.pop("type", "manual"),
                        f"ms_{i}_params": format_params(condition), f"ms_{i}_stage": m.stage,
                        f"ms_{i}_owner_role": m.owner_role, f"ms_{i}_due_days": m.due_days,
                        f"ms_{i}_first_value": m.first_value, f"ms_{i}_key": m.key}  # fmt: skip
        return initial

    def milestone_rows(self):
        return [
            [self[f"ms_{i}_{f}"] for f in ("name", "kind", "params", "stage", "owner_role", "due_days", "first_value")]
            + [self[f"ms_{i}_key"]]
            for i in range(MILESTONE_ROWS)
        ]

    def clean(self):
        data = super().clean()
        milestones = []
        for i in range(MILESTONE_ROWS):
            name = (data.get(f"ms_{i}_name") or "").strip()
            kind = data.get(f"ms_{i}_kind") or ""
            if not name:
                if kind or (data.get(f"ms_{i}_params") or "").strip():
                    self.add_error(f"ms_{i}_name", gettext("Give this milestone a name."))
                continue
            try:
                params = parse_params(data.get(f"ms_{i}_params") or "")
            except ValidationError as exc:
                self.add_error(f"ms_{i}_params", exc)
                continue
            milestones.append({"key": data.get(f"ms_{i}_key") or "", "name": name,
                               "condition": {"type": kind or "manual", **params},
                               "stage": data.get(f"ms_{i}_stage") or "", "owner_role": data.get(f"ms_{i}_owner_role"),
                               "due_days": data.get(f"ms_{i}_due_days"),
                               "first_value": data.get(f"ms_{i}_first_value")})  # fmt: skip
        if not milestones and not self.errors:
            raise ValidationError(gettext("Add at least one milestone."))
        data["milestones"] = milestones
        return data


class AccountRoleForm(forms.Form):
    role = forms.CharField(max_length=64, label=_("Role"), widget=forms.TextInput(attrs={"list": "owner-roles"}))
    user = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Held by"), empty_label=pgettext_lazy("role holder", "nobody")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")

    def clean_role(self):
        role = self.cleaned_data["role"].strip()
        if not role:
            raise ValidationError(gettext("Name the role."))
        return role
