"""Right-click menus on the tables: built per row by the pane, shown without blocking the loop."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QTableView, QWidget


def menu_action(menu: QMenu, name: str, text: str, slot: Callable[[], object], *, enabled: bool = True) -> QAction:
    action = QAction(text, menu)
    action.setObjectName(name)
    action.setEnabled(enabled)
    action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    return action


def attach_row_menu(view: QTableView, build: Callable[[int], QMenu | None]) -> None:
    """Right-click selects the row under the pointer and pops up ``build(row)`` (row -1: no row there)."""
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def show(position: QPoint) -> None:
        index = view.indexAt(position)
        if index.isValid():
            view.selectRow(index.row())
        menu = build(index.row() if index.isValid() else -1)
        if menu is not None:
            menu.popup(view.viewport().mapToGlobal(position))

    view.customContextMenuRequested.connect(show)


def copy_text(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


def new_menu(parent: QWidget, name: str) -> QMenu:
    menu = QMenu(parent)
    menu.setObjectName(name)
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return menu
