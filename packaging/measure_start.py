"""Start-to-window time of the built executable next to ``python -m app``, on the same machine, same run.

Each run starts headless (``--smoke-test``) on a new data folder and is timed from process launch
until the app logs that its main window is shown. Runs alternate between the two so load on the
machine hits both alike; the medians are printed as a Markdown table row for packaging/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOWN = "Main window shown"


def time_to_window(command: Sequence[str]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEBRIDGE_")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    with tempfile.TemporaryDirectory(prefix="tradebridge-start-") as data_dir:
        started = time.perf_counter()
        with subprocess.Popen(
            [*command, "--smoke-test", "--data-dir", data_dir],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ) as child:
            assert child.stderr is not None
            shown: float | None = None
            for line in child.stderr:
                if shown is None and SHOWN in line:
                    shown = time.perf_counter() - started
            child.wait(timeout=120)
        if child.returncode != 0 or shown is None:
            raise SystemExit(f"{' '.join(command)} did not show its window (exit {child.returncode})")
        return shown


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="dist/TradeBridge")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    exe = args.bundle / ("TradeBridge.exe" if os.name == "nt" else "TradeBridge")
    commands = {"built executable": [str(exe)], "python -m app": [sys.executable, "-m", "app"]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(time_to_window(command))
    print("| how started | median start-to-window | runs |")
    print("|---|---|---|")
    for name, values in times.items():
        spread = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {name} | {statistics.median(values):.2f} s | {spread} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
