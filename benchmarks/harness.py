"""Benchmark plumbing: interleaved repeated runs, medians, ratios to a same-run baseline, the machine's description."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Figure:
    """One row of the results table: our median and the baseline's, measured in the same run."""

    number: str
    what: str
    ours: float
    baseline: float
    unit: str
    target: str
    met: bool | None
    note: str = ""
    #: Rates (per second) are better higher; times and sizes lower.
    rate: bool = False

    @property
    def ratio(self) -> float:
        """How many times the baseline's cost ours is (time per item for rates): 1.0 is as cheap as the baseline."""
        if self.rate:
            return self.baseline / self.ours if self.ours else float("inf")
        return self.ours / self.baseline if self.baseline else float("inf")


def interleaved(runs: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Call each measurement `repeats` times, alternating between them, so drifting load hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            samples[name].append(run())
    return samples


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    try:
        from PySide6 import __version__ as pyside
    except ImportError:
        pyside = "not installed"
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} logical cores"),
        ("memory", memory or "unknown"),
        ("OS", platform.platform()),
        ("Python", sys.version.split()[0]),
        ("SQLite", sqlite3.sqlite_version),
        ("PySide6", pyside),
        ("disk of the benchmark folders", _filesystem(Path.cwd())),
        ("load average at the start (1/5/15 min)", load or "unknown"),
    ]


def _filesystem(path: Path) -> str:
    try:
        out = subprocess.run(["df", "-T", str(path)], capture_output=True, text=True, check=True).stdout
        fields = out.splitlines()[1].split()
        return f"{fields[1]} ({fields[0]})"
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def table(figures: list[Figure]) -> str:
    rows = [
        "| # | what | ours | baseline (same run) | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        met = "—" if f.met is None else ("yes" if f.met else "**no**")
        rows.append(
            f"| {f.number} | {f.what} | {_fmt(f.ours)} {f.unit} | {_fmt(f.baseline)} {f.unit} | "
            f"{f.ratio:.2f}× | {f.target} | {met} |"
        )
    return "\n".join(rows)


def _fmt(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"
