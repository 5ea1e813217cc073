"""Root URLs. `ONSALE_SERVICE` decides which services this process mounts; every
process also answers the health probes."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.urls.exceptions import Resolver404
from django.urls.resolvers import ResolverMatch, RoutePattern
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from onsale.config import bench_views
from onsale.events import views as event_views
from onsale.platform.javascript_catalog import javascript_catalog
from onsale.platform.observability import health, metrics, ops

handler400 = "onsale.platform.exceptions.handler400"
handler403 = "onsale.platform.exceptions.handler403"
handler404 = "onsale.platform.exceptions.handler404"
handler500 = "onsale.platform.exceptions.handler500"

# The URL modules each service mounts. A service's pods route only these.
SERVICE_URLCONFS: dict[str, list[str]] = {
    "usermgmt": ["onsale.usermgmt.urls"],
    "waitingroom": ["onsale.waitingroom.urls"],
    # The event catalog and the organizer console are served by the
    # seat-selection pods, as before (the Ingress routes /organizer and
    # /api/v1/organizer/events there).
    "seatselection": [
        "onsale.events.urls",
        "onsale.seatselection.urls",
        "onsale.console.urls",
    ],
    # The live seat stream (server-sent events), served under ASGI.
    "seatstream": ["onsale.seatselection.stream_urls"],
    "checkout": ["onsale.checkout.urls"],
    "orders": ["onsale.orders.urls"],
}

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Every service: Prometheus scrapes each pod, staff ask any pod.
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/v1/ops/status", ops.OpsStatusApi.as_view(), name="ops-status"),
    # The language switch in every page's footer (Django's set_language: POST
    # sets the language cookie and goes back). Every service mounts it, so the
    # Ingress's catch-all route reaches it whichever pods serve "/".
    # The texts of the pages' scripts, in the language the address names.
    path("i18n/js/<str:language>/", javascript_catalog, name="javascript-catalog"),
    path("i18n/", include("django.conf.urls.i18n")),
]

_services = (
    list(SERVICE_URLCONFS)
    if settings.ONSALE_SERVICE == "all"
    else [settings.ONSALE_SERVICE]
)
for _service in _services:
    for _module in SERVICE_URLCONFS[_service]:
        urlpatterns.append(path("", include(_module)))

_usermgmt_pages: list[URLPattern | URLResolver] = [
    path("", event_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"
    ),
]
if settings.ONSALE_SERVICE in ("all", "usermgmt"):
    urlpatterns += _usermgmt_pages


class ReverseOnlyResolver(URLResolver):
    """Another service's URLs in split mode: reversible, never resolved here.

    Pages link across services (`{% url 'usermgmt:login' %}`, LOGIN_URL
    redirects); the link must render its public path, which the Ingress routes
    to the service that owns it. A request for it that reaches this process
    anyway is a 404, as if the URLs were not there.
    """

    def resolve(self, path: str) -> ResolverMatch:
        raise Resolver404({"path": path})


if settings.ONSALE_SERVICE != "all":
    for _service, _modules in SERVICE_URLCONFS.items():
        if _service != settings.ONSALE_SERVICE:
            for _module in _modules:
                _included = include(_module)
                urlpatterns.append(
                    ReverseOnlyResolver(
                        RoutePattern(""),
                        _included[0],
                        app_name=_included[1],
                        namespace=_included[2],
                    )
                )
    if settings.ONSALE_SERVICE != "usermgmt":
        urlpatterns.append(ReverseOnlyResolver(RoutePattern(""), _usermgmt_pages))

if settings.ONSALE_BENCH_VIEWS:
    # The empty baselines of the load tests (bench/); off unless asked for.
    urlpatterns.append(path("bench/empty", bench_views.BenchEmptyApi.as_view()))
    if "waitingroom" in _services:
        # Served by the pods that serve the join it is measured against.
        urlpatterns.append(
            path(
                "bench/waitingroom/authenticated-empty",
                bench_views.BenchAuthenticatedEmptyApi.as_view(),
            )
        )
