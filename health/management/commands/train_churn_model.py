"""`manage.py train_churn_model`: build observations, train, evaluate on the time-based holdout, print metrics."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from health import conf, services
from health.backtest import backtest_profile
from health.models import HealthProfile
from health.scoring import Bands
from health.selectors import published_of


class Command(BaseCommand):
    help = "Train the churn model now (promoted only if it beats the current one) and print its holdout metrics."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--months", type=int, default=24, help="Monthly observations to build (default 24).")
        parser.add_argument("--no-rebuild", action="store_true", help="Reuse the stored observations.")
        parser.add_argument("--predict", action="store_true", help="Also write today's predictions.")

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        if not options["no_rebuild"]:
            count = services.observations_build(months=options["months"])
            self.stdout.write(f"Observations: {count} account-months in {time.perf_counter() - started:.1f}s")
        version = services.churn_model_train(rebuild_observations=False)
        self.stdout.write(f"Model {version.pk}: {version.get_status_display()}. {version.message}")
        m = version.metrics
        if m:
            self.stdout.write(
                f"  horizon {version.horizon_days} d; "
                f"train {version.train_from}…{version.train_to} ({version.n_train}), "
                f"holdout {version.holdout_from}…{version.holdout_to} ({version.n_holdout})\n"
                f"  AUC {m['auc']:.3f}  top-decile lift {m['lift_top_decile']:.2f}  Brier {m['brier']:.4f}  "
                f"base rate {m['base_rate']:.3f}\n"
                f"  profit: best k = {m['profit']['best_k']} of {m['n']}, ${m['profit']['best_value']:,.0f} "
                f"(action cost ${conf.get('ACTION_COST'):.0f}, save rate {conf.get('SAVE_RATE'):.2f})"
            )
            for row in m["reliability"]:
                self.stdout.write(
                    f"  reliability {row['bin']}: predicted {row['predicted']:.3f} observed {row['observed']:.3f} "
                    f"(n={row['n']})"
                )
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
            self.stdout.write(f"Predictions: {services.churn_predict()}")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.1f}s."))
