"""Decide: destination, release (labelled copy), quarantine, override — each one audited."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from gui.models.results_model import ResultsModel
from scanner.record.events import AuditKind

pytestmark = pytest.mark.gui

SSN_TEXT = "Employee record\nSSN: 212-67-4431\n"
CLEAN_TEXT = "Minutes of the weekly site meeting.\nThe canteen reopens on Monday.\n"
PARTNER_TEXT = "Weekly status for project PRJ-4711: stability batches on schedule.\n"


def choose_destination(window, name: str | None) -> None:  # type: ignore[no-untyped-def]
    combo = window.scan_view.destination
    combo.setCurrentIndex(combo.findData(name))
    assert window.controller.destination == name


def actions(window, op: str) -> list:  # type: ignore[no-untyped-def]
    """Audit rows of completed moves of kind ``op`` (release, quarantine)."""
    return [r for r in window.controller.audit.query(kind=AuditKind.ACTION) if r.data.get("op") == op]


def select(window, path: Path):  # type: ignore[no-untyped-def]
    assert window.scan_view.select_path(str(path.resolve()))
    return window.scan_view.detail


def test_verdict_follows_the_destination(qtbot, window, workspace, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    doc = workspace.files / "status.txt"
    doc.write_text(PARTNER_TEXT, encoding="utf-8")
    scan_and_wait(window, [doc])
    model = window.scan_view.model
    verdict = lambda: model.index(0, ResultsModel.VERDICT).data()  # noqa: E731

    # Acme's own project code may go to Acme ...
    choose_destination(window, "acme")
    assert verdict() == "allow"
    assert model.index(0, ResultsModel.DESTINATION).data() == "Acme Pharma"
    # ... but never to another sponsor, and that cannot be overridden
    choose_destination(window, "borealis")
    assert verdict() == "block"
    detail = select(window, doc)
    assert "Acme" in detail.reasons.text() and "borealis" in detail.reasons.text()
    assert not detail.release_button.isEnabled() and not detail.override_button.isEnabled()
    assert "does not allow" in detail.status.text()
    choose_destination(window, "acme")
    assert verdict() == "allow" and detail.release_button.isEnabled()


def test_release_writes_the_copy_to_the_partner_folder(qtbot, window, workspace, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    doc = workspace.files / "minutes.txt"
    doc.write_text(CLEAN_TEXT, encoding="utf-8")
    scan_and_wait(window, [doc])
    choose_destination(window, "acme")
    detail = select(window, doc)
    with qtbot.waitSignal(window.controller.action_finished, timeout=30_000) as blocker:
        qtbot.mouseClick(detail.release_button, Qt.MouseButton.LeftButton)
    assert "released to" in blocker.args[1]
    released = workspace.acme / "minutes.txt"
    assert released.read_text(encoding="utf-8") == CLEAN_TEXT
    assert doc.exists()  # the GUI releases a copy; the original stays
    assert "released to" in window.scan_view.model.index(0, ResultsModel.STATUS).data()
    rows = actions(window, "release")
    assert len(rows) == 1 and rows[0].destination == "acme" and rows[0].source == "gui"
    assert rows[0].data["source_kept"] == "kept by request"


def test_release_of_a_docx_writes_the_sensitivity_label(qtbot, window, workspace, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    docx = pytest.importorskip("docx")
    path = workspace.files / "formulation.docx"
    d = docx.Document()
    d.add_paragraph("Formulation sheet. CAS Registry Number 7647-14-5 (sodium chloride), 0.9 % w/v.")
    d.add_paragraph("Internal compound code ACM-2291 for batch record.")
    d.save(str(path))
    scan_and_wait(window, [path])
    choose_destination(window, "acme")
    row = window.scan_view.model.row(0).result
    assert row.verdict.value == "label", row.decision.reasons
    detail = select(window, path)
    with qtbot.waitSignal(window.controller.action_finished, timeout=30_000):
        qtbot.mouseClick(detail.release_button, Qt.MouseButton.LeftButton)
    released = workspace.acme / "formulation.docx"
    with zipfile.ZipFile(released) as z:
        custom = z.read("docProps/custom.xml").decode("utf-8")
    assert "MSIP_Label_" in custom and row.decision.label in custom


def test_quarantine_moves_the_file_with_a_reason_record(qtbot, window, workspace, monkeypatch, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    doc = workspace.files / "employee.txt"
    doc.write_text(SSN_TEXT, encoding="utf-8")
    scan_and_wait(window, [doc])
    detail = select(window, doc)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.controller.action_finished, timeout=30_000):
        qtbot.mouseClick(detail.quarantine_button, Qt.MouseButton.LeftButton)
    assert asked, "quarantine must ask first"
    held = workspace.quarantine / "employee.txt"
    assert held.read_text(encoding="utf-8") == SSN_TEXT and not doc.exists()
    record = json.loads((workspace.quarantine / "employee.txt.clearance.json").read_text(encoding="utf-8"))
    assert record["verdict"] == "block" and "212-67-4431" not in json.dumps(record)
    assert actions(window, "quarantine")
    assert not detail.quarantine_button.isEnabled()  # nothing left to quarantine


def test_override_asks_for_a_justification_and_is_audited(qtbot, window, workspace, monkeypatch, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    doc = workspace.files / "employee.txt"
    doc.write_text(SSN_TEXT, encoding="utf-8")
    scan_and_wait(window, [doc])
    choose_destination(window, "acme")
    detail = select(window, doc)
    assert not detail.release_button.isEnabled()
    assert detail.override_button.isVisible() and detail.override_button.isEnabled()

    # too short: refused, nothing released
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("ok", True))
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    qtbot.mouseClick(detail.override_button, Qt.MouseButton.LeftButton)
    assert warned and "justification" in warned[0]
    assert not (workspace.acme / "employee.txt").exists()

    why = "Payroll provider contract 2024-17 covers SSNs; approved by HR director"
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: (why, True))
    with qtbot.waitSignal(window.controller.action_finished, timeout=30_000) as blocker:
        qtbot.mouseClick(detail.override_button, Qt.MouseButton.LeftButton)
    assert "released anyway" in blocker.args[1]
    assert (workspace.acme / "employee.txt").read_text(encoding="utf-8") == SSN_TEXT
    overrides = window.controller.audit.query(kind=AuditKind.OVERRIDE)
    assert len(overrides) == 1
    assert overrides[0].data["justification"] == why and overrides[0].destination == "acme"
    release = actions(window, "release")
    assert release and release[0].data.get("override") == overrides[0].seq


def test_cancelled_override_does_nothing(qtbot, window, workspace, monkeypatch, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    doc = workspace.files / "employee.txt"
    doc.write_text(SSN_TEXT, encoding="utf-8")
    scan_and_wait(window, [doc])
    choose_destination(window, "acme")
    detail = select(window, doc)
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("a perfectly good reason", False))
    qtbot.mouseClick(detail.override_button, Qt.MouseButton.LeftButton)
    window.controller.ops.wait_idle()
    assert not list(workspace.acme.iterdir())
    assert window.controller.audit.query(kind=AuditKind.OVERRIDE) == []


def test_failed_release_says_why(qtbot, window, workspace, monkeypatch, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    doc = workspace.files / "minutes.txt"
    doc.write_text(CLEAN_TEXT, encoding="utf-8")
    scan_and_wait(window, [doc])
    choose_destination(window, "acme")
    detail = select(window, doc)
    doc.write_text(CLEAN_TEXT + "edited after the scan\n", encoding="utf-8")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    with qtbot.waitSignal(window.controller.action_failed, timeout=30_000) as blocker:
        qtbot.mouseClick(detail.release_button, Qt.MouseButton.LeftButton)
    assert "changed after it was scanned" in blocker.args[1]
    assert shown and not (workspace.acme / "minutes.txt").exists()


def test_archive_member_rows_act_on_their_archive(qtbot, window, workspace, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    archive = workspace.files / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("notes/minutes.txt", CLEAN_TEXT)
        z.writestr("hr/employee.txt", SSN_TEXT)
    scan_and_wait(window, [archive])
    model = window.scan_view.model
    names = [model.row(i).name for i in range(model.rowCount())]
    assert names[0] == "bundle.zip" and "bundle.zip!hr/employee.txt" in names
    assert model.row(0).result.verdict.value == "block"  # the worst member decides
    member = next(i for i in range(model.rowCount()) if model.row(i).name == "bundle.zip!hr/employee.txt")
    window.scan_view.table.selectRow(window.scan_view.proxy.mapFromSource(model.index(member, 0)).row())
    detail = window.scan_view.detail
    assert "act on the archive" in detail.status.text()
    assert [r.finding.pattern for r in detail.findings.rows()] == ["phi-us-ssn"]
