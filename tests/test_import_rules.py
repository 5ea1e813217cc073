"""The import rules in .importlinter hold, and they catch an upward import.

bin/test runs `lint-imports` before pytest; this test shows the contracts are
not toothless: a copy of the package with one module of the platform importing
checkout (an upward import) is refused, while the copy as it is passes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(
    not LINT_IMPORTS.exists(), reason="import-linter is not installed"
)


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "onsale",
        tmp_path / "onsale",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "static", "templates"),
    )
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_code_as_it_is_keeps_every_contract(tree):
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_an_upward_import_breaks_the_layers(tree):
    # given the platform importing the checkout saga
    (tree / "onsale" / "platform" / "upward.py").write_text(
        "from onsale.checkout import services  # noqa: F401\n"
    )

    # when the rules are checked
    result = _lint(tree)

    # then the layers contract is broken, naming the import
    assert result.returncode == 1, result.stdout
    assert "onsale.platform is not allowed to import onsale.checkout" in result.stdout
    assert "onsale.platform.upward -> onsale.checkout.services" in result.stdout


def test_another_app_reaching_into_seat_keys_is_refused(tree):
    # given orders building seat-selection Redis keys by itself
    (tree / "onsale" / "orders" / "keys_by_hand.py").write_text(
        "from onsale.seatselection import keys  # noqa: F401\n"
    )

    result = _lint(tree)

    assert result.returncode == 1, result.stdout
    assert "onsale.orders is not allowed to import onsale.seatselection.keys" in (
        result.stdout
    )
