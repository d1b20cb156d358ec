"""Settings: the form edits clearance.toml itself, validated by the scanner's loader, comments kept."""

from __future__ import annotations

import hashlib
import tomllib

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from scanner.record.events import AuditKind

pytestmark = pytest.mark.gui


@pytest.fixture
def settings(qtbot, window):  # type: ignore[no-untyped-def]
    window.tabs.setCurrentIndex(window.SETTINGS)
    return window.settings_view


def settle(qtbot, view) -> str:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(view.validated, timeout=5_000) as blocker:
        pass
    return blocker.args[0]


def dest_rows(view) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    t = view.destinations
    return {t.item(r, 0).text(): [t.item(r, c).text() for c in range(1, 4)] for r in range(t.rowCount())}


def test_form_shows_the_file(settings, workspace) -> None:  # type: ignore[no-untyped-def]
    view = settings
    assert str(workspace.config) in view.path_label.text()
    assert dest_rows(view) == {
        "acme": ["Acme Pharma", "Released/Acme", ""],
        "borealis": ["Borealis Biologics", "Released/Borealis", ""],
    }
    assert view.quarantine.text() == "Quarantine"
    assert view.jobs.value() == 2
    assert view.limits["timeout_s"].value() == 120.0
    assert "Valid" in view.status.text() and not view.save_button.isEnabled()


def test_edit_and_save_keeps_comments_and_identifiers(qtbot, settings, window, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view = settings
    (workspace.root / "Released" / "Cedar").mkdir()
    view.quarantine.setText("Held")
    view.limits["timeout_s"].setValue(60.0)
    view.limits["max_file_bytes"].setValue(512)  # MiB
    view._append_destination("cedar", "Cedar Therapeutics", "Released/Cedar", "")
    view.destinations.item(0, 1).setText("ACME Pharma GmbH")
    assert settle(qtbot, view) == ""
    assert view.save_button.isEnabled()
    with qtbot.waitSignal(window.controller.session_changed, timeout=10_000):
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)

    text = workspace.config.read_text(encoding="utf-8")
    for comment in (
        "# Clearance test configuration",
        "# Partners",
        "# relative to this file",
        "# release folder of Acme",
    ):
        assert comment in text
    data = tomllib.loads(text)
    assert data["quarantine"]["folder"] == "Held"
    assert data["limits"] == {"timeout_s": 60.0, "max_file_bytes": 512 * 1024 * 1024}
    assert data["destinations"]["acme"]["display_name"] == "ACME Pharma GmbH"
    assert data["destinations"]["acme"]["identifiers"] == ["PRJ-4711"]  # not in the form: kept
    assert data["destinations"]["cedar"] == {"folder": "Released/Cedar", "display_name": "Cedar Therapeutics"}
    # the app now runs on the new file, and the audit trail has its hash
    session = window.controller.session
    assert session.config.limits.timeout_s == 60.0
    assert session.config.quarantine.folder == workspace.root / "Held"
    assert [d.name for d in session.destinations()] == ["acme", "borealis", "cedar"]
    combo = window.scan_view.destination
    assert combo.findData("cedar") >= 0
    window.controller.audit_writer.wait_idle()
    rows = window.controller.audit.query(kind=AuditKind.CONFIG_CHANGE)
    assert rows[-1].sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_invalid_settings_name_the_key_and_are_not_saved(qtbot, settings, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view = settings
    before = workspace.config.read_text(encoding="utf-8")
    (workspace.root / "Outgoing").mkdir()
    view._append_watch("Outgoing", "nobody")
    problem = settle(qtbot, view)
    assert "watch.folders[0].destination" in problem and "nobody" in problem
    assert not view.save_button.isEnabled()
    assert "watch.folders[0].destination" in view.status.text()
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: None)
    assert view.save() is False
    assert workspace.config.read_text(encoding="utf-8") == before

    # a release folder inside a watched folder would rescan its own output forever
    view.watch_folders.item(0, 1).setText("acme")
    view.watch_folders.item(0, 0).setText("Released")
    problem = settle(qtbot, view)
    assert "destinations.acme.folder" in problem


def test_toml_tab_round_trips_with_the_form(qtbot, settings, window, workspace) -> None:  # type: ignore[no-untyped-def]
    view = settings
    view.tabs.setCurrentIndex(1)
    text = view.text.toPlainText()
    assert "# Partners" in text
    view.text.setPlainText(text + "\n[limits]\nmemory_mb = 1024  # big spreadsheets\n")
    assert settle(qtbot, view) == ""
    view.tabs.setCurrentIndex(0)
    assert view.limits["memory_mb"].value() == 1024
    assert view.save()
    saved = workspace.config.read_text(encoding="utf-8")
    assert "memory_mb = 1024  # big spreadsheets" in saved
    assert window.controller.session.config.limits.memory_mb == 1024


def test_broken_toml_is_reported_not_saved(qtbot, settings, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view = settings
    before = workspace.config.read_text(encoding="utf-8")
    view.tabs.setCurrentIndex(1)
    view.text.setPlainText(before + "\n[limits\n")
    problem = settle(qtbot, view)
    assert "not valid TOML" in problem
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: None)
    assert view.save() is False
    assert workspace.config.read_text(encoding="utf-8") == before


def test_someone_elses_edit_is_not_overwritten(qtbot, settings, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view = settings
    view.quarantine.setText("Held")
    settle(qtbot, view)
    workspace.config.write_text(workspace.config.read_text(encoding="utf-8") + "\n# edited by hand\n", encoding="utf-8")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    assert view.save() is False
    assert shown and "changed by someone else" in shown[0]
    assert "# edited by hand" in workspace.config.read_text(encoding="utf-8")


def test_reload_replaces_the_app_owned_pool_without_leaking(qtbot, workspace) -> None:  # type: ignore[no-untyped-def]
    """New pattern sets need new workers: the old pool is closed in the background, nothing leaks."""
    from gui.controller import AppController

    controller = AppController(workspace.config)  # owns its pool, as the real app does
    try:
        doc = workspace.files / "employee.txt"
        doc.write_text("SSN: 212-67-4431\n", encoding="utf-8")
        with qtbot.waitSignal(controller.scan.scan_finished, timeout=60_000):
            controller.scan.scan([doc])
        first = controller.pool()
        with qtbot.waitSignal(controller.session_changed, timeout=5_000):
            controller.reload()
        with qtbot.waitSignal(controller.scan.scan_finished, timeout=60_000) as blocker:
            controller.scan.scan([doc])
        assert blocker.args[0].blocked == 1
        assert controller.pool() is not first
    finally:
        controller.close()
