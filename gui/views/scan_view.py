"""The scan window: drop zone, destination, streaming results table, progress, detail panel."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelection, Qt, QTimer, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.controller import AppController
from gui.icons import icon
from gui.models.results_model import ResultRow, ResultsModel
from gui.models.sort_proxy import ROW_ROLE, SortFilterProxyModel
from gui.services import ScannedFile, ScanSummary
from gui.views.detail_view import DetailPanel
from gui.views.drop_zone import DropZone
from scanner.model import Verdict

_SHOW = (
    ("All results", None),
    ("Blocked", lambda r: r.result.verdict is Verdict.BLOCK),
    ("Labelled", lambda r: r.result.verdict is Verdict.LABEL),
    ("Allowed", lambda r: r.result.verdict is Verdict.ALLOW),
    ("Not scanned completely", lambda r: bool(r.result.outcome.errors)),
    ("Files only (no archive members)", lambda r: not r.is_member),
)


class ScanView(QWidget):
    def __init__(self, controller: AppController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.drop_zone = DropZone()
        self.drop_zone.paths_dropped.connect(self.scan_paths)

        self.destination = QComboBox()
        self.destination.setAccessibleName("Destination")
        self.destination.setToolTip("The partner these files are going to: the verdicts follow the choice")
        self.destination.currentIndexChanged.connect(self._on_destination_chosen)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter results (Ctrl+F)")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter results")
        self.show_combo = QComboBox()
        self.show_combo.setAccessibleName("Show")
        for text, _pred in _SHOW:
            self.show_combo.addItem(text)
        self.show_combo.currentIndexChanged.connect(self._on_show_changed)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v of %m files")
        self.progress.setVisible(False)
        self._progress_values = (0, 0)
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(100)
        self._progress_timer.timeout.connect(self._show_progress)
        self.cancel_button = QPushButton(icon("cancel"), "&Cancel")
        self.cancel_button.setToolTip("Stop scanning the files still queued (Esc)")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_scan)
        self.clear_button = QPushButton(icon("clear"), "C&lear")
        self.clear_button.setToolTip("Remove every result from the list")
        self.clear_button.clicked.connect(self.clear)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)

        self.model = ResultsModel(self)
        self.proxy = SortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Scan results")
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # arrival order until the user sorts
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in (
            (ResultsModel.VERDICT, 110),
            (ResultsModel.FILE, 230),
            (ResultsModel.TYPE, 55),
            (ResultsModel.LABEL, 95),
        ):
            header.resizeSection(col, width)
        for col in (ResultsModel.PHI, ResultsModel.FORMULA, ResultsModel.IP, ResultsModel.SECRET, ResultsModel.FINANCE):
            header.resizeSection(col, 58)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        self.detail = DetailPanel(controller)
        self._build_layout()
        self.find_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self.filter.setFocus)
        self.cancel_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel_scan)

        scan = controller.scan
        scan.results_ready.connect(self._on_results_ready)
        scan.progress_changed.connect(self._on_progress)
        scan.scan_started.connect(self._on_scan_started)
        scan.scan_finished.connect(self._on_scan_finished)
        scan.scan_failed.connect(self._on_scan_failed)
        controller.destination_changed.connect(self._on_destination_changed)
        controller.session_changed.connect(self._on_session_changed)
        controller.action_finished.connect(self._on_action_finished)
        controller.action_failed.connect(self._on_action_failed)
        self._on_session_changed(controller.session)

    def _build_layout(self) -> None:
        bar = QHBoxLayout()
        label = QLabel("&Destination:")
        label.setBuddy(self.destination)
        bar.addWidget(label)
        bar.addWidget(self.destination, 1)
        bar.addSpacing(12)
        bar.addWidget(self.filter, 2)
        bar.addWidget(self.show_combo)
        bar.addWidget(self.clear_button)
        progress = QHBoxLayout()
        progress.addWidget(self.progress, 1)
        progress.addWidget(self.cancel_button)
        progress.addWidget(self.summary, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([700, 480])
        layout = QVBoxLayout(self)
        layout.addWidget(self.drop_zone)
        layout.addLayout(bar)
        layout.addLayout(progress)
        layout.addWidget(split, 1)

    # ------------------------------------------------------------------ scanning
    def scan_paths(self, paths: list[Path]) -> None:
        self.controller.scan.scan(paths)

    @Slot()
    def _on_scan_started(self) -> None:
        self.progress.setRange(0, 0)  # busy until the first files are listed
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.summary.setText("Scanning…")

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        # QProgressBar.setValue repaints at once; at hundreds of files a second that is
        # most of the GUI thread's time. Show the latest figures ten times a second instead.
        self._progress_values = (done, total)
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    @Slot()
    def _show_progress(self) -> None:
        done, total = self._progress_values
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    @Slot(object)
    def _on_results_ready(self, scanned: ScannedFile) -> None:
        self.model.add_file(scanned)
        if not self.table.selectionModel().hasSelection() and self.proxy.rowCount() == 1:
            self.table.selectRow(0)

    @Slot(object)
    def _on_scan_finished(self, s: ScanSummary) -> None:
        self._progress_timer.stop()
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        bits = [f"{s.files} file(s) scanned in {s.seconds:.1f} s", f"{s.blocked} blocked"]
        if s.unscannable:
            bits.append(f"{s.unscannable} not scanned completely")
        if s.cancelled:
            bits.append(f"{s.cancelled} cancelled")
        self.summary.setText(", ".join(bits))

    @Slot(str)
    def _on_scan_failed(self, message: str) -> None:
        self.summary.setText(message)

    def cancel_scan(self) -> None:
        self.controller.scan.cancel()

    def clear(self) -> None:
        self.controller.scan.cancel()
        self.detail.show_row(None)
        self.model.clear()
        self.controller.context.forget()
        self.summary.clear()

    # ------------------------------------------------------------------ destination
    @Slot(object)
    def _on_session_changed(self, session: object) -> None:
        s = self.controller.session
        self.destination.blockSignals(True)
        self.destination.clear()
        self.destination.addItem("No destination (internal)", None)
        for d in s.destinations():
            self.destination.addItem(d.title, d.name)
        i = self.destination.findData(self.controller.destination)
        self.destination.setCurrentIndex(max(i, 0))
        self.destination.blockSignals(False)
        self.model.set_destination_titles({d.name: d.title for d in s.destinations()})
        self.drop_zone.setEnabled(s.usable)
        if not s.usable:
            self.summary.setText(f"Scanning is disabled: {s.error}. Fix it in Settings.")
        self.model.redecide(self.controller.decide, self.controller.destination)
        self.detail.refresh()

    @Slot(int)
    def _on_destination_chosen(self, index: int) -> None:
        self.controller.set_destination(self.destination.itemData(index))

    @Slot(object)
    def _on_destination_changed(self, name: str | None) -> None:
        i = self.destination.findData(name)
        if i >= 0 and i != self.destination.currentIndex():
            self.destination.blockSignals(True)
            self.destination.setCurrentIndex(i)
            self.destination.blockSignals(False)
        self.model.redecide(self.controller.decide, name)
        self.detail.refresh()

    # ------------------------------------------------------------------ selection and actions
    @Slot(int)
    def _on_show_changed(self, index: int) -> None:
        self.proxy.set_row_predicate(_SHOW[index][1])

    @Slot(QItemSelection, QItemSelection)
    def _on_selection(self, *_args: object) -> None:
        self.detail.show_row(self.selected_row())

    def selected_row(self) -> ResultRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        rec = rows[0].data(ROW_ROLE)
        return rec if isinstance(rec, ResultRow) else None

    def select_path(self, path: str) -> bool:
        """Select the row showing ``path`` (tests and the tray's "show me" use it)."""
        row = self.model.find(path)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.selectRow(index.row())
        return True

    @Slot(object, str)
    def _on_action_finished(self, scanned: ScannedFile, status: str) -> None:
        self.model.set_status(scanned, status)
        self.summary.setText(f"{scanned.path.name}: {status}")
        self.detail.refresh()

    @Slot(object, str)
    def _on_action_failed(self, scanned: ScannedFile | None, message: str) -> None:
        name = scanned.path.name if scanned is not None else "Action"
        self.summary.setText(f"{name}: {message}")
        self.detail.refresh()
        QMessageBox.warning(self, "Nothing was done", f"{name}: {message}")
