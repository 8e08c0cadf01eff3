"""Pure KPI arithmetic: dates and periods, per-account metrics (numpy/pandas) and the formulas of DESIGN.md.

Nothing here touches the database: `dashboards.selectors` reads the facts, these modules turn them into numbers,
and `dashboards.catalog` names the results the API and the dashboard show.
"""
