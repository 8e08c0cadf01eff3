from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command

from demo.lab_benchmark import verdict


def test_verdict_counts_only_cutoffs_with_enough_test_churns():
    table = [
        {"cutoff": "a", "candidate": "baseline", "auc": 0.60, "lift": 1.2, "ece": 0.02, "churns": 25},
        {"cutoff": "a", "candidate": "logistic", "auc": 0.70, "lift": 2.0, "ece": 0.03, "churns": 25},
        {"cutoff": "b", "candidate": "baseline", "auc": 0.60, "lift": 1.2, "ece": 0.02, "churns": 10},
        {"cutoff": "b", "candidate": "logistic", "auc": 0.55, "lift": 0.9, "ece": 0.09, "churns": 10},
    ]
    assert verdict(table, "logistic") == {"cutoffs_counted": 1, "auc": True, "lift": True, "ece": True}
    table[1]["auc"] = 0.62
    assert verdict(table, "logistic")["auc"] is False


def test_benchmark_prints_every_candidate_per_cutoff_and_the_targets():
    out = io.StringIO()
    call_command(
        "churn_lab_benchmark", "--accounts", "150", "--months", "16", "--seeds", "2", "--mechanisms", "silent",
        "--end-date", dt.date(2025, 12, 1).isoformat(), stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "== default seed 2" in text and "== silent seed 2" in text
    assert text.count(" baseline ") >= 2 and " boosting " in text and " logistic " in text
    assert "Summary" in text and "AUC+0.03" in text
