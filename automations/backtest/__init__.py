"""Rule backtest: replay a rule (saved or draft) over the stored history, day by day with its cooldown, and judge
its fires against the churn that followed (precision, recall, lift) and the CSM load its actions would have made.

`grid` holds the days × accounts matrices and their set-based builders, `history_usage` / `history_facts` the
historical evaluator of each leaf, `evaluate` the tree, `replay` the cooldown, churns and figures, `service` the
entry point."""

from automations.backtest.evaluate import CannotBacktest
from automations.backtest.service import DEFAULT_MONTHS, MAX_MONTHS, MIN_MONTHS, BacktestInvalid, rule_backtest

__all__ = ["DEFAULT_MONTHS", "MAX_MONTHS", "MIN_MONTHS", "BacktestInvalid", "CannotBacktest", "rule_backtest"]
