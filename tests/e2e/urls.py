"""The project's URLs plus /static/ from the apps' static folders, for the
end-to-end stack's gunicorn (in production nginx or the CDN serves them)."""

from __future__ import annotations

from django.contrib.staticfiles.views import serve
from django.urls import URLPattern, URLResolver, re_path

from onsale.platform.urls import (
    handler400,
    handler403,
    handler404,
    handler500,
)
from onsale.platform.urls import urlpatterns as project_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

urlpatterns: list[URLPattern | URLResolver] = [
    *project_urlpatterns,
    re_path(r"^static/(?P<path>.*)$", serve, {"insecure": True}),
]
