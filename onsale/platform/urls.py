"""Root URLs. `ONSALE_SERVICE` decides which services this process mounts; every
process also answers the health probes."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from onsale.platform import health, views

handler400 = "onsale.platform.exceptions.handler400"
handler403 = "onsale.platform.exceptions.handler403"
handler404 = "onsale.platform.exceptions.handler404"
handler500 = "onsale.platform.exceptions.handler500"

# The URL modules each service mounts. A service's pods route only these.
SERVICE_URLCONFS: dict[str, list[str]] = {
    "usermgmt": ["onsale.usermgmt.urls"],
    "waitingroom": [],
    "seatselection": [],
    "checkout": [],
    "orders": [],
}

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

_services = (
    list(SERVICE_URLCONFS)
    if settings.ONSALE_SERVICE == "all"
    else [settings.ONSALE_SERVICE]
)
for _service in _services:
    for _module in SERVICE_URLCONFS[_service]:
        urlpatterns.append(path("", include(_module)))

if settings.ONSALE_SERVICE in ("all", "usermgmt"):
    urlpatterns += [
        path("", views.home, name="home"),
        path("admin/", admin.site.urls),
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path(
            "api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"
        ),
    ]
