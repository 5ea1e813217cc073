"""docs/reliability.md names the test behind each guarantee: each must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_the_reliability_doc_names_exists() -> None:
    text = (ROOT / "docs" / "reliability.md").read_text()
    references = re.findall(r"`((?:tests|onsale)/[\w/]+\.py)::(\w+)`", text)
    short = re.findall(r"`(test_\w+\.py)::(\w+)`", text)
    assert len(references) + len(short) >= 12
    for path, name in references:
        assert f"def {name}(" in (ROOT / path).read_text(), f"{path}::{name}"
    for filename, name in short:
        (path,) = (ROOT / "tests" / "reliability").glob(filename)
        assert f"def {name}(" in path.read_text(), f"{filename}::{name}"
