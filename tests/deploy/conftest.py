"""Shared set-up for the deployment tests: where the tools are, and the
rendered Kubernetes overlays (rendered once per test session)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("staging", "production")


def tool(name: str) -> str:
    """A command-line tool the test setup installs: the virtualenv's own first
    (hadolint, kubectl, cfn-lint come from the dev extras), then the system's
    (nginx, envsubst, shellcheck from apt in bin/test). Missing is a failure,
    not a skip: CI must not pass by not checking."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    for directory in ("/usr/sbin", "/sbin"):
        if (Path(directory) / name).exists():
            return str(Path(directory) / name)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; ./bin/test installs it (see bin/test)")
    return found


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 120)
    kwargs.setdefault("env", {**os.environ})
    return subprocess.run(command, check=False, **kwargs)


def kustomize(directory: Path) -> list[dict[str, Any]]:
    result = run([tool("kubectl"), "kustomize", str(directory)])
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Each overlay rendered by kustomize (kubectl's built-in), once."""
    return {name: kustomize(REPO / "k8s" / "overlays" / name) for name in OVERLAYS}
