"""`manage.py messages_update`: refresh and compile every app's catalogs.

Each app with a `locale/` folder keeps its own catalog (settings.py says
why). For each, Django's makemessages runs in the app's folder (it reads the
folder it runs in): new strings come in, vanished ones go, translations stay.
The apps whose scripts are translated (JAVASCRIPT_CATALOG_APPS) also get a
`djangojs` catalog from their static JavaScript.
Then the catalogs are compiled; the .mo files are committed with the .po files
so that running the project never needs gettext. Afterwards every new or
changed entry needs its translation (no empty msgstr, no fuzzy flag):
onsale/platform/tests/test_translations.py fails until it has one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from onsale.platform.javascript_catalog import JAVASCRIPT_CATALOG_APPS


class Command(BaseCommand):
    help = "Refresh every app's translation catalogs and compile them."

    def handle(self, *args: Any, **options: Any) -> None:
        languages = [
            code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE
        ]
        package = Path(settings.BASE_DIR) / "onsale"
        start = Path.cwd()
        try:
            for locale_dir in sorted(package.glob("*/locale")):
                os.chdir(locale_dir.parent)
                app = f"onsale.{locale_dir.parent.name}"
                domains = ["django"]
                if app in JAVASCRIPT_CATALOG_APPS:
                    domains.append("djangojs")
                for domain in domains:
                    call_command(
                        "makemessages",
                        locale=languages,
                        domain=domain,
                        ignore_patterns=["tests", "migrations"],
                        no_obsolete=True,
                        add_location="file",
                        verbosity=0,
                    )
                call_command("compilemessages", locale=languages, verbosity=0)
                self.stdout.write(
                    f"{locale_dir.relative_to(package.parent)}: {', '.join(languages)}"
                )
        finally:
            os.chdir(start)
