"""Watcher panel (in-process and service status) and the tray menu, driven through their actions."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from scanner.watch.status import FolderStatus, WatchEvent, WatchStatus, write_status

pytestmark = pytest.mark.gui

WATCH_SECTION = """
[watch]
stable_seconds = 0.3
poll_interval = 0.1

[[watch.folders]]
path = "Outgoing/Acme"     # drop files here for Acme
destination = "acme"
"""


@pytest.fixture
def watched(qtbot, window, workspace):  # type: ignore[no-untyped-def]
    """The workspace with a watched folder for Acme; the app reloaded onto it."""
    (workspace.root / "Outgoing" / "Acme").mkdir(parents=True)
    workspace.config.write_text(workspace.config.read_text(encoding="utf-8") + WATCH_SECTION, encoding="utf-8")
    with qtbot.waitSignal(window.controller.session_changed, timeout=5_000):
        window.controller.reload()
    window.tabs.setCurrentIndex(window.WATCHER)
    yield workspace.root / "Outgoing" / "Acme"
    w = window.controller.watcher
    if w.running:
        with qtbot.waitSignal(w.state_changed, timeout=30_000, check_params_cb=lambda s: s == "stopped"):
            w.stop()


@pytest.fixture
def tray(qtbot, window):  # type: ignore[no-untyped-def]
    """The tray icon object (the OS tray itself is not needed to drive its menu)."""
    from gui.tray import TrayIcon

    t = TrayIcon(window.controller, window)
    window.set_tray(t)
    yield t
    window.set_tray(None)
    t.hide()


def menu_actions(tray):  # type: ignore[no-untyped-def]
    tray.menu.aboutToShow.emit()  # what opening the menu does: rebuilt for the current state
    return tray.actions_by_text()


def test_in_process_watcher_releases_and_quarantines(qtbot, window, watched, tray, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view = window.watcher_view
    w = window.controller.watcher
    assert view.folders.topLevelItem(0).text(0) == str(watched)
    assert view.folders.topLevelItem(0).text(1) == "Acme Pharma"
    notices = []
    monkeypatch.setattr(tray, "showMessage", lambda *a, **k: notices.append(a))

    with qtbot.waitSignal(w.state_changed, timeout=30_000, check_params_cb=lambda s: s == "running"):
        qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
    assert view.pause_button.isEnabled() and "running" in view.state_label.text()

    (watched / "minutes.txt").write_text("The canteen reopens on Monday.\n", encoding="utf-8")
    (watched / "employee.txt").write_text("Employee SSN: 212-67-4431\n", encoding="utf-8")
    kinds = lambda: {(e.kind, os.path.basename(e.path)) for e in w.events()}  # noqa: E731
    qtbot.waitUntil(lambda: {("released", "minutes.txt"), ("quarantined", "employee.txt")} <= kinds(), timeout=60_000)
    assert (workspace.acme / "minutes.txt").exists()
    assert (workspace.quarantine / "employee.txt").exists()
    # the blocked file raised a tray notification; the table shows the events newest first
    assert any("employee.txt" in n[0] for n in notices)
    shown = [view.proxy.index(r, 2).data() for r in range(view.proxy.rowCount())]
    assert any(p.endswith("employee.txt") for p in shown)

    # pause and resume from the tray menu
    acts = menu_actions(tray)
    assert "Pause watching" in acts
    acts["Pause watching"].trigger()
    assert w.state == "paused" and "paused" in view.state_label.text()
    acts = menu_actions(tray)
    assert "Resume watching" in acts
    acts["Resume watching"].trigger()
    assert w.state == "running"


def test_watcher_without_folders_cannot_start(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    view = window.watcher_view
    assert not view.start_button.isEnabled()
    assert "No watched folders" in view.folders.topLevelItem(0).text(0)


def test_a_running_service_is_shown_from_its_status_file(qtbot, window, watched, workspace) -> None:  # type: ignore[no-untyped-def]
    from scanner.watch.status import status_path_for

    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    status = WatchStatus(
        state="running",
        folders=(FolderStatus(str(watched), "acme", "ok"),),
        waiting=2,
        queued=1,
        in_flight=1,
        outcomes={"released": 5, "quarantined": 1},
        events=(
            WatchEvent(now, "released", str(watched / "a.txt"), "acme", "allow", "released to Released/Acme"),
            WatchEvent(now, "quarantined", str(watched / "b.txt"), "acme", "block", "US SSN ***-**-4431"),
        ),
        errors=(WatchEvent(now, "failed", str(watched / "c.txt"), "acme", None, "cannot be opened (locked)"),),
        started=now,
        updated=now,
        pid=os.getpid(),
    )
    write_status(status_path_for(window.controller.session.config), status)
    w = window.controller.watcher
    with qtbot.waitSignal(w.state_changed, timeout=5_000, check_params_cb=lambda s: s == "service"):
        w.poll()
    view = window.watcher_view
    assert "another process" in view.state_label.text()
    assert "Queue: 4 file(s)" in view.queue_label.text() and "5 released" in view.queue_label.text()
    assert not view.start_button.isEnabled() and not view.pause_button.isEnabled()
    assert view.model.rowCount() == 2
    assert [view.errors.item(i).text() for i in range(view.errors.count())][0].endswith("cannot be opened (locked)")


def test_tray_menu_open_and_quit(qtbot, window, tray, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    acts = menu_actions(tray)
    assert list(acts) == ["Open Clearance", "Start watching", "Quit Clearance"]
    assert not acts["Start watching"].isEnabled()  # no watched folders configured
    window.hide()
    acts["Open Clearance"].trigger()
    assert window.isVisible()
    quits = []
    monkeypatch.setattr(QApplication, "quit", lambda: quits.append(True))
    acts["Quit Clearance"].trigger()
    assert quits == [True] and not window.isVisible()


def test_tray_activation_brings_the_window_back(qtbot, window, tray) -> None:  # type: ignore[no-untyped-def]
    window.hide()
    tray.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert window.isVisible()


def test_without_a_tray_closing_the_window_closes_it(qtbot, window, watched) -> None:  # type: ignore[no-untyped-def]
    w = window.controller.watcher
    with qtbot.waitSignal(w.state_changed, timeout=30_000, check_params_cb=lambda s: s == "running"):
        w.start()
    assert window.tray is None
    assert window.close()  # accepted: never hide the only window
    assert not window.isVisible()


def test_with_a_tray_and_a_running_watcher_close_hides_to_the_tray(qtbot, window, watched, tray, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    w = window.controller.watcher
    with qtbot.waitSignal(w.state_changed, timeout=30_000, check_params_cb=lambda s: s == "running"):
        w.start()
    monkeypatch.setattr(tray, "isVisible", lambda: True)
    told = []
    monkeypatch.setattr(tray, "showMessage", lambda *a, **k: told.append(a[0]))
    assert window.close() is False
    assert not window.isVisible() and told == ["Clearance is still watching"]
    window.bring_to_front()
    assert window.isVisible()
