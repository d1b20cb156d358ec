"""The text around a finding: read by the core's extractors in a reader thread, never a child process."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from gui.context import CONTEXT_CHARS, Snippet, finding_key
from gui.services import FileSegments, TextReader
from scanner.limits import Limits

pytestmark = pytest.mark.gui

# One line is one segment of a text file: the window is cut from it.
LINE = "filler text " * 20 + "SSN: 212-67-4431 and spouse SSN: 212-67-4432 " + "filler text " * 20


def _select(window, path: Path) -> None:  # type: ignore[no-untyped-def]
    assert window.scan_view.select_path(str(path.resolve()))


def test_snippets_keep_the_window_around_each_finding_and_mark_neighbours(
    qtbot, window, workspace, scan_and_wait
) -> None:  # type: ignore[no-untyped-def]
    path = workspace.files / "payroll.txt"
    path.write_text(f"Payroll export\n{LINE}\n", encoding="utf-8")
    scan_and_wait(window, [path])
    _select(window, path)
    context = window.controller.context
    display = str(path.resolve())
    qtbot.waitUntil(lambda: context.cached(display) is not None, timeout=30_000)

    snippets = context.cached(display)
    rows = window.scan_view.detail.findings.rows()
    assert sorted(r.finding.pattern for r in rows) == ["phi-us-ssn", "phi-us-ssn"]
    first, second = sorted(rows, key=lambda r: r.finding.start)
    text = LINE
    a, b = text.index("212-67-4431"), text.index("212-67-4432")
    start = max(0, a - CONTEXT_CHARS)
    # the neighbour inside the window is listed, so the pane masks it too
    assert snippets[finding_key(first.doc, first.finding)] == Snippet(
        before=text[start:a],
        match="212-67-4431",
        after=text[a + 11 : a + 11 + CONTEXT_CHARS],
        others=((b - start, b - start + 11),),
    )
    assert snippets[finding_key(second.doc, second.finding)].match == "212-67-4432"
    shown = window.scan_view.detail.context_view.toPlainText()
    assert "212-67-4431" not in shown and "212-67-4432" not in shown


def test_a_file_changed_since_the_scan_says_the_text_is_not_available(qtbot, window, workspace, scan_and_wait) -> None:  # type: ignore[no-untyped-def]
    path = workspace.files / "changed.txt"
    path.write_text("Employee record\nSSN: 212-67-4431\n", encoding="utf-8")
    scan_and_wait(window, [path])
    _select(window, path)
    context, display = window.controller.context, str(path.resolve())
    qtbot.waitUntil(lambda: context.cached(display) is not None, timeout=30_000)
    scanned = window.scan_view.detail.row.file
    path.write_text("Employee record\nSSN: withdrawn\n", encoding="utf-8")
    context.forget()
    with qtbot.waitSignal(context.context_failed, timeout=30_000) as failed:
        context.request(scanned.path, scanned.display, scanned.outcomes)
    assert failed.args == [display, "the text around 1 finding(s) could not be located"]
    detail = window.scan_view.detail
    detail.render_context()
    assert "could not be located" in detail.context_view.toPlainText()


def test_segments_stop_at_the_time_limit(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("one\ntwo\n", encoding="utf-8")
    limits = Limits()
    whole = list(FileSegments(path, "notes.txt", limits, threading.Event()))
    assert [doc for doc, _seg in whole] == ["notes.txt"] * len(whole) and whole
    assert "".join(seg.text for _d, seg in whole).split() == ["one", "two"]

    late = FileSegments(path, "notes.txt", replace(limits, timeout_s=-1.0), threading.Event())
    assert list(late) == []
    assert late.stopped == "reading the file took longer than -1 s"


def test_a_cancelled_reading_never_calls_back_and_close_joins_its_thread(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "notes.txt"
    path.write_text("hello\n", encoding="utf-8")
    reader = TextReader()
    got: list[tuple[object, str]] = []
    release = threading.Event()

    def slow(segments: FileSegments) -> int:
        release.wait(10)
        return sum(1 for _ in segments)

    cancelled = reader.read(path, "notes.txt", Limits(), slow, lambda r, p: got.append((r, p)))
    finished = reader.read(path, "notes.txt", Limits(), lambda s: sum(1 for _ in s), lambda r, p: got.append((r, p)))
    cancelled.cancel()
    release.set()
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    assert got == [(1, "")]
    reader.close()
    assert cancelled.thread is not None and not cancelled.thread.is_alive()
    assert finished.thread is not None and not finished.thread.is_alive()
    assert got == [(1, "")]
