"""Chart.js configurations of the dashboard widgets (drawn by static/js/app.js from `json_script`).

`devicePixelRatio: 2` renders every chart at twice the screen resolution, so a chart saved as PNG stays crisp when
pasted into a slide deck.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from churnapp.money import currency

BLUE, GREEN, RED, AMBER = "#3056d3", "#1f8a4c", "#c2352b", "#d08a00"
SLATE, TEAL, PURPLE = "#8a94a6", "#0f8b8d", "#7a4cc2"


def _options(*, y_title: str = "", stacked: bool = False, legend: bool = True) -> dict:
    y = {"beginAtZero": True, "stacked": stacked, "title": {"display": bool(y_title), "text": y_title}}
    return {
        "maintainAspectRatio": False,
        "animation": False,
        "devicePixelRatio": 2,
        "interaction": {"mode": "index", "intersect": False},
        "plugins": {"legend": {"display": legend, "position": "bottom"}},
        "scales": {"x": {"stacked": stacked, "grid": {"display": False}}, "y": y},
    }


def _percent(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None else round(100 * v, 2) for v in values]


def churn_trend(labels: Sequence[str], series: dict[str, Sequence[float | None]]) -> dict:
    """Lines of monthly churn rates (fractions, drawn in percent); months without a denominator leave a gap."""
    colors = [RED, AMBER, PURPLE]
    return {
        "type": "line",
        "data": {
            "labels": list(labels),
            "datasets": [
                {"label": name, "data": _percent(values), "borderColor": colors[i % 3],
                 "backgroundColor": colors[i % 3], "tension": 0, "spanGaps": False, "pointRadius": 3}
                for i, (name, values) in enumerate(series.items())
            ],
        },
        "options": _options(y_title=_("% churned in the month")),
    }  # fmt: skip


def mrr_movements(labels: Sequence[str], rows: Sequence[dict]) -> dict:
    """Stacked bars: gains above zero (new, expansion, reactivation), losses below (contraction, churned)."""
    bars = [(_("New"), "new_mrr", 1, GREEN), (_("Expansion"), "expansion_mrr", 1, TEAL),
            (_("Reactivation"), "reactivation_mrr", 1, BLUE), (_("Contraction"), "contraction_mrr", -1, AMBER),
            (_("Churned"), "churned_mrr", -1, RED)]  # fmt: skip
    datasets = [
        {"label": label, "data": [sign * row[key] for row in rows], "backgroundColor": color, "stack": "mrr"}
        for label, key, sign, color in bars
    ]
    datasets.append({"label": _("Net change"), "data": [row["net_change_mrr"] for row in rows], "type": "line",
                     "borderColor": "#1d2433", "backgroundColor": "#1d2433", "pointRadius": 3})  # fmt: skip
    return {
        "type": "bar",
        "data": {"labels": list(labels), "datasets": datasets},
        "options": _options(y_title=f"MRR ({currency()})", stacked=True),
    }


def nps_distribution(counts: Sequence[int]) -> dict:
    colors = [RED] * 7 + [SLATE] * 2 + [GREEN] * 2
    return {
        "type": "bar",
        "data": {
            "labels": [str(score) for score in range(11)],
            "datasets": [{"label": _("Responses"), "data": list(counts), "backgroundColor": colors}],
        },
        "options": _options(y_title=_("responses"), legend=False),
    }


def health_bands(bands: Sequence[dict]) -> dict:
    colors = {"green": GREEN, "yellow": AMBER, "red": RED, "unscored": SLATE}
    return {
        "type": "bar",
        "data": {
            "labels": [band["label"] for band in bands],
            "datasets": [
                {
                    "label": _("Accounts"),
                    "data": [band["n_accounts"] for band in bands],
                    "backgroundColor": [colors[band["band"]] for band in bands],
                }
            ],  # fmt: skip
        },
        "options": {**_options(y_title=_("accounts"), legend=False), "indexAxis": "x"},
    }


def survival_curve(points: Sequence[dict]) -> dict:
    """Kaplan–Meier survival (percent) against months since the first subscription, drawn as steps from 100 %."""
    data = [{"x": 0, "y": 100.0}] + [{"x": p["month"], "y": round(100 * p["survival"], 2)} for p in points]
    options = _options(y_title=_("% of accounts still subscribed"), legend=False)
    options["scales"]["x"] = {"type": "linear", "min": 0, "title": {"display": True, "text": _("months after the first "
                              "subscription")}, "grid": {"display": False}}  # fmt: skip
    options["scales"]["y"]["max"] = 100
    options["interaction"] = {"mode": "nearest", "intersect": False, "axis": "x"}
    return {
        "type": "line",
        "data": {
            "datasets": [
                {
                    "label": _("Survival"),
                    "data": data,
                    "stepped": "after",
                    "borderColor": BLUE,
                    "backgroundColor": BLUE,
                    "pointRadius": 0,
                    "borderWidth": 2,
                }
            ]
        },  # fmt: skip
        "options": options,
    }


def engagement_buckets(buckets: Sequence[dict]) -> dict:
    colors = [RED, AMBER, AMBER, TEAL, GREEN, GREEN]
    return {
        "type": "bar",
        "data": {
            "labels": [_("%(bucket)s days") % {"bucket": b["bucket"]} for b in buckets],
            "datasets": [
                {
                    "label": _("Accounts"),
                    "data": [b["n_accounts"] for b in buckets],
                    "backgroundColor": colors[: len(buckets)],
                }
            ],  # fmt: skip
        },
        "options": _options(y_title=_("accounts"), legend=False),
    }
