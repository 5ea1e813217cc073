"""The benchmark runner's report: its figures, the table on stdout, the
chart (bench.png) and the advice on gunicorn's worker class."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    key: str
    label: str
    value: float
    unit: str
    note: str = ""
    target: str = ""
    met: bool | None = None
    generator_cpu: float | None = None  # load generator CPU, share of one core


@dataclass
class Report:
    machine: dict[str, Any]
    command: str
    mode: str
    figures: list[Figure] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def get(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)


def print_table(report: Report) -> None:
    rows = []
    for figure in report.figures:
        value = (
            f"{figure.value:,.2f}"
            if figure.unit in ("x", "ms p99", "B")
            else f"{figure.value:,.0f}"
        )
        verdict = "" if figure.met is None else ("met" if figure.met else "MISSED")
        generator = (
            "" if figure.generator_cpu is None else f"{figure.generator_cpu * 100:.0f}%"
        )
        rows.append(
            (
                figure.label,
                f"{value} {figure.unit}",
                figure.target,
                verdict,
                generator,
                figure.note,
            )
        )
    headers = ("measurement", "value", "target", "", "gen CPU", "notes")
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(5)]
    print()
    print(
        "  ".join(str(h).ljust(w) for h, w in zip(headers[:5], widths, strict=True))
        + "  notes"
    )
    for row in rows:
        print(
            "  ".join(str(c).ljust(w) for c, w in zip(row[:5], widths, strict=True))
            + "  "
            + row[5]
        )
    print()


def chart(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (rates, ratios, latency, servers) = plt.subplots(1, 4, figsize=(24, 6))
    keys = [
        "nginx_static",
        "status_nginx",
        "empty",
        "join",
        "redis_incr",
        "redis_evalsha",
    ]
    present = [report.get(key) for key in keys]
    shown = [f for f in present if f is not None]
    rates.barh([f.label for f in shown], [f.value for f in shown], color="#4477aa")
    rates.set_xscale("log")
    rates.set_xlabel("requests (or Redis ops) per second, log scale")
    rates.set_title("Throughput against this machine's limits")
    for index, f in enumerate(shown):
        rates.text(f.value, index, f" {f.value:,.0f}", va="center", fontsize=8)

    checks = [
        ("join_ratio", 0.6),
        ("status_ratio", 0.5),
        ("accuracy", 1.0),
        ("holds_ratio", 10.0),
        ("checkout", 10_000.0),
    ]
    labels, shares, colors = [], [], []
    for key, target in checks:
        checked = report.get(key)
        if checked is None:
            continue
        labels.append(f"{checked.label}\n({checked.value:,.2f} vs {checked.target})")
        shares.append(checked.value / target)
        colors.append("#228833" if checked.met else "#cc3311")
    ratios.barh(labels, shares, color=colors)
    ratios.axvline(1.0, color="black", linestyle="--", linewidth=1)
    ratios.set_xlabel(
        "measured / target (>= 1 meets it; accuracy must be 1.00 +- 0.01)"
    )
    ratios.set_title("Targets")
    ratios.tick_params(axis="y", labelsize=7)

    steps = [
        ("join", "latency_join"),
        ("status", "latency_status"),
        ("hold", "latency_purchase"),
        ("checkout", "latency_purchase"),
    ]
    measured = [
        (name, report.raw[key]["percentiles_ms"][name])
        for name, key in steps
        if key in report.raw and name in report.raw[key]["percentiles_ms"]
    ]
    if measured:
        positions = range(len(measured))
        latency.bar(
            [p - 0.2 for p in positions],
            [values["0.5"] for _, values in measured],
            0.4,
            label="p50",
        )
        latency.bar(
            [p + 0.2 for p in positions],
            [values["0.99"] for _, values in measured],
            0.4,
            label="p99",
        )
        latency.axhline(50, color="black", linestyle="--", linewidth=1)
        latency.set_xticks(list(positions))
        latency.set_xticklabels([name for name, _ in measured])
        latency.set_yscale("log")
        latency.set_ylabel("ms from the scheduled send time (log)")
        latency.set_title("Latency at 50% of the maximum rate (constant rate)")
        latency.legend()

    comparison = report.raw.get("servers", {})
    if comparison:
        names = ["empty", "join", "status"]
        width = 0.8 / len(comparison)
        for offset, (label, rows) in enumerate(comparison.items()):
            servers.bar(
                [i + offset * width for i in range(len(names))],
                [rows[name]["requests_per_second"] for name in names],
                width,
                label=label,
            )
        servers.set_xticks(
            [i + width * (len(comparison) - 1) / 2 for i in range(len(names))]
        )
        servers.set_xticklabels(names)
        servers.set_ylabel("req/s (straight to gunicorn)")
        servers.set_title("gunicorn worker classes")
        servers.legend()
    figure.suptitle(
        f"onsale bench ({report.mode}), {report.machine['cpus']} x "
        f"{report.machine['cpu_model']}, {report.machine['date']}"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def recommendation(report: Report) -> str:
    comparison = report.raw.get("servers", {})
    if not comparison:
        return ""
    scores = {}
    for label, rows in comparison.items():
        scores[label] = statistics.geometric_mean(
            [
                max(rows[name]["requests_per_second"], 1e-9)
                for name in ("empty", "join", "status")
            ]
        )
    best = max(scores, key=lambda label: scores[label])
    text = ", ".join(f"{label} {score:,.0f}" for label, score in scores.items())
    default = next((label for label in scores if label.startswith("gthread")), best)
    if best == default:
        verdict = f"keep {default} (the default): the fastest here"
    elif scores[best] < 1.10 * scores[default]:
        # Within the noise of a shared machine: fewer processes (memory) and
        # threads that overlap the Redis/MySQL waits of a join decide it.
        verdict = (
            f"keep {default} (the default): {best} is within 10 %, which is "
            "noise on a shared machine"
        )
    else:
        verdict = f"{best} is more than 10 % faster here: consider it"
    return (
        f"worker classes by geometric mean of empty/join/status req/s: {text}; "
        f"{verdict}"
    )
