"""Dispatch a document to its extractor by sniffed type; turn every failure into words."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from scanner.extract.archive import extract_zip
from scanner.extract.base import Context, Extractor, Source, Splitter, Unscannable, describe_exception
from scanner.extract.text import extract_csv, extract_text
from scanner.limits import Limits
from scanner.model import DocStart, Event
from scanner.sniff import DocType, sniff

# How a reason names the document when its parser fails in an unexpected way.
_KIND_WORDS: dict[DocType, str] = {
    DocType.PDF: "PDF",
    DocType.DOCX: "DOCX",
    DocType.XLSX: "XLSX",
    DocType.PPTX: "PPTX",
    DocType.ZIP: "ZIP archive",
    DocType.TEXT: "text file",
    DocType.CSV: "CSV file",
}


def extractor_for(kind: DocType) -> Extractor:
    """The extractor of a readable type; KeyError for the types that have none.

    The PDF and Office extractors are imported on first use, so a worker loads only the
    parsers its files need: the OOXML package model and lxml cost ~20 ms to import, the
    PDF module as much again (its engines are deferred further, inside it).
    """
    if kind is DocType.PDF:
        from scanner.extract.pdf import extract_pdf  # deferred: start-up time (see above)

        return extract_pdf
    if kind is DocType.DOCX:
        from scanner.extract.docx import extract_docx  # deferred: start-up time (lxml)

        return extract_docx
    if kind is DocType.XLSX:
        from scanner.extract.xlsx import extract_xlsx  # deferred: start-up time (lxml)

        return extract_xlsx
    if kind is DocType.PPTX:
        from scanner.extract.pptx import extract_pptx  # deferred: start-up time (lxml)

        return extract_pptx
    readers: dict[DocType, Extractor] = {DocType.ZIP: extract_zip, DocType.TEXT: extract_text, DocType.CSV: extract_csv}
    return readers[kind]


def extract_document(src: Source, ctx: Context) -> Iterator[Event]:
    """Yield DocStart, then the document's events; never raises for a bad document."""
    if ctx.dispatch is None:
        ctx = replace(ctx, dispatch=extract_document)  # containers hand their members back here
    try:
        size = src.size
        # A later page range of a split file is merged into the first part's outcome,
        # which carries the hash: reading every byte again there would be waste.
        sha = src.sha256() if ctx.pages is None else ""
        sniffed = sniff(src)
    except OSError as exc:
        yield DocStart(ctx.doc, DocType.UNSUPPORTED.value, "", 0)
        yield ctx.problem(f"cannot read file: {exc.strerror or exc}")
        return
    kind = sniffed.type
    shown = DocType.UNSUPPORTED if kind is DocType.OLE else kind
    yield DocStart(ctx.doc, shown.value, sha, size)
    if kind is DocType.EMPTY:
        return
    if kind in (DocType.UNSUPPORTED, DocType.OLE):
        detail = sniffed.detail or "unknown format"
        yield ctx.problem(detail if detail.startswith("encrypted") else f"unsupported format: {detail}")
        return
    if size > ctx.limits.max_file_bytes:
        yield ctx.problem(f"file larger than the {ctx.limits.max_file_bytes // (1024 * 1024)} MiB limit")
        return
    if ctx.depth > ctx.limits.archive_depth:
        yield ctx.problem(f"archive nested deeper than {ctx.limits.archive_depth} levels")
        return
    try:
        yield from extractor_for(kind)(src, ctx)
    except Unscannable as exc:
        yield ctx.problem(str(exc))
    except (MemoryError, RecursionError, Exception) as exc:
        yield ctx.problem(describe_exception(_KIND_WORDS.get(kind, kind.value), exc))


def extract_file(
    path: Path | str,
    limits: Limits | None = None,
    *,
    pages: tuple[int, int] | None = None,
    split: Splitter | None = None,
) -> Iterator[Event]:
    """Events for one file on disk and everything nested in it.

    ``pages``/``split``: a part of a big PDF read by several workers (see ``Context``).
    """
    p = Path(path)
    ctx = Context(limits or Limits(), pages=pages, split=split, dispatch=extract_document)
    yield from extract_document(Source(name=p.name, path=p), ctx)
