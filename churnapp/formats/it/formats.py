"""Italian dates as the tables show them: "4 dic 2026", "dic 2026", "4 dic", "4 dic, 13:05"."""

DATE_FORMAT = "j M Y"
YEAR_MONTH_FORMAT = "M Y"
MONTH_DAY_FORMAT = "j M"
SHORT_DATETIME_FORMAT = "j M, H:i"
DATETIME_FORMAT = "j M Y H:i"
