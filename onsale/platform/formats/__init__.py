"""The project's date formats per language (settings.FORMAT_MODULE_PATH).

Each language's module names only the formats the fan pages use; every other
format falls back to Django's own for that language. Templates name the
format (`|date:"DATETIME_FORMAT"`), never spell it, so one German request gets
German order, month and weekday names throughout:

- DATETIME_FORMAT: a moment of an event, with its time zone
  ("Fri 4 Dec 2026, 19:30 CET", "Fr, 4. Dez 2026, 19:30 CET").
- DATE_FORMAT: a day in full ("4 December 2026", "4. Dezember 2026").
- SHORT_DATE_FORMAT: the day of an event in a list ("Fri 4 Dec 2026").
- SHORT_DATETIME_FORMAT: when an order was placed ("4 Dec 2026, 19:30").
"""
