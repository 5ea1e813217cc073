"""The routes each service mounts, as concrete sample paths.

Built from `SERVICE_URLCONFS` in onsale/config/urls.py, so a service that
adds a URL module (or a route to one) is covered without touching the tests.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize

# A value for each path converter that its regex accepts.
_SAMPLES = ("7", "sample", str(uuid.UUID(int=7)), "sample/path")
_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    """One mounted pattern: `path` is a request path that matches it."""

    module: str
    route: str
    path: str


def _sample_for(regex: str) -> str:
    for candidate in _SAMPLES:
        if re.fullmatch(regex, candidate):
            return candidate
    raise AssertionError(f"no sample value fits the converter regex {regex!r}")


def _sample_route(pattern: RoutePattern) -> str:
    converters = pattern.converters

    def fill(match: re.Match[str]) -> str:
        return _sample_for(converters[match.group("name")].regex)

    return _PARAM.sub(fill, str(pattern._route))


def _sample_regex(pattern: RegexPattern) -> str:
    # Django's own reverse() helper: the first way to write the regex out.
    template, params = normalize(pattern._regex)[0]
    return template % dict.fromkeys(params, "7")


def _sample(pattern: RoutePattern | RegexPattern | object) -> str:
    if isinstance(pattern, RoutePattern):
        return _sample_route(pattern)
    if isinstance(pattern, RegexPattern):
        return _sample_regex(pattern)
    raise AssertionError(f"unknown URL pattern type {type(pattern).__name__}")


def _walk(
    patterns: Iterable[URLPattern | URLResolver], module: str, prefix: str, route: str
) -> Iterator[Route]:
    for entry in patterns:
        sample = _sample(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(
                entry.url_patterns, module, prefix + sample, route + str(entry.pattern)
            )
        else:
            yield Route(
                module=module,
                route=route + str(entry.pattern),
                path="/" + prefix + sample,
            )


def module_routes(module: str) -> list[Route]:
    """Every pattern of one URL module (includes followed)."""
    urlconf = importlib.import_module(module)
    return list(_walk(urlconf.urlpatterns, module, "", ""))


def service_routes(service_urlconfs: dict[str, list[str]]) -> dict[str, list[Route]]:
    return {
        service: [route for module in modules for route in module_routes(module)]
        for service, modules in service_urlconfs.items()
    }
