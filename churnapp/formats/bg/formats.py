"""Bulgarian dates as the tables show them: "4 дек 2026", "дек 2026", "4 дек", "4 дек, 13:05"."""
# Month abbreviations are lowercase in this language ("b"); Django's "M" would capitalise them.

DATE_FORMAT = "j b Y"
YEAR_MONTH_FORMAT = "b Y"
MONTH_DAY_FORMAT = "j b"
SHORT_DATETIME_FORMAT = "j b, H:i"
DATETIME_FORMAT = "j b Y H:i"
