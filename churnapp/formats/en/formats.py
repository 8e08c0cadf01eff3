"""Compact English dates for tables and figures: "Dec 4, 2026", "Dec 4, 2026 13:05", "Dec 2026", "Dec 4",
"Dec 4, 13:05"."""

DATE_FORMAT = "M j, Y"
YEAR_MONTH_FORMAT = "M Y"
MONTH_DAY_FORMAT = "M j"
SHORT_DATETIME_FORMAT = "M j, H:i"
DATETIME_FORMAT = "M j, Y H:i"
