"""German formats of the fan pages (see onsale/platform/formats/__init__.py).
Numbers keep Django's German separators (1.234,50)."""

DATETIME_FORMAT = "D, j. M Y, H:i T"
DATE_FORMAT = "j. F Y"
SHORT_DATE_FORMAT = "D, j. M Y"
SHORT_DATETIME_FORMAT = "j. M Y, H:i"
