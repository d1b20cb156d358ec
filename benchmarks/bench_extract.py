#!/usr/bin/env python3
"""Extraction throughput: our engines against the library-default paths, paired and interleaved.

    python benchmarks/bench_extract.py [--rounds 3] [--quick]

This machine's speed drifts by up to 2x over minutes, so engines are compared in
rotation inside each round and the report gives per-round ratios and their median,
not one long run per engine. Prints:

- PDF pages/s: Clearance (PDFium, pdfminer fallback) vs pdfminer.six default layout
  analysis, on text-heavy PDFs (generated, plus ../shared/corpus/realworld/pdf and dev).
- DOCX pages/s: Clearance (package XML, iterparse) vs python-docx's object model.
- XLSX cells/s: Clearance (sheet XML streamed) vs openpyxl read-only.
- End to end: `scan_paths` over ../shared/corpus/dev with 1 and with all cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpus"


def _segments(path: Path) -> int:
    from scanner.extract.registry import extract_file
    from scanner.model import Segment

    return sum(1 for e in extract_file(path) if isinstance(e, Segment))


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def paired(name: str, unit: str, amount: float, engines: dict[str, Callable[[], object]], rounds: int) -> None:
    """Run every engine once per round, in rotating order; report rate and ratio vs the last engine."""
    times: dict[str, list[float]] = {k: [] for k in engines}
    names = list(engines)
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for k in order:
            times[k].append(_timed(engines[k]))
    base = names[-1]
    print(f"\n{name}  ({amount:,.0f} {unit} per run, {rounds} rounds, one core)")
    for k in names:
        rate = amount / statistics.median(times[k])
        ratios = [b / a for a, b in zip(times[k], times[base], strict=True)]
        extra = "" if k == base else f"   x{statistics.median(ratios):.1f} vs {base} (per-round {min(ratios):.1f}-" \
                                     f"{max(ratios):.1f})"
        print(f"  {k:28} {rate:12,.0f} {unit}/s{extra}")


# ------------------------------------------------------------------ fixtures
def make_pdf(path: Path, pages: int) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    line = "Batch 23A0147 granulation step completed; operator JK verified by LM; LOD 1.8 % within limit."
    for p in range(pages):
        y = 800
        c.drawString(60, 820, f"Executed batch record - page {p + 1}")
        for i in range(48):
            c.drawString(40, y, f"{i:02d} {line}")
            y -= 16
        c.showPage()
    c.save()


def make_docx(path: Path, pages: int) -> None:
    from docx import Document
    from docx.enum.text import WD_BREAK

    doc = Document()
    text = "The granulation endpoint was reached at 2.5 kW; the blend was dried to LOD below 2.0 % and sieved."
    for p in range(pages):
        for i in range(12):
            doc.add_paragraph(f"{p}.{i} {text}")
        doc.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    doc.save(path)


def make_xlsx(path: Path, rows: int, cols: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append([f"Col{c}" for c in range(cols)])
    for r in range(rows):
        ws.append([r * 1.5 if c % 3 == 0 else f"LOT-{r:06d}-{c}" if c % 3 == 1 else r for c in range(cols)])
    wb.save(path)


# ------------------------------------------------------------------ library-default paths
def pdfminer_default(path: Path) -> int:
    from pdfminer.high_level import extract_text

    return len(extract_text(str(path)))


def python_docx(path: Path) -> int:
    from docx import Document

    d = Document(str(path))
    n = sum(len(p.text) for p in d.paragraphs)
    for t in d.tables:
        for row in t.rows:
            for cell in row.cells:
                n += len(cell.text)
    for s in d.sections:
        n += sum(len(p.text) for p in s.header.paragraphs) + sum(len(p.text) for p in s.footer.paragraphs)
    return n


def openpyxl_readonly(path: Path) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    n = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            n += sum(1 for v in row if v is not None)
    wb.close()
    return n


def pdf_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smaller fixtures")
    args = ap.parse_args()
    scale = 4 if args.quick else 1
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        pdf = t / "record.pdf"
        make_pdf(pdf, 200 // scale)
        paired("PDF, generated text-heavy", "pages", 200 // scale,
               {"clearance (pdfium)": lambda: _segments(pdf), "pdfminer default layout": lambda: pdfminer_default(pdf)},
               args.rounds)
        real = sorted((CORPUS / "realworld" / "pdf").glob("*.pdf")) if CORPUS.is_dir() else []
        heavy = [p for p in real if p.stat().st_size < 3_000_000 and p.name in {
            "pdfminer__i1040nr.pdf", "pypdf__GeoTopo.pdf", "pdfminer__simple4.pdf", "freeculture.pdf"}]
        heavy = heavy or real[:5]
        if heavy:
            pages = sum(pdf_pages(p) for p in heavy)
            paired(f"PDF, {len(heavy)} realworld files", "pages", pages,
                   {"clearance (pdfium)": lambda: [_segments(p) for p in heavy],
                    "pdfminer default layout": lambda: [pdfminer_default(p) for p in heavy]}, args.rounds)
        docx = t / "manual.docx"
        n_pages = 1000 // scale
        make_docx(docx, n_pages)
        paired("DOCX, generated", "pages", n_pages,
               {"clearance (package XML)": lambda: _segments(docx), "python-docx": lambda: python_docx(docx)},
               args.rounds)
        xlsx = t / "data.xlsx"
        rows, cols = 100_000 // scale, 10
        make_xlsx(xlsx, rows, cols)
        paired("XLSX, generated", "cells", rows * cols,
               {"clearance (sheet XML)": lambda: _segments(xlsx), "openpyxl read-only": lambda: openpyxl_readonly(xlsx)},
               args.rounds)
    dev = CORPUS / "dev"
    if dev.is_dir():
        from scanner.analyse import ScanOptions
        from scanner.scan import scan_paths

        files = [p for p in dev.iterdir() if p.is_file() and p.name != "truth.jsonl"]
        mb = sum(p.stat().st_size for p in files) / 1e6
        print(f"\nEnd to end: clearance scan of ../shared/corpus/dev ({len(files)} files, {mb:.1f} MB)")
        for jobs in sorted({1, os.cpu_count() or 1}):
            from scanner.pool import WorkerPool

            with WorkerPool(ScanOptions(), jobs=jobs) as pool:
                list(scan_paths(files[:2], pool=pool))  # warm the workers (imports, pattern compile)
                secs = _timed(lambda pool=pool: list(scan_paths(files, pool=pool)))
            print(f"  jobs={jobs}: {len(files) / secs:6.1f} files/s  {mb / secs:6.2f} MB/s  ({secs:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
