"""Settings: destinations, folders, policy choices and limits, editing ``clearance.toml`` itself.

The form edits the same file admins edit by hand. A save applies only what changed to
the parsed document (tomlkit: comments and order stay), is checked by the scanner's own
loader (``scanner.config.settings.loads_config``: every message names the key) before anything
is written, and is audited (the configuration's hash) when the app reloads it. The
"TOML" tab shows the file as it will be saved, for keys the form does not cover
(policies, labels, partner identifiers).
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui import theme, toml_edit
from gui.controller import AppController
from gui.icons import icon
from scanner.limits import Limits, MiB

NEW_FILE_HEADER = (
    "# Clearance configuration, written by the Clearance app.\n"
    "# Every key is explained in resources/clearance.sample.toml.\n"
    "schema_version = 1\n"
)
# Limits the form offers, with how they are shown (bytes as MiB).
_LIMIT_FIELDS = (
    ("max_file_bytes", "Largest file", "MiB", MiB),
    ("timeout_s", "Time per file", "s", 1),
    ("memory_mb", "Memory per worker", "MiB", 1),
    ("archive_depth", "Archive nesting", "levels", 1),
    ("archive_members", "Members per archive", "", 1),
    ("archive_total_bytes", "Expanded archive size", "MiB", MiB),
    ("archive_ratio", "Compression ratio", "×", 1),
    ("max_pages", "PDF pages", "", 1),
    ("regex_timeout_s", "Regex time limit", "s", 1),
)
_DEFAULT_LIMITS = Limits()
_FLOAT_LIMITS = {f.name for f in fields(Limits) if f.type == "float"}


def _buddy(text: str, widget: QWidget) -> QLabel:
    """A form label whose mnemonic (Alt+letter) focuses ``widget``."""
    label = QLabel(text)
    label.setBuddy(widget)
    return label


def _item(text: str, data: Any = None) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    if data is not None:
        it.setData(Qt.ItemDataRole.UserRole, data)
    return it


def _cell_text(table: QTableWidget, row: int, column: int) -> str:
    """A cell's text ("" for a cell never filled in)."""
    item = table.item(row, column)
    return item.text() if item is not None else ""


class SettingsView(QWidget):
    validated = Signal(str)  # "" when valid, else the loader's message

    def __init__(self, controller: AppController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.original = ""  # the file's text when loaded (to detect someone else's edit)
        self._loading = False

        self.path_label = QLabel()
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.save_button = QPushButton(icon("save"), "&Save")
        self.revert_button = QPushButton(icon("revert"), "Re&load")
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.load)

        # general
        self.policy = QComboBox()
        self.policy.setAccessibleName("Policy for scans without a destination")
        self.jobs = QSpinBox(minimum=0, maximum=64)
        self.jobs.setSpecialValueText("automatic (all cores but one)")
        self.pattern_dirs = QListWidget()
        self.pattern_dirs.setAccessibleName("Admin pattern folders")
        self.pattern_dirs.setMaximumHeight(90)
        self.add_dir = QPushButton(icon("new"), "Add folder…")
        self.remove_dir = QPushButton(icon("remove"), "Remove")
        self.add_dir.clicked.connect(self._add_pattern_dir)
        self.remove_dir.clicked.connect(lambda: self._remove_current(self.pattern_dirs))
        # folders
        self.quarantine = QLineEdit()
        self.audit_db = QLineEdit()
        self.hash_key = QLineEdit()
        # destinations
        self.destinations = QTableWidget(0, 4)
        self.destinations.setHorizontalHeaderLabels(["Name", "Display name", "Release folder", "Policy"])
        self.destinations.setAccessibleName("Destinations")
        self.destinations.setToolTip(
            "Policy: empty (the [scan] policy), builtin, or the name of a [policies.<name>] table (see the TOML tab)"
        )
        self.add_dest = QPushButton(icon("new"), "Add destination")
        self.remove_dest = QPushButton(icon("remove"), "Remove")
        self.add_dest.clicked.connect(self._add_destination)
        self.remove_dest.clicked.connect(lambda: self._remove_row(self.destinations))
        # watch
        self.watch_folders = QTableWidget(0, 2)
        self.watch_folders.setHorizontalHeaderLabels(["Watched folder", "Destination"])
        self.watch_folders.setAccessibleName("Watched folders")
        self.add_watch = QPushButton(icon("new"), "Add watched folder…")
        self.remove_watch = QPushButton(icon("remove"), "Remove")
        self.add_watch.clicked.connect(self._add_watch_folder)
        self.remove_watch.clicked.connect(lambda: self._remove_row(self.watch_folders))
        self.stable = QDoubleSpinBox(decimals=1, minimum=0.1, maximum=3600, singleStep=0.5, suffix=" s")
        self.poll = QDoubleSpinBox(decimals=1, minimum=0.1, maximum=600, singleStep=0.5, suffix=" s")
        # limits
        self.limits: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for key, _label, unit, _scale in _LIMIT_FIELDS:
            box: QSpinBox | QDoubleSpinBox
            if key in _FLOAT_LIMITS:
                box = QDoubleSpinBox(decimals=1, minimum=0.1, maximum=1e6)
            else:
                box = QSpinBox(minimum=1, maximum=2_000_000_000)
            if unit:
                box.setSuffix(f" {unit}")
            self.limits[key] = box
        # raw text
        self.text = QPlainTextEdit()
        self.text.setAccessibleName("clearance.toml text")
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._build_layout()

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.validate)
        self._connect_changes()
        self.load()

    # ------------------------------------------------------------------ layout
    def _build_layout(self) -> None:
        general = QGroupBox("Scanning")
        g = QFormLayout(general)
        g.addRow("&Policy without a destination:", self.policy)
        g.addRow("&Worker processes:", self.jobs)
        dirs_row = QHBoxLayout()
        dirs_row.addWidget(self.pattern_dirs, 1)
        dir_buttons = QVBoxLayout()
        dir_buttons.addWidget(self.add_dir)
        dir_buttons.addWidget(self.remove_dir)
        dir_buttons.addStretch(1)
        dirs_row.addLayout(dir_buttons)
        g.addRow(_buddy("Admin pattern fo&lders:", self.pattern_dirs), dirs_row)

        folders = QGroupBox("Folders")
        f = QFormLayout(folders)
        for label, edit in (
            ("&Quarantine:", self.quarantine),
            ("Audit &database:", self.audit_db),
            ("Hash &key file:", self.hash_key),
        ):
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda _c=False, e=edit: self._browse(e))
            row.addWidget(browse)
            f.addRow(_buddy(label, edit), row)

        dests = QGroupBox("Destinations (partners)")
        d = QVBoxLayout(dests)
        d.addWidget(QLabel("Each partner's release folder and policy. Partner identifiers are edited in the TOML tab."))
        d.addWidget(self.destinations)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.add_dest)
        row.addWidget(self.remove_dest)
        d.addLayout(row)

        watch = QGroupBox("Watched folders")
        w = QVBoxLayout(watch)
        w.addWidget(self.watch_folders)
        row = QHBoxLayout()
        row.addWidget(QLabel("Stable for:"))
        row.addWidget(self.stable)
        row.addWidget(QLabel("Check every:"))
        row.addWidget(self.poll)
        row.addStretch(1)
        row.addWidget(self.add_watch)
        row.addWidget(self.remove_watch)
        w.addLayout(row)

        limits = QGroupBox("Limits for untrusted files")
        lf = QFormLayout(limits)
        for key, label, _unit, _scale in _LIMIT_FIELDS:
            lf.addRow(f"{label}:", self.limits[key])

        for table in (self.destinations, self.watch_folders):
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            table.verticalHeader().setVisible(False)
            table.setMinimumHeight(120)

        form = QWidget()
        fl = QVBoxLayout(form)
        for box in (general, dests, watch, folders, limits):
            fl.addWidget(box)
        fl.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form)
        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, "&Form")
        self.tabs.addTab(self.text, "&TOML")
        self.tabs.currentChanged.connect(self._on_tab_changed)

        top = QHBoxLayout()
        top.addWidget(QLabel("Configuration file:"))
        top.addWidget(self.path_label, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.revert_button)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)

    def _connect_changes(self) -> None:
        for e in (self.quarantine, self.audit_db, self.hash_key):
            e.textChanged.connect(self._changed)
        self.policy.currentIndexChanged.connect(self._changed)
        for s in (self.jobs, self.stable, self.poll, *self.limits.values()):
            s.valueChanged.connect(self._changed)
        for t in (self.destinations, self.watch_folders):
            t.itemChanged.connect(self._changed)
        self.pattern_dirs.model().rowsInserted.connect(self._changed)
        self.pattern_dirs.model().rowsRemoved.connect(self._changed)
        self.text.textChanged.connect(self._changed)

    # ------------------------------------------------------------------ load
    @Slot()
    def load(self) -> None:
        """Read the file (or defaults) into the form and the TOML tab."""
        path = self.controller.session.config_path
        self.path_label.setText(str(path) + ("" if path is not None and path.exists() else "  (not created yet)"))
        self.original = self.controller.config_text()
        self._loading = True
        try:
            self.text.setPlainText(self.original or NEW_FILE_HEADER)
            self._text_to_form()
        finally:
            self._loading = False
        self.validate()

    def _text_to_form(self) -> bool:
        """Fill the form from the TOML tab; False (form left as is) if the text is not TOML."""
        try:
            data = tomllib.loads(self.text.toPlainText())
        except tomllib.TOMLDecodeError as exc:
            self.status.setText(f"✗ not valid TOML: {exc}")
            return False
        was, self._loading = self._loading, True
        try:
            self._fill(data)
        finally:
            self._loading = was
        return True

    def _fill(self, data: dict[str, Any]) -> None:
        scan, audit, quarantine = data.get("scan", {}), data.get("audit", {}), data.get("quarantine", {})
        watch, limits = data.get("watch", {}), data.get("limits", {})
        policies = sorted((data.get("policies") or {}).keys())
        self.policy.clear()
        self.policy.addItem("(built-in policy)", None)
        self.policy.addItem("builtin", "builtin")
        for name in policies:
            self.policy.addItem(name, name)
        self.policy.setCurrentIndex(max(0, self.policy.findData(scan.get("policy"))))
        self.jobs.setValue(int(scan.get("jobs", 0) or 0))
        self.pattern_dirs.clear()
        self.pattern_dirs.addItems([str(p) for p in scan.get("pattern_dirs", [])])
        self.quarantine.setText(str(quarantine.get("folder", "")))
        self.audit_db.setText(str(audit.get("database", "")))
        self.hash_key.setText(str(audit.get("hash_key_file", "")))
        for e, default in (
            (self.quarantine, "Quarantine in the per-user data folder"),
            (self.audit_db, "audit.sqlite in the per-user data folder"),
            (self.hash_key, "hash.key in the per-user data folder"),
        ):
            e.setPlaceholderText(f"default: {default}")
        self.destinations.setRowCount(0)
        for name, d in (data.get("destinations") or {}).items():
            self._append_destination(
                name, str(d.get("display_name", "")), str(d.get("folder", "")), str(d.get("policy", "")), original=name
            )
        self.watch_folders.setRowCount(0)
        for wf in watch.get("folders", []):
            self._append_watch(str(wf.get("path", "")), str(wf.get("destination", "")))
        self.stable.setValue(float(watch.get("stable_seconds", 5.0)))
        self.poll.setValue(float(watch.get("poll_interval", 1.0)))
        for key, _label, _unit, scale in _LIMIT_FIELDS:
            value = limits.get(key, getattr(_DEFAULT_LIMITS, key))
            box = self.limits[key]
            box.setValue(value / scale if isinstance(box, QDoubleSpinBox) else int(value // scale))

    # ------------------------------------------------------------------ form -> text
    def form_text(self) -> str:
        """The TOML tab's text with the form's values applied (only what differs changes)."""
        base = self.text.toPlainText() or NEW_FILE_HEADER
        doc = toml_edit.parse_document(base)
        data = tomllib.loads(base)

        def keep_or_default(path: tuple[str, ...], value: Any, default: Any) -> None:
            present = toml_edit.get_path(doc, path) is not None
            toml_edit.set_path(doc, path, value if (present or value != default) else None)

        toml_edit.set_path(doc, ("scan", "policy"), self.policy.currentData())
        toml_edit.set_path(doc, ("scan", "jobs"), self.jobs.value() or None)
        dirs = [self.pattern_dirs.item(i).text() for i in range(self.pattern_dirs.count())]
        keep_or_default(("scan", "pattern_dirs"), dirs, [])
        toml_edit.set_path(doc, ("quarantine", "folder"), self.quarantine.text().strip() or None)
        toml_edit.set_path(doc, ("audit", "database"), self.audit_db.text().strip() or None)
        toml_edit.set_path(doc, ("audit", "hash_key_file"), self.hash_key.text().strip() or None)
        self._apply_destinations(doc, data)
        wanted = [{"path": p, "destination": d} for p, d in self._watch_rows() if p]
        if wanted != (data.get("watch") or {}).get("folders", []):
            table = toml_edit.ensure_table(doc, ("watch",))
            if "folders" in table:
                del table["folders"]
            if wanted:
                table["folders"] = toml_edit.array_of_tables(wanted)
        keep_or_default(("watch", "stable_seconds"), round(self.stable.value(), 1), 5.0)
        keep_or_default(("watch", "poll_interval"), round(self.poll.value(), 1), 1.0)
        for key, _label, _unit, scale in _LIMIT_FIELDS:
            box = self.limits[key]
            value = float(box.value()) * scale if key in _FLOAT_LIMITS else int(box.value()) * scale
            default = getattr(_DEFAULT_LIMITS, key)
            if int(value) == value and key not in _FLOAT_LIMITS:
                value = int(value)
            if (
                scale != 1
                and toml_edit.get_path(doc, ("limits", key)) is not None
                and int(toml_edit.get_path(doc, ("limits", key)) // scale) == box.value()
            ):
                continue  # the file's exact byte count rounds to the same MiB: leave it
            keep_or_default(("limits", key), value, default)
        for section in ("scan", "audit", "quarantine", "limits", "watch"):
            if section in doc and not doc[section]:
                del doc[section]  # no empty [section] headers left behind
        return toml_edit.dumps(doc)

    def _apply_destinations(self, doc: Any, data: dict[str, Any]) -> None:
        existing = dict(data.get("destinations") or {})
        rows = self._destination_rows()
        if not rows and not existing:
            return
        table = toml_edit.ensure_table(doc, ("destinations",))
        keep = {r["original"] for r in rows if r["original"]}
        for name in list(existing):
            if name not in keep:
                del table[name]
        for r in rows:
            name, original = r["name"], r["original"]
            if not name:
                continue
            if original and original != name and original in table:
                old = {k: v for k, v in existing[original].items()}
                del table[original]
                toml_edit.ensure_table(doc, ("destinations", name))
                for k, v in old.items():
                    toml_edit.set_path(doc, ("destinations", name, k), v)
            path = ("destinations", name)
            toml_edit.set_path(doc, (*path, "folder"), r["folder"] or None)
            toml_edit.set_path(doc, (*path, "display_name"), r["display_name"] or None)
            toml_edit.set_path(doc, (*path, "policy"), r["policy"] or None)
        if not table:
            del doc["destinations"]

    def _destination_rows(self) -> list[dict[str, str]]:
        out = []
        t = self.destinations
        for i in range(t.rowCount()):
            cells = [_cell_text(t, i, c).strip() for c in range(4)]
            first = t.item(i, 0)
            original = first.data(Qt.ItemDataRole.UserRole) if first is not None else None
            out.append(
                {
                    "name": cells[0],
                    "display_name": cells[1],
                    "folder": cells[2],
                    "policy": cells[3],
                    "original": original or "",
                }
            )
        return out

    def _watch_rows(self) -> list[tuple[str, str]]:
        t = self.watch_folders
        return [(_cell_text(t, i, 0).strip(), _cell_text(t, i, 1).strip()) for i in range(t.rowCount())]

    # ------------------------------------------------------------------ validate and save
    @Slot()
    def _changed(self) -> None:
        if not self._loading:
            self._timer.start()

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        self._timer.stop()
        if index == 1:
            text = self._current_text()
            if text is not None and text != self.text.toPlainText():
                self._loading = True
                self.text.setPlainText(text)
                self._loading = False
        else:
            self._text_to_form()
        self.validate()

    def _current_text(self) -> str | None:
        """What would be saved: the TOML tab as typed, or the form applied to it."""
        if self.tabs.currentIndex() == 1:
            return self.text.toPlainText()
        try:
            return self.form_text()
        except (toml_edit.TomlEditError, tomllib.TOMLDecodeError) as exc:
            self.status.setText(f"✗ {exc}")
            return None

    @Slot()
    def validate(self) -> str | None:
        """Check the would-be file with the scanner's loader; returns the problem or None."""
        text = self._current_text()
        problem: str | None
        if text is None:
            problem = "the TOML text is not valid"
        else:
            problem = self.controller.validate_config_text(text)
        dirty = text is not None and text != (self.original or NEW_FILE_HEADER)
        if problem:
            self.status.setText(f"✗ {problem}")
            self.status.setStyleSheet(f"color: {theme.hex_(theme.danger())}")
        else:
            self.status.setText("✓ Valid. Save to apply." if dirty else "✓ Valid, no unsaved changes.")
            self.status.setStyleSheet(f"color: {theme.hex_(theme.ok())}")
        self.save_button.setEnabled(problem is None and dirty)
        self.validated.emit(problem or "")
        return problem

    def save(self) -> bool:
        text = self._current_text()
        if text is None:
            return False
        problem = self.controller.save_config_text(text, expected_old=self.original)
        if problem:
            self.status.setText(f"✗ Not saved: {problem}")
            self.status.setStyleSheet(f"color: {theme.hex_(theme.danger())}")
            QMessageBox.warning(self, "Settings not saved", problem)
            return False
        self.load()
        self.status.setText("✓ Saved and applied.")
        return True

    # ------------------------------------------------------------------ row editing
    def _append_destination(self, name: str, display: str, folder: str, policy: str, original: str = "") -> None:
        t = self.destinations
        i = t.rowCount()
        t.insertRow(i)
        t.setItem(i, 0, _item(name, original or None))
        t.setItem(i, 1, _item(display))
        t.setItem(i, 2, _item(folder))
        t.setItem(i, 3, _item(policy))

    def _append_watch(self, path: str, destination: str) -> None:
        t = self.watch_folders
        i = t.rowCount()
        t.insertRow(i)
        t.setItem(i, 0, _item(path))
        t.setItem(i, 1, _item(destination))

    def _add_destination(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Release folder of the new destination")
        if not folder:
            return
        name = Path(folder).name.lower().replace(" ", "-") or "partner"
        self._append_destination(name, Path(folder).name, folder, "")
        self._changed()

    def _add_watch_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to watch")
        if folder:
            first = _cell_text(self.destinations, 0, 0)
            self._append_watch(folder, first)
            self._changed()

    def _add_pattern_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Admin pattern folder")
        if folder:
            self.pattern_dirs.addItem(folder)

    def _remove_row(self, table: QTableWidget) -> None:
        row = table.currentRow()
        if row >= 0:
            table.removeRow(row)
            self._changed()

    def _remove_current(self, lst: QListWidget) -> None:
        row = lst.currentRow()
        if row >= 0:
            lst.takeItem(row)

    def _browse(self, edit: QLineEdit) -> None:
        if edit is self.quarantine:
            chosen = QFileDialog.getExistingDirectory(self, "Quarantine folder", edit.text())
        else:
            chosen, _f = QFileDialog.getSaveFileName(self, "Choose file", edit.text())
        if chosen:
            edit.setText(chosen)
