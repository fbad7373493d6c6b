"""``python -m app`` starts TradeBridge."""

import sys
import time

#: The smoke test reports its figures from here: before the app's imports, the bulk of a cold start.
started = time.perf_counter()

# httpx imports its command-line client (click, rich, pygments) when it can; the app never runs it, and a
# module set to None makes that import fail fast, so httpx falls back to its stub.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import gc  # noqa: E402

from app.main import main  # noqa: E402

# What the imports built (modules, classes, functions) lives as long as the process: moved out of the
# collector's view, so the full collections the app runs on its Qt thread (and the last one at exit) walk
# only what the app allocated since.
gc.freeze()

sys.exit(main(started=started))
