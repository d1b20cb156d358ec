"""A big PDF read by several workers reports exactly what one worker would."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from pdf_fixtures import pdf_bytes, rewrite, text_pdf

from scanner.detect.match import MAX_FINDINGS_PER_PATTERN
from scanner.model import DocOutcome, Verdict
from scanner.pipeline import page_split
from scanner.pipeline.pool import WorkerPool
from scanner.pipeline.scan import decide_outcomes
from scanner.pipeline.worker import ScanOptions, analyse_file

FILLER = [f"Batch record narrative line {i} for the granulation step, nothing to report." for i in range(8)]
PAGES = 2 * page_split.MIN_PAGES_PER_PART + 40


def _big_pdf(tmp_path: Path) -> Path:
    """PHI scattered over the pages; at the first range boundary a label ends one page and
    its value opens the next, so only the preceding page's text makes the finding certain."""
    pages = [list(FILLER) for _ in range(PAGES)]
    boundary = page_split.plan(PAGES, 2)[1][0]  # 0-based index of the second range's first page
    pages[boundary - 1] = [*FILLER, "Patient social security number:"]
    pages[boundary] = ["212-67-4431", *FILLER]
    pages[3].append("Contact: jane.doe@example-cdmo.com")
    pages[PAGES - 2].append("MRN: 00482913 (subject 1001-004)")
    plain = text_pdf(tmp_path / "plain.pdf", pages, title="Annual product review")
    # an attachment, which only the first part reads: it must appear once
    memo = pdf_bytes([["Employee SSN: 078-05-1120"]])
    return rewrite(plain, tmp_path / "big.pdf", lambda w: w.add_attachment("memo.pdf", memo))


def _key(outcomes: list[DocOutcome]) -> list[tuple[object, ...]]:
    return [
        (
            o.path,
            o.type,
            o.sha256,
            o.bytes,
            o.segments,
            o.chars,
            tuple(o.errors),
            o.existing_label,
            [(f.pattern, f.confidence, f.location, f.hash, f.masked) for f in o.findings],
            {k: v for k, v in o.notes.items() if k != "page_parts"},
        )
        for o in outcomes
    ]


def test_plan_cuts_only_big_documents_and_covers_every_page_once() -> None:
    small = 2 * page_split.MIN_PAGES_PER_PART - 1
    assert page_split.plan(small, 8) == [(0, small)]
    assert page_split.plan(10_000, 1) == [(0, 10_000)]
    for pages, workers in ((PAGES, 2), (5000, 2), (4999, 3), (100_000, 8)):
        ranges = page_split.plan(pages, workers)
        assert 2 <= len(ranges) <= workers * page_split.PARTS_PER_WORKER
        assert ranges[0][0] == 0 and ranges[-1][1] == pages
        assert all(a[1] == b[0] for a, b in pairwise(ranges)), "contiguous, no page twice"
        assert min(b - a for a, b in ranges) >= page_split.MIN_PAGES_PER_PART


def test_split_scan_equals_single_worker_scan(tmp_path: Path) -> None:
    pdf = _big_pdf(tmp_path)
    single = analyse_file(pdf, "big.pdf", ScanOptions())
    with WorkerPool(ScanOptions(), jobs=2) as pool:
        split = pool.submit(pdf, "big.pdf").result(timeout=300)
    assert split[0].notes.get("page_parts", 1) >= 2, "the file was read by more than one part"
    assert "page_parts" not in single[0].notes
    assert _key(split) == _key(single)
    ssn = [f for f in split[0].findings if f.pattern == "phi-us-ssn"]
    assert ssn and ssn[0].confidence.value == "high", "the label on the page before reached the value"
    assert [o.path for o in split] == ["big.pdf", "big.pdf!memo.pdf"], "the attachment once, after its file"


def test_a_later_part_reads_the_page_before_it_only_as_context(tmp_path: Path) -> None:
    pdf = _big_pdf(tmp_path)
    start, stop = page_split.plan(PAGES, 2)[1]
    part = analyse_file(pdf, "big.pdf", ScanOptions(), pages=(start, stop))
    assert len(part) == 1, "no attachments, metadata or page-tree checks in a later part"
    pages = {f.location.page for f in part[0].findings}
    assert pages and min(pages) > start, "nothing reported from the context page"
    assert part[0].notes["engines"]["pdfium"] + part[0].notes["engines"]["pdfminer"] == stop - start
    assert part[0].sha256 == "", "only the first part hashes the file"


def test_a_failed_part_makes_the_whole_file_unscannable() -> None:
    first = [
        DocOutcome(
            "big.pdf", "pdf", "ab" * 32, 10, segments=120, chars=9000, notes={"engines": {"pdfium": 120, "pdfminer": 0}}
        )
    ]
    ok = [
        DocOutcome(
            "big.pdf",
            "pdf",
            "",
            10,
            segments=100,
            chars=8000,
            notes={"engines": {"pdfium": 99, "pdfminer": 1}, "pages_without_text": 2},
        )
    ]
    failed = [DocOutcome("big.pdf", "pdf", "", 10, errors=["timed out after 120 s"])]
    merged = page_split.merge(first, [((120, 220), ok), ((220, 320), failed)], MAX_FINDINGS_PER_PATTERN)
    top = merged[0]
    assert top.errors == ["pages 221-320: timed out after 120 s"]
    assert top.notes["engines"] == {"pdfium": 219, "pdfminer": 1} and top.notes["pages_without_text"] == 2
    assert (top.segments, top.chars, top.sha256, top.notes["page_parts"]) == (220, 17000, "ab" * 32, 3)
    assert decide_outcomes(merged)[0].verdict is Verdict.BLOCK


@pytest.mark.parametrize("jobs", [1, 2])
def test_small_pdfs_and_single_worker_pools_are_not_split(tmp_path: Path, jobs: int) -> None:
    pdf = text_pdf(tmp_path / "short.pdf", [FILLER] * 20)
    with WorkerPool(ScanOptions(), jobs=jobs) as pool:
        out = pool.submit(pdf).result(timeout=120)
    assert "page_parts" not in out[0].notes and not out[0].errors


def test_abandoning_the_pool_mid_split_still_resolves_the_file_as_unscanned(tmp_path: Path) -> None:
    """The app quits while a big PDF's ranges are queued and running: the caller's future
    still resolves, with errors, so the file is blocked rather than lost or hung."""
    import time

    pdf = text_pdf(tmp_path / "long.pdf", [FILLER * 4] * 1600)
    pool = WorkerPool(ScanOptions(), jobs=2)
    try:
        pool.submit(text_pdf(tmp_path / "warm.pdf", [FILLER]), "warm.pdf").result(timeout=120)  # workers up
        fut = pool.submit(pdf, "long.pdf")
        deadline = time.monotonic() + 60
        # until a worker runs the file and has handed its later ranges back to the queue
        while not (fut.running() and pool.pending() > 0) and not fut.done() and time.monotonic() < deadline:
            time.sleep(0.002)
        assert fut.running() and pool.pending() > 0, "the file was split and ranges are waiting"
    finally:
        pool.close(abandon=True)
    result = fut.result(timeout=60)
    assert result[0].errors, "abandoned ranges are errors, never a clean result"
    assert any("stopped" in e or "abandoned" in e for e in result[0].errors), result[0].errors
    assert decide_outcomes(result)[0].verdict is Verdict.BLOCK
