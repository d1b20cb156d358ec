"""Plain text and CSV/TSV, streamed: a 1 GB log is read in chunks, never whole."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from scanner.extract.base import Context, Source, Unscannable
from scanner.model import Event, Location

_NUL_SAMPLE_BYTES = 4096  # the start of the file searched for NULs: UTF-16 without a BOM
_ENCODING_SAMPLE_BYTES = 65536  # what the encoding is guessed from (and a CSV's dialect)
_DIALECT_SAMPLE_CHARS = 16384  # what csv.Sniffer reads: it is slow on long samples


def detect_encoding(head: bytes) -> str:
    """BOMs first; then UTF-8 if it decodes; then charset-normalizer; cp1252 as the last word."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head[:_NUL_SAMPLE_BYTES]:
        even_nuls = head[0:_NUL_SAMPLE_BYTES:2].count(0)
        odd_nuls = head[1:_NUL_SAMPLE_BYTES:2].count(0)
        return "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
    try:
        # A multi-byte sequence may be cut at the end of the sample: decode incrementally.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # deferred: start-up time (~12 ms), for non-UTF-8 text only

    best = from_bytes(head[:_ENCODING_SAMPLE_BYTES]).best()
    if best is not None and best.encoding:
        return best.encoding
    return "cp1252"


def _chars(src: Source, ctx: Context) -> Iterator[str]:
    """The document's text in chunks of about ``text_chunk_chars``, cut at line ends."""
    encoding = detect_encoding(src.head(_ENCODING_SAMPLE_BYTES))
    # errors="replace": a stray byte must not make the whole file unreadable; the
    # replacement character cannot hide an identifier that is otherwise intact.
    with src.open() as raw:
        reader = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        pending = ""
        size = ctx.limits.text_chunk_chars
        while True:
            block = reader.read(size)
            if not block:
                break
            pending += block
            cut = pending.rfind("\n")
            if cut < 0 and len(pending) < size * 2:
                continue  # no line end yet: read more before cutting
            if cut < 0:
                cut = len(pending) - ctx.limits.text_overlap_chars  # one enormous line
                yield pending[: cut + ctx.limits.text_overlap_chars]
                pending = pending[cut:]
                continue
            yield pending[: cut + 1]
            pending = pending[cut + 1 :]
        if pending:
            yield pending


def extract_text(src: Source, ctx: Context) -> Iterator[Event]:
    line = 1
    for chunk in _chars(src, ctx):
        yield ctx.segment(chunk, Location("body", line=line))
        line += chunk.count("\n")


def extract_csv(src: Source, ctx: Context) -> Iterator[Event]:
    """One segment per row; the header row is context for every later row's cells.

    A row is one segment (not one per cell) because per-cell segments cost a Python
    round trip each; the header travels as ``context`` so "SSN" in a column header
    still supports a value in that column.
    """
    head = src.head(_ENCODING_SAMPLE_BYTES)
    encoding = detect_encoding(head)
    sample = head.decode(encoding if encoding != "utf-16" else "utf-16", errors="replace")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            sample[:_DIALECT_SAMPLE_CHARS], delimiters=",;\t|"
        )
    except csv.Error:
        dialect = csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel
    csv.field_size_limit(ctx.limits.text_chunk_chars)
    header: list[str] | None = None
    with src.open() as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=""), dialect)
        try:
            for lineno, row in enumerate(reader, start=1):
                if not any(cell.strip() for cell in row):
                    continue
                text = " | ".join(row)
                # The header is the first row with two or more cells: a title line
                # ("Site HR roster, Q3") above the table is not a column header.
                if header is None and sum(1 for c in row if c.strip()) >= 2:
                    header = row
                    yield ctx.segment(text, Location("table", line=lineno))
                    continue
                yield ctx.segment(text, Location("table", line=lineno), context=" | ".join(header) if header else None)
        except csv.Error as exc:
            raise Unscannable(f"malformed CSV: {exc}") from exc
