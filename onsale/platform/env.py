"""Typed helpers that read settings from the environment.

Every variable read here is listed in `.env.example` with its default. A value
that cannot be parsed stops the process at start with a message naming the
variable, rather than surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_required(name: str) -> str:
    """A value that has no default (secrets outside debug mode)."""
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}.") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


# Django management commands that serve requests: they need every secret at
# start, as gunicorn and Celery do.
_SERVER_COMMANDS = frozenset({"runserver", "testserver"})
_MANAGE_PROGRAMS = frozenset({"manage.py", "django-admin", "django-admin.py"})


def process_serves(argv: Sequence[str] | None = None) -> bool:
    """Whether this process serves: a web server, a Celery worker or beat, or
    anything else that is not a Django management command (tests included).
    Only `manage.py <command>` (or `django-admin`, `python -m django`) with a
    command other than runserver is not, so nothing unknown starts serving
    without its secrets. The command is `argv[1]`, as Django itself reads it."""
    argv = sys.argv if argv is None else argv
    if not argv:
        return True
    program = Path(argv[0])
    is_manage = program.name in _MANAGE_PROGRAMS or (
        program.name == "__main__.py" and program.parent.name == "django"
    )
    if not is_manage:
        return True
    command = argv[1] if len(argv) > 1 else "help"
    return command in _SERVER_COMMANDS
