"""The playbook editor: rows of steps (kind + "key=value; …" parameters), a branch's then / else targets and a
wait's until-condition per row, or the steps as YAML for nested conditions. The service's refusals
(`PlaybookInvalid`) are shown on the field they name."""

from __future__ import annotations

import yaml
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from automations.forms import format_params, parse_params
from automations.playbooks import PlaybookInvalid

STEP_ROWS = 8
ROUTED = ("then", "else")


def condition_to_params(condition: dict, extra: dict | None = None) -> str | None:
    """A one-leaf condition (maybe negated) as row parameters, or None when it needs YAML."""
    condition, negate = condition or {}, False
    if set(condition) == {"not"} and isinstance(condition["not"], dict):
        condition, negate = condition["not"], True
    if "type" not in condition:
        return None
    leaf = {k: v for k, v in condition.items() if k != "type"}
    if any(isinstance(v, dict) for v in leaf.values()):
        return None
    return format_params({"condition": condition["type"], **leaf, **({"negate": True} if negate else {}),
                          **(extra or {})})  # fmt: skip


def condition_from_params(text: str, *, with_reason: bool) -> dict:
    """ "condition=health_below; value=70; negate=true[; reason=…]" → {"condition": tree[, "reason": the reason
    a branch gives when it stops the enrolment]}."""
    params = parse_params(text)
    ctype = params.pop("condition", "")
    if not ctype:
        message = gettext("Give condition=<condition type>, e.g. condition=health_below; value=70.")
        raise ValidationError(message)
    negate = bool(params.pop("negate", False))
    reason = str(params.pop("reason", "") or "") if with_reason else ""
    leaf = {"type": ctype, **params}
    out: dict = {"condition": {"not": leaf} if negate else leaf}
    if reason:
        out["reason"] = reason
    return out


def step_to_params(kind: str, config: dict) -> str | None:
    """A step as row parameters, or None when it needs YAML (a branch on a nested condition)."""
    if kind == "wait":
        return format_params({k: v for k, v in config.items() if k != "until"})
    if kind != "branch":
        return format_params(config)
    return condition_to_params(config.get("condition") or {}, {"reason": config["reason"]} if config.get("reason")
                               else None)  # fmt: skip


def step_from_params(kind: str, text: str) -> dict:
    if kind != "branch":
        return parse_params(text)
    try:
        return condition_from_params(text, with_reason=True)
    except ValidationError as exc:
        message = gettext("A branch needs condition=<condition type>, e.g. condition=health_below; value=70.")
        raise ValidationError(message) from exc


def _target(value: str) -> int | str:
    return int(value) if value.isdigit() else value


class PlaybookForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    key = forms.SlugField(max_length=100, help_text=_("Stable identifier, used by rules (enrol_playbook)."))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Description"))
    trigger = forms.CharField(max_length=255, required=False, label=_("Trigger"), help_text=_("When to use it."))
    owner_role = forms.CharField(max_length=64, required=False, label=_("Owner role"))
    metric = forms.CharField(max_length=255, required=False, label=_("Metric to track"))
    holdout_percent = forms.IntegerField(
        min_value=0, max_value=50, initial=0, label=_("Holdout %"), help_text=_("A random share held out (0–50%).")
    )
    enabled = forms.BooleanField(required=False, initial=True, label=_("Enabled"))
    advanced = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        required=False,
        label=_("Advanced: steps as YAML"),
        help_text=_("Overrides the rows: a list of {kind: task|email|wait|branch, …parameters}."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = [("", "—"), ("task", gettext("Task")), ("email", gettext("Email")),
                 ("wait", gettext("Wait N days (or until a condition)")),
                 ("branch", gettext("Branch: then / else by a condition"))]  # fmt: skip
        targets = [("", "—"), ("next", gettext("the next step")), ("stop", gettext("stop the enrolment"))] + [
            (str(n), gettext("step %(n)s") % {"n": n}) for n in range(1, STEP_ROWS + 1)
        ]
        for i in range(STEP_ROWS):
            n = {"n": i + 1}
            self.fields[f"step_{i}_kind"] = forms.ChoiceField(
                choices=kinds, required=False, label=gettext("Step %(n)s") % n
            )
            self.fields[f"step_{i}_params"] = forms.CharField(required=False, label=gettext("Parameters"))
            self.fields[f"step_{i}_then"] = forms.ChoiceField(
                choices=targets, required=False, label=gettext("Then (step %(n)s)") % n
            )
            self.fields[f"step_{i}_else"] = forms.ChoiceField(
                choices=targets, required=False, label=gettext("Else (step %(n)s)") % n
            )
            self.fields[f"step_{i}_until"] = forms.CharField(required=False, label=gettext("Until (step %(n)s)") % n)
        self.step_row_of: list[int] = []  # the row of each step (rows left empty are skipped)

    @classmethod
    def initial_for(cls, playbook) -> dict:
        initial = {f: getattr(playbook, f) for f in ("name", "key", "description", "trigger", "owner_role", "metric",
                                                     "holdout_percent", "enabled")}  # fmt: skip
        steps = list(playbook.steps.order_by("order"))
        rows = [step_to_params(s.kind, s.config) for s in steps]
        untils = [condition_to_params(s.config["until"]) if "until" in s.config else "" for s in steps]
        if len(steps) > STEP_ROWS or any(r is None for r in rows + untils):
            initial["advanced"] = yaml.safe_dump([{"kind": s.kind, **s.config} for s in steps], sort_keys=False,
                                                 allow_unicode=True)  # fmt: skip
            return initial
        for i, (step, params, until) in enumerate(zip(steps, rows, untils, strict=True)):
            initial[f"step_{i}_kind"], initial[f"step_{i}_params"] = step.kind, params
            initial[f"step_{i}_until"] = until
            for exit_ in ROUTED:
                if step.kind == "branch" and step.config.get(exit_) not in (None, ""):
                    initial[f"step_{i}_{exit_}"] = str(step.config[exit_])
        return initial

    def step_rows(self):
        return [
            {"kind": self[f"step_{i}_kind"], "params": self[f"step_{i}_params"], "then": self[f"step_{i}_then"],
             "else": self[f"step_{i}_else"], "until": self[f"step_{i}_until"]}
            for i in range(STEP_ROWS)
        ]  # fmt: skip

    def _row_step(self, i: int, kind: str, data: dict) -> tuple[str, dict]:
        config = step_from_params(kind, data.get(f"step_{i}_params") or "")
        for exit_ in ROUTED:
            if value := data.get(f"step_{i}_{exit_}"):
                if kind != "branch":
                    raise ValidationError(gettext("Only a branch routes to then / else."), code=exit_)
                config[exit_] = _target(value)
        if until := (data.get(f"step_{i}_until") or "").strip():
            if kind != "wait":
                raise ValidationError(gettext("Only a wait waits until a condition."), code="until")
            try:
                config["until"] = condition_from_params(until, with_reason=False)["condition"]
            except ValidationError as exc:
                raise ValidationError(" ".join(exc.messages), code="until") from exc
        return kind, config

    def clean(self):
        data = super().clean()
        advanced = (data.get("advanced") or "").strip()
        steps: list[tuple[str, dict]] = []
        if advanced:
            try:
                parsed = yaml.safe_load(advanced)
            except yaml.YAMLError as exc:
                raise ValidationError(gettext("Not valid YAML: %(error)s") % {"error": exc}) from exc
            if not isinstance(parsed, list) or not all(isinstance(s, dict) for s in parsed):
                raise ValidationError(gettext("The YAML must be a list of steps, each with a kind."))
            steps = [(str(s.get("kind", "")), {k: v for k, v in s.items() if k != "kind"}) for s in parsed]
        else:
            for i in range(STEP_ROWS):
                kind = data.get(f"step_{i}_kind")
                if kind:
                    try:
                        steps.append(self._row_step(i, kind, data))
                        self.step_row_of.append(i)
                    except ValidationError as exc:
                        code = getattr(exc, "code", None)
                        field = code if code in ("then", "else", "until") else "params"
                        self.add_error(f"step_{i}_{field}", exc.messages)
                elif (data.get(f"step_{i}_params") or "").strip():
                    self.add_error(f"step_{i}_kind", gettext("Choose the kind of this step."))
        if not steps and not self.errors:
            raise ValidationError(gettext("Add at least one step."))
        data["steps"] = steps
        return data

    def refuse(self, exc: PlaybookInvalid) -> None:
        """Show the service's refusal on the field it names (the YAML, a row's field, or the whole form)."""
        if (self.cleaned_data.get("advanced") or "").strip():
            self.add_error("advanced", str(exc))
        elif exc.step is not None and 0 < exc.step <= len(self.step_row_of):
            self.add_error(f"step_{self.step_row_of[exc.step - 1]}_{exc.field}", str(exc))
        else:
            self.add_error(None, str(exc))
