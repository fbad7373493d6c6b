"""`make bench`: run every benchmark, print one table, write benchmarks/RESULTS.md with the machine's description.

Each figure is the median of repeated runs that alternate with its baseline, measured in the same
process and minute. Benchmarks are not tests: nothing in `make test` depends on timing.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import Figure, machine, table

HERE = Path(__file__).resolve().parent
# In table order; each module has run() -> list[Figure].
SUITES = ("engine_quotes", "startup", "desk", "journal", "live_path", "chart")


def _run_apart(name: str) -> list[Figure]:
    """One benchmark in a process of its own: nothing an earlier one left behind (apps, threads, caches, a
    grown heap) weighs on its figures."""
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--one", name],
        check=True, stdout=subprocess.PIPE, cwd=HERE.parent,
    )
    return [Figure(**fields) for fields in json.loads(child.stdout.decode().strip().splitlines()[-1])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="run only these benchmarks (module names)")
    parser.add_argument("--no-write", action="store_true", help="print the table but leave RESULTS.md alone")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.one:
        found = importlib.import_module(f"benchmarks.{args.one}").run()
        print(json.dumps([dataclasses.asdict(f) for f in found]))
        return 0
    described = machine()
    started = time.perf_counter()
    figures: list[Figure] = []
    notes: list[str] = []
    for name in SUITES:
        if args.only and name not in args.only:
            continue
        if not (HERE / f"{name}.py").exists():
            continue
        begun = time.perf_counter()
        found = _run_apart(name)
        figures.extend(found)
        print(f"  {name}: {time.perf_counter() - begun:.1f} s", file=sys.stderr, flush=True)
        notes.extend(f"- #{f.number} {f.note}" for f in found if f.note)
    elapsed = time.perf_counter() - started
    rendered = table(figures)
    print(rendered)
    print(f"\n{elapsed:.0f} s in all", file=sys.stderr)
    if not args.no_write:
        _write(rendered, described, notes, elapsed)
    return 0


def _write(rendered: str, described: list[tuple[str, str]], notes: list[str], elapsed: float) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {stamp} in {elapsed:.0f} s. Each figure is the median of repeated runs that",
        "alternate with the baseline measured in the same run; the ratio is our cost over the baseline's (time",
        "per item for rates), so 1.00× is as cheap as the bare baseline. How each is measured: `benchmarks/*.py`.",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in described),
        "",
        "## Figures",
        "",
        rendered,
        "",
    ]
    if notes:
        lines += ["## Notes", "", *notes, ""]
    analysis = HERE / "ANALYSIS.md"
    if analysis.exists():
        lines += [analysis.read_text().rstrip(), ""]
    (HERE / "RESULTS.md").write_text("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
