"""PDF: page text, annotations, form fields, metadata, bookmarks and embedded files.

Two jobs, two kinds of engine:

* **Page text** (``pdf_text``) comes from PDFium; pdfminer.six reads only the pages
  PDFium misreads, and the engine that reads more of a page wins.
* **Structure** (``pdf_structure``: document information, XMP, AcroForm fields and
  XFA, annotations, bookmarks, embedded files) is walked over pypdf's object model, or
  pdfminer's when pypdf cannot parse the file.

* **Beyond the final revision** (``pdf_revisions``): what earlier revisions of an
  incrementally updated file said that the final one does not, and the bytes after the
  last ``%%EOF`` (an appended ZIP as a member, other bytes swept for strings).

This module checks the file is whole, runs all three, splits a big file's pages across
workers and hands embedded files on as members.

Fail closed: a truncated file, a password, a page no engine can read, a structure no
engine can parse or more pages than the limit each raise ``Unscannable`` (after what
could be read has been yielded, so the findings still count).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from scanner.extract.archive import extract_appended_zip, find_appended_zip
from scanner.extract.base import Context, Source, Unscannable
from scanner.extract.pdf_revisions import earlier_revisions, trailing_text, was_updated
from scanner.extract.pdf_structure import Structure, read_structure
from scanner.extract.pdf_text import PageReport, PdfminerPages, open_pdfium, page_text
from scanner.model import DocProblem, DocStart, Event, Location
from scanner.sniff import DocType

_MiB = 1024 * 1024
_CARRY_BYTES = 32  # longer than any token the truncation check looks for
_LINEARIZED_HEAD_BYTES = 2048  # the linearization dictionary is the file's first object
_PAGES_NAMED = 10  # unreadable pages listed by number in a reason; the rest are counted
_KEYS_NAMED = 6  # keys of unreadable objects listed in a reason

# pdfminer and pypdf quote raw document objects in their log records (at debug level and
# in some errors: "Dict required: {... (Patient SSN ...)}"), and we never log raw values.
# What they would say is reported as words instead (a DocProblem, a note).
for _name in ("pdfminer", "pypdf"):
    logging.getLogger(_name).setLevel(logging.CRITICAL + 1)

# --- truncation -----------------------------------------------------------------------
# PDFium rebuilds a cross-reference table for a cut file and reads what is
# left, so "it opened" proves nothing. A complete file ends with %%EOF, possibly followed
# by junk (NULs, a mail footer); PDF syntax after the last %%EOF is a cut-off revision.

_AFTER_EOF_SYNTAX = re.compile(
    rb"\d+\s+\d+\s+obj\b|\bendobj\b|\bendstream\b|\bstream\r?\n|\bxref\b|\btrailer\b|\bstartxref\b"
)
_EOF = b"%%EOF"


def find_truncation(fh: IO[bytes], end: int) -> tuple[str | None, int]:
    """(why the file looks cut off or None, where its last %%EOF ends or -1), looking at
    bytes [0, end) backwards only as far as needed."""
    pos = end
    carry = b""  # the start of the block read before, so a token split by a block edge is seen
    while pos > 0:
        start = max(0, pos - _MiB)
        fh.seek(start)
        block = fh.read(pos - start) + carry
        eof = block.rfind(_EOF)
        tail = block[eof + len(_EOF) :] if eof >= 0 else block
        if _AFTER_EOF_SYNTAX.search(tail):
            if eof >= 0:
                return "PDF objects follow its last end-of-file marker (an update was cut off)", -1
            return "the file ends before its end-of-file marker", -1
        if eof >= 0:
            return None, start + eof + len(_EOF)
        carry = block[:_CARRY_BYTES]
        pos = start
    return "the file has no end-of-file marker", -1


_LINEARIZED = re.compile(rb"<<[^>]*?/Linearized\b[^>]*>>")
_LINEARIZED_PAGES = re.compile(rb"/N\s+(\d+)")
_LINEARIZED_LENGTH = re.compile(rb"/L\s+(\d+)")


def linearized_page_count(fh: IO[bytes]) -> int | None:
    """The page count a linearized file declares up front, if its linearization is intact.

    Only trusted while the declared length /L equals the file's size: an incremental
    update after linearizing may have added or removed pages.
    """
    fh.seek(0)
    head = fh.read(_LINEARIZED_HEAD_BYTES)
    m = _LINEARIZED.search(head)
    if not m:
        return None
    n = _LINEARIZED_PAGES.search(m.group(0))
    length = _LINEARIZED_LENGTH.search(m.group(0))
    size = fh.seek(0, io.SEEK_END)
    if n is None or length is None or int(length.group(1)) != size:
        return None
    return int(n.group(1))


# --- the extractor ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ends:
    """Where the PDF's own bytes end and what follows them."""

    eof_end: int  # just after the last %%EOF
    end: int  # where an appended ZIP begins, else the file's size
    zip: bool  # a ZIP follows the PDF
    updated: bool  # the last cross-reference section points back at earlier revisions


def _ends(fh: IO[bytes]) -> tuple[str | None, _Ends]:
    size = fh.seek(0, io.SEEK_END)
    appended = find_appended_zip(fh, size)
    # A ZIP's compressed bytes could hold anything, PDF syntax too: the truncation check
    # looks only at the bytes before it.
    end = (appended.start or appended.first_local) if appended is not None else size
    cut, eof_end = find_truncation(fh, end)
    return cut, _Ends(eof_end, end, appended is not None, not cut and was_updated(fh, eof_end - len(_EOF)))


def extract_pdf(src: Source, ctx: Context) -> Iterator[Event]:
    linearized_pages = None
    ends = None
    if ctx.pages is None:
        # A later page range skips these reads: the first part checked the same bytes
        # before it handed the range out (a cut file is refused before any split).
        with src.open() as fh:
            cut, ends = _ends(fh)
            linearized_pages = linearized_page_count(fh)
        if cut:
            raise Unscannable(f"truncated PDF ({cut})")
    problems: list[str] = []
    with contextlib.ExitStack() as stack:
        fh = stack.enter_context(src.open())
        pdf, pdfium_error = open_pdfium(fh)
        if pdf is not None:
            stack.callback(pdf.close)
        miner = PdfminerPages(src)
        stack.callback(miner.close)
        if pdf is None:
            try:
                page_count = miner.page_count()
            except Exception as exc:
                raise Unscannable(f"damaged or truncated PDF ({pdfium_error}; pdfminer: {type(exc).__name__})") from exc
            if page_count == 0:
                raise Unscannable(f"damaged or truncated PDF ({pdfium_error}; pdfminer finds no pages)")
        else:
            page_count = len(pdf)
        limit = ctx.limits.max_pages
        readable = min(page_count, limit)
        if ctx.pages is not None:
            # A later part of a file split across workers: its pages' text, nothing else
            # (the first part reads the structure, attachments and page-tree checks).
            start, stop = ctx.pages
            if start > 0:
                # The page before the range, for the matcher's context only (analyse drops
                # its findings): a label at the foot of one page, the value atop the next.
                lead_in = page_text(pdf, miner, start - 1, PageReport())
                if lead_in is not None and lead_in.strip():
                    yield ctx.segment(lead_in, Location("body", page=start))
            yield from _page_events(pdf, miner, ctx, start, min(stop, readable), problems)
        else:
            stop = readable
            if ctx.split is not None:  # offered to top-level files only (members get no splitter)
                # Said before the structure walk, so other workers start on their pages
                # while this one walks the page tree.
                stop = ctx.split(readable) or readable
            yield from _whole_document(src, ctx, pdf, miner, stack, page_count, linearized_pages, stop, problems, ends)
    if problems:
        raise Unscannable("; ".join(dict.fromkeys(problems)))


def _whole_document(
    src: Source,
    ctx: Context,
    pdf: Any,
    miner: PdfminerPages,
    stack: contextlib.ExitStack,
    page_count: int,
    linearized_pages: int | None,
    stop: int,
    problems: list[str],
    ends: _Ends | None,
) -> Iterator[Event]:
    """Structure, pages [0, stop), page-tree checks, attachments, earlier revisions and what
    follows the end of file: the whole file, or the first part of a split one."""
    structure = read_structure(src, ctx.limits.max_pages, stack)
    if structure.encrypted:
        yield ctx.note("encrypted", "owner password only")
    for item in structure.items:
        yield ctx.segment(item.text, item.location, item.context)
    expected = max(structure.pages + structure.missing_pages, structure.declared_pages or 0, linearized_pages or 0)
    if page_count < expected:
        problems.append(f"damaged PDF: only {page_count} of its {expected} pages can be read")
    if structure.broken:
        broken = ", ".join(sorted(structure.broken)[:_KEYS_NAMED])
        problems.append(f"damaged PDF: some objects cannot be read ({broken})")
    yield from _page_events(pdf, miner, ctx, 0, stop, problems)
    if page_count > ctx.limits.max_pages:
        problems.append(f"PDF has more than {ctx.limits.max_pages} pages")
    yield from _attachment_events(structure, ctx)
    if ends is not None:
        yield from _beyond_final_revision(src, ctx, pdf, structure, ends, problems)


def _beyond_final_revision(
    src: Source, ctx: Context, pdf: Any, structure: Structure, ends: _Ends, problems: list[str]
) -> Iterator[Event]:
    """Earlier revisions' texts the final one dropped, and bytes after the last %%EOF."""
    if ends.updated:
        for revision in earlier_revisions(src.read(), structure, pdf, ctx.limits.max_pages):
            if revision.unreadable:
                problems.append(f"damaged PDF: its earlier revision {revision.number} cannot be read")
            for item in revision.items:
                yield ctx.segment(item.text, item.location, item.context)
    with src.open() as fh:
        trailing = trailing_text(fh, ends.eof_end, ends.end)
    if trailing:
        yield ctx.segment(trailing, Location("package", name="after the end of file"))
    if ends.zip:
        try:
            yield from extract_appended_zip(src, ctx)
        except Unscannable as exc:
            problems.append(str(exc))


def _page_events(
    pdf: Any, miner: PdfminerPages, ctx: Context, start: int, stop: int, problems: list[str]
) -> Iterator[Event]:
    """The text of pages [start, stop), then which engines read them and what could not be read."""
    report = PageReport()
    for index in range(start, stop):
        text = page_text(pdf, miner, index, report)
        if text is not None and text.strip():
            engine = report.last_engine.value if report.last_engine else None
            yield ctx.segment(text, Location("body", page=index + 1), engine=engine)
    yield ctx.note("engines", report.engines)
    if report.without_text:
        yield ctx.note("pages_without_text", report.without_text)
    if report.unmapped:
        # A text layer whose glyphs map to control or private-use codes hides what the page
        # shows (often digits): matching the gibberish would pass the page as clean, so the
        # document fails closed, like any part that cannot be read.
        yield ctx.note("pages_with_unmapped_glyphs", report.unmapped[:_PAGES_NAMED])
        pages = ", ".join(str(p) for p in report.unmapped[:_PAGES_NAMED])
        more = f" and {len(report.unmapped) - _PAGES_NAMED} more" if len(report.unmapped) > _PAGES_NAMED else ""
        problems.append(
            f"PDF text layer not readable: page(s) {pages}{more} map their glyphs to no characters (ToUnicode)"
        )
    if report.unreadable:
        pages = ", ".join(str(p) for p in report.unreadable[:_PAGES_NAMED])
        more = f" and {len(report.unreadable) - _PAGES_NAMED} more" if len(report.unreadable) > _PAGES_NAMED else ""
        problems.append(f"damaged PDF: the text of page(s) {pages}{more} cannot be read")


_UNSUPPORTED = DocType.UNSUPPORTED.value  # the type of an attachment that is not read


def _size_words(n: int) -> str:
    return f"{n // _MiB} MiB" if n >= _MiB else f"{n:,} bytes"


def _attachment_events(structure: Structure, ctx: Context) -> Iterator[Event]:
    limit = ctx.limits.archive_member_bytes
    used: dict[str, int] = {}
    for attachment in structure.attachments:
        name = attachment.name.replace("\\", "/").strip("/") or "attachment"
        used[name] = used.get(name, 0) + 1
        if used[name] > 1:
            name = f"{name} ({used[name]})"
        child = ctx.child_path(name)
        if ctx.budget.members >= ctx.limits.archive_members:
            yield DocStart(child, _UNSUPPORTED, "", 0)
            yield DocProblem(child, f"more than {ctx.limits.archive_members} archive members in total")
            continue
        if attachment.declared_size is not None and attachment.declared_size > limit:
            yield DocStart(child, _UNSUPPORTED, "", attachment.declared_size)
            yield DocProblem(child, f"embedded file larger than {_size_words(limit)}")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = attachment.load()
        except (MemoryError, RecursionError, Exception) as exc:
            yield DocStart(child, _UNSUPPORTED, "", 0)
            yield DocProblem(child, f"embedded file cannot be read ({type(exc).__name__})")
            continue
        if data is None:
            continue
        ctx.charge_expanded(len(data))
        if len(data) > limit:
            yield DocStart(child, _UNSUPPORTED, "", len(data))
            yield DocProblem(child, f"embedded file larger than {_size_words(limit)}")
            continue
        yield from ctx.member(name, data)
