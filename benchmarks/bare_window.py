"""The baselines' bare PySide6 programs, run in a fresh process: a window with 3 tabs, optionally a table of rows.

`python -m benchmarks.bare_window [DATABASE]`: with a database, the window shows every order row of it in
a QTableView over a minimal model, as the bare side of the memory and table benchmarks. Like the app's
smoke test, it prints one line when its window's first frame has been drawn (the same `FirstPaint` watcher).
"""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView, QTabWidget, QWidget

from app.ui.first_paint import FirstPaint

COLUMNS = ("created_at", "mode", "symbol", "side", "quantity", "order_type", "limit_price", "status", "status_reason")


class BareModel(QAbstractTableModel):
    """The least a table model can be: rows as tuples of text."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        super().__init__()
        self.rows = rows

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[index.row()][index.column()]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None


def load_rows(database: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute(f"SELECT {', '.join(COLUMNS)} FROM orders ORDER BY created_at DESC").fetchall()


def main(argv: list[str]) -> int:
    app = QApplication(argv[:1])
    window = QMainWindow()
    tabs = QTabWidget()
    first: QWidget = QWidget()
    if len(argv) > 1:
        table = QTableView()
        table.setModel(BareModel(load_rows(argv[1])))
        first = table
    tabs.addTab(first, "Trade")
    tabs.addTab(QWidget(), "Orders")
    tabs.addTab(QWidget(), "Settings")
    window.setCentralWidget(tabs)
    window.resize(1200, 800)

    def shown() -> None:
        print("bare window shown", flush=True)
        # The app's smoke test lets the loop run 0.1 s after the window shows; so does the baseline.
        QTimer.singleShot(100, app.quit)

    FirstPaint(window).painted.connect(shown)
    window.show()
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
