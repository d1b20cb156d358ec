"""Dispatch a document to its extractor by sniffed type; turn every failure into words."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from scanner.extract.archive import extract_7z, extract_appended_zip, extract_compressed, extract_tar, extract_zip
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
    DocType.XLS: "legacy Excel .xls",
    DocType.DOC: "legacy Word .doc",
    DocType.PPT: "legacy PowerPoint .ppt",
    DocType.XLSB: "Excel binary workbook (.xlsb)",
    DocType.TAR: "tar archive",
    DocType.GZIP: "gzip archive",
    DocType.BZIP2: "bzip2 archive",
    DocType.XZ: "xz archive",
    DocType.SEVEN_ZIP: "7-Zip archive",
    DocType.RTF: "RTF document",
    DocType.EML: "e-mail message",
    DocType.MBOX: "mbox mailbox",
    DocType.MSG: "Outlook message (.msg)",
    DocType.ODT: "OpenDocument text",
    DocType.ODS: "OpenDocument spreadsheet",
    DocType.ODP: "OpenDocument presentation",
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
    if kind is DocType.XLS:
        from scanner.extract.legacy_xls import extract_xls  # deferred: start-up time (xlrd)

        return extract_xls
    if kind in (DocType.DOC, DocType.PPT):
        from scanner.extract.legacy_office import extract_doc, extract_ppt  # deferred: start-up time (olefile)

        return extract_doc if kind is DocType.DOC else extract_ppt
    if kind is DocType.XLSB:
        from scanner.extract.xlsb import extract_xlsb  # deferred: start-up time (pyxlsb)

        return extract_xlsb
    if kind is DocType.RTF:
        from scanner.extract.rtf import extract_rtf  # deferred: start-up time (read only for RTF files)

        return extract_rtf
    if kind in (DocType.EML, DocType.MBOX):
        from scanner.extract.mail import extract_eml, extract_mbox  # deferred: start-up time (email package)

        return extract_eml if kind is DocType.EML else extract_mbox
    if kind is DocType.MSG:
        from scanner.extract.msg import extract_msg  # deferred: start-up time (python-oxmsg)

        return extract_msg
    if kind in (DocType.ODT, DocType.ODS, DocType.ODP):
        from scanner.extract.odf import extract_odf  # deferred: start-up time (lxml)

        return extract_odf
    readers: dict[DocType, Extractor] = {
        DocType.ZIP: extract_zip,
        DocType.TEXT: extract_text,
        DocType.CSV: extract_csv,
        DocType.TAR: extract_tar,
        DocType.GZIP: extract_compressed,
        DocType.BZIP2: extract_compressed,
        DocType.XZ: extract_compressed,
        DocType.SEVEN_ZIP: extract_7z,
    }
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
        yield from _appended_zip(src, ctx, kind)
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
    yield from _appended_zip(src, ctx, kind)


# Types whose own reader already reads a ZIP (or, for PDF, the bytes after %%EOF).
_NO_APPENDED_ZIP = frozenset({DocType.PDF, DocType.DOCX, DocType.XLSX, DocType.PPTX, DocType.XLSB, DocType.ZIP})


def _appended_zip(src: Source, ctx: Context, kind: DocType) -> Iterator[Event]:
    """A ZIP appended to a file of another type (a polyglot) is read as a member of it."""
    if kind in _NO_APPENDED_ZIP:
        return
    try:
        yield from extract_appended_zip(src, ctx)
    except Unscannable as exc:
        yield ctx.problem(str(exc))
    except (MemoryError, RecursionError, Exception) as exc:
        yield ctx.problem(describe_exception("appended ZIP archive", exc))


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
