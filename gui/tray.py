"""The system-tray icon: a thin forwarder to the controller (vorta's ``tray_menu.py``).

The menu is rebuilt each time it opens (``aboutToShow``), so it always says what is
true now ("Pause watching" vs "Resume watching") without listening to every signal.
Where the platform has no tray (some Linux desktops, offscreen tests) ``create`` returns
None and the main window behaves as an ordinary window: closing it quits the app.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from gui.controller import AppController
from gui.icons import icon
from gui.views.main_window import MainWindow


class TrayIcon(QSystemTrayIcon):
    def __init__(self, controller: AppController, window: MainWindow):
        super().__init__(icon("tray"), window)
        self.controller = controller
        self.window = window
        self.menu = QMenu(window)
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.setContextMenu(self.menu)
        self.setToolTip("Clearance")
        self.activated.connect(self._on_activated)
        controller.file_blocked.connect(self._on_file_blocked)
        controller.watcher.state_changed.connect(self._on_watch_state)
        self.rebuild_menu()

    @classmethod
    def create(cls, controller: AppController, window: MainWindow) -> TrayIcon | None:
        """A visible tray icon, or None where the desktop has no system tray."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return None
        tray = cls(controller, window)
        tray.show()
        return tray

    # ------------------------------------------------------------------ menu
    @Slot()
    def rebuild_menu(self) -> None:
        m = self.menu
        m.clear()
        m.addAction(self._action("Open Clearance", "open", self.window.bring_to_front))
        w = self.controller.watcher
        if w.paused:
            toggle = self._action("Resume watching", "play", w.resume)
        elif w.running:
            toggle = self._action("Pause watching", "pause", w.pause)
        else:
            toggle = self._action("Start watching", "play", w.start)
        toggle.setEnabled(w.running or w.can_start())
        m.addAction(toggle)
        m.addSeparator()
        m.addAction(self._action("Quit Clearance", "quit", self.window.quit_app))

    def _action(self, text: str, icon_name: str, slot: object) -> QAction:
        a = QAction(icon(icon_name), text, self.menu)
        a.triggered.connect(slot)
        return a

    def actions_by_text(self) -> dict[str, QAction]:
        return {a.text(): a for a in self.menu.actions() if a.text()}

    # ------------------------------------------------------------------ events
    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.window.bring_to_front()

    @Slot(str, str)
    def _on_file_blocked(self, path: str, reason: str) -> None:
        self.setIcon(icon("tray-alert"))
        self.showMessage(f"Blocked: {Path(path).name}", reason, QSystemTrayIcon.MessageIcon.Warning, 10_000)

    @Slot(str)
    def _on_watch_state(self, state: str) -> None:
        self.setIcon(icon("tray" if state in ("running", "service") else "tray-paused"))
        self.setToolTip(
            {
                "running": "Clearance — watching",
                "paused": "Clearance — watching paused",
                "service": "Clearance — the watcher service is running",
            }.get(state, "Clearance")
        )
