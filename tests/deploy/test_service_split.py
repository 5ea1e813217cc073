"""ONSALE_SERVICE splits one codebase into services: a process mounts only its
own service's URLs (plus the platform's health and metrics endpoints), so the
Ingress can route by path and each Deployment scales alone.

Driven by SERVICE_URLCONFS: a service that adds a URL module or a route is
covered without touching this file. A service with no routes yet must still
refuse everyone else's."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest
from django.test import Client, override_settings
from django.urls import Resolver404, URLResolver, clear_url_caches, resolve
from django.urls.resolvers import RegexPattern

import onsale.config.urls as root_urls
from onsale.config.urls import SERVICE_URLCONFS
from tests.deploy.routes import Route, _walk, module_routes

SERVICES = sorted(SERVICE_URLCONFS)
# Health probes answer in every process; /metrics too where the platform has it.
EVERYWHERE = ("/healthz", "/readyz")


@contextmanager
def service_urls(service: str) -> Iterator[ModuleType]:
    """The root URLconf as a process started with ONSALE_SERVICE=service
    builds it; restored afterwards."""
    try:
        with override_settings(ONSALE_SERVICE=service):
            clear_url_caches()
            yield importlib.reload(root_urls)
    finally:
        clear_url_caches()
        importlib.reload(root_urls)


def known_routes() -> list[Route]:
    """Every route any process may mount: the services' and the root's own."""
    with service_urls("all") as urls:
        root = list(_walk(urls.urlpatterns, "root", "", ""))
    return root + [route for service in SERVICES for route in owned(service)]


def mounted() -> set[str]:
    """The routes the current URLconf answers: those whose sample path
    resolves to that very route."""
    answered = set()
    for route in known_routes():
        try:
            match = resolve(route.path)
        except Resolver404:
            continue
        if match.route == route.route:
            answered.add(route.route)
    return answered


def owned(service: str) -> list[Route]:
    return [
        route for module in SERVICE_URLCONFS[service] for route in module_routes(module)
    ]


def matches_own_modules(service: str, path: str) -> bool:
    """Whether one of the service's own URL modules also matches `path` (two
    services may legitimately share a path shape)."""
    for module in SERVICE_URLCONFS[service]:
        try:
            URLResolver(RegexPattern(r"^/"), module).resolve(path)
        except Resolver404:
            continue
        return True
    return False


def url_miss(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return True
    return False


def test_every_service_is_a_setting_value():
    from onsale.config.settings import ONSALE_SERVICES

    assert sorted(ONSALE_SERVICES) == sorted(["all", *SERVICES])


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_mounts_its_own_routes_and_no_one_elses(service):
    with service_urls(service):
        routes = mounted()
        for route in owned(service):
            assert route.route in routes
            # The path lands on the service's own view, not a look-alike.
            assert resolve(route.path).route == route.route
        for other in SERVICES:
            if other == service:
                continue
            for route in owned(other):
                if matches_own_modules(service, route.path):
                    continue
                assert url_miss(route.path), f"{service} answers {other}'s {route.path}"
        for path in EVERYWHERE:
            assert not url_miss(path), f"{service} lacks {path}"


def test_beyond_its_own_routes_a_service_mounts_only_the_platform_endpoints():
    """What a service mounts besides its own routes is the same everywhere
    (health, readiness, metrics...), except that usermgmt also serves the home
    page, admin and the API docs; "all" mounts the lot."""
    with service_urls("all"):
        everything = mounted()
    for service in SERVICES:
        assert {route.route for route in owned(service)} <= everything
    extra = {}
    for service in SERVICES:
        with service_urls(service):
            extra[service] = mounted() - {route.route for route in owned(service)}
    platform = extra["waitingroom"]
    assert {"healthz", "readyz"} <= platform
    if "metrics" in everything:
        assert "metrics" in platform
    for service in SERVICES:
        if service == "usermgmt":
            assert platform < extra[service]
            assert {"", "admin/", "api/schema/", "api/docs/"} <= extra[service]
        else:
            assert extra[service] == platform, service
        # Nothing a service owns is part of the platform set.
        assert platform.isdisjoint(route.route for route in owned(service))


@pytest.mark.django_db
@pytest.mark.parametrize("service", SERVICES)
def test_over_http_a_service_answers_its_routes_and_404s_the_rest(service):
    """The same through the whole middleware stack, as a client sees it: an
    own route never gets the URL-miss 404 nor a server error (it may well
    say 401, 403, 405 or "no such event"); another service's route is a 404."""
    client = Client(raise_request_exception=False)
    with service_urls(service):
        for route in owned(service):
            if route.path.endswith("/stream"):
                continue  # a live stream never ends; resolving it is enough
            # (The test client has closed the response already; closing it
            # again would end the test's database connection.)
            response = client.get(route.path)
            assert response.status_code < 500, (route.path, response.status_code)
        for path in EVERYWHERE:
            response = client.get(path)
            assert response.status_code == 200, (path, response.content)
        for other in SERVICES:
            if other == service:
                continue
            for route in owned(other):
                if matches_own_modules(service, route.path):
                    continue
                response = client.get(route.path)
                assert response.status_code == 404, (service, route.path)
