"""`manage.py churn_lab_benchmark`: the churn model lab's backtests on simulated histories (seeds × mechanisms).

Prints, per scenario and cutoff, every candidate's AUC, top-decile lift, Brier and ECE with the baseline as the
row to beat, the winner, the features carrying its signal and whether the targets hold (AUC ≥ baseline + 0.03,
lift ≥ 1.5 at cutoffs with ≥ 20 test churns, ECE ≤ 0.05). Reads and writes no database.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.lab_benchmark import run_scenario
from demo.simulator import MECHANISMS
from health import lab


def _fmt(value, digits: int) -> str:
    return "   –  " if value is None else f"{value:.{digits}f}"


class Command(BaseCommand):
    help = "Backtest the churn model candidates on simulated histories (several seeds and churn mechanisms)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=500)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="Seeds of the default mechanism.")
        parser.add_argument(
            "--mechanisms", nargs="*", default=["usage_decay", "ticket_storm", "price_shock", "silent"],
            choices=MECHANISMS, help="Other churn mechanisms, each at the first seed.",
        )  # fmt: skip
        parser.add_argument("--horizon-days", type=int, default=31)
        parser.add_argument("--cutoffs", type=int, default=3)
        parser.add_argument("--test-months", type=int, default=3)
        parser.add_argument("--end-date", type=dt.date.fromisoformat, default=dt.date(2026, 1, 1))

    def handle(self, *args, **options) -> None:
        if options["accounts"] < 20 or options["months"] < 8:
            raise CommandError("Use at least 20 accounts and 8 months: the backtest needs history.")
        scenarios = [(seed, "default") for seed in options["seeds"]]
        scenarios += [(options["seeds"][0], m) for m in options["mechanisms"] if m != "default"]
        summary = []
        for seed, mechanism in scenarios:
            try:
                report = run_scenario(
                    seed=seed, mechanism=mechanism, accounts=options["accounts"], months=options["months"],
                    end=options["end_date"], horizon_days=options["horizon_days"], cutoffs=options["cutoffs"],
                    test_months=options["test_months"],
                )  # fmt: skip
            except lab.NotEnoughData as exc:
                self.stdout.write(f"\n== {mechanism} seed {seed}: {exc}")
                continue
            self._print(report)
            summary.append(report)
        self.stdout.write("\nSummary (winner vs baseline, mean over cutoffs; targets at cutoffs with ≥ 20 churns):")
        for r in summary:
            w, b, v = r["means"][r["winner"]], r["means"].get("baseline", {}), r["verdict"]
            self.stdout.write(
                f"  {r['mechanism']:<12} seed {r['seed']}: {r['winner']:<8} AUC {w['auc']:.3f} vs {b.get('auc', 0):.3f}"
                f"  lift {w['lift']:.2f}  ECE {w['ece']:.3f}  | targets on {v['cutoffs_counted']} cutoff(s): "
                f"AUC+0.03 {self._yes(v['auc'])}, lift {self._yes(v['lift'])}, ECE {self._yes(v['ece'])}"
            )

    @staticmethod
    def _yes(value) -> str:
        return "n/a" if value is None else ("met" if value else "NOT met")

    def _print(self, r: dict) -> None:
        self.stdout.write(
            f"\n== {r['mechanism']} seed {r['seed']}: {r['events']:,} events, {r['observations']:,} labelled "
            f"observations, horizon {r['horizon_days']} d, {r['test_months']} test month(s) per cutoff "
            f"({r['seconds']:.1f} s)"
        )
        self.stdout.write("  cutoff      candidate   AUC    lift   Brier   ECE    churns/rows")
        for row in r["table"]:
            if row.get("error"):
                self.stdout.write(f"  {row['cutoff']}  {row['candidate']:<10}  {row['error']}")
                continue
            self.stdout.write(
                f"  {row['cutoff']}  {row['candidate']:<10} {_fmt(row['auc'], 3)}  {_fmt(row['lift'], 2)}  "
                f"{_fmt(row['brier'], 4)}  {_fmt(row['ece'], 3)}  {row['churns']}/{row['n']}"
            )
        for kind, m in r["means"].items():
            self.stdout.write(
                f"  mean        {kind:<10} {m['auc']:.3f}  {m['lift']:.2f}  {m['brier']:.4f}  {m['ece']:.3f}"
            )
        signal = [f"{s['label']} (risk when {s['risk_when']})" if s["risk_when"] else s["label"] for s in r["signal"]]
        self.stdout.write(f"  winner: {r['winner']}; signal: " + "; ".join(signal))
