"""Pattern workbench: live checks, examples failing then passing, test pane, saving TOML."""

from __future__ import annotations

import tomllib

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from scanner.detect.patterns import builtin_pattern_dir, load_pattern_set
from scanner.record.events import AuditKind

pytestmark = pytest.mark.gui


@pytest.fixture
def bench(qtbot, window, workspace):  # type: ignore[no-untyped-def]
    window.tabs.setCurrentIndex(window.PATTERNS)
    wb = window.pattern_view
    assert wb.select_pattern(workspace.admin_patterns / "local.toml", "ip-lab-notebook")
    qtbot.waitUntil(lambda: wb.examples.count() == 2, timeout=5_000)
    return wb


def settle(qtbot, wb) -> None:  # type: ignore[no-untyped-def]
    """Wait for the debounced live check after an edit."""
    with qtbot.waitSignal(wb.evaluated, timeout=5_000):
        pass


def test_example_fails_then_passes_as_the_admin_edits(qtbot, bench) -> None:  # type: ignore[no-untyped-def]
    wb = bench
    assert [ok for _t, ok in wb.example_results()] == [True, True]
    assert "Vectorscan" in wb.engine.text()

    # a new must-match example in another notation: it fails, with the reason shown
    wb.form.must_match.setPlainText("see LNB-2024-0042 for details\nnotebook LNB/2024/0043")
    settle(qtbot, wb)
    results = wb.example_results()
    assert [ok for _t, ok in results] == [True, False, True]
    assert "no finding" in results[1][0]
    assert wb.example_failures == 1

    # widen the regex: now every example passes
    wb.form.regex.setPlainText(r"\bLNB[-/]\d{4}[-/]\d{4}\b")
    settle(qtbot, wb)
    assert [ok for _t, ok in wb.example_results()] == [True, True, True]
    assert wb.example_failures == 0


def test_compile_errors_and_engine_are_shown_inline(qtbot, bench) -> None:  # type: ignore[no-untyped-def]
    wb = bench
    wb.form.regex.setPlainText(r"\bLNB-(\d{4}")
    settle(qtbot, wb)
    assert "regex does not compile" in wb.errors.text()
    assert wb.current_pattern is None and wb.examples.count() == 0

    wb.form.regex.setPlainText(r"(LNB)-\d{4}-(?1)?\d{4}")  # recursion: Vectorscan cannot compile it
    settle(qtbot, wb)
    assert "compiles" in wb.errors.text()
    assert "Regex fallback" in wb.engine.text()

    wb.form.score.setValue(0.0)
    wb.form.validator.setCurrentIndex(wb.form.validator.findData("luhn"))
    settle(qtbot, wb)
    assert wb.current_pattern is not None and wb.current_pattern.validator == "luhn"


def test_test_pane_highlights_findings_with_explanations(qtbot, bench) -> None:  # type: ignore[no-untyped-def]
    wb = bench
    wb.test.setPlainText("Results are in notebook LNB-2024-0042.\nOld ref LNB-24-42 is not one.")
    settle(qtbot, wb)
    assert wb.test_findings() == [("finding", "ip-lab-notebook")]
    assert "LNB-2024-0042" in wb.test_results.item(0).text() and "->" in wb.test_results.item(0).text()
    sel = wb.test.extraSelections()
    assert len(sel) == 1 and sel[0].cursor.selectedText() == "LNB-2024-0042"

    # every loaded pattern at once (built-in sets plus this admin set)
    wb.test.setPlainText("Employee SSN: 212-67-4431, notebook LNB-2024-0042")
    wb.all_patterns.setChecked(True)  # compiled in the background, then shown
    qtbot.waitUntil(
        lambda: {"phi-us-ssn", "ip-lab-notebook"} <= {pid for kind, pid in wb.test_findings() if kind == "finding"},
        timeout=30_000,
    )


def test_dropped_file_is_extracted_into_the_test_pane(qtbot, bench, window, workspace, drop_files) -> None:  # type: ignore[no-untyped-def]
    docx = pytest.importorskip("docx")
    path = workspace.files / "notebook.docx"
    d = docx.Document()
    d.add_paragraph("Experiment summary, see LNB-2024-0042.")
    d.sections[0].header.paragraphs[0].text = "Header cites LNB-2023-0007"
    d.save(str(path))
    wb = bench
    drop_files(wb.test, [path])
    qtbot.waitUntil(lambda: "LNB-2023-0007" in wb.test.toPlainText(), timeout=30_000)
    settle(qtbot, wb)
    assert wb.test_findings().count(("finding", "ip-lab-notebook")) == 2
    assert "header" in wb.test.toPlainText()
    # showing a file's text is recorded like a reveal
    window.controller.audit_writer.wait_idle()
    assert [r.path for r in window.controller.audit.query(kind=AuditKind.WORKBENCH_TEST_FILE)] == [str(path)]


def test_save_rewrites_only_what_changed_and_keeps_comments(qtbot, bench, window, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    wb = bench
    path = workspace.admin_patterns / "local.toml"
    before = path.read_text(encoding="utf-8")
    wb.form.regex.setPlainText(r"\bLNB[-/]\d{4}[-/]\d{4}\b")
    wb.form.must_match.setPlainText("see LNB-2024-0042 for details\nnotebook LNB/2024/0043")
    wb.form.keywords.setText("notebook, lab book")
    settle(qtbot, wb)
    assert wb.save_button.isEnabled()
    with qtbot.waitSignal(window.controller.session_changed, timeout=10_000):
        qtbot.mouseClick(wb.save_button, Qt.MouseButton.LeftButton)

    text = path.read_text(encoding="utf-8")
    # the admin's comments, inline comment and key order survive
    assert "# Keep this comment: the workbench must not drop it." in text
    assert "# Notebook ids look like LNB-2024-0042 (year, then a 4-digit page)" in text
    assert "score = 0.7   # strong shape on its own" in text
    assert text.index("id = ") < text.index("regex = ") < text.index("score = ")
    assert "regex = '''\\bLNB[-/]\\d{4}[-/]\\d{4}\\b'''" in text  # a literal string, readable
    # defaults the file never spelled out are not added
    assert "validator_mode" not in text and "far_window" not in text
    raw = tomllib.loads(text)["patterns"][0]
    assert raw["keywords"] == ["notebook", "lab book"]
    assert raw["examples"]["must_match"][1] == "notebook LNB/2024/0043"
    # the loader accepts it and the scanner uses it
    pset = load_pattern_set([workspace.admin_patterns])
    assert pset.by_id("ip-lab-notebook").keywords == ("notebook", "lab book")
    # audited with the file's hash
    rows = window.controller.audit.query(kind=AuditKind.PATTERN_SET_CHANGE)
    assert rows and rows[-1].path == str(path) and rows[-1].data["pattern"] == "ip-lab-notebook"
    import hashlib

    assert rows[-1].sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert before != text
    # the tree shows the saved pattern selected again
    assert wb.form.regex.toPlainText() == r"\bLNB[-/]\d{4}[-/]\d{4}\b"


def test_save_with_failing_examples_asks_first(qtbot, bench, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    wb = bench
    path = workspace.admin_patterns / "local.toml"
    before = path.read_text(encoding="utf-8")
    wb.form.must_not_match.setPlainText("LNB-2024-0042")  # contradicts must_match
    settle(qtbot, wb)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert wb.save() is False
    assert path.read_text(encoding="utf-8") == before


def test_builtin_sets_are_read_only_save_as_goes_to_the_admin_folder(qtbot, window, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    wb = window.pattern_view
    builtin = builtin_pattern_dir() / "phi.toml"
    assert wb.select_pattern(builtin, "phi-us-ssn")
    qtbot.waitUntil(lambda: wb.current_pattern is not None, timeout=5_000)
    assert not wb.save_button.isEnabled() and wb.save_as_button.isEnabled()
    assert wb.form.regex.isReadOnly()
    original = builtin.read_text(encoding="utf-8")

    target = workspace.admin_patterns / "phi-local.toml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert wb.save_as() is True
    assert builtin.read_text(encoding="utf-8") == original
    saved = tomllib.loads(target.read_text(encoding="utf-8"))
    assert [p["id"] for p in saved["patterns"]] == ["phi-us-ssn"]
    assert "replaces it" in target.read_text(encoding="utf-8")  # the header explains the override
    # the admin copy now overrides the built-in one
    pset = load_pattern_set([workspace.admin_patterns])
    assert pset.by_id("phi-us-ssn").source == str(target)


def test_save_as_outside_the_pattern_folders_offers_to_add_the_folder(qtbot, window, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    wb = window.pattern_view
    assert wb.select_pattern(workspace.admin_patterns / "local.toml", "ip-lab-notebook")
    qtbot.waitUntil(lambda: wb.current_pattern is not None, timeout=5_000)
    other = workspace.root / "more-patterns"
    other.mkdir()
    target = other / "extra.toml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert wb.save_as()
    config = workspace.config.read_text(encoding="utf-8")
    assert str(other) in config and "# Partners" in config  # added, comments kept
    assert other in window.controller.session.admin_pattern_dirs()


def test_new_pattern_in_an_admin_set(qtbot, bench, window, workspace) -> None:  # type: ignore[no-untyped-def]
    wb = bench
    qtbot.mouseClick(wb.new_button, Qt.MouseButton.LeftButton)
    f = wb.form
    f.id.setText("ip-protocol-number")
    f.name.setText("Clinical protocol number")
    f.regex.setPlainText(r"\bPRT-\d{5}\b")
    f.must_match.setPlainText("protocol PRT-12345")
    f.must_not_match.setPlainText("PRT-123")
    settle(qtbot, wb)
    assert wb.example_failures == 0 and wb.current_pattern is not None
    assert wb.save()
    ids = [p["id"] for p in tomllib.loads((workspace.admin_patterns / "local.toml").read_text())["patterns"]]
    assert ids == ["ip-lab-notebook", "ip-protocol-number"]


def test_duplicate_id_is_refused(qtbot, bench) -> None:  # type: ignore[no-untyped-def]
    wb = bench
    qtbot.mouseClick(wb.new_button, Qt.MouseButton.LeftButton)
    wb.form.id.setText("ip-lab-notebook")
    wb.form.regex.setPlainText(r"\bX-\d+\b")
    wb.form.must_match.setPlainText("X-1")
    wb.form.must_not_match.setPlainText("Y-1")
    settle(qtbot, wb)
    assert "another pattern in this set has this id" in wb.errors.text()


@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_the_form_round_trips_every_builtin_pattern_losslessly(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """Loading a pattern into the form and reading it back changes nothing (multi-line examples too)."""
    from gui import toml_edit

    wb = window.pattern_view
    checked = 0
    for path in sorted(builtin_pattern_dir().glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        for raw in toml_edit.raw_patterns(text):
            assert wb.select_pattern(path, raw["id"])
            assert wb.candidate_raw() == raw, (path.name, raw["id"])
            assert toml_edit.update_pattern(text, raw["id"], wb.form_dict()) == text, (path.name, raw["id"])
            checked += 1
    assert checked >= 20
