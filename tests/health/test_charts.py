"""Charts draw measured points joined by straight lines: no spline inventing values between months."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.views import _usage_chart
from dashboards import charts
from health.views import reliability_chart


def _tensions(config: dict) -> list:
    return [d.get("tension", 0) for d in config["data"]["datasets"] if d.get("type", config["type"]) == "line"]


def test_monthly_and_model_charts_are_not_smoothed():
    trend = charts.churn_trend(["Jan", "Feb"], {"Logo churn": [0.1, 0.2]})
    assert _tensions(trend) == [0]
    assert _tensions(_usage_chart([])) == [0]
    rel = reliability_chart([{"bin": "0.0–0.1", "predicted": 0.05, "observed": 0.04, "n": 120},
                             {"bin": "0.1–0.2", "predicted": 0.15, "observed": 0.3, "n": 3}])  # fmt: skip
    assert _tensions(rel) == [0, 0]
    assert rel["data"]["labels"] == ["0.0–0.1 (n=120)", "0.1–0.2 (n=3)"]
    counts = next(d for d in rel["data"]["datasets"] if d["label"] == "Accounts in the bin")
    assert counts["data"] == [120, 3] and counts["type"] == "bar"


def test_no_chart_config_in_the_code_smooths_lines():
    root = Path(__file__).resolve().parents[2]
    for path in [*root.glob("*/*.py"), *root.glob("*/**/views.py"), root / "static/js/app.js"]:
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        text = path.read_text()
        for marker in ('"tension": 0.', "tension: 0."):
            assert marker not in text, f"{path} smooths a chart"
    assert "Chart.defaults.elements.line.tension = 0" in (root / "static/js/app.js").read_text()


@pytest.mark.django_db
def test_cohort_widget_says_reactivations_count(client, manager):
    client.force_login(manager)
    html = client.get("/dashboard/widgets/cohorts/?period=12m").content.decode()
    assert "Reactivations count" in html
