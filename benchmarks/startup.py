"""#2 cold start to the main window (empty, and with 100k orders) and #6 peak memory with 100k orders, fresh processes.

Ours is `python -m app --smoke-test`: it builds and shows the main window (orders table included), prints
a line once the window's first frame is drawn, lets the loop run 0.1 s, shuts down in order and exits. The
baseline is `benchmarks/bare_window.py`: a bare PySide6 window with 3 tabs that prints the same line at the
same moment (the same first-paint watcher) and also runs the loop 0.1 s; for memory, the same window holding
every journal row in a QTableView over a minimal model. Quotes point at a closed local port so no run touches
the network.

The figure is what the issue asks for: from spawning the process to the moment its line arrives on the pipe
(read and time-stamped by this process, so both sides are timed by one clock and one method). The app shows its
window disabled while it loads its state, so a second pair of rows times the app's next line, "main window
ready" (state loaded, input enabled), against the same bare window. The whole run, to the process's exit, is
reported in the note, so the shutdown's cost stays visible too.

Both sides run from compiled bytecode, as an installed app does (pip compiles on install, the packaged build
ships bytecode, and a checkout's `make run` writes it on its first start). The benchmark compiles the tree first:
with `PYTHONDONTWRITEBYTECODE=1` in the environment, as on some build machines, every run would otherwise compile
each of the ~50 app modules the window imports from source, a cost no trader's start pays.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import Figure, interleaved, median
from benchmarks.journal_fill import filled_folder

ROOT = Path(__file__).resolve().parent.parent
ORDERS = 100_000
NO_QUOTES = "http://127.0.0.1:9"


@dataclass(frozen=True)
class Run:
    """One fresh process: spawn to its window's first frame, to ready for input, to its exit (s); peak memory (MiB)."""

    shown: float
    ready: float
    whole: float
    peak: float


def _run(args: list[str]) -> Run:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=errors)
        assert child.stdout is not None
        shown = ready = None
        for line in child.stdout:
            if shown is None and b"window shown" in line:
                shown = time.perf_counter() - started
            if ready is None and b"window ready" in line:
                ready = time.perf_counter() - started
        _, status, usage = os.wait4(child.pid, 0)
        whole = time.perf_counter() - started
        child.stdout.close()
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0 or shown is None:
            errors.seek(0)
            raise RuntimeError(f"{args} exited with {child.returncode}: {errors.read().decode()[-2000:]}")
    # The bare window has nothing to load: it is ready when it is shown.
    return Run(shown, shown if ready is None else ready, whole, usage.ru_maxrss / 1024)


def _compile_tree() -> None:
    """Bytecode for the app and the benchmarks, written beside the sources (``__pycache__``, ignored by git)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "app", "benchmarks"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def run(repeats: int = 7) -> list[Figure]:
    _compile_tree()
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".bench-start-") as folder:
        root = Path(folder)
        full = filled_folder(root / "full", ORDERS)
        fresh = iter(range(repeats))
        runs: dict[str, list[Run]] = {"empty": [], "full": [], "bare": [], "bare_table": []}

        def measure(name: str, args: list[str]) -> float:
            run = _run(args)
            runs[name].append(run)
            return run.shown

        def app(data_dir: Path) -> list[str]:
            return ["-m", "app", "--smoke-test", "--data-dir", str(data_dir), "--quotes-url", NO_QUOTES]

        interleaved(
            {
                "empty": lambda: measure("empty", app(root / f"empty-{next(fresh)}")),
                "full": lambda: measure("full", app(full.data_dir)),
                "bare": lambda: measure("bare", ["-m", "benchmarks.bare_window"]),
                "bare_table": lambda: measure("bare_table", ["-m", "benchmarks.bare_window", str(full.database)]),
            },
            repeats,
        )

    def shown(name: str) -> float:
        return median([run.shown for run in runs[name]])

    def ready(name: str) -> float:
        return median([run.ready for run in runs[name]])

    def whole(name: str) -> float:
        return median([run.whole for run in runs[name]])

    base, empty, loaded = shown("bare"), shown("empty"), shown("full")
    ours_peak, bare_peak = median([r.peak for r in runs["full"]]), median([r.peak for r in runs["bare_table"]])
    smoke = (
        f"whole smoke run, spawn to exit (0.1 s of loop after the window shows, then the orderly shutdown): "
        f"new data folder {whole('empty'):.2f} s, 100k orders {whole('full'):.2f} s, bare window {whole('bare'):.2f} s "
        f"({whole('empty') / whole('bare'):.2f}× / {whole('full') / whole('bare'):.2f}×)"
    )
    return [
        Figure("2a", "cold start to main window shown (first frame drawn), new data folder", empty, base, "s",
               "≤ 2.5×", empty / base <= 2.5, note=smoke),
        Figure("2b", "cold start to main window shown (first frame drawn), 100k orders stored", loaded, base, "s",
               "≤ 2.5×", loaded / base <= 2.5),
        Figure("2a ready", "cold start to main window ready for orders (state loaded, input on), new data folder",
               ready("empty"), base, "s", "— (shown for honesty)", None),
        Figure("2b ready", "cold start to main window ready for orders (state loaded, input on), 100k orders stored",
               ready("full"), base, "s", "— (shown for honesty)", None),
        Figure("6", "peak RSS, 100k orders stored, orders table open (bare: window + table of the same rows)",
               ours_peak, bare_peak, "MiB", "≤ 1.5×", ours_peak / bare_peak <= 1.5),
    ]
