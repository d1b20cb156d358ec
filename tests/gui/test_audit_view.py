"""Audit view: filters, CSV export, HTML report, chain verification."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gui.models.audit_model import AuditModel
from scanner.record.events import AuditKind

pytestmark = pytest.mark.gui

SSN_TEXT = "Employee record\nSSN: 212-67-4431\n"


@pytest.fixture
def audited(qtbot, window, workspace, scan_and_wait):  # type: ignore[no-untyped-def]
    """Two scans (one blocked, one clean) for Acme, plus a row by another user."""
    (workspace.files / "employee.txt").write_text(SSN_TEXT, encoding="utf-8")
    (workspace.files / "minutes.txt").write_text("Canteen reopens on Monday.\n", encoding="utf-8")
    combo = window.scan_view.destination
    combo.setCurrentIndex(combo.findData("acme"))
    scan_and_wait(window, [workspace.files / "employee.txt", workspace.files / "minutes.txt"])
    window.controller.audit_writer.wait_idle()
    window.controller.audit.record(
        AuditKind.SCAN,
        path="/elsewhere/report.pdf",
        verdict="label",
        destination="borealis",
        actor="auditor-2",
        findings=[{"pattern": "fin-iban", "count": 1}],
    )
    window.tabs.setCurrentIndex(window.AUDIT)
    return window.audit_view


def query(qtbot, view) -> int:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(view.queried, timeout=10_000) as blocker:
        view.refresh()
    return blocker.args[0]


def column(view, col: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [view.proxy.index(r, col).data() for r in range(view.proxy.rowCount())]


def test_filters_by_verdict_destination_user_pattern_and_time(qtbot, audited) -> None:  # type: ignore[no-untyped-def]
    view = audited
    # every kind of row the trail can hold is offered, named as stored
    assert [view.kind.itemText(i) for i in range(1, view.kind.count())] == [k.value for k in AuditKind]
    view.kind.setCurrentIndex(view.kind.findData(AuditKind.SCAN))
    n = query(qtbot, view)
    assert n == 3, [(view.model.row(i).path, view.model.row(i).kind) for i in range(view.model.rowCount())]
    view.verdict.setCurrentIndex(view.verdict.findData("block"))
    assert query(qtbot, view) == 1
    assert column(view, AuditModel.FILE)[0].endswith("employee.txt")
    assert "phi-us-ssn" in column(view, AuditModel.DETAIL)[0]

    view.verdict.setCurrentIndex(0)
    view.destination.setCurrentIndex(view.destination.findData("borealis"))
    assert query(qtbot, view) == 1
    view.destination.setCurrentIndex(0)
    view.user.setText("auditor-2")
    assert query(qtbot, view) == 1 and column(view, AuditModel.USER) == ["auditor-2"]
    view.user.clear()
    view.pattern.setText("phi-us-ssn")
    assert query(qtbot, view) == 1
    view.pattern.clear()

    view.use_since.setChecked(True)
    view.since.setDateTime(QDateTime.currentDateTime().addDays(1))
    assert query(qtbot, view) == 0
    view.since.setDateTime(QDateTime.currentDateTime().addSecs(-3600))
    assert query(qtbot, view) == 3


def test_table_sorts_by_time_not_text(qtbot, audited) -> None:  # type: ignore[no-untyped-def]
    view = audited
    query(qtbot, view)
    view.table.sortByColumn(AuditModel.TIME, Qt.SortOrder.AscendingOrder)
    seqs = [view.proxy.index(r, 0).data(view.proxy.sortRole()) for r in range(view.proxy.rowCount())]
    assert seqs == sorted(seqs)


def test_export_csv_writes_the_rows(qtbot, audited, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    view = audited
    target = workspace.root / "export.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    view.use_since.setChecked(True)
    view.since.setDateTime(
        QDateTime.fromString((datetime.now() - timedelta(hours=1)).isoformat(timespec="seconds"), Qt.DateFormat.ISODate)
    )
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Exported" in view.status.text(), timeout=10_000)
    with open(target, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    kinds = [r["kind"] for r in rows]
    assert kinds.count("scan") == 3
    assert any(r["path"].endswith("employee.txt") and r["verdict"] == "block" for r in rows)
    assert "212-67-4431" not in target.read_text(encoding="utf-8")


def test_report_is_written_and_opened(qtbot, audited, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QDesktopServices

    view = audited
    target = workspace.root / "report.html"
    opened = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    qtbot.mouseClick(view.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(opened), timeout=10_000)
    assert opened == [str(target)]
    html = target.read_text(encoding="utf-8")
    assert "<html" in html.lower() and "employee.txt" in html


def test_verify_reports_an_intact_chain_and_a_damaged_one(qtbot, audited, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    view = audited
    qtbot.mouseClick(view.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "intact" in view.status.text(), timeout=10_000)

    # someone edits a row behind our back (dropping the triggers that forbid it)
    db = view.controller.audit.path
    conn = sqlite3.connect(db)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("UPDATE events SET verdict = 'allow' WHERE verdict = 'block'")
    conn.commit()
    conn.close()
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    qtbot.mouseClick(view.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "BROKEN" in view.status.text(), timeout=10_000)
    assert warned and "edited" in warned[0]


def test_new_rows_refresh_the_visible_view(qtbot, audited) -> None:  # type: ignore[no-untyped-def]
    view = audited
    n = query(qtbot, view)
    with qtbot.waitSignal(view.queried, timeout=10_000):
        view.controller.record(lambda a: a.record("config_change", path="x", sha256="y"))
    assert view.model.rowCount() == n + 1
