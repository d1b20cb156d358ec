"""Scan window and finding detail, driven the way a user drives them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from gui.models.results_model import ResultsModel
from scanner.record.events import AuditKind

pytestmark = pytest.mark.gui

SSN_TEXT = "Employee record\nSSN: 212-67-4431\nStart date 2024-03-01\n"
CLEAN_TEXT = "Minutes of the weekly site meeting.\nThe canteen reopens on Monday.\n"


def _verdicts(window) -> dict[str, str]:  # type: ignore[no-untyped-def]
    model = window.scan_view.model
    return {model.row(i).name: model.row(i).result.verdict.value for i in range(model.rowCount())}


def test_drop_files_streams_verdicts_into_the_table(qtbot, window, workspace, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    ssn = workspace.files / "hr_export.txt"
    ssn.write_text(SSN_TEXT, encoding="utf-8")
    clean = workspace.files / "minutes.txt"
    clean.write_text(CLEAN_TEXT, encoding="utf-8")

    summary = scan_and_wait(window, [ssn, clean])

    assert summary.files == 2 and summary.blocked == 1
    assert _verdicts(window) == {"hr_export.txt": "block", "minutes.txt": "allow"}
    model = window.scan_view.model
    row = model.find(str(ssn.resolve()))
    assert model.index(row, ResultsModel.PHI).data() == "1"
    assert model.index(row, ResultsModel.VERDICT).data() == "block"
    assert not window.scan_view.progress.isVisible()
    assert "2 file(s) scanned" in window.scan_view.summary.text()


def test_drop_a_folder_and_sort_by_counts(qtbot, window, workspace, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    folder = workspace.files / "outgoing"
    folder.mkdir()
    for i in range(12):
        # i SSN-like values per file: counts 0..11 sort numerically, not as text ("10" < "9")
        body = "\n".join(f"SSN: 212-67-{4431 + k:04d}" for k in range(i)) or CLEAN_TEXT
        (folder / f"file{i:02d}.txt").write_text(body, encoding="utf-8")

    summary = scan_and_wait(window, [folder])

    assert summary.files == 12
    view = window.scan_view
    view.table.sortByColumn(ResultsModel.PHI, Qt.SortOrder.DescendingOrder)
    top = [view.proxy.index(r, ResultsModel.FILE).data() for r in range(3)]
    assert top == ["file11.txt", "file10.txt", "file09.txt"]
    # the "Show" filter keeps only blocked rows
    view.show_combo.setCurrentText("Allowed")
    assert [view.proxy.index(r, ResultsModel.FILE).data() for r in range(view.proxy.rowCount())] == ["file00.txt"]


def test_finding_detail_context_reveal_is_audited(qtbot, window, workspace, monkeypatch, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    ssn = workspace.files / "employee.txt"
    ssn.write_text(SSN_TEXT, encoding="utf-8")
    scan_and_wait(window, [ssn])
    view = window.scan_view
    detail = view.detail
    assert view.select_path(str(ssn.resolve()))

    # the finding: masked value, location, explanation
    rows = detail.findings.rows()
    assert [r.finding.pattern for r in rows] == ["phi-us-ssn"]
    f = rows[0].finding
    shown = {detail.findings.index(0, c).data() for c in range(detail.findings.columnCount())}
    assert f.masked in shown and "212-67-4431" not in shown
    assert "line 2" in detail.findings.index(0, detail.findings.LOCATION).data()
    why = detail.findings.index(0, detail.findings.WHY).data()
    assert "us_ssn valid" in why and 'keyword "SSN"' in why and "high" in why

    # the text around it, read again by the extractors in a reader thread, the match highlighted and masked
    qtbot.waitUntil(lambda: f.masked in detail.context_view.toPlainText(), timeout=30_000)
    context = detail.context_view.toPlainText()
    assert "Employee record" in context and "212-67-4431" not in context
    assert "background-color" in detail.context_view.toHtml()

    # reveal: confirmed, recorded in the audit trail, then shown
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.controller.revealed, timeout=10_000):
        qtbot.mouseClick(detail.reveal_button, Qt.MouseButton.LeftButton)
    assert detail.findings.index(0, detail.findings.VALUE).data() == "212-67-4431"
    qtbot.waitUntil(lambda: "212-67-4431" in detail.context_view.toPlainText(), timeout=5_000)
    reveals = window.controller.audit.query(kind=AuditKind.REVEAL)
    assert len(reveals) == 1
    assert reveals[0].path == str(ssn.resolve()) and reveals[0].data["pattern"] == "phi-us-ssn"
    assert "212-67-4431" not in str(reveals[0].to_dict())  # the trail never holds the value

    # another file: masked again (a reveal covers one file, once)
    clean = workspace.files / "other.txt"
    clean.write_text("Contact SSN: 212-67-4432", encoding="utf-8")
    scan_and_wait(window, [clean])
    view.select_path(str(clean.resolve()))
    assert detail.findings.index(0, detail.findings.VALUE).data() != "212-67-4432"


def test_refused_reveal_shows_nothing_and_records_nothing(qtbot, window, workspace, monkeypatch, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    ssn = workspace.files / "employee.txt"
    ssn.write_text(SSN_TEXT, encoding="utf-8")
    scan_and_wait(window, [ssn])
    window.scan_view.select_path(str(ssn.resolve()))
    detail = window.scan_view.detail
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    qtbot.mouseClick(detail.reveal_button, Qt.MouseButton.LeftButton)
    window.controller.audit_writer.wait_idle()
    assert detail.findings.index(0, detail.findings.VALUE).data() != "212-67-4431"
    assert window.controller.audit.query(kind=AuditKind.REVEAL) == []


def test_why_not_flagged_lists_near_misses(qtbot, window, workspace, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    doc = workspace.files / "almost.txt"
    # invalid SSN (area 000) next to the keyword: matched the shape, failed the check
    doc.write_text("SSN: 000-12-3456 and nothing else\n", encoding="utf-8")
    scan_and_wait(window, [doc])
    window.scan_view.select_path(str(doc.resolve()))
    detail = window.scan_view.detail
    assert detail.findings.rowCount() == 0
    with qtbot.waitSignal(window.controller.explain.explained, timeout=60_000):
        qtbot.mouseClick(detail.explain_button, Qt.MouseButton.LeftButton)
    near = detail.near
    patterns = [near.index(r, near.PATTERN).data(Qt.ItemDataRole.ToolTipRole) for r in range(near.rowCount())]
    assert "phi-us-ssn" in patterns
    r = patterns.index("phi-us-ssn")
    assert "checksum/format check failed" in near.index(r, near.WHY_NOT).data()
    assert "000-12-3456" not in near.index(r, near.VALUE).data()


def test_progress_and_cancel_for_a_long_batch(qtbot, window, workspace, drop_files) -> None:  # type: ignore[no-untyped-def]
    folder = workspace.files / "batch"
    folder.mkdir()
    # big enough that the workers need a few seconds, so files are still queued when we cancel
    page = CLEAN_TEXT * 2000
    for i in range(300):
        (folder / f"note{i:03d}.txt").write_text(f"note {i}\n" + page, encoding="utf-8")
    scan = window.controller.scan
    with qtbot.waitSignal(scan.progress_changed, timeout=30_000, check_params_cb=lambda done, total: done >= 1):
        drop_files(window.scan_view.drop_zone, [folder])
    assert window.scan_view.progress.isVisible() and window.scan_view.cancel_button.isVisible()
    with qtbot.waitSignal(scan.scan_finished, timeout=60_000) as blocker:
        qtbot.mouseClick(window.scan_view.cancel_button, Qt.MouseButton.LeftButton)
    summary = blocker.args[0]
    assert summary.cancelled > 0 and summary.files + summary.cancelled <= 300
    assert window.scan_view.model.rowCount() == summary.files
    assert "cancelled" in window.scan_view.summary.text()
    assert not scan.busy


def test_unreadable_file_is_an_error_row_never_clean(qtbot, window, workspace, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    bad = workspace.files / "broken.docx"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    scan_and_wait(window, [bad])
    model = window.scan_view.model
    r = model.row(0).result
    assert r.outcome.errors and r.verdict.value == "block"
    assert model.index(0, ResultsModel.VERDICT).data() == "block (error)"
    assert model.index(0, ResultsModel.STATUS).data()


def test_unreadable_folder_in_a_drop_is_a_blocked_row(qtbot, window, workspace, scan_and_wait, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: a sub-folder that cannot be listed is a row with its reason, never a silent gap.

    Under root (CI) chmod cannot take a folder away, so the listing is refused the way the OS
    refuses it (tests/scanner/test_scan_inputs.py does it for real as an ordinary user)."""
    import os

    outgoing = workspace.files / "outgoing"
    locked = outgoing / "locked"
    locked.mkdir(parents=True)
    (outgoing / "note.txt").write_text("Minutes of the weekly planning meeting.\n", encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    scan_and_wait(window, [outgoing])
    model = window.scan_view.model
    rows = {
        model.row(i).result.path.replace("\\", "/").rsplit("/", 1)[-1]: model.row(i).result
        for i in range(model.rowCount())
    }
    assert set(rows) == {"note.txt", "locked"}
    assert rows["locked"].verdict.value == "block" and "cannot be read" in (rows["locked"].outcome.error or "")


def test_missing_path_is_reported(qtbot, window, workspace) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.controller.scan.scan_failed, timeout=5_000) as blocker:
        window.scan_view.scan_paths([workspace.files / "nope.txt"])
    assert "Not found" in blocker.args[0]


def test_drop_zone_ignores_non_file_drags(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QMimeData, QPoint
    from PySide6.QtGui import QDragEnterEvent

    mime = QMimeData()
    mime.setText("just text")
    ev = QDragEnterEvent(
        QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    ev.setAccepted(False)
    window.scan_view.drop_zone.dragEnterEvent(ev)
    assert not ev.isAccepted()


def test_add_files_button_uses_the_file_picker(qtbot, window, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog

    doc = workspace.files / "picked.txt"
    doc.write_text(CLEAN_TEXT, encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(doc)], ""))
    with qtbot.waitSignal(window.controller.scan.scan_finished, timeout=60_000):
        qtbot.mouseClick(window.scan_view.drop_zone.add_files, Qt.MouseButton.LeftButton)
    assert _verdicts(window) == {"picked.txt": "allow"}


def test_drop_on_the_main_window_scans_too(qtbot, window, workspace, drop_files) -> None:  # type: ignore[no-untyped-def]
    doc = workspace.files / "anywhere.txt"
    doc.write_text(CLEAN_TEXT, encoding="utf-8")
    window.tabs.setCurrentIndex(window.AUDIT)
    with qtbot.waitSignal(window.controller.scan.scan_finished, timeout=60_000):
        drop_files(window, [doc])
    assert window.tabs.currentIndex() == window.SCAN
    assert _verdicts(window) == {"anywhere.txt": "allow"}
