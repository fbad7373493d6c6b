"""Starts TradeBridge in this process under an audit hook; writes what it spawned and imported as JSON.

Usage: ``python -m tests.startup.audited_start REPORT.json -- <app arguments>``. The platform's
keyring is detected first, exactly as the vault does it, then the app runs on the null keyring so
no run ever touches the user's real one. The modules imported when the smoke test says its window's
first frame is drawn are recorded too.
"""

from __future__ import annotations

import json
import sys
from typing import Any

#: Audit events (PEP 578) raised whenever Python starts another program.
SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.posix_spawn", "os.spawn", "os.system", "os.exec", "os.fork", "os.forkpty"})

spawned: list[str] = []
#: ``sys.modules`` at the moment the app printed that its window's first frame was drawn.
modules_when_shown: list[str] = []


class _FirstFrameWatch:
    """Standard output that notes which modules were imported when the window-shown line is written."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if "main window shown" in text and not modules_when_shown:
            modules_when_shown.extend(sorted(sys.modules))
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event in SPAWN_EVENTS:
        spawned.append(f"{event}: {args[:2]!r}")


def main(argv: list[str]) -> int:
    report_path, separator, *app_args = argv
    if separator != "--":
        raise SystemExit("usage: audited_start REPORT.json -- <app arguments>")
    sys.addaudithook(_audit)

    import keyring
    from keyring.backends import null

    from app.security.keyring_platform import platform_keyring

    detected = platform_keyring()
    keyring.set_keyring(null.Keyring())

    from app.launch import main as app_main

    sys.stdout = _FirstFrameWatch(sys.stdout)
    code = app_main(app_args)
    sys.stdout = sys.__stdout__
    report = {
        "exit_code": code,
        "keyring": f"{type(detected).__module__}.{type(detected).__name__}",
        "spawned": spawned,
        "modules": sorted(sys.modules),
        "modules_when_shown": modules_when_shown,
    }
    with open(report_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
