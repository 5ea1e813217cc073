"""Dashboards and alerts as code: they parse, have the shape their importers
expect, and reference only documented fields, events and gauges."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.observability.conftest import OBSERVABILITY, ROOT, load_json

# --- A small NRQL reader -----------------------------------------------------------

_KEYWORDS = {
    "select",
    "from",
    "where",
    "facet",
    "as",
    "and",
    "or",
    "not",
    "is",
    "null",
    "true",
    "false",
    "like",
    "in",
    "since",
    "until",
    "ago",
    "timeseries",
    "limit",
    "compare",
    "with",
    "order",
    "by",
    "asc",
    "desc",
    "max",
    "auto",
    "minute",
    "minutes",
    "hour",
    "hours",
    "day",
    "days",
    "second",
    "seconds",
    "week",
    "weeks",
}
_FUNCTIONS = {
    "count",
    "sum",
    "average",
    "max",
    "min",
    "latest",
    "earliest",
    "percentile",
    "percentage",
    "rate",
    "filter",
    "uniquecount",
    "uniques",
    "eventtype",
    "median",
}
# Clauses a NRQL alert condition may not use (the condition sets the window).
_NOT_IN_CONDITIONS = {"since", "until", "timeseries", "compare", "limit"}
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")
_TOKEN = re.compile(
    r"`[^`]+`|[A-Za-z_][A-Za-z0-9_.]*|\d+(?:\.\d+)?|>=|<=|!=|[(),*=<>/+-]"
)


def nrql_parse(query: str) -> tuple[list[str], set[str], set[str], list[str]]:
    """(event types, attributes, keywords used, string literals) of `query`.
    Raises AssertionError on something this reader does not understand."""
    literals = [literal[1:-1] for literal in _STRING.findall(query)]
    stripped = _STRING.sub(" '' ", query)
    tokens = _TOKEN.findall(stripped)
    leftover = _TOKEN.sub("", stripped).replace("''", "").strip()
    assert not leftover, f"unexpected characters {leftover!r} in {query!r}"
    assert stripped.count("(") == stripped.count(")"), query
    event_types: list[str] = []
    attributes: set[str] = set()
    keywords: set[str] = set()
    in_from = False
    for index, token in enumerate(tokens):
        lowered = token.lower()
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if following == "(":
            assert lowered in _FUNCTIONS, (
                f"unknown NRQL function {token!r} in {query!r}"
            )
            continue
        if lowered in _KEYWORDS:
            keywords.add(lowered)
            in_from = lowered == "from"
            continue
        if in_from:
            if token != ",":
                event_types.append(token)
            continue
        if re.fullmatch(r"[A-Za-z_`]", token[0]):
            attributes.add(token.strip("`"))
    assert event_types, f"no FROM in {query!r}"
    return event_types, attributes, keywords, literals


def test_nrql_reader_finds_types_attributes_and_rejects_the_unknown() -> None:
    types, attributes, keywords, literals = nrql_parse(
        "FROM Admission, QueueSnapshot SELECT filter(count(*), WHERE eventType() = 'Admission') "
        "/ filter(average(admission_rate_per_minute), WHERE state = 'open') FACET event_id "
        "SINCE 1 hour ago"
    )
    assert types == ["Admission", "QueueSnapshot"]
    assert attributes == {"admission_rate_per_minute", "state", "event_id"}
    assert {"since", "facet", "where"} <= keywords
    assert literals == ["Admission", "open"]
    with pytest.raises(AssertionError):
        nrql_parse("SELECT frobnicate(duration) FROM Transaction")
    with pytest.raises(AssertionError):
        nrql_parse("SELECT count(* FROM Transaction")


# --- Which names exist ------------------------------------------------------------------


def allowed_attributes(telemetry: dict[str, Any], event_type: str) -> set[str]:
    if event_type in telemetry["agent_events"]:
        return set(telemetry["agent_events"][event_type])
    assert event_type in telemetry["custom_events"], f"unknown event type {event_type}"
    allowed = set(telemetry["common_attributes"]) | set(
        telemetry["custom_events"][event_type]["attributes"]
    )
    if event_type == "OnsaleGauge":
        allowed |= {
            label for spec in telemetry["gauges"].values() for label in spec["labels"]
        }
    return allowed


def check_query(query: str, telemetry: dict[str, Any]) -> set[str]:
    """Assert every name `query` uses is documented; return its keywords."""
    event_types, attributes, keywords, literals = nrql_parse(query)
    allowed: set[str] = set()
    for event_type in event_types:
        allowed |= allowed_attributes(telemetry, event_type)
    unknown = attributes - allowed
    assert not unknown, f"{query!r} uses undocumented attributes {sorted(unknown)}"
    for gauge in re.findall(r"\bname\s*=\s*'([^']+)'", query):
        assert gauge in telemetry["gauges"], (
            f"{query!r} names an undocumented gauge {gauge}"
        )
    for event_type in re.findall(r"eventType\(\)\s*=\s*'([^']+)'", query):
        assert event_type in event_types, (
            f"{query!r} filters on {event_type} it does not select"
        )
    assert literals is not None
    return keywords


# --- New Relic dashboard -------------------------------------------------------------------

_VISUALIZATIONS = {
    "viz.line",
    "viz.area",
    "viz.bar",
    "viz.stacked-bar",
    "viz.billboard",
    "viz.table",
    "viz.pie",
    "viz.markdown",
    "viz.json",
    "viz.bullet",
    "viz.heatmap",
    "viz.histogram",
    "viz.funnel",
}


def test_new_relic_dashboard_is_a_dashboard_create_input(telemetry_schema) -> None:
    dashboard = load_json("newrelic/dashboard.json")
    assert set(dashboard) <= {
        "name",
        "description",
        "permissions",
        "pages",
        "variables",
    }
    assert dashboard["permissions"] in {
        "PUBLIC_READ_WRITE",
        "PUBLIC_READ_ONLY",
        "PRIVATE",
    }
    assert dashboard["pages"]
    queries = 0
    for page in dashboard["pages"]:
        assert set(page) <= {"name", "description", "widgets"}
        occupied: set[tuple[int, int]] = set()
        for widget in page["widgets"]:
            assert set(widget) <= {
                "title",
                "layout",
                "visualization",
                "rawConfiguration",
            }
            assert widget["title"]
            layout = widget["layout"]
            assert (
                layout["column"] >= 1 and layout["column"] + layout["width"] - 1 <= 12
            )
            cells = {
                (row, column)
                for row in range(layout["row"], layout["row"] + layout["height"])
                for column in range(
                    layout["column"], layout["column"] + layout["width"]
                )
            }
            assert not cells & occupied, f"{widget['title']} overlaps another widget"
            occupied |= cells
            assert widget["visualization"]["id"] in _VISUALIZATIONS
            nrql_queries = widget["rawConfiguration"]["nrqlQueries"]
            assert nrql_queries
            for nrql in nrql_queries:
                assert nrql["accountIds"] == [0]  # replaced at import (docs)
                check_query(nrql["query"], telemetry_schema)
                queries += 1
    assert queries >= 20


# --- NRQL alert conditions ---------------------------------------------------------------------

_CONDITION_KEYS = {
    "name",
    "description",
    "enabled",
    "nrql",
    "signal",
    "terms",
    "violationTimeLimitSeconds",
    "expiration",
    "runbookUrl",
}


def _runbook_anchors() -> set[str]:
    text = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    return set(re.findall(r'<a id="([a-z0-9-]+)"></a>', text))


def test_alert_conditions_are_nrql_condition_inputs(telemetry_schema) -> None:
    document = load_json("newrelic/alert-conditions.json")
    anchors = _runbook_anchors()
    names = []
    for entry in document["conditions"]:
        condition = entry["condition"]
        names.append(condition["name"])
        assert set(condition) <= _CONDITION_KEYS
        assert entry["runbook_anchor"] in anchors, (
            f"no runbook section for {condition['name']}"
        )
        keywords = check_query(condition["nrql"]["query"], telemetry_schema)
        assert not keywords & _NOT_IN_CONDITIONS, condition["nrql"]["query"]
        signal = condition["signal"]
        assert signal["aggregationMethod"] in {"EVENT_FLOW", "EVENT_TIMER", "CADENCE"}
        assert 30 <= signal["aggregationWindow"] <= 7200
        assert signal["fillOption"] in {"NONE", "LAST_VALUE", "STATIC"}
        assert condition["terms"]
        priorities = [term["priority"] for term in condition["terms"]]
        assert len(set(priorities)) == len(priorities)
        for term in condition["terms"]:
            assert term["priority"] in {"CRITICAL", "WARNING"}
            assert term["operator"] in {
                "ABOVE",
                "ABOVE_OR_EQUALS",
                "BELOW",
                "BELOW_OR_EQUALS",
                "EQUALS",
                "NOT_EQUALS",
            }
            assert term["thresholdOccurrences"] in {"ALL", "AT_LEAST_ONCE"}
            assert isinstance(term["threshold"], int | float)
            assert (
                term["thresholdDuration"] % signal["aggregationWindow"] == 0
                or "slideBy" in signal
            )
    assert len(names) == len(set(names))
    # The alerts, each present
    joined = " ".join(names).lower()
    for topic in (
        "error rate",
        "p99",
        "drain stalled",
        "admission rate above",
        "admission rate below",
        "oversell",
        "celery backlog",
    ):
        assert topic in joined, topic


def test_the_oversell_detector_fires_on_any_sale_beyond_capacity() -> None:
    document = load_json("newrelic/alert-conditions.json")
    oversell = next(
        e["condition"]
        for e in document["conditions"]
        if "oversell" in e["condition"]["name"]
    )
    assert oversell["terms"] == [
        {
            "priority": "CRITICAL",
            "operator": "ABOVE",
            "threshold": 0,
            "thresholdDuration": 60,
            "thresholdOccurrences": "AT_LEAST_ONCE",
        }
    ]
    query = oversell["nrql"]["query"]
    assert "'onsale_event_seats_sold'" in query and "'onsale_event_capacity'" in query


# --- Kibana saved objects ----------------------------------------------------------------------

_KQL_FIELD = re.compile(r"([A-Za-z_@][A-Za-z0-9_.@]*)\s*(?::|>=|<=|>|<)")


def _kibana_objects() -> list[dict[str, Any]]:
    lines = (
        (OBSERVABILITY / "kibana" / "onsale-saved-objects.ndjson")
        .read_text()
        .splitlines()
    )
    return [json.loads(line) for line in lines if line.strip()]


def _known_log_fields(log_schema: dict[str, Any]) -> set[str]:
    return set(log_schema["fields"]) | set(log_schema["pipeline_fields"])


def _check_field(field: str, known: set[str], where: str) -> None:
    assert field in known or field.startswith("extra."), (
        f"{where} uses unknown field {field}"
    )


def _check_search_source(raw: str, known: set[str], where: str) -> None:
    source = json.loads(raw)
    query = source["query"]
    assert query["language"] == "kuery"
    text = _STRING_KQL.sub('""', query["query"])
    for field in _KQL_FIELD.findall(text):
        _check_field(field, known, where)


_STRING_KQL = re.compile(r'"[^"]*"')


def test_kibana_saved_objects_reference_only_documented_fields(log_schema) -> None:
    objects = _kibana_objects()
    by_id = {(o["type"], o["id"]): o for o in objects}
    assert len(by_id) == len(objects)
    known = _known_log_fields(log_schema)
    types = {o["type"] for o in objects}
    assert types == {"index-pattern", "search", "visualization", "dashboard"}
    for obj in objects:
        where = f"{obj['type']} {obj['id']}"
        attributes = obj["attributes"]
        assert attributes["title"]
        for reference in obj["references"]:
            assert (reference["type"], reference["id"]) in by_id, (
                f"{where}: dangling {reference}"
            )
        if obj["type"] == "index-pattern":
            assert attributes["title"] == "onsale-logs-*"
            _check_field(attributes["timeFieldName"], known, where)
            assert log_schema["fields"][attributes["timeFieldName"]]["type"] == "date"
        elif obj["type"] == "search":
            for column in attributes["columns"]:
                _check_field(column, known, where)
            for field, _direction in attributes["sort"]:
                _check_field(field, known, where)
            _check_search_source(
                attributes["kibanaSavedObjectMeta"]["searchSourceJSON"], known, where
            )
        elif obj["type"] == "visualization":
            state = json.loads(attributes["visState"])
            assert state["type"] in {
                "histogram",
                "line",
                "area",
                "table",
                "pie",
                "metric",
            }
            assert state["aggs"]
            for agg in state["aggs"]:
                field = agg["params"].get("field")
                if agg["type"] != "count":
                    assert field, f"{where}: {agg['type']} without a field"
                if field:
                    _check_field(field, known, where)
                    if agg["type"] in {"percentiles", "avg", "max", "min", "sum"}:
                        assert log_schema["fields"][field]["type"] in {
                            "float",
                            "long",
                            "integer",
                        }
            _check_search_source(
                attributes["kibanaSavedObjectMeta"]["searchSourceJSON"], known, where
            )
        elif obj["type"] == "dashboard":
            panels = json.loads(attributes["panelsJSON"])
            names = {reference["name"] for reference in obj["references"]}
            assert {panel["panelRefName"] for panel in panels} == names
            for panel in panels:
                grid = panel["gridData"]
                assert grid["x"] + grid["w"] <= 48
            json.loads(attributes["optionsJSON"])


def test_the_health_dashboard_shows_every_visualization_and_search() -> None:
    objects = _kibana_objects()
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    shown = {(r["type"], r["id"]) for r in dashboard["references"]}
    panels = {(o["type"], o["id"]) for o in objects if o["type"] == "visualization"}
    assert panels <= shown
    assert len(shown) >= 10


# --- Shipping configs ------------------------------------------------------------------------------


def test_logstash_pipeline_parses_json_and_writes_the_templated_indices() -> None:
    text = (OBSERVABILITY / "logstash" / "onsale.conf").read_text()
    assert text.count("{") == text.count("}")
    for section in ("input {", "filter {", "output {"):
        assert section in text
    assert 'source => "message"' in text
    assert 'match => ["timestamp", "ISO8601"]' in text
    assert 'index => "onsale-logs-%{+YYYY.MM.dd}"' in text
    template = load_json("elasticsearch/index-template.json")
    assert template["index_patterns"] == ["onsale-logs-*"]
    # The beats fields that would clash with ours are removed before parsing
    removed = re.search(r"remove_field => \[([^\]]*)\]", text)
    assert removed and '"host"' in removed.group(1) and '"service"' in removed.group(1)


def test_filebeat_config_is_valid_yaml_shipping_to_logstash() -> None:
    import yaml

    config = yaml.safe_load((OBSERVABILITY / "filebeat" / "filebeat.yml").read_text())
    (source,) = config["filebeat.inputs"]
    assert source["type"] == "filestream"
    assert source["parsers"][0]["container"]["stream"] == "all"
    assert config["output.logstash"]["hosts"]
    assert any(
        "add_kubernetes_metadata" in processor for processor in config["processors"]
    )


def test_every_observability_file_is_referenced_by_the_docs() -> None:
    docs = (ROOT / "docs" / "observability.md").read_text()
    for path in sorted(OBSERVABILITY.rglob("*")):
        if path.is_file():
            relative = str(Path("observability") / path.relative_to(OBSERVABILITY))
            assert relative in docs, (
                f"docs/observability.md does not mention {relative}"
            )
