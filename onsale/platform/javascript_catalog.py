"""The translations a page's script needs: Django's JavaScript catalog in the
language its address names.

The language is in the address (`/i18n/js/de/`), not taken from the fan's
cookie or Accept-Language, so one address always holds one language and a
browser or CDN may keep it: a fan who switches language asks for another
address. Only apps whose scripts have translated text are listed
(`JAVASCRIPT_CATALOG_APPS`), which keeps the file small.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.cache import cache_control, cache_page
from django.views.i18n import JavaScriptCatalog

# The apps whose static scripts use gettext (each has a djangojs catalog).
JAVASCRIPT_CATALOG_APPS = [
    "onsale.waitingroom",
    "onsale.seatselection",
    "onsale.checkout",
]
# How long a browser, the CDN and the server's cache keep a catalog.
CATALOG_MAX_AGE_SECONDS = 3600


def _catalogs_digest() -> str:
    """Changes with any compiled JavaScript catalog, so a new release never
    answers from the previous release's cached catalog."""
    digest = hashlib.sha256()
    package = Path(settings.BASE_DIR) / "onsale"
    for path in sorted(package.glob("*/locale/*/LC_MESSAGES/djangojs.mo")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class LanguageJavaScriptCatalog(JavaScriptCatalog):
    """Django's catalog view, in the language of the address's `language`."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = kwargs.pop("language")
        if language not in dict(settings.LANGUAGES):
            raise Http404("No such language.")
        with translation.override(language):
            response = super().get(request, *args, **kwargs)
        # The locale middleware would name the request's language instead.
        response["Content-Language"] = language
        return response


javascript_catalog = cache_control(public=True)(
    cache_page(CATALOG_MAX_AGE_SECONDS, key_prefix=f"jsi18n-{_catalogs_digest()}")(
        LanguageJavaScriptCatalog.as_view(packages=JAVASCRIPT_CATALOG_APPS)
    )
)
