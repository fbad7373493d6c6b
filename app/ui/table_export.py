"""CSV export of a table exactly as it is shown: its columns, its rows in their current order."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, Qt


def table_rows(model: QAbstractItemModel) -> list[list[str]]:
    """The header and every row of ``model`` as displayed (formatted text, current sort order)."""
    columns = range(model.columnCount())
    header = [str(model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or "") for c in columns]
    rows = [header]
    for row in range(model.rowCount()):
        rows.append([_text(model.data(model.index(row, c), Qt.ItemDataRole.DisplayRole)) for c in columns])
    return rows


def table_csv(model: QAbstractItemModel) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table_rows(model))
    return buffer.getvalue()


def write_csv(model: QAbstractItemModel, path: Path) -> int:
    """Write the table to ``path`` (UTF-8, with a BOM so spreadsheets read it right); returns the row count."""
    text = table_csv(model)
    path.write_text(text, encoding="utf-8-sig", newline="")
    return model.rowCount()


def _text(value: object) -> str:
    return "" if value is None else str(value)
