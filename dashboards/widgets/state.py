"""The dashboard's state (period and filters) and the links a widget builds from it: drill-downs, the accounts
list and the KPI API."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from dashboards.params import KpiQuery


@dataclass(frozen=True)
class DashboardState:
    """The period and filters of the page, as validated by `DashboardFilterForm`."""

    query: KpiQuery
    period: str

    @property
    def params(self) -> list[tuple[str, str]]:
        pairs = [("period", self.period)]
        if self.period == "custom":
            pairs += [("start", self.query.start.isoformat()), ("end", self.query.end.isoformat())]
        return pairs + self.query.filters.as_params()

    @property
    def querystring(self) -> str:
        return urlencode(self.params)

    @property
    def months(self) -> int:
        return (self.query.end.year - self.query.start.year) * 12 + self.query.end.month - self.query.start.month

    def drill(self, kpi: str, measure: str, **extra) -> str:
        params = [("start", self.query.start.isoformat()), ("end", self.query.end.isoformat()),
                  *self.query.filters.as_params(), *extra.items()]  # fmt: skip
        return f"{reverse('dashboard-drilldown', args=[kpi, measure])}?{urlencode(params)}"

    def accounts_link(self, **extra) -> str:
        """The accounts list with the same filters (it understands segment, owner and plan) plus `extra`."""
        params = self.query.filters.as_params() + [
            (key, v) for key, value in extra.items() for v in (value if isinstance(value, tuple) else (value,))
        ]
        return f"{reverse('account-list')}?{urlencode(params)}"

    def api(self, kpi: str, series: bool = False) -> str:
        name = ("kpi-series-" if series else "kpi-detail-") + kpi
        params = [("start", self.query.start.isoformat()), ("end", self.query.end.isoformat()),
                  *self.query.filters.as_params()]  # fmt: skip
        return f"{reverse(name)}?{urlencode(params)}"
