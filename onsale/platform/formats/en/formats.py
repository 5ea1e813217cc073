"""English formats of the fan pages (see onsale/platform/formats/__init__.py)."""

DATETIME_FORMAT = "D j M Y, H:i T"
DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "D j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
