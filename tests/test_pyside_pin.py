"""The reason for the PySide6 ``<6.12`` pin, kept as a check on the installed PySide6.

PySide6 6.12.0's abi3 wheels drop one reference to ``None`` on every call of a method returning
void under Python 3.11, where ``None`` is an ordinary reference-counted object: after a few thousand
calls its count reaches zero and the interpreter aborts with "none_dealloc". The check runs in a
child process (a failure is a crash) and also watches ``None``'s count directly, so a release with
the fix can be recognised on Python 3.11 before the pin in pyproject.toml is lifted.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.subprocess

CALLS = 50_000

REPRODUCER = f"""
import sys
from PySide6.QtCore import QObject

holder = QObject()
before = sys.getrefcount(None)
for _ in range({CALLS}):
    holder.setObjectName("holder")  # returns void
    holder.blockSignals(False)      # returns bool: the control
after = sys.getrefcount(None)
print(before - after)
"""


def test_void_calls_keep_the_reference_to_none() -> None:
    result = subprocess.run([sys.executable, "-c", REPRODUCER], capture_output=True, text=True, timeout=120)
    assert "none_dealloc" not in result.stderr
    assert result.returncode == 0, result.stderr
    lost = int(result.stdout.strip())
    # A sound binding loses nothing; the broken one loses one reference per void call (or crashes first).
    assert lost < CALLS // 10
