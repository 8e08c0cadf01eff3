"""What each dashboard widget shows: numbers from the KPI catalog, drill-down links, charts and CSV rows.

A widget builder takes the dashboard's state (period and filters) and returns a template context with `rows`
(the widget's data, also its CSV export) — so the page, the CSV and the API all come from `dashboards.catalog`.

Modules: `state` (the page's period and filters, the links built from them), `registry` (every widget), and the
builders by subject: `cards`, `retention`, `signals` and `team`. The registry and the state are re-exported here.
"""

from dashboards.widgets.registry import WIDGETS
from dashboards.widgets.state import DashboardState

__all__ = ["WIDGETS", "DashboardState"]
