"""``python -m app`` starts TradeBridge."""

import sys
import time

#: The smoke test reports its figures from here: before the app's imports, the bulk of a cold start.
started = time.perf_counter()

# httpx imports its command-line client (click, rich, pygments) when it can; the app never runs it, and a
# module set to None makes that import fail fast, so httpx falls back to its stub.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from app.launch import main  # noqa: E402

sys.exit(main(started=started))
