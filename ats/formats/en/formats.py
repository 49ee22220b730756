"""Date formats of the admin and the templates: compact and unambiguous, 24-hour ("29 Nov
2026, 17:56"), so that lists with several dates fit a 1366 px wide screen."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
