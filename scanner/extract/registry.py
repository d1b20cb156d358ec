"""Dispatch a document to its extractor by sniffed type; turn every failure into words."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

from scanner.extract.base import Context, Extractor, Source, Splitter, Unscannable, describe_exception
from scanner.limits import Limits
from scanner.model import DocStart, Event

# type -> "module:function", imported on first use so a worker only loads the parsers
# it needs (pdfminer and lxml are slow to import).
_EXTRACTORS: dict[str, str] = {
    "pdf": "scanner.extract.pdf:extract_pdf",
    "docx": "scanner.extract.docx:extract_docx",
    "xlsx": "scanner.extract.xlsx:extract_xlsx",
    "pptx": "scanner.extract.pptx:extract_pptx",
    "zip": "scanner.extract.archive:extract_zip",
    "text": "scanner.extract.text:extract_text",
    "csv": "scanner.extract.text:extract_csv",
}

_KIND_WORDS = {
    "pdf": "PDF",
    "docx": "DOCX",
    "xlsx": "XLSX",
    "pptx": "PPTX",
    "zip": "ZIP archive",
    "text": "text file",
    "csv": "CSV file",
}

_loaded: dict[str, Extractor] = {}


def extractor_for(kind: str) -> Extractor:
    fn = _loaded.get(kind)
    if fn is None:
        module, _, attr = _EXTRACTORS[kind].partition(":")
        fn = getattr(importlib.import_module(module), attr)
        _loaded[kind] = fn
    return fn


def extract_document(src: Source, ctx: Context) -> Iterator[Event]:
    """Yield DocStart, then the document's events; never raises for a bad document."""
    from scanner.sniff import sniff

    try:
        size = src.size
        # A later page range of a split file is merged into the first part's outcome,
        # which carries the hash: reading every byte again there would be waste.
        sha = src.sha256() if ctx.pages is None else ""
        sniffed = sniff(src)
    except OSError as exc:
        yield DocStart(ctx.doc, "unsupported", "", 0)
        yield ctx.problem(f"cannot read file: {exc.strerror or exc}")
        return
    kind = sniffed.type
    yield DocStart(ctx.doc, "unsupported" if kind == "ole" else kind, sha, size)
    if kind == "empty":
        return
    if kind in ("unsupported", "ole"):
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
        yield ctx.problem(describe_exception(_KIND_WORDS.get(kind, kind), exc))


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
    ctx = Context(limits or Limits(), pages=pages, split=split)
    yield from extract_document(Source(name=p.name, path=p), ctx)
