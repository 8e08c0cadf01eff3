"""KPI aggregates and goals (see the dashboards issue)."""
