"""Plain text, HTML, XML, JSON and CSV/TSV as people write them, streamed in chunks.

A 1 GB log is read in chunks, never whole. The encoding is found from the bytes (BOMs,
UTF-16/32 without a BOM, Windows-1252, then charset-normalizer); a text file that is
really markup or JSON is read as such, so a value split by tags or spelled as escapes is
whole again (``scanner.extract.markup``); the outcome's type stays "text" either way.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator

from scanner.extract.base import Context, Source, Unscannable
from scanner.extract.markup import HtmlReader, Line, xml_lines
from scanner.model import Event, Location
from scanner.sniff import utf32_order

_NUL_SAMPLE_BYTES = 4096  # the start of the file searched for NULs: UTF-16/32 without a BOM
_ENCODING_SAMPLE_BYTES = 65536  # what the encoding is guessed from (and a CSV's dialect)
_DIALECT_SAMPLE_CHARS = 16384  # what the CSV delimiter is judged on
_DIALECT_ROWS = 200  # rows of that sample compared for a consistent cell count
_FORM_SAMPLE_CHARS = 2048  # what tells HTML, XML and JSON from plain text
_XML_WHOLE_MAX = 64 * 1024 * 1024  # XML is parsed whole; a bigger file is read as plain text
# Non-ASCII text read as Windows-1252 when, decoded so, it is Western text: accented
# letters and typographic punctuation, a minority of the letters (else a Cyrillic or Greek
# single-byte encoding is likelier, left to charset-normalizer).
_WESTERN = frozenset(
    "€‚„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ\xa0¡¢£¥§©«®°±´µ¶·»¿×÷ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ"
)
_WESTERN_MAX_SHARE = 0.3
# The CSV delimiters, in order of preference on a tie: semicolon is the European default
# (Excel writes it where the comma is the decimal mark), so a comma inside its fields is text.
_DELIMITERS = ";,\t|"
_CELL_SEP = " | "  # as scanner.detect.tables.CELL_SEP (the matcher reads a row's cells by it)
_CELL_NEWLINES = re.compile(r"\s*[\r\n]+\s*")
# JSON string escapes: a surrogate pair, one \uXXXX, or a one-letter escape. A backslash
# pair ("\\") is matched first so "\\u0032" stays a backslash and "u0032".
_JSON_ESCAPE = re.compile(
    r"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|([\\\"/bfnrt]))"
)
_JSON_SIMPLE = {"\\": "\\", '"': '"', "/": "/", "b": " ", "f": " ", "n": " ", "r": " ", "t": " "}
_HTML_START = re.compile(r"<(?:!doctype\s+html|html|head|body|div|p|span|table|br|a\s|b>|i>|font|h[1-6])[\s>/]")
_MARKUP_START = re.compile(r"<[?!A-Za-z]")


class TextForm(enum.Enum):
    """How a text file is written, which decides how it is read."""

    PLAIN = "plain"
    HTML = "html"
    XML = "xml"
    JSON = "json"


_FORM_BY_EXT = {
    ".html": TextForm.HTML,
    ".htm": TextForm.HTML,
    ".xhtml": TextForm.HTML,
    ".mht": TextForm.PLAIN,
    ".xml": TextForm.XML,
    ".svg": TextForm.XML,
    ".rss": TextForm.XML,
    ".atom": TextForm.XML,
    ".xsl": TextForm.XML,
    ".xslt": TextForm.XML,
    ".plist": TextForm.XML,
    ".kml": TextForm.XML,
    ".xlf": TextForm.XML,
    ".json": TextForm.JSON,
    ".jsonl": TextForm.JSON,
    ".ndjson": TextForm.JSON,
    ".geojson": TextForm.JSON,
    ".har": TextForm.JSON,
    ".ipynb": TextForm.JSON,
}


# --- encodings ---------------------------------------------------------------------------


def detect_encoding(head: bytes) -> str:
    """BOMs first; then UTF-32/16 by their NULs; UTF-8 if it decodes; Western Windows-1252;
    then charset-normalizer; cp1252 as the last word."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"  # before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE one
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head[:_NUL_SAMPLE_BYTES]:
        utf32 = utf32_order(head[:_NUL_SAMPLE_BYTES])
        if utf32 is not None:
            return utf32
        even_nuls = head[0:_NUL_SAMPLE_BYTES:2].count(0)
        odd_nuls = head[1:_NUL_SAMPLE_BYTES:2].count(0)
        return "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
    try:
        # A multi-byte sequence may be cut at the end of the sample: decode incrementally.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _western_cp1252(head):
        return "cp1252"
    from charset_normalizer import from_bytes  # deferred: start-up time (~12 ms), for non-UTF-8 text only

    best = from_bytes(head[:_ENCODING_SAMPLE_BYTES]).best()
    if best is not None and best.encoding:
        return best.encoding
    return "cp1252"


def _western_cp1252(head: bytes) -> bool:
    """Windows-1252 when that decodes the bytes to Western text (charset-normalizer guesses
    cp1250 or cp775 for a short English or French note with smart quotes and a €)."""
    try:
        text = head.decode("cp1252")
    except UnicodeDecodeError:
        return False  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned in cp1252
    high = [ch for ch in text if ord(ch) > 0x7F]
    if not all(ch in _WESTERN for ch in high):
        return False
    # Accented letters are a minority of a Western text's letters; in Cyrillic or Greek
    # read through the wrong code page they are nearly all of them.
    letters = sum(1 for ch in text if ch.isalpha())
    return sum(1 for ch in high if ch.isalpha()) <= _WESTERN_MAX_SHARE * max(letters, 1)


def _chars(src: Source, ctx: Context, encoding: str) -> Iterator[str]:
    """The document's text in chunks of about ``text_chunk_chars``, cut at line ends."""
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


# --- which form -----------------------------------------------------------------------------


def text_form(name: str, sample: str) -> TextForm:
    """HTML, XML or JSON by content first (a .txt can hold a web page), then by extension."""
    start = sample[:_FORM_SAMPLE_CHARS].lstrip("\ufeff \t\r\n").lower()
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    by_ext = _FORM_BY_EXT.get("." + base.rsplit(".", 1)[-1]) if "." in base else None
    if start.startswith("<"):
        if _HTML_START.search(start) and (by_ext is not TextForm.XML or "<html" in start):
            return TextForm.HTML
        if start.startswith("<?xml") or by_ext is TextForm.XML:
            return TextForm.XML
        if by_ext is not None:
            return by_ext
        return TextForm.XML if _MARKUP_START.match(start) else TextForm.PLAIN
    if by_ext is TextForm.JSON or (start[:1] in ("{", "[") and '":' in start):
        return TextForm.JSON
    return by_ext if by_ext is TextForm.HTML and "<" in start else TextForm.PLAIN


def extract_text(src: Source, ctx: Context) -> Iterator[Event]:
    head = src.head(_ENCODING_SAMPLE_BYTES)
    encoding = detect_encoding(head)
    form = text_form(src.name, head[: _FORM_SAMPLE_CHARS * 4].decode(encoding, errors="replace"))
    if form is TextForm.HTML:
        yield from _html(src, ctx, encoding)
    elif form is TextForm.XML and src.size <= _XML_WHOLE_MAX:
        yield from _xml(src, ctx, encoding)
    elif form is TextForm.JSON:
        line = 1
        for chunk in _chars(src, ctx, encoding):
            yield ctx.segment(unescape_json(chunk) if "\\" in chunk else chunk, Location("body", line=line))
            line += chunk.count("\n")
    else:
        line = 1
        for chunk in _chars(src, ctx, encoding):
            yield ctx.segment(chunk, Location("body", line=line))
            line += chunk.count("\n")


def unescape_json(text: str) -> str:
    """JSON string escapes decoded in place, line structure kept: ``"\\u0032\\u0031\\u0032"``
    reads "212", and a key stays beside its value. ``\\n``/``\\t`` (and control characters
    spelled as escapes) become spaces, so the lines, and the line numbers, stay the source's."""
    return _JSON_ESCAPE.sub(_json_escape, text)


def _json_escape(m: re.Match[str]) -> str:
    high, low, one, simple = m.groups()
    if high is not None:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    if one is not None:
        code = int(one, 16)
        if 0xD800 <= code <= 0xDFFF:
            return "\ufffd"  # a lone surrogate: not text
        return " " if code < 0x20 or code in (0x85, 0x2028, 0x2029) else chr(code)
    return _JSON_SIMPLE[simple]


def _html(src: Source, ctx: Context, encoding: str) -> Iterator[Event]:
    # Script and style text is kept (as metadata): it is one "view source" away.
    reader = HtmlReader(keep_code=True)
    for chunk in _chars(src, ctx, encoding):
        reader.feed(chunk)
        yield from _line_segments(reader.lines() + reader.side_lines(), ctx)
    reader.close()
    yield from _line_segments(reader.lines() + reader.side_lines(), ctx)


def _xml(src: Source, ctx: Context, encoding: str) -> Iterator[Event]:
    data = src.read()
    try:
        # lxml reads the declared encoding from bytes; one we detected differently
        # (no declaration, Windows-1252 bytes) is decoded here first.
        text = data if encoding in ("utf-8", "utf-8-sig") else data.decode(encoding, "replace")
        lines = xml_lines(text, recover=False)
    except ValueError:
        lines = []
    if not lines:
        # Not well-formed XML ("<name@host> wrote:" starts like a tag): what lxml's recovery
        # kept could lose text, so the text as written is read instead.
        line = 1
        for chunk in _chars(src, ctx, encoding):
            yield ctx.segment(chunk, Location("body", line=line))
            line += chunk.count("\n")
        return
    yield from _line_segments(lines, ctx)


def _line_segments(lines: Iterable[Line], ctx: Context) -> Iterator[Event]:
    """Rendered lines as segments: consecutive lines from consecutive source lines share
    one, so a finding's line (segment line + newlines before it) is its source line. A
    table row is a segment of its own, as a CSV row is, so its cells meet their headers."""
    limit = ctx.limits.text_chunk_chars
    buf: list[str] = []
    start, part, size = 0, "body", 0
    row = False  # the buffer holds a table row: the matcher reads its cells only alone
    for ln in lines:
        is_row = _CELL_SEP in ln.text
        if buf and (row or is_row or ln.part != part or ln.source_line != start + len(buf) or size > limit):
            yield ctx.segment("\n".join(buf), Location(part, line=start))
            buf = []
        if not buf:
            start, part, size = ln.source_line, ln.part, 0
        buf.append(ln.text)
        size += len(ln.text) + 1
        row = is_row
    if buf:
        yield ctx.segment("\n".join(buf), Location(part, line=start))


# --- CSV -------------------------------------------------------------------------------------


def csv_dialect(sample: str, name: str = "") -> type[csv.Dialect]:
    """The dialect whose delimiter splits the sample's rows into the same number of cells.

    ``csv.Sniffer`` alone picks the comma in a semicolon file whose fields hold commas
    ("Doe, Jane;212-67-4431"); here each delimiter parses the sample (quotes respected)
    and the most consistent cell count wins, ties going to ``_DELIMITERS``' order (tab
    first for a .tsv/.tab file).
    """
    cut = sample.rfind("\n")
    text = sample[: cut + 1] if cut > 0 else sample
    order = "\t;,|" if name.lower().endswith((".tsv", ".tab")) else _DELIMITERS
    best: tuple[float, int, str] | None = None
    for rank, delim in enumerate(order):
        widths = []
        try:
            for row in csv.reader(io.StringIO(text), delimiter=delim, quotechar='"', strict=False):
                if any(cell.strip() for cell in row):
                    widths.append(len(row))
                if len(widths) >= _DIALECT_ROWS:
                    break
        except csv.Error:
            continue
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        key = (count / len(widths), -rank, delim)
        if best is None or key[:2] > best[:2]:
            best = key
    delimiter = best[2] if best is not None else ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


def extract_csv(src: Source, ctx: Context) -> Iterator[Event]:
    """One segment per row, cells joined by `` | ``; the header row is context for every
    later row's cells, so the matcher reads each cell under its column's header.

    A row is one segment (not one per cell) because per-cell segments cost a Python
    round trip each; the header travels as ``context`` so "SSN" in a column header
    still supports a value in that column. A cell's line breaks become spaces: the row
    stays one line of cells. The location is the row's first line in the file.
    """
    head = src.head(_ENCODING_SAMPLE_BYTES)
    encoding = detect_encoding(head)
    sample = head.decode(encoding, errors="replace")
    dialect = csv_dialect(sample[:_DIALECT_SAMPLE_CHARS], src.name)
    csv.field_size_limit(ctx.limits.text_chunk_chars)
    header: str | None = None
    with src.open() as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=""), dialect)
        lineno = 1  # the first line of the next row
        try:
            for row in reader:
                first, lineno = lineno, reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue
                cells = [_CELL_NEWLINES.sub(" ", c) if ("\n" in c or "\r" in c) else c for c in row]
                text = _CELL_SEP.join(cells)
                # The header is the first row with two or more cells: a title line
                # ("Site HR roster, Q3") above the table is not a column header.
                if header is None and sum(1 for c in cells if c.strip()) >= 2:
                    header = text
                    yield ctx.segment(text, Location("table", line=first))
                    continue
                yield ctx.segment(text, Location("table", line=first), context=header)
        except csv.Error as exc:
            raise Unscannable(f"malformed CSV: {exc}") from exc
