"""`manage.py train_churn_model`: backtest the candidates, train the winner, print every candidate's metrics.

With `--train-until/--test-from/--test-until` it evaluates every candidate on that split instead (no model is
stored); `--as-of DATE` builds the observations as if today were DATE.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from churnapp.editing import errors_text
from churnapp.money import format_money
from health import conf, services
from health.backtest import backtest_profile
from health.models import HealthProfile
from health.scoring import Bands
from health.selectors import published_of


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD).") from None


def _num(value, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def metric_line(name: str, m: dict) -> str:
    if m.get("error"):
        return f"  {name:<18} {m['error']}"
    return (
        f"  {name:<18} AUC {_num(m.get('auc'), 3)}  lift {_num(m.get('lift'), 2)}  Brier {_num(m.get('brier'), 4)}  "
        f"ECE {_num(m.get('ece'), 3)}  churns {m.get('churns')}/{m.get('n')}"
    )


class Command(BaseCommand):
    help = (
        "Backtest the churn-model candidates (baseline, logistic, boosting), train the winner and promote it only "
        "if it beats the current one; or, with --train-until/--test-from/--test-until, print every candidate's "
        "metrics on that split."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--months", type=int, default=24, help="Monthly observations to build (default 24).")
        parser.add_argument("--no-rebuild", action="store_true", help="Reuse the stored metric observations.")
        parser.add_argument("--predict", action="store_true", help="Also write today's predictions.")
        parser.add_argument("--as-of", type=_date, help="Build observations as if today were this day (YYYY-MM-DD).")
        parser.add_argument("--horizon-days", type=int, help="Churn label horizon (default HEALTH_CHURN_HORIZON_DAYS).")
        parser.add_argument("--train-until", type=_date, help="Train on observations dated before this day.")
        parser.add_argument("--test-from", type=_date, help="First observation date of the test period.")
        parser.add_argument("--test-until", type=_date, help="Last observation date of the test period (inclusive).")

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        horizon = options["horizon_days"] or conf.get("CHURN_HORIZON_DAYS")
        split = [options[k] for k in ("train_until", "test_from", "test_until")]
        if any(split):
            if not all(split):
                raise CommandError("--train-until, --test-from and --test-until go together.")
            self._split(*split, horizon=horizon, as_of=options["as_of"])
        else:
            self._train(options, horizon)
        self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.1f}s."))

    def _split(self, train_until, test_from, test_until, *, horizon: int, as_of) -> None:
        try:
            result = services.lab_split(
                train_until=train_until, test_from=test_from, test_until=test_until, horizon_days=horizon, as_of=as_of
            )
        except ValidationError as exc:
            raise CommandError(errors_text(exc.message_dict)) from exc
        train, test = result["train"], result["test"]
        self.stdout.write(
            f"As of {result['as_of']}, horizon {horizon} d. Train {train['from']}…{train['to']} ({train['n']} rows, "
            f"{train['churns']} churns; {train['dropped_unlabelled']} dropped: label not known by {test_from}). "
            f"Test {test['from']}…{test['to']} ({test['n']} rows, {test['churns']} churns)."
        )
        for kind, m in result["candidates"].items():
            self.stdout.write(metric_line(kind + (" (baseline)" if kind == "baseline" else ""), m))
        self.stdout.write(f"Best on this split: {result['winner']}")

    def _train(self, options: dict, horizon: int) -> None:
        started = time.perf_counter()
        today = options["as_of"]
        if not options["no_rebuild"]:
            count = services.observations_build(months=options["months"], today=today, horizon_days=horizon)
            self.stdout.write(f"Observations: {count} account-months in {time.perf_counter() - started:.1f}s")
        version = services.churn_model_train(
            rebuild_observations=False, months=options["months"], today=today, horizon_days=horizon
        )
        self.stdout.write(f"Model {version.pk}: {version.get_status_display()}. {version.message}")
        m = version.metrics
        if m:
            self._report(version, m)
        default = published_of(profile=HealthProfile.objects.get(segment=""))
        result = backtest_profile(
            services.observations_frame(), default.factors, Bands(default.green_min, default.yellow_min)
        )
        if result.get("auc") is not None:
            self.stdout.write(
                f"Health score backtest (default profile v{default.number}, all labelled months): AUC "
                f"{result['auc']:.3f}; churn rate "
                + ", ".join(f"{b['band']} {b['rate']:.1%}" for b in result["per_band"] if b["rate"] is not None)
            )
        if options["predict"]:
            self.stdout.write(f"Predictions: {services.churn_predict(day=today)}")

    def _report(self, version, m: dict) -> None:
        lab = m.get("lab", {})
        self.stdout.write(f"Rolling-origin backtest, horizon {version.horizon_days} d, {lab.get('test_months')} test "
                          f"month(s) per cutoff (baseline = the row to beat):")  # fmt: skip
        for row in lab.get("table", []):
            self.stdout.write(metric_line(f"{row['cutoff']} {row['candidate']}", row))
        for kind, mean in lab.get("means", {}).items():
            self.stdout.write(
                f"  mean {kind:<13} AUC {mean['auc']:.3f}  lift {mean['lift']:.2f}  Brier {mean['brier']:.4f}  "
                f"ECE {mean['ece']:.3f}"
            )
        self.stdout.write(f"Winner: {m.get('candidate')} (calibrated {m.get('calibration')})")
        self.stdout.write(
            f"  holdout {version.holdout_from}…{version.holdout_to} ({version.n_holdout}): AUC {m['auc']:.3f}  "
            f"top-decile lift {m['lift_top_decile']:.2f}  Brier {m['brier']:.4f}  ECE {m.get('ece', 0):.3f}  "
            f"base rate {m['base_rate']:.3f}; trained on {version.n_train} ({version.train_from}…{version.train_to})"
        )
        for row in m.get("lead_time", []):
            self.stdout.write(
                f"  lead time {row['horizon_days']} d: "
                + (row["error"] if row.get("error") else
                   f"AUC {_num(row['auc'], 3)} (baseline {_num(row['baseline_auc'], 3)}), {row['churns']} churns")
            )  # fmt: skip
        rec = m.get("recommendation")
        if rec:
            self.stdout.write(
                f"  profit: contact the top {rec['contact_k']} of {m['n']} by risk × value → "
                f"{format_money(rec['net_value'])} net (action cost {format_money(rec['action_cost'])}, save rate "
                f"{rec['save_rate']:.2f}); break-even probability at median value "
                f"{_num(rec['break_even_probability'], 3)}"
            )
        if m.get("signal"):
            self.stdout.write("  signal: " + "; ".join(f"{s['label']} ({s['strength']:.2f})" for s in m["signal"][:6]))
