"""Audit view: filter the trail, export CSV, generate the HTML report, verify the hash chain."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTime, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui import theme
from gui.controller import AppController
from gui.icons import icon
from gui.models.audit_model import AuditModel
from gui.models.sort_proxy import SortFilterProxyModel
from scanner.record.events import AuditKind
from scanner.record.export import export
from scanner.record.report import write_report

MAX_ROWS = 5000


class AuditView(QWidget):
    queried = Signal(int)  # rows shown (tests wait on it)

    def __init__(self, controller: AppController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.use_since = QCheckBox("&From")
        self.since = QDateTimeEdit(QDateTime.currentDateTime().addDays(-7))
        self.use_until = QCheckBox("&To")
        self.until = QDateTimeEdit(QDateTime.currentDateTime())
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.verdict = QComboBox()
        self.verdict.setAccessibleName("Verdict filter")
        for text, value in (("any verdict", None), ("allow", "allow"), ("label", "label"), ("block", "block")):
            self.verdict.addItem(text, value)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Event filter")
        self.kind.addItem("any event", None)
        for kind in AuditKind:
            self.kind.addItem(kind.value, kind)
        self.destination = QComboBox()
        self.destination.setAccessibleName("Destination filter")
        self.user = QLineEdit()
        self.user.setPlaceholderText("user name")
        self.pattern = QLineEdit()
        self.pattern.setPlaceholderText("pattern id, e.g. phi-us-ssn")
        self.path = QLineEdit()
        self.path.setPlaceholderText("file name contains")
        self.search_button = QPushButton(icon("scan"), "&Search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.refresh)
        self.export_button = QPushButton(icon("export"), "&Export CSV…")
        self.export_button.setToolTip("All rows in the chosen time range, as CSV")
        self.report_button = QPushButton(icon("report"), "&Report…")
        self.verify_button = QPushButton(icon("verify"), "&Verify chain")
        self.export_button.clicked.connect(self.export_csv)
        self.report_button.clicked.connect(self.report)
        self.verify_button.clicked.connect(self.verify)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self._generation = 0

        self.model = AuditModel(self)
        self.proxy = SortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Audit trail")
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # newest first, as queried
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for col, width in (
            (AuditModel.TIME, 140),
            (AuditModel.KIND, 110),
            (AuditModel.USER, 90),
            (AuditModel.SOURCE, 70),
            (AuditModel.FILE, 300),
            (AuditModel.DESTINATION, 90),
            (AuditModel.VERDICT, 80),
            (AuditModel.LABEL, 90),
        ):
            self.table.horizontalHeader().resizeSection(col, width)

        row1 = QHBoxLayout()
        for w in (self.use_since, self.since, self.use_until, self.until):
            row1.addWidget(w)
        row1.addSpacing(12)
        row1.addWidget(self.kind, 1)
        row1.addWidget(self.verdict, 1)
        row1.addWidget(self.destination, 1)
        row2 = QHBoxLayout()
        row2.addWidget(self.user, 1)
        row2.addWidget(self.pattern, 1)
        row2.addWidget(self.path, 2)
        row2.addWidget(self.search_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.verify_button)
        buttons.addWidget(self.report_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row1)
        layout.addLayout(row2)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        for line in (self.user, self.pattern, self.path):
            line.returnPressed.connect(self.refresh)
        for combo in (self.verdict, self.kind, self.destination):
            combo.currentIndexChanged.connect(self.refresh)
        for cb in (self.use_since, self.use_until):
            cb.toggled.connect(self.refresh)
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(400)
        self._pending.timeout.connect(self.refresh)
        controller.audit_recorded.connect(self._on_recorded)
        controller.session_changed.connect(self._fill_destinations)
        self._fill_destinations()

    @Slot()
    def _fill_destinations(self, *_args: object) -> None:
        current = self.destination.currentData()
        self.destination.blockSignals(True)
        self.destination.clear()
        self.destination.addItem("any destination", None)
        for d in self.controller.session.destinations():
            self.destination.addItem(d.title, d.name)
        self.destination.setCurrentIndex(max(0, self.destination.findData(current)))
        self.destination.blockSignals(False)

    # ------------------------------------------------------------------ query
    def filters(self) -> dict[str, Any]:
        f: dict[str, Any] = {
            "since": _to_datetime(self.since.dateTime()) if self.use_since.isChecked() else None,
            "until": _to_datetime(self.until.dateTime()) if self.use_until.isChecked() else None,
            "verdict": self.verdict.currentData(),
            "destination": self.destination.currentData(),
            "kind": AuditKind(kind) if (kind := self.kind.currentData()) else None,
            "user": self.user.text().strip() or None,
            "pattern": self.pattern.text().strip() or None,
            "path_contains": self.path.text().strip() or None,
        }
        return f

    @Slot()
    def _on_recorded(self) -> None:
        if self.isVisible():
            self._pending.start()  # many rows arrive during a scan: refresh once they settle

    @Slot()
    def refresh(self) -> None:
        audit = self.controller.audit
        if audit is None:
            self.status.setText(f"Audit trail unavailable: {self.controller.audit_error}")
            self.model.set_rows([])
            self.queried.emit(0)
            return
        filters = self.filters()
        self._generation += 1
        generation = self._generation
        self.controller.audit_reader.run(
            lambda: audit.query(limit=MAX_ROWS, newest_first=True, **filters),
            lambda rows: self._on_rows(rows, generation),
            self._on_error,
        )

    def _on_rows(self, rows: list[Any], generation: int) -> None:
        if generation != self._generation:
            return  # a newer query is on its way: never show stale filters' rows
        self.model.set_rows(rows)
        more = f" (newest {MAX_ROWS:,} shown)" if len(rows) >= MAX_ROWS else ""
        self.status.setText(
            f"{len(rows):,} row(s){more} in {self.controller.audit.path}" if self.controller.audit is not None else ""
        )
        self.status.setStyleSheet("")
        self.queried.emit(len(rows))

    def _on_error(self, exc: BaseException) -> None:
        self.status.setText(f"✗ {exc}")
        self.status.setStyleSheet(f"color: {theme.hex_(theme.danger())}")
        self.queried.emit(-1)

    # ------------------------------------------------------------------ export, report, verify
    def export_csv(self) -> None:
        audit = self.controller.audit
        if audit is None:
            return
        target, _f = QFileDialog.getSaveFileName(
            self, "Export audit trail", str(Path.home() / "clearance-audit.csv"), "CSV files (*.csv)"
        )
        if not target:
            return
        f = self.filters()

        def done(n: int) -> None:
            self.status.setText(f"Exported {n:,} row(s) to {target}")

        self.controller.audit_reader.run(
            lambda: export(audit, "csv", since=f["since"], until=f["until"], out=target), done, self._on_error
        )

    def report(self) -> None:
        audit = self.controller.audit
        if audit is None:
            return
        target, _f = QFileDialog.getSaveFileName(
            self, "Audit report", str(Path.home() / "clearance-report.html"), "HTML files (*.html)"
        )
        if not target:
            return
        f = self.filters()

        def done(_html: str) -> None:
            self.status.setText(f"Report written to {target}")
            QDesktopServices.openUrl(QUrl.fromLocalFile(target))

        self.controller.audit_reader.run(
            lambda: write_report(audit, since=f["since"], until=f["until"], out=target), done, self._on_error
        )

    def verify(self) -> None:
        audit = self.controller.audit
        if audit is None:
            return

        def done(report: Any) -> None:
            self.status.setText(report.summary())
            color = theme.ok() if report.ok else theme.danger()
            self.status.setStyleSheet(f"color: {theme.hex_(color)}")
            if not report.ok:
                QMessageBox.warning(
                    self, "Audit trail damaged", report.summary() + "\n\n" + "\n".join(report.problems[:20])
                )

        self.controller.audit_reader.run(audit.verify, done, self._on_error)


def _to_datetime(qdt: QDateTime) -> datetime:
    """Local wall-clock time from the editor (the audit converts it to UTC)."""
    d, t = qdt.date(), qdt.time() if qdt.time().isValid() else QTime(0, 0)
    return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), t.second())
