"""#2 cold start to the main window (empty, and with 100k orders) and #6 peak memory with 100k orders, fresh processes.

Ours is `python -m app --smoke-test`: it builds and shows the main window (orders table included), lets
the loop run 0.1 s and exits. The baseline is `benchmarks/bare_window.py`: a bare PySide6 window with 3
tabs that also runs the loop 0.1 s; for memory, the same window holding every journal row in a
QTableView over a minimal model. Quotes point at a closed local port so no run touches the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Figure, interleaved, median
from benchmarks.journal_fill import filled_folder

ROOT = Path(__file__).resolve().parent.parent
ORDERS = 100_000
NO_QUOTES = "http://127.0.0.1:9"


def _run(args: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MiB) of one fresh process."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{args} exited with {child.returncode}: {child.stderr.read().decode()[-2000:]}")
    child.stderr.close()
    return elapsed, usage.ru_maxrss / 1024


def run(repeats: int = 5) -> list[Figure]:
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".bench-start-") as folder:
        root = Path(folder)
        full = filled_folder(root / "full", ORDERS)
        fresh = iter(range(repeats))
        memory: dict[str, list[float]] = {"ours": [], "bare": []}

        def app(data_dir: Path) -> tuple[float, float]:
            return _run(["-m", "app", "--smoke-test", "--data-dir", str(data_dir), "--quotes-url", NO_QUOTES])

        def ours_empty() -> float:
            return app(root / f"empty-{next(fresh)}")[0]

        def ours_full() -> float:
            elapsed, peak = app(full.data_dir)
            memory["ours"].append(peak)
            return elapsed

        def bare() -> float:
            return _run(["-m", "benchmarks.bare_window"])[0]

        def bare_table() -> float:
            elapsed, peak = _run(["-m", "benchmarks.bare_window", str(full.database)])
            memory["bare"].append(peak)
            return elapsed

        samples = interleaved(
            {"empty": ours_empty, "full": ours_full, "bare": bare, "bare_table": bare_table}, repeats
        )
    base = median(samples["bare"])
    empty, loaded = median(samples["empty"]), median(samples["full"])
    ours_peak, bare_peak = median(memory["ours"]), median(memory["bare"])
    return [
        Figure("2a", "cold start to main window shown, new data folder", empty, base, "s",
               "≤ 2.5×", empty / base <= 2.5),
        Figure("2b", "cold start to main window shown, 100k orders stored", loaded, base, "s",
               "≤ 2.5×", loaded / base <= 2.5),
        Figure("6", "peak RSS, 100k orders stored, orders table open (bare: window + table of the same rows)",
               ours_peak, bare_peak, "MiB", "≤ 1.5×", ours_peak / bare_peak <= 1.5),
    ]
