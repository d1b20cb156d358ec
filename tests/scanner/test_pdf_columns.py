"""Multi-column pages come out in reading order; tables and single columns stay as written."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from scanner.extract.registry import extract_file
from scanner.model import Segment
from scanner.pipeline.worker import ScanOptions, analyse_file

LEFT = [
    "The subject enrolled at site 4 on the",
    "first day reported mild nausea and the",
    "investigator recorded the social",
    "security number 212-67-4431 in the",
    "source notes before randomisation",
    "and informed the sponsor by phone.",
]
RIGHT = [
    "Granulation used 40 kg of lactose and",
    "monohydrate with 2 % magnesium salt",
    "stearate; the blend was sieved twice",
    "through a 1.0 mm screen and then dried",
    "to a loss on drying of 1.8 % at 60 C",
    "before compression on the rotary press.",
]


def _page(path: Path, rows: list[tuple[float, str]], title: str | None = None) -> Path:
    """One page; ``rows`` are drawn in the given order (x, text), a baseline every two items."""
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("Helvetica", 10)
    y = 760.0
    if title:
        c.drawString(50, 790, title)
    for i, (x, text) in enumerate(rows):
        c.drawString(x, y, text)
        if i % 2 == 1:
            y -= 14
    c.showPage()
    c.save()
    return path


def _body(path: Path) -> list[Segment]:
    return [e for e in extract_file(path) if isinstance(e, Segment) and e.location.part == "body"]


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_interleaved_columns_are_read_column_by_column(tmp_path: Path) -> None:
    rows = [item for pair in zip(((50, t) for t in LEFT), ((320, t) for t in RIGHT), strict=True) for item in pair]
    pdf = _page(tmp_path / "two-columns.pdf", rows, title="Deviation report DR-2291 across the full width of the page")
    [seg] = _body(pdf)
    text = _squash(seg.text)
    assert seg.engine == "pdfium", "the page stays with the fast engine"
    assert text.index("Deviation report") < text.index("The subject"), "the full-width title first"
    assert _squash(" ".join(LEFT)) in text and _squash(" ".join(RIGHT)) in text
    assert text.index(" ".join(LEFT).split()[0]) < text.index(" ".join(RIGHT).split()[0])
    # the phrase the stream order tore apart now holds together, so the SSN has its context
    ssn = [f for f in analyse_file(pdf, "x", ScanOptions())[0].findings if f.pattern == "phi-us-ssn"]
    assert ssn and ssn[0].confidence.value == "high"


def test_columns_written_one_after_the_other_are_left_alone(tmp_path: Path) -> None:
    c = canvas.Canvas(str(tmp_path / "sequential.pdf"), pagesize=A4)
    c.setFont("Helvetica", 10)
    for x, lines in ((50, LEFT), (320, RIGHT)):
        y = 760.0
        for line in lines:
            c.drawString(x, y, line)
            y -= 14
    c.showPage()
    c.save()
    [seg] = _body(tmp_path / "sequential.pdf")
    assert _squash(" ".join(LEFT) + " " + " ".join(RIGHT)) == _squash(seg.text)


def test_a_label_value_table_keeps_each_row_together(tmp_path: Path) -> None:
    labels = ["Subject", "SSN", "Date of birth", "Site", "Investigator", "Visit"]
    values = ["1001-004", "212-67-4431", "1961-03-14", "Site 4, Basel", "Dr A. Keller", "Week 12"]
    rows = [item for pair in zip(((50, t) for t in labels), ((320, t) for t in values), strict=True) for item in pair]
    [seg] = _body(_page(tmp_path / "table.pdf", rows))
    lines = [_squash(line) for line in seg.text.splitlines() if line.strip()]
    assert "SSN 212-67-4431" in lines, "a table is not a pair of text columns"
