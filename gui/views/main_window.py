"""The main window: one tab per job (scan, watcher, patterns, audit, settings)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.controller import AppController
from gui.icons import icon
from gui.views.audit_view import AuditView
from gui.views.drop_zone import local_paths
from gui.views.pattern_workbench import PatternWorkbench
from gui.views.scan_view import ScanView
from gui.views.settings_view import SettingsView
from gui.views.watcher_view import WatcherView
from scanner import __version__

DEFAULT_SIZE = QSize(1280, 820)


class MainWindow(QMainWindow):
    SCAN, WATCHER, PATTERNS, AUDIT, SETTINGS = range(5)

    def __init__(self, controller: AppController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.tray: QSystemTrayIcon | None = None  # gui.tray.TrayIcon, where the desktop has a tray
        self._quitting = False
        self.setWindowTitle("Clearance")
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.resize(DEFAULT_SIZE)
        self.setMinimumSize(QSize(900, 600))

        self.scan_view = ScanView(controller)
        self.watcher_view = WatcherView(controller)
        self.pattern_view = PatternWorkbench(controller)
        self.audit_view = AuditView(controller)
        self.settings_view = SettingsView(controller)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for widget, name, text in (
            (self.scan_view, "scan", "&Scan"),
            (self.watcher_view, "watch", "&Watcher"),
            (self.pattern_view, "patterns", "&Patterns"),
            (self.audit_view, "audit", "&Audit"),
            (self.settings_view, "settings", "Se&ttings"),
        ):
            self.tabs.addTab(widget, icon(name), text)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        # A broken configuration or pattern set stops every scan; the banner says so above
        # every tab, naming the file and line, until it is fixed (issue 16: fail loudly).
        self.banner = QLabel()
        self.banner.setObjectName("blocking-banner")
        self.banner.setAccessibleName("Scanning stopped")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setStyleSheet("QLabel#blocking-banner { background: #c62828; color: white; padding: 8px; }")
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._build_menus()
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        controller.notice.connect(self._on_notice)
        controller.audit_failed.connect(self._on_audit_failed)
        controller.session_changed.connect(self._on_session_changed)
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):  # Qt >= 6.5: the OS switched light/dark
            hints.colorSchemeChanged.connect(self._on_color_scheme_changed)
        self._update_status()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        add_files = QAction(icon("add-file"), "Add &files…", self)
        add_files.setShortcut(QKeySequence.StandardKey.Open)
        add_files.triggered.connect(self.scan_view.drop_zone.add_files.click)
        add_folder = QAction(icon("add-folder"), "Add fol&der…", self)
        add_folder.setShortcut(QKeySequence("Ctrl+Shift+O"))
        add_folder.triggered.connect(self.scan_view.drop_zone.add_folder.click)
        close = QAction("&Close window", self)
        close.setShortcut(QKeySequence.StandardKey.Close)
        close.triggered.connect(self.close)
        quit_ = QAction(icon("quit"), "&Quit", self)
        quit_.setShortcut(QKeySequence.StandardKey.Quit)
        quit_.setMenuRole(QAction.MenuRole.QuitRole)
        quit_.triggered.connect(self.quit_app)
        for a in (add_files, add_folder, None, close, quit_):
            file_menu.addSeparator() if a is None else file_menu.addAction(a)

        view_menu = self.menuBar().addMenu("&View")
        for i in range(self.tabs.count()):
            a = QAction(self.tabs.tabIcon(i), self.tabs.tabText(i).replace("&", ""), self)
            a.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            a.triggered.connect(lambda _c=False, n=i: self.tabs.setCurrentIndex(n))
            view_menu.addAction(a)

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction(icon("app"), "&About Clearance", self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    # ------------------------------------------------------------------ tray / lifetime
    def set_tray(self, tray: QSystemTrayIcon | None) -> None:
        self.tray = tray

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def quit_app(self) -> None:
        self._quitting = True
        self.close()
        QApplication.quit()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Hide to the tray only if there is a tray to come back from and something to
        # keep running; with no tray, hiding the only window would strand the app.
        if not self._quitting and self.tray is not None and self.tray.isVisible() and self.controller.watcher.running:
            event.ignore()
            self.hide()
            self.tray.showMessage("Clearance is still watching", "Use the tray icon to open it or quit.")
            return
        event.accept()

    # ------------------------------------------------------------------ drop anywhere
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.tabs.setCurrentIndex(self.SCAN)
            self.scan_view.scan_paths(paths)

    # ------------------------------------------------------------------ status
    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        if index == self.AUDIT:
            self.audit_view.refresh()

    @Slot()
    def _on_color_scheme_changed(self, *_args: object) -> None:
        """Our few own colours (highlights, verdict text) are taken from the palette: redraw them."""
        self.scan_view.detail.refresh()
        self.scan_view.detail.render_context()
        self.pattern_view.evaluate()
        self.settings_view.validate()

    @Slot(str)
    def _on_notice(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)

    @Slot(object)
    def _on_session_changed(self, _session: object) -> None:
        self._update_status()

    @Slot(str)
    def _on_audit_failed(self, message: str) -> None:
        self.statusBar().showMessage(message, 15_000)
        self._update_status()

    def _update_status(self) -> None:
        s = self.controller.session
        self.banner.setVisible(not s.usable)
        if not s.usable:
            self.banner.setText(f"Scanning is stopped: {s.error}\nFix it in Settings, or in the file named above.")
            self.status_label.setText("Configuration has errors: scanning disabled")
        elif self.controller.audit is None:
            self.status_label.setText("Audit trail unavailable: actions disabled")
        else:
            where = s.config.path or "built-in defaults"
            self.status_label.setText(f"Configuration: {where}")

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About Clearance",
            f"Clearance {__version__}\n\nClassifies files and clears them before they leave "
            "the company. Scans run on this computer; values are masked unless revealed, and "
            "every reveal and action is recorded in the audit trail.",
        )

    def current_view(self) -> QWidget:
        return self.tabs.currentWidget()

    def select_tab(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)

    def show_path(self, path: Path) -> None:
        self.tabs.setCurrentIndex(self.SCAN)
        self.scan_view.select_path(str(path))
