"""`.env.example` copied to `.env` works: its values are development values
(marked as such), and with them the processes `./bin/run` starts (web, worker)
get past their settings and start-up checks."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from honcho.environ import parse

from tests.deploy.conftest import REPO, run, tool


def copied_env() -> dict[str, str]:
    """The variables a `.env` copied from `.env.example` gives every process
    of `./bin/run`, read as honcho reads it."""
    scratch = Path(tempfile.mkdtemp(prefix="onsale-dotenv-"))
    try:
        shutil.copy(REPO / ".env.example", scratch / ".env")
        return dict(parse((scratch / ".env").read_text()))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def process_env(values: dict[str, str], var_dir: Path) -> dict[str, str]:
    # Nothing from this test run's environment but PATH and HOME: the file alone.
    return {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", "/tmp"),
        **values,
        "DJANGO_SETTINGS_MODULE": "onsale.config.settings",
        # Not to write into the repository's var/ from a test.
        "ONSALE_VAR_DIR": str(var_dir),
    }


def test_the_example_holds_development_values_clearly_marked() -> None:
    values = copied_env()
    assert values["DJANGO_DEBUG"] == "true"
    debug_line = next(
        line
        for line in (REPO / ".env.example").read_text().splitlines()
        if line.startswith("DJANGO_DEBUG=")
    )
    assert "DEVELOPMENT value" in debug_line and "production" in debug_line
    # No secret is written down: empty lines are not set at all.
    assert "DJANGO_SECRET_KEY" not in values
    assert "WAITINGROOM_JWT_PRIVATE_KEY" not in values


def test_the_web_and_the_worker_start_with_the_copied_file(tmp_path: Path) -> None:
    env = process_env(copied_env(), tmp_path)
    web = run(
        [tool("gunicorn"), "--check-config", "onsale.config.wsgi:application"],
        cwd=REPO,
        env=env,
    )
    assert web.returncode == 0, web.stderr[-3000:]
    worker = run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from onsale.config.celery import app; "
            "print(app.main)",
        ],
        cwd=REPO,
        env=env,
    )
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert worker.stdout.strip() == "onsale"
