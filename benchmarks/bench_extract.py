#!/usr/bin/env python3
"""Extraction throughput: our engines against the library-default paths, paired and interleaved.

    python benchmarks/bench_extract.py [--rounds 5] [--quick] [--before DIR] [--skip-e2e]

This machine's speed drifts by up to 2x over minutes and other work shares its two
cores, so engines are compared in rotation inside each round, and the report gives the
median over rounds plus every round's ratio, never one long run per engine. Each run is
timed twice: wall clock, and CPU seconds of the process doing the work (``cpu``), which
is what "per core" means and is far less disturbed by other load than the wall clock.

Prints:

- PDF pages/s: Clearance (PDFium, pdfminer fallback) vs pdfminer.six default layout
  analysis, on a generated text-heavy PDF and on text-heavy real-world PDFs.
- DOCX pages/s: Clearance (package XML) vs python-docx's object model, on a light and
  on a dense (full pages plus a table per page) generated document.
- XLSX cells/s: Clearance (sheet XML streamed) vs openpyxl read-only, on a 1M-cell sheet
  written by openpyxl (inline strings) and on a 1M-cell sheet laid out the way Excel
  writes it (shared strings, styled numbers: dates, zero-padded codes, decimals).
- End to end: extraction plus matching of the 1M-cell sheet in one process (cells per
  CPU second, and the share matching takes), and ``scan_paths`` over
  ../shared/corpus/dev, one big sheet and big PDFs (split into page ranges across the
  workers) with 1 and with 2 worker processes (files/s, cells/s, pages/s, MB/s).

``--before DIR`` adds the same extraction from another tree (a folder holding a
``scanner`` package, e.g. ``git archive HEAD scanner patterns | tar -x -C DIR``), run in
a child process and timed inside it, so a change can be measured against its parent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.extract.ooxml import column_letters  # noqa: E402 - after the path set-up
from scanner.extract.registry import extract_file  # noqa: E402
from scanner.model import Segment  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"

Timing = tuple[float, float]  # (wall seconds, CPU seconds of the working process)
Engine = Callable[[], Timing]


def _segments(path: Path) -> int:
    return sum(1 for e in extract_file(path) if isinstance(e, Segment))


def timed(fn: Callable[[], object]) -> Engine:
    """An in-process engine: wall and this process's CPU time around one call."""

    def run() -> Timing:
        w, c = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - w, time.process_time() - c

    return run


_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from scanner.extract.registry import extract_file
from scanner.model import Segment
import scanner.extract.{kind}
warm, *paths = [Path(p) for p in sys.argv[2:]]
for e in extract_file(warm):   # lazy imports (PDFium, pypdf, labels) load here, untimed
    pass
w, c = time.perf_counter(), time.process_time()
n = sum(1 for p in paths for e in extract_file(p) if isinstance(e, Segment))
print(json.dumps([time.perf_counter() - w, time.process_time() - c, n]))
"""


def in_tree(tree: Path, kind: str, paths: list[Path], warm: Path) -> Engine:
    """Our extraction as another tree has it, timed inside a child process.

    The child first extracts ``warm`` (a small file of the same kind) untimed, so it is
    as warm as the in-process engine, which runs once before the rounds.
    """

    def run() -> Timing:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD.replace("{kind}", kind), str(tree), str(warm), *map(str, paths)],
            capture_output=True,
            text=True,
            check=True,
            cwd=tree,
        )
        wall, cpu, _ = json.loads(out.stdout.strip().splitlines()[-1])
        return wall, cpu

    return run


def paired(
    name: str, unit: str, amount: float, engines: dict[str, Engine], rounds: int, warm: tuple[str, ...] = ("clearance",)
) -> dict[str, float]:
    """Run every engine once per round, in rotating order; report rates and ratios vs the last engine.

    Engines named in ``warm`` run once untimed first, so lazy imports (PDFium, lxml) are
    not charged to round one; the library engines' imports are noise beside their runs.
    """
    times: dict[str, list[Timing]] = {k: [] for k in engines}
    names = list(engines)
    for k in warm:
        if k in engines:
            engines[k]()
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for k in order:
            times[k].append(engines[k]())
    base = names[-1]
    print(f"\n{name}  ({amount:,.0f} {unit} per run, {rounds} rounds, one core)")
    rates: dict[str, float] = {}
    for k in names:
        wall = amount / statistics.median(t[0] for t in times[k])
        cpu = amount / statistics.median(t[1] for t in times[k])
        rates[k] = cpu
        line = f"  {k:30} {cpu:12,.0f} {unit}/cpu-s {wall:12,.0f} {unit}/s wall"
        if k != base:
            ratios = [b[1] / a[1] for a, b in zip(times[k], times[base], strict=True)]
            line += (
                f"   x{statistics.median(ratios):.2f} vs {base} (rounds: " + " ".join(f"{x:.2f}" for x in ratios) + ")"
            )
        print(line, flush=True)
    return rates


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


def make_docx(path: Path, pages: int, dense: bool = False) -> None:
    """Light: 12 short paragraphs a page. Dense: ~450 words a page plus a 6x4 table."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    doc = Document()
    text = "The granulation endpoint was reached at 2.5 kW; the blend was dried to LOD below 2.0 % and sieved."
    for p in range(pages):
        for i in range(12 if not dense else 6):
            doc.add_paragraph(f"{p}.{i} {text}" if not dense else f"{p}.{i} " + " ".join([text] * 5))
        if dense:
            table = doc.add_table(rows=6, cols=4)
            for r, row in enumerate(table.rows):
                for c, cell in enumerate(row.cells):
                    cell.text = ("Lot", "Operator", "Result", "Date")[c] if r == 0 else f"23A{p:04d}-{r}{c}"
        doc.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    doc.save(path)


def make_xlsx(path: Path, rows: int, cols: int) -> None:
    """openpyxl write-only: every string inline (<is>), numbers unstyled."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append([f"Col{c}" for c in range(cols)])
    for r in range(rows):
        ws.append([r * 1.5 if c % 3 == 0 else f"LOT-{r:06d}-{c}" if c % 3 == 1 else r for c in range(cols)])
    wb.save(path)


def make_excel_like(path: Path, rows: int, cols: int) -> None:
    """A workbook laid out as Excel writes it: shared strings, styled numbers (dates, zero-padded codes, decimals).

    Written as XML directly (seconds, where openpyxl's normal mode needs minutes and
    gigabytes for a million cells).
    """
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    unique = min(rows, 50_000)
    strings = [f"Col{c}" for c in range(cols)] + [f"Operator {i:05d}" for i in range(unique)]
    cl = [column_letters(c) for c in range(cols)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{ns}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Batches" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pkg}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/styles.xml",
            f'<styleSheet xmlns="{ns}"><numFmts count="2">'
            '<numFmt numFmtId="164" formatCode="00000"/>'
            '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
            '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="165"/><xf numFmtId="164"/>'
            '<xf numFmtId="2"/></cellXfs></styleSheet>',
        )
        z.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{ns}" count="{len(strings)}" uniqueCount="{len(strings)}">'
            + "".join(f"<si><t>{s}</t></si>" for s in strings)
            + "</sst>",
        )
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(f'<worksheet xmlns="{ns}"><sheetData><row r="1">'.encode())
            f.write("".join(f'<c r="{cl[c]}1" t="s"><v>{c}</v></c>' for c in range(cols)).encode() + b"</row>")
            buf: list[str] = []
            for r in range(2, rows + 2):
                cells = []
                for c in range(cols):
                    ref, kind = f"{cl[c]}{r}", c % 5
                    if kind == 0:  # a timestamp: distinct in every row
                        cells.append(f'<c r="{ref}" s="1"><v>{44000 + r / 97:.6f}</v></c>')
                    elif kind == 1:
                        cells.append(f'<c r="{ref}" t="s"><v>{cols + (r * 7 + c) % unique}</v></c>')
                    elif kind == 2:  # a zero-padded code
                        cells.append(f'<c r="{ref}" s="2"><v>{(r * 37 + c) % 99999}</v></c>')
                    elif kind == 3:
                        cells.append(f'<c r="{ref}" s="3"><v>{(r % 10000) / 100 + c}</v></c>')
                    else:
                        cells.append(f'<c r="{ref}"><v>{r * 10 + c}</v></c>')
                buf.append(f'<row r="{r}">' + "".join(cells) + "</row>")
                if len(buf) >= 1000:
                    f.write("".join(buf).encode())
                    buf = []
            f.write("".join(buf).encode() + b"</sheetData></worksheet>")


# ------------------------------------------------------------------ library-default paths
def pdfminer_default(paths: list[Path]) -> int:
    from pdfminer.high_level import extract_text

    return sum(len(extract_text(str(p))) for p in paths)


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


# ------------------------------------------------------------------ sections
def engines_for(
    kind: str, paths: list[Path], library: tuple[str, Callable[[], object]], before: Path | None, warm: Path
) -> dict[str, Engine]:
    out: dict[str, Engine] = {"clearance": timed(lambda: [_segments(p) for p in paths])}
    if before is not None:
        out["clearance before (--before)"] = in_tree(before, kind, paths, warm)
    out[library[0]] = timed(library[1])
    return out


def bench_pdf(t: Path, args: argparse.Namespace, scale: int) -> None:
    pdf = t / "record.pdf"
    make_pdf(pdf, 200 // scale)
    paired(
        "PDF, generated text-heavy",
        "pages",
        200 // scale,
        engines_for("pdf", [pdf], ("pdfminer default", lambda: pdfminer_default([pdf])), args.before, pdf),
        args.rounds,
    )
    folder = CORPUS / "realworld" / "pdf"
    wanted = (
        "pdfjs__tracemonkey.pdf",
        "pdfminer__i1040nr.pdf",
        "pdfjs__pdfjs_wikipedia.pdf",
        "pypdf__GeoBase_NHNC1_Data_Model_UML_EN.pdf",
    )
    heavy = [folder / n for n in wanted if (folder / n).is_file()]
    if heavy:
        pages = sum(pdf_pages(p) for p in heavy)
        paired(
            f"PDF, {len(heavy)} text-heavy realworld files",
            "pages",
            pages,
            engines_for("pdf", heavy, ("pdfminer default", lambda: pdfminer_default(heavy)), args.before, pdf),
            args.rounds,
        )


def bench_docx(t: Path, args: argparse.Namespace, scale: int) -> None:
    for label, pages, dense in (("light", 1000 // scale, False), ("dense", 300 // scale, True)):
        docx = t / f"manual-{label}.docx"
        make_docx(docx, pages, dense)
        paired(
            f"DOCX, generated {label}",
            "pages",
            pages,
            engines_for("docx", [docx], ("python-docx", lambda d=docx: python_docx(d)), args.before, docx),
            args.rounds,
        )


def bench_xlsx(t: Path, args: argparse.Namespace, scale: int) -> dict[str, Path]:
    rows, cols = 100_000 // scale, 10
    inline, excel = t / "openpyxl-1m.xlsx", t / "excel-like-1m.xlsx"
    w = time.perf_counter()
    make_xlsx(inline, rows, cols)
    make_excel_like(excel, rows, cols)
    tiny = t / "tiny.xlsx"
    make_excel_like(tiny, 20, 5)
    print(f"\n(XLSX fixtures: {rows * cols:,} cells each, written in {time.perf_counter() - w:.0f} s)")
    for label, path in (("openpyxl-written, inline strings", inline), ("Excel layout, shared strings + styles", excel)):
        paired(
            f"XLSX, {label}",
            "cells",
            rows * cols,
            engines_for("xlsx", [path], ("openpyxl read-only", lambda p=path: openpyxl_readonly(p)), args.before, tiny),
            args.rounds,
        )
    return {"openpyxl-written sheet": inline, "Excel-layout sheet": excel}


_CHILD_E2E = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from scanner.pipeline.worker import ScanOptions, analyse_file, matcher_for
opts = ScanOptions()
matcher_for(opts)
p = Path(sys.argv[2])
w, c = time.perf_counter(), time.process_time()
analyse_file(p, p.name, opts)
print(json.dumps([time.perf_counter() - w, time.process_time() - c]))
"""


def analyse_in_tree(tree: Path, path: Path) -> Engine:
    """Extraction + matching as another tree has them, in a child process (pattern compile excluded)."""

    def run() -> Timing:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD_E2E, str(tree), str(path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=tree,
        )
        wall, cpu = json.loads(out.stdout.strip().splitlines()[-1])
        return wall, cpu

    return run


def bench_sheet_e2e(sheets: dict[str, Path], rounds: int, before: Path | None) -> None:
    """Extraction alone vs extraction + matching, one process: where a cell's time goes."""
    from scanner.pipeline.worker import ScanOptions, analyse_file, matcher_for

    opts = ScanOptions()
    matcher_for(opts)  # compile the patterns outside the timing, as a worker does at start
    for label, xlsx in sheets.items():
        cells = _segments(xlsx)
        engines: dict[str, Engine] = {"extract + match": timed(lambda x=xlsx: analyse_file(x, x.name, opts))}
        if before is not None:
            engines["extract + match before"] = analyse_in_tree(before, xlsx)
        engines["extract only"] = timed(lambda x=xlsx: _segments(x))
        rates = paired(
            f"End to end in one process (analyse_file: extraction + matching), {label}",
            "cells",
            cells,
            engines,
            rounds,
            warm=(),
        )
        full, extract = rates["extract + match"], rates["extract only"]
        print(
            f"  matching takes {1 / full - 1 / extract:.2e} CPU-s per cell, "
            f"{(1 / full - 1 / extract) / (1 / full):.0%} of the end-to-end time"
        )


def bench_scan(t: Path, xlsx: Path | None, rounds: int, scale: int) -> None:
    """``scan_paths`` through worker processes: what `clearance scan` does, minus the printing.

    1 vs 2 workers on the dev corpus and the realworld PDFs (many files), on one big sheet (one file: a
    second worker cannot help) and on big PDFs (one file, whose page ranges are split
    across the workers).
    """
    from scanner.pipeline.pool import WorkerPool
    from scanner.pipeline.scan import scan_paths
    from scanner.pipeline.worker import ScanOptions

    dev = CORPUS / "dev"
    cases: list[tuple[str, list[Path], str, int]] = []
    if dev.is_dir():
        files = sorted(p for p in dev.iterdir() if p.is_file() and p.name != "truth.jsonl")
        cases.append(("../shared/corpus/dev", files, "files", len(files)))
    real_pdf = CORPUS / "realworld" / "pdf"
    if real_pdf.is_dir():
        files = sorted(p for p in real_pdf.iterdir() if p.is_file())
        cases.append(("../shared/corpus/realworld/pdf", files, "files", len(files)))
    if xlsx is not None:
        cases.append((f"one {xlsx.name} sheet", [xlsx], "cells", _segments(xlsx)))
    generated = t / "record-2000.pdf"
    make_pdf(generated, 2000 // scale)
    cases.append((f"one generated {2000 // scale:,}-page PDF", [generated], "pages", 2000 // scale))
    log = CORPUS / "adversarial" / "cases" / "pdf_5000_pages" / "log.pdf"
    if log.is_file():
        cases.append(("the adversarial 5,000-page PDF", [log], "pages", pdf_pages(log)))
    warm = []
    for i in range(2):
        warm.append(t / f"warm{i}.txt")
        warm[-1].write_text("warm-up\n", encoding="utf-8")
    pools = {jobs: WorkerPool(ScanOptions(), jobs=jobs) for jobs in (1, 2)}
    try:
        for pool in pools.values():
            list(scan_paths(warm, pool=pool))  # start every worker (imports, pattern compile)
        for label, files, unit, amount in cases:
            mb = sum(p.stat().st_size for p in files) / 1e6
            n_rounds = rounds if len(files) == 1 or mb > 10 else max(rounds, 9)  # a pass over the dev corpus is short
            print(
                f"\nEnd to end: scan_paths over {label} ({len(files)} files, {mb:.1f} MB; wall clock, "
                f"{n_rounds} rounds)"
            )
            secs: dict[int, list[float]] = {1: [], 2: []}
            for r in range(n_rounds):
                for jobs in (1, 2) if r % 2 == 0 else (2, 1):
                    w = time.perf_counter()
                    results = list(scan_paths(files, pool=pools[jobs]))
                    secs[jobs].append(time.perf_counter() - w)
            parts = max(r.outcome.notes.get("page_parts", 1) for r in results)
            for jobs, s in secs.items():
                m = statistics.median(s)
                print(
                    f"  jobs={jobs}: {amount / m:11,.1f} {unit}/s  {mb / m:6.2f} MB/s  (median {m:.2f} s; rounds: "
                    + " ".join(f"{x:.2f}" for x in s)
                    + ")"
                )
            ratios = [a / b for a, b in zip(secs[1], secs[2], strict=True)]
            print(
                f"  2 workers vs 1: x{statistics.median(ratios):.2f}"
                + (f" (the file read in {parts} page ranges)" if parts > 1 else "")
            )
    finally:
        for pool in pools.values():
            pool.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fixtures a quarter of the size")
    ap.add_argument("--before", type=Path, help="a tree holding another version's scanner package, to compare")
    ap.add_argument(
        "--only", choices=("pdf", "docx", "xlsx", "e2e"), action="append", help="run only these sections (repeatable)"
    )
    args = ap.parse_args()
    if args.before is not None and not (args.before / "scanner" / "__init__.py").is_file():
        ap.error(f"--before {args.before}: no scanner package there")
    scale = 4 if args.quick else 1
    only = set(args.only or ("pdf", "docx", "xlsx", "e2e"))
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        if "pdf" in only:
            bench_pdf(t, args, scale)
        if "docx" in only:
            bench_docx(t, args, scale)
        sheets: dict[str, Path] = {}
        if "xlsx" in only:
            sheets = bench_xlsx(t, args, scale)
        if "e2e" in only:
            if not sheets:
                sheets = {
                    "openpyxl-written sheet": t / "openpyxl-1m.xlsx",
                    "Excel-layout sheet": t / "excel-like-1m.xlsx",
                }
                make_xlsx(sheets["openpyxl-written sheet"], 100_000 // scale, 10)
                make_excel_like(sheets["Excel-layout sheet"], 100_000 // scale, 10)
            rounds = max(3, args.rounds // 2)
            bench_sheet_e2e(sheets, rounds, args.before)
            bench_scan(t, sheets["openpyxl-written sheet"], rounds, scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
