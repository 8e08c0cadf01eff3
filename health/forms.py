from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from health.scoring import DEFAULT_FACTORS, FACTORS, PROFILE_FACTORS, factor_label


class SentimentForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        choices=[
            (5, _("5 · very good")),
            (4, _("4 · good")),
            (3, _("3 · neutral")),
            (2, _("2 · poor")),
            (1, _("1 · very poor")),
        ],
        coerce=int,
    )
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    expires_on = forms.DateField(label=_("Expires on"), widget=forms.DateInput(attrs={"type": "date"}))


MAX_BACKTEST_MONTHS = 36


class BacktestForm(forms.Form):
    """How many past months the backtest replays (each month is one snapshot of every account)."""

    months = forms.IntegerField(
        min_value=1,
        max_value=MAX_BACKTEST_MONTHS,
        required=False,
        error_messages={
            "invalid": _("Backtest months must be a whole number."),
            "min_value": _("Backtest months: at least 1."),
            "max_value": _("Backtest months: at most %(limit_value)s."),
        },
    )

    def clean_months(self) -> int:
        return self.cleaned_data["months"] or 12


def points_text(points: list) -> str:
    return ", ".join(f"{_num(x)}:{_num(y)}" for x, y in points)


def _num(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def editor_rows(factors: list[dict]) -> list[dict]:
    """One editor row per known factor: the profile's settings, or weight 0 (off) with a sensible default."""
    chosen = {f["key"]: f for f in factors}
    defaults = {f["key"]: f for f in DEFAULT_FACTORS}
    rows = []
    for key in PROFILE_FACTORS:
        label, _unit, higher = FACTORS[key]
        factor = chosen.get(key) or {**defaults.get(key, {}), "weight": 0}
        method = factor.get("method", "percentile")
        rows.append(
            {
                "key": key,
                "label": label,
                "weight": _num(factor.get("weight", 0)),
                "method": method,
                "points": points_text(factor["points"]) if factor.get("points") else "",
                "higher_is_better": factor.get("higher_is_better", higher),
            }
        )
    rows.sort(key=lambda r: -float(r["weight"]))
    return rows


def parse_profile(data) -> tuple[list[dict], int | None, int | None, str, list[str]]:
    """Editor form data → (factors with weight > 0, green_min, yellow_min, note, parse errors)."""
    errors: list[str] = []
    factors: list[dict] = []
    for key in PROFILE_FACTORS:
        raw_weight = (data.get(f"weight_{key}") or "0").strip()
        try:
            weight = float(raw_weight)
        except ValueError:
            errors.append(gettext("The weight of %(factor)s is not a number.") % {"factor": factor_label(key)})
            continue
        if weight == 0:
            continue
        method = data.get(f"method_{key}", "thresholds")
        factor: dict = {"key": key, "weight": int(weight) if weight.is_integer() else weight, "method": method}
        if method == "thresholds":
            try:
                factor["points"] = [
                    [float(x) for x in pair.split(":")]
                    for pair in data.get(f"points_{key}", "").split(",")
                    if pair.strip()
                ]
                if any(len(p) != 2 for p in factor["points"]):
                    raise ValueError
            except ValueError:
                errors.append(
                    gettext("%(factor)s: write thresholds as value:score pairs, e.g. 0:0, 20:100.")
                    % {"factor": factor_label(key)}
                )
                continue
        else:
            factor["higher_is_better"] = data.get(f"hib_{key}") == "on"
        factors.append(factor)
    try:
        green, yellow = int(data.get("green_min", "")), int(data.get("yellow_min", ""))
    except ValueError:
        errors.append(gettext("Band thresholds must be whole numbers."))
        green = yellow = None
    return factors, green, yellow, data.get("note", "")[:255], errors


class LabRunForm(forms.Form):
    """A split to evaluate every churn-model candidate on (the model page's lab form)."""

    train_until = forms.DateField(label=_("Train until"), widget=forms.DateInput(attrs={"type": "date"}))
    test_from = forms.DateField(label=_("Test from"), widget=forms.DateInput(attrs={"type": "date"}))
    test_until = forms.DateField(label=_("Test until"), widget=forms.DateInput(attrs={"type": "date"}))
    horizon_days = forms.IntegerField(label=_("Horizon days"), min_value=1, max_value=365)
    as_of = forms.DateField(label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
