"""The broker connection form of the Settings pane, built from the broker registry's field list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.ui.confirm import ask_confirmation
from app.ui.table_model import Column, RecordTableModel

if TYPE_CHECKING:
    from app.controller.views import AccountView, BrokerFormView, ConnectionView

CONNECTION_COLUMNS: tuple[Column[ConnectionView], ...] = (
    Column("label", "Connection", lambda c: c.label),
    Column("broker", "Broker", lambda c: c.broker_name),
    Column("environment", "Environment", lambda c: c.environment),
    Column("account", "Account", lambda c: f"…{c.account_last4}" if c.account_last4 else "—"),
    Column("type", "Type", lambda c: c.account_type or "—"),
    Column("credentials", "Credentials", lambda c: c.credentials_message),
    Column("active", "Active", lambda c: "yes" if c.active else ""),
)

_ENVIRONMENT_LABELS = {"paper": "Paper / sandbox", "live": "Live (real money)"}
#: What each broker calls its test account, for the example name ("e.g. My Tradier sandbox").
_TEST_ACCOUNT_WORDS = {"alpaca": "paper", "tradier": "sandbox", "tastytrade": "sandbox", "ibkr": "paper"}
#: The repository (or bundle) root the brokers' ``docs/brokers/<key>.md`` guides are relative to.
_ROOT = Path(__file__).resolve().parent.parent.parent
_ERROR_STYLE = "color: #c62828;"
_ERROR_FIELD_STYLE = "border: 1px solid #c62828;"


_VAULT_NOTES = {
    "setup_required": "This computer has no secure keyring: saving a connection first asks you to choose a master "
    "passphrase. It encrypts your broker keys and is asked for at every start.",
    "locked": "Your saved connections are locked: saving asks for your master passphrase first.",
}


def example_name(display_name: str, broker_key: str, environment: str) -> str:
    word = "live" if environment == "live" else _TEST_ACCOUNT_WORDS.get(broker_key, "paper")
    return f"e.g. My {display_name} {word}"


class FieldError(QLabel):
    """The error of one field, in its own row of the form right under it: red, with a warning sign."""

    def __init__(self, name: str, form: QFormLayout) -> None:
        super().__init__(objectName=f"settings.error.{name}")
        self._form = form
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setStyleSheet(_ERROR_STYLE)

    def show_error(self, text: str) -> None:
        self.setText(f"⚠ {text}" if text else "")
        row, _role = self._form.getWidgetPosition(self)
        if row >= 0:
            self._form.setRowVisible(row, bool(text))


class ConnectionsBox(QGroupBox):
    """Pick a broker, fill its fields, test and save. Saved secrets are never shown again."""

    test_requested = Signal(dict)
    remove_requested = Signal(str)
    #: Minutes between verifications of the active connection (1 or more).
    verify_interval_submitted = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Broker account", parent)
        self.setObjectName("settings.connections")
        #: Replaced in tests; forgetting a connection always asks first.
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask_confirmation(self, title, text)
        self._forms: dict[str, BrokerFormView] = {}
        self._inputs: dict[str, QLineEdit | QComboBox] = {}
        self._editing: ConnectionView | None = None

        self.status = QLabel("No broker connected", objectName="settings.broker_status")
        self.status.setWordWrap(True)
        self.broker_select = QComboBox(objectName="settings.broker_select")
        self.environment = QComboBox(objectName="settings.environment")
        self.label = QLineEdit(objectName="settings.connection_label")
        self.base_url = QLineEdit(objectName="settings.base_url", placeholderText="http://127.0.0.1:PORT")
        self.base_url_label = QLabel("API address (developer)")
        self.base_url_hint = QLabel(objectName="settings.base_url_hint")
        self.base_url_hint.setWordWrap(True)
        self.guide = QLabel(objectName="settings.broker_guide")
        self.guide.setOpenExternalLinks(True)
        self._errors: dict[str, FieldError] = {}
        self._error_inputs: dict[str, QWidget] = {}
        self.vault_note = QLabel(objectName="settings.vault_note")
        self.vault_note.setWordWrap(True)
        self.vault_note.hide()
        self.test_button = QPushButton("Test and save connection", objectName="settings.test_connection")
        self.result = QLabel(objectName="settings.connection_result")
        self.result.setWordWrap(True)
        self.model: RecordTableModel[ConnectionView] = RecordTableModel(CONNECTION_COLUMNS, lambda c: c.id)
        self.table = QTableView(objectName="settings.connections_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMaximumHeight(140)
        self.edit_button = QPushButton("Edit selected", objectName="settings.edit_connection")
        self.remove_button = QPushButton("Disconnect and forget", objectName="settings.remove_connection")

        # One form for the fixed rows and the broker's own fields, so every label and field lines up.
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._add_row("Broker", "broker", self.broker_select)
        self.form.addRow("", self.guide)
        self._add_row("Environment", "environment", self.environment)
        self._add_row("Name", "label", self.label)
        self._add_row(self.base_url_label, "base_url", self.base_url)
        self.form.addRow("", self.base_url_hint)
        self._fixed_rows = self.form.rowCount()
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(self.form)
        layout.addWidget(self.vault_note)
        layout.addWidget(self.test_button)
        layout.addWidget(self.result)
        layout.addWidget(QLabel("Saved connections"))
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.verify_interval = QSpinBox(objectName="settings.verify_interval")
        self.verify_interval.setRange(1, 24 * 60)
        self.verify_interval.setValue(5)
        self.verify_interval.setSuffix(" min")
        health = QFormLayout()
        health.addRow("Verify the connection every", self.verify_interval)
        layout.addLayout(health)
        self.set_developer_mode(False)
        self.verify_interval.editingFinished.connect(
            lambda: self.verify_interval_submitted.emit(self.verify_interval.value())
        )

        self.broker_select.currentIndexChanged.connect(self._rebuild_fields)
        self.environment.currentIndexChanged.connect(self._show_example_name)
        self.test_button.clicked.connect(self._test)
        self.edit_button.clicked.connect(self._edit_selected)
        self.remove_button.clicked.connect(self._remove_selected)

    def set_developer_mode(self, enabled: bool) -> None:
        self._developer = enabled
        self.base_url.setVisible(enabled)
        self.base_url_label.setVisible(enabled)
        self.base_url_hint.setVisible(enabled)

    def show_api_address_rule(self, rule: str) -> None:
        """The rule for the developer API address, shown next to the field."""
        self.base_url_hint.setText(rule)

    def field(self, name: str) -> QLineEdit | QComboBox:
        return self._inputs[name]

    @Slot(list)
    def show_brokers(self, forms: list[BrokerFormView]) -> None:
        self._forms = {f.key: f for f in forms}
        self.broker_select.blockSignals(True)
        self.broker_select.clear()
        for form in forms:
            self.broker_select.addItem(form.display_name, form.key)
        self.broker_select.blockSignals(False)
        self._rebuild_fields()

    def _add_row(self, label: str | QLabel, name: str, widget: QWidget) -> None:
        """The field's row, and under it the row of its error (hidden while there is none)."""
        self.form.addRow(label, widget)
        error = FieldError(name, self.form)
        self.form.addRow("", error)
        error.show_error("")
        self._errors[name] = error
        self._error_inputs[name] = widget

    def _rebuild_fields(self) -> None:
        while self.form.rowCount() > self._fixed_rows:
            self.form.removeRow(self._fixed_rows)
        for name in list(self._errors):
            if name.startswith("field."):
                del self._errors[name], self._error_inputs[name]
        self._inputs.clear()
        self.clear_errors()
        form = self._forms.get(self.broker_select.currentData())
        self.environment.clear()
        if form is None:
            self.guide.clear()
            return
        guide = _ROOT / form.docs
        self.guide.setText(f'<a href="{guide.as_uri()}">{form.display_name} set-up guide</a>')
        self.guide.setToolTip(f"Where to find the keys and how to test safely: {form.docs}")
        self.environment.blockSignals(True)
        for environment in form.environments:
            self.environment.addItem(_ENVIRONMENT_LABELS.get(environment, environment), environment)
        self.environment.blockSignals(False)
        self._show_example_name()
        for field in form.fields:
            widget: QLineEdit | QComboBox
            if field.choices:
                widget = QComboBox(objectName=f"settings.field.{field.name}")
                widget.setEditable(True)
                widget.addItems(list(field.choices))
                widget.setCurrentText(field.default or field.choices[0])
            else:
                widget = QLineEdit(objectName=f"settings.field.{field.name}")
                widget.setText(field.default)
                if field.secret:
                    widget.setEchoMode(QLineEdit.EchoMode.Password)
                    widget.setPlaceholderText("Paste it here; it is encrypted and never shown again")
            widget.setToolTip(field.help)
            self._inputs[field.name] = widget
            label = field.label + ("" if field.required else " (optional)")
            self._add_row(label, f"field.{field.name}", widget)
        self._editing = None

    def _show_example_name(self) -> None:
        form = self._forms.get(self.broker_select.currentData())
        if form is not None:
            self.label.setPlaceholderText(
                example_name(form.display_name, form.key, str(self.environment.currentData() or ""))
            )

    def clear_errors(self) -> None:
        for name, error in self._errors.items():
            error.show_error("")
            self._error_inputs[name].setStyleSheet("")
        self.result.setStyleSheet("")

    def _values(self) -> dict[str, str]:
        values = {}
        for name, widget in self._inputs.items():
            values[name] = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
        return values

    def _test(self) -> None:
        self.clear_errors()
        self.test_requested.emit(
            {
                "broker": self.broker_select.currentData(),
                "environment": self.environment.currentData(),
                "label": self.label.text(),
                "fields": self._values(),
                "base_url": self.base_url.text() if self._developer else "",
                "connection_id": self._editing.id if self._editing else "",
            }
        )

    def _selected(self) -> ConnectionView | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def _edit_selected(self) -> None:
        """Load a saved connection into the form; secrets stay empty and keep their saved value."""
        selected = self._selected()
        if selected is None:
            return
        self.broker_select.setCurrentIndex(self.broker_select.findData(selected.broker))
        self._editing = selected
        self.environment.setCurrentIndex(self.environment.findData(selected.environment))
        self.label.setText(selected.label)
        readable = selected.credentials_state == "saved"
        for name, widget in self._inputs.items():
            if isinstance(widget, QLineEdit) and widget.echoMode() == QLineEdit.EchoMode.Password:
                widget.clear()
                if name in selected.saved_fields and readable:
                    widget.setPlaceholderText("Saved — leave empty to keep it")
        if readable:
            self.result.setText(f"Editing “{selected.label}”. Empty secret fields keep their saved values.")
        else:
            self.result.setText(
                f"Editing “{selected.label}”. Its saved credentials can't be read: enter all of them again."
            )

    def _remove_selected(self) -> None:
        selected = self._selected()
        if selected is not None and self.confirm(
            "Forget connection", f"Disconnect and delete “{selected.label}” and its saved credentials?"
        ):
            self.remove_requested.emit(selected.id)

    @Slot(list)
    def show_connections(self, connections: list[ConnectionView]) -> None:
        self.model.set_rows(connections)
        if not any(c.active for c in connections):
            self.status.setText("No broker connected")

    @Slot(object)
    def show_connected(self, account: AccountView) -> None:
        self.status.setText(account.headline)
        self.result.setText("Connection verified and saved.")
        for widget in self._inputs.values():
            if isinstance(widget, QLineEdit) and widget.echoMode() == QLineEdit.EchoMode.Password:
                widget.clear()
        self._editing = None

    @Slot(str)
    def show_disconnected(self, message: str) -> None:
        self.status.setText("No broker connected")
        self.result.setText(message)

    @Slot(int)
    def show_verify_interval(self, minutes: int) -> None:
        self.verify_interval.blockSignals(True)
        self.verify_interval.setValue(minutes)
        self.verify_interval.blockSignals(False)

    @Slot(str)
    def show_vault_state(self, state: str) -> None:
        """Before *Test and save*: say when saving will first ask for the master passphrase."""
        note = _VAULT_NOTES.get(state, "")
        self.vault_note.setText(note)
        self.vault_note.setVisible(bool(note))

    @Slot(str)
    def show_result(self, message: str) -> None:
        self.result.setStyleSheet("")
        self.result.setText(message)

    @Slot(str)
    def show_failure(self, message: str) -> None:
        """A test or save that failed: said as an error (red, with a warning sign) under the button."""
        self.result.setStyleSheet(_ERROR_STYLE)
        self.result.setText(f"⚠ {message}")

    @Slot(dict)
    def show_form_errors(self, errors: dict[str, str]) -> None:
        """Every problem at once, each under its own field; one without a field goes under the button."""
        self.clear_errors()
        general = []
        for name, text in errors.items():
            key = name if name in self._errors else f"field.{name}"
            if key in self._errors:
                self._errors[key].show_error(text)
                if isinstance(self._error_inputs[key], QLineEdit):
                    # A combo box keeps its native look; its error line says enough.
                    self._error_inputs[key].setStyleSheet(_ERROR_FIELD_STYLE)
            else:
                general.append(text)
        if general:
            self.show_failure(" ".join(general))
        else:
            self.show_result("Fix the fields marked above; nothing was tested or saved.")
