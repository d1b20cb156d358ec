"""Desktop app entry point: builds the controller, the main window and the tray, and runs Qt.

    clearance gui [--config FILE] [PATH...]      # or: clearance-gui, python -m gui.app

The composition root: the only module that knows every piece. Views and the tray depend on
``gui.controller.AppController``, never on this module, so nothing imports it but the CLI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication
from shiboken6 import Shiboken

from gui.controller import AppController
from gui.icons import icon
from gui.qt_check import binding_problem
from gui.tray import TrayIcon
from gui.views.main_window import MainWindow

APP_NAME = "Clearance"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="clearance gui", description="Clearance desktop app")
    parser.add_argument("--config", type=Path, metavar="FILE", help="clearance.toml to use")
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders to scan at start")
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Open the app; scan ``paths`` at start. Returns the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = binding_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setWindowIcon(icon("app") if not icon("app").isNull() else QIcon())
    if sys.platform == "win32" and app.style().name().lower() == "windowsvista":
        # The classic Windows style ignores the dark scheme; Fusion follows the OS palette.
        app.setStyle("fusion")
    controller = AppController(args.config)
    window = MainWindow(controller)
    tray = TrayIcon.create(controller, window)
    window.set_tray(tray)
    window.show()
    if args.paths:
        controller.scan.scan(args.paths)
    app.aboutToQuit.connect(controller.close)
    try:
        return int(app.exec())
    finally:
        app.aboutToQuit.disconnect(controller.close)
        if tray is not None:
            tray.hide()
        # Closing the last window after the loop ended must not ask a loop to quit: with
        # nothing running, Qt would keep the request and end the next loop at once (which
        # matters when main() runs inside a longer-lived QApplication, as in the tests).
        quit_on_close = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)
        try:
            window.close()
            controller.close()
            Shiboken.delete(window)  # now, while no quit can be triggered by it (the tray goes with it)
            flush = QEventLoop()  # deliver what closing posted, before anyone else runs a loop
            QTimer.singleShot(0, flush.quit)
            flush.exec()
        finally:
            app.setQuitOnLastWindowClosed(quit_on_close)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
