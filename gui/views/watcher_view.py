"""Watcher panel: watched folders, state, queue, recent events and errors."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import theme
from gui.controller import AppController
from gui.icons import icon
from gui.models.events_model import WatchEventsModel
from gui.models.sort_proxy import SortFilterProxyModel


class WatcherView(QWidget):
    def __init__(self, controller: AppController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        w = controller.watcher
        self.state_label = QLabel()
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.mode_label = QLabel()
        self.mode_label.setWordWrap(True)
        self.queue_label = QLabel()
        self.start_button = QPushButton(icon("play"), "&Start watching")
        self.pause_button = QPushButton(icon("pause"), "&Pause")
        self.stop_button = QPushButton(icon("stop"), "St&op")
        self.start_button.clicked.connect(self._start_or_resume)
        self.pause_button.clicked.connect(w.pause)
        self.stop_button.clicked.connect(w.stop)

        self.folders = QTreeWidget()
        self.folders.setAccessibleName("Watched folders")
        self.folders.setHeaderLabels(["Watched folder", "Destination", "State"])
        self.folders.setRootIsDecorated(False)
        self.folders.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

        self.model = WatchEventsModel(self)
        self.proxy = SortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.events = QTableView()
        self.events.setModel(self.proxy)
        self.events.setAccessibleName("Recent watcher events")
        self.events.setSortingEnabled(True)
        self.events.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # newest first until the user sorts
        self.events.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.events.setWordWrap(False)
        self.events.verticalHeader().setVisible(False)
        self.events.horizontalHeader().setStretchLastSection(True)
        for col, width in (
            (WatchEventsModel.TIME, 140),
            (WatchEventsModel.EVENT, 95),
            (WatchEventsModel.FILE, 220),
            (WatchEventsModel.DESTINATION, 130),
            (WatchEventsModel.VERDICT, 80),
        ):
            self.events.horizontalHeader().resizeSection(col, width)
        self.errors = QListWidget()
        self.errors.setAccessibleName("Watcher errors")

        controls = QHBoxLayout()
        controls.addWidget(self.state_label)
        controls.addWidget(self.queue_label)
        controls.addStretch(1)
        controls.addWidget(self.start_button)
        controls.addWidget(self.pause_button)
        controls.addWidget(self.stop_button)
        folders_box = QGroupBox("Watched folders")
        QVBoxLayout(folders_box).addWidget(self.folders)
        events_box = QGroupBox("Last events")
        QVBoxLayout(events_box).addWidget(self.events)
        errors_box = QGroupBox("Errors")
        QVBoxLayout(errors_box).addWidget(self.errors)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(folders_box)
        split.addWidget(events_box)
        split.addWidget(errors_box)
        split.setSizes([160, 420, 120])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.mode_label)
        layout.addWidget(split, 1)

        w.state_changed.connect(self.refresh)
        w.events_changed.connect(self._on_events)
        w.queue_changed.connect(self.refresh)
        w.error_added.connect(self._on_error)
        controller.session_changed.connect(self.refresh)
        self.refresh()

    def _start_or_resume(self) -> None:
        w = self.controller.watcher
        w.resume() if w.paused else w.start()

    _STATES = {
        "stopped": "Watcher: stopped",
        "starting": "Watcher: starting…",
        "running": "Watcher: running",
        "paused": "Watcher: paused",
        "stopping": "Watcher: stopping…",
        "failed": "Watcher: stopped after an error",
        "service": "Watcher service: running in another process",
    }

    @Slot()
    def refresh(self, *_args: object) -> None:
        w = self.controller.watcher
        names = {d.name: d.title for d in self.controller.session.destinations()}
        self.model.set_titles(names)
        self.folders.clear()
        for f in w.folders():
            item = QTreeWidgetItem(
                [str(f.path), names.get(f.destination, f.destination), f.state + (f": {f.detail}" if f.detail else "")]
            )
            if f.state != "ok":
                item.setForeground(2, theme.danger())
            self.folders.addTopLevelItem(item)
        if not w.folders():
            self.folders.addTopLevelItem(QTreeWidgetItem(["No watched folders configured (see Settings)", "", ""]))
        state = w.state
        self.state_label.setText(self._STATES.get(state, f"Watcher: {state}"))
        counts = w.counts()
        done = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()) if n)
        active = state in ("running", "paused", "service")
        self.queue_label.setText((f"  Queue: {w.queue()} file(s)" + (f"  ·  {done}" if done else "")) if active else "")
        if state == "service":
            svc = w.service
            pid = f" (process {svc.pid})" if svc is not None else ""
            self.mode_label.setText(
                f"A Clearance watcher service{pid} watches these folders; this panel shows its "
                "status. Pause or stop it with the service manager."
            )
        elif active:
            self.mode_label.setText(
                "The watcher runs inside this app and uses its scanner workers at background "
                "priority: your own scans go first. Closing the window keeps it running in "
                "the tray, where there is one."
            )
        else:
            self.mode_label.setText(
                "Start the watcher here, or run it as a service (clearance watch): a running "
                "service's status appears here on its own."
            )
        self.start_button.setEnabled(w.can_start() or state == "paused")
        self.start_button.setText("&Resume" if state == "paused" else "&Start watching")
        self.pause_button.setEnabled(state == "running")
        self.stop_button.setEnabled(state in ("running", "paused"))

    @Slot()
    def _on_events(self) -> None:
        self.model.set_events(self.controller.watcher.events())
        if self.errors.count() != len(self.controller.watcher.errors()):
            self._on_error()
        self.refresh()

    @Slot(str)
    def _on_error(self, _message: str = "") -> None:
        self.errors.clear()
        self.errors.addItems(self.controller.watcher.errors())
        self.errors.scrollToBottom()
        self.refresh()
