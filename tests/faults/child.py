"""Run a function of the project in a child Python process that shares the
running test's database, Redis and key prefix, so a drill can pause
(SIGSTOP), kill or skew it like a real web process.

`child_start("tests.reliability.children:stale_holder", "1", "2")` starts
`python -m tests.faults.child <target> <args...>`; the child prints one JSON
line per step on stdout.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def child_start(
    target: str,
    *args: str,
    env: dict[str, str] | None = None,
    wrapper: tuple[str, ...] = (),
) -> subprocess.Popen[str]:
    """Start the child; `wrapper` prefixes the command (e.g. `faketime -f -5m`)."""
    from django.conf import settings
    from django.db import connection

    child_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.faults.child_settings",
        "ONSALE_FAULT_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        **(env or {}),
    }
    return subprocess.Popen(
        [*wrapper, sys.executable, "-m", "tests.faults.child", target, *args],
        cwd=ROOT,
        env=child_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )


def main(argv: list[str]) -> Any:
    import django

    django.setup()
    module_name, function_name = argv[0].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    return function(*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
