"""The docs other people work from: the event contract apps implement, and a
runbook that covers every alert and the procedures the issue names."""

from __future__ import annotations

import re

from tests.observability.conftest import ROOT, load_json

DOCS = ROOT / "docs"


def test_every_custom_event_and_attribute_is_documented_for_the_apps(
    telemetry_schema,
) -> None:
    text = (DOCS / "observability.md").read_text()
    rows = {
        match.group(1): match.group(0)
        for match in re.finditer(r"^\| `(\w+)` \|.*$", text, flags=re.MULTILINE)
    }
    for name, spec in telemetry_schema["custom_events"].items():
        assert name in rows, f"docs/observability.md has no row for {name}"
        for attribute in spec["attributes"]:
            assert f"`{attribute}`" in rows[name], (
                f"{name}.{attribute} is not documented"
            )


def test_every_gauge_is_documented(telemetry_schema) -> None:
    text = (DOCS / "observability.md").read_text()
    for gauge in [*telemetry_schema["gauges"], *telemetry_schema["prometheus"]]:
        assert f"`{gauge}`" in text, gauge


def test_the_runbook_covers_every_alert_and_procedure() -> None:
    text = (DOCS / "runbook.md").read_text()
    anchors = re.findall(r'<a id="([a-z0-9-]+)"></a>\n### (.+)', text)
    by_anchor = dict(anchors)
    conditions = load_json("newrelic/alert-conditions.json")["conditions"]
    for entry in conditions:
        title = by_anchor[entry["runbook_anchor"]]
        assert title.startswith(entry["condition"]["name"]), (
            title,
            entry["condition"]["name"],
        )
    for procedure in (
        "procedure-pause-queue",
        "procedure-drain-service",
        "procedure-rotate-signing-keys",
        "procedure-redis-loss",
    ):
        assert procedure in by_anchor
    # Every internal link points at an anchor that exists
    for target in re.findall(r"\]\(#([a-z0-9-]+)\)", text):
        assert target in by_anchor, target
    assert "PATCH" in text and "/api/v1/organizer/events/$EVENT/waitingroom" in text
