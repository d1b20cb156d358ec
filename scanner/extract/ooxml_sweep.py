"""Read everything in an OOXML package: the sweep behind the structure-aware readers.

The DOCX/XLSX/PPTX readers know their vocabularies and give good locations, but a
recipient also sees what they do not know: field codes (``w:instrText``), alt text,
``mc:Fallback`` content, data-validation prompts, hyperlink targets and tooltips,
imported HTML/RTF (altChunk), custom XML, binary objects. After the readers ran, every
part of the package is accounted for here as exactly one of:

* ``read``: a dedicated reader visited it (its *residue* is still swept: every text
  block and allow-listed attribute whose text the readers did not yield);
* ``swept``: no reader visited it; its text, attributes or printable strings are read
  here (XML as ``metadata`` segments, as before; binaries and altChunks as ``package``);
* ``ignored``: formatting, images, fonts, signatures... each with the reason in
  ``_IGNORED``;
* ``reported``: content we cannot read (an incompressible unknown binary). Such a part
  is named in an ``unread_parts`` note *and* a ``DocProblem``: the product fails closed
  when content cannot be read, so the file is not allowed on our word that it is clean.

``collect_accounting()`` exposes the per-part table as data (tests assert it on the
corpus).
"""

from __future__ import annotations

import contextlib
import email
import enum
import io
import re
import struct
import zlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from scanner.extract.archive import read_member_limited
from scanner.extract.base import Context, Unscannable
from scanner.extract.markup import html_to_text
from scanner.extract.rtf import rtf_to_text
from scanner.model import Event, Location
from scanner.ooxml.package import PKG_REL, Package
from scanner.ooxml.xml import PARSER_OPTIONS, PROLOG_SCAN, PackageError, check_prolog, local_name, parse_xml

# --- accounting ------------------------------------------------------------------


class PartStatus(enum.StrEnum):
    READ = "read"
    SWEPT = "swept"
    IGNORED = "ignored"
    REPORTED = "reported"


@dataclass(frozen=True, slots=True)
class PartAccount:
    status: PartStatus
    how: str  # who read it, or why it was ignored or reported


@dataclass(slots=True)
class PackageAccount:
    doc: str  # member path of the package ("" for the scanned file itself)
    kind: str
    parts: dict[str, PartAccount] = field(default_factory=dict)


_COLLECTOR: ContextVar[list[PackageAccount] | None] = ContextVar("ooxml_accounting", default=None)


@contextlib.contextmanager
def collect_accounting() -> Iterator[list[PackageAccount]]:
    """``with collect_accounting() as acc: list(extract_file(p))`` -> one entry per package read."""
    found: list[PackageAccount] = []
    token = _COLLECTOR.set(found)
    try:
        yield found
    finally:
        _COLLECTOR.reset(token)


# Parts that hold no words a recipient reads, and why. Checked only for parts no dedicated
# reader visited. Parts that can hold text (numbering lvlText, comments, people, masters,
# settings with docVars, custom XML) are deliberately absent: they are swept.
_IGNORED: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), reason)
    for pattern, reason in (
        (r"^\[content_types\]\.xml$", "content-type table (part names and types only)"),
        (r"(^|/)(styles|styleswitheffects|tablestyles)\.xml$", "formatting: style definitions"),
        (r"(^|/)theme/|(^|/)theme\d*\.xml$|themeoverride\d*\.xml$", "theme: colour and font scheme"),
        (r"(^|/)fonttable\.xml$", "font list"),
        (r"(^|/)websettings\.xml$", "web publishing options"),
        (r"(^|/)(presprops|viewprops)\.xml$", "view and slide-show options"),
        (r"(^|/)calcchain\.xml$", "formula calculation order (cell addresses only)"),
        (r"(^|/)commentsids\.xml$|(^|/)commentsextensible\.xml$", "comment ids and dates"),
        (r"(^|/)diagrams/(colors|quickstyle|layout)\d*\.xml$", "SmartArt built-in layout and style definitions"),
        (r"(^|/)itemprops\d*\.xml$", "schema reference of a custom XML part"),
        (r"(^|/)printersettings/", "printer driver settings (DEVMODE), shown by no viewer"),
        (r"(^|/)_xmlsignatures/|\.sigs$", "digital signature: digests and certificates"),
        (r"(^|/)ink/", "ink strokes: pen coordinates (OCR is issue 17)"),
        (r"\.(odttf|ttf|otf|fntdata|eot|woff2?)$|(^|/)fonts/", "embedded font (glyph outlines)"),
        (r"vbaprojectsignature(agile|v3)?\.bin$", "signature of the VBA project"),
    )
)
_IMAGE = "image (OCR is issue 17)"
_IMAGE_EXT = re.compile(
    r"\.(png|jpe?g|gif|bmp|tiff?|emf|wmf|emz|wmz|svg|ico|wdp|jxr|hdp|pict?|mp[34]|wav|avi|m4a|mov|wmv)$"
)
_IMAGE_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"\xd7\xcd\xc6\x9a",  # placeable WMF
    b"\x01\x00\x09\x00",  # WMF
    b"\x1f\x8b",  # EMZ/WMZ (gzipped metafile)
)
# The property reader reads every core property with words and the app properties that
# carry names; the rest of these parts are dates, counters and application names.
_PROPERTY_PARTS = frozenset({"docprops/core.xml", "docprops/app.xml"})
_VBA = "read by the VBA reader"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DOCUMENT_MAGIC = (_OLE, b"PK\x03\x04", b"%PDF")

# --- what is read from XML ------------------------------------------------------

# Attributes (by local name) that carry words people read: alt text, titles, tooltips,
# data-validation prompts and messages, hyperlink display/location, field instructions,
# WordArt strings, captions, descriptions, authors (shown on hover), pivot/connection
# values. Everything else (rsid*, paraId, ids, sizes, colours, flags) is layout noise.
_ATTRS = frozenset(
    {
        "descr", "title", "alt", "tooltip", "prompt", "prompttitle", "error", "errortitle",
        "display", "location", "instr", "text", "string", "caption", "label", "description",
        "comment", "help", "statusbar", "alttext", "alttextsummary", "summary", "href",
        "displaytext", "value", "author", "initials", "displayname", "userid",
        "v", "connection", "command", "sourcefile", "url",
    }
)  # fmt: skip
# ``name`` is read only where it is a name people see (sheets, defined names, table columns,
# shape names in the selection pane, pivot fields, document variables); elsewhere it
# names a setting (``w:compatSetting``) or a style.
_NAME_ELEMENTS = frozenset(
    {"sheet", "definedname", "tablecolumn", "table", "cnvpr", "cachefield", "docvar", "property"}
)
# ``val`` is read only on the elements where it is text rather than a setting: document
# variables, numbering level text, form-field defaults, list entries, help/status text,
# content-control aliases and tags.
_VAL_ELEMENTS = frozenset(
    {"docvar", "lvltext", "default", "listentry", "statustext", "helptext", "alias", "tag", "docpart", "result"}
)
# Elements whose text continues the text around them (runs, inline markup); any other
# element starts and ends a block, so "SSN: " and "212-67-4431" in two runs of one
# paragraph are one block, while two paragraphs are two. Field codes, deleted text and
# ruby text are their own blocks: the readers yield (or skip) them apart from the line.
_INLINE = frozenset(
    {
        "r", "t", "ins", "hyperlink", "smarttag", "fldsimple", "sdt", "sdtcontent", "customxml", "bdo", "dir",
        "movefrom", "moveto", "fld", "b", "i", "u", "em", "strong", "span", "a", "font", "sub", "sup", "small",
        "big", "code", "abbr", "mark", "s", "strike", "tab", "br", "cr", "nobreakhyphen", "softhyphen",
    }
)  # fmt: skip
# Elements whose text is layout, not words (positions in EMU, percentages, alignment).
_LAYOUT_TEXT = frozenset(
    {"posoffset", "pctwidth", "pctheight", "align", "pctposhoffset", "pctposvoffset", "anchor", "row", "column"}
)
_FLAGS = frozenset({"true", "false"})
_BREAKS = {"tab": "\t", "br": "\n", "cr": "\n"}

_MIN_BLOCK = 4  # characters: "RV", "1", "true" carry no value a pattern looks for
_TREE_LIMIT = 8 * 1024 * 1024  # bigger parts are streamed (blocks then ignore tails)
_CHUNK = 65536  # characters per segment of a never-visited part
_LINES_LIMIT = 1 << 20  # a text longer than this is matched as a whole or by substring, not line by line
_SUBSTRING_CHECKS = 500  # misses checked against the joined reader text; beyond, emitted anyway
_PRINTABLE = re.compile(rb"[\x20-\x7e\t]{4,}|(?:[\x20-\x7e]\x00){4,}")
_SHEET_DATA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData[\s/>]")
_SHEET_DATA_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?sheetData\s*>")
_WORKSHEET = re.compile(r"(^|/)(worksheets|dialogsheets|macrosheets)/[^/]+\.xml$")
_ALTCHUNK_EXT = re.compile(r"\.(html?|xhtml|mht|mhtml|rtf|txt)$")


# --- what the readers yielded ----------------------------------------------------


class SeenTexts:
    """The texts the dedicated readers yielded for one document, for the residue check.

    ``add`` only appends (it runs once per cell of a big sheet); the normalised set and
    the joined text are built on the first lookup.
    """

    def __init__(self) -> None:
        self._raw: list[str] = []
        self._set: set[str] | None = None
        self._joined: str | None = None
        self._checks = 0

    def add(self, text: str) -> None:
        self._raw.append(text)

    def __contains__(self, block: str) -> bool:
        if self._set is None:
            # One pass over the distinct texts: a sheet repeats one shared string in many
            # cells (the same str object, hashed once), and a hostile one repeats a huge one.
            unique = set(self._raw)
            seen: set[str] = set()
            for text in unique:
                norm = " ".join(text.split())
                seen.add(norm)
                if "\n" in text and len(text) <= _LINES_LIMIT:
                    seen.update(" ".join(line.split()) for line in text.split("\n"))
            self._set = seen
            self._raw = list(seen)
        if block in self._set:
            return True
        if self._checks >= _SUBSTRING_CHECKS:
            return False
        self._checks += 1
        if self._joined is None:
            self._joined = "\x00".join(self._raw)
        return block in self._joined


# --- the sweep ---------------------------------------------------------------------


def sweep_package(pkg: Package, ctx: Context, seen: SeenTexts, embeddings: str, vba_parts: set[str]) -> Iterator[Event]:
    """Account for every part; yield the residue, the unread parts and embedded documents."""
    read_by_reader = set(pkg.visited)
    account = PackageAccount(ctx.doc, pkg.kind)
    altchunks = {
        r.target.lower() for rel_part in _rels_parts(pkg) for r in _rels_of(pkg, rel_part) if r.kind == "afchunk"
    }
    for name in sorted(pkg.names):
        low = name.lower()
        info = pkg.info(name)
        assert info is not None
        visited = low in read_by_reader
        if low.endswith(".rels"):
            yield from _sweep_rels(pkg, ctx, name, seen)
            account.parts[name] = PartAccount(PartStatus.SWEPT, "external relationship targets")
            continue
        if low in vba_parts or low.endswith("vbaproject.bin"):
            account.parts[name] = PartAccount(PartStatus.READ, _VBA)
            continue
        if low.startswith(embeddings):
            data = read_member_limited(pkg.zf, info, ctx, ctx.limits.archive_member_bytes)
            yield from member_events(ctx, name, data)
            account.parts[name] = PartAccount(PartStatus.READ, "embedded document")
            continue
        if low in altchunks or (_ALTCHUNK_EXT.search(low) and not visited):
            yield from _sweep_altchunk(pkg, ctx, name, seen, visited)
            status = PartStatus.READ if visited else PartStatus.SWEPT
            account.parts[name] = PartAccount(status, "imported document (altChunk), decoded")
            continue
        if visited and low in _PROPERTY_PARTS:
            account.parts[name] = PartAccount(PartStatus.READ, "property reader")
            continue
        ignored = None if visited else next((why for rx, why in _IGNORED if rx.search(low)), None)
        if ignored is not None:
            account.parts[name] = PartAccount(PartStatus.IGNORED, ignored)
            continue
        if _IMAGE_EXT.search(low):
            account.parts[name] = PartAccount(PartStatus.READ if visited else PartStatus.IGNORED, _IMAGE)
            continue
        head = _head(pkg, info)
        if _is_xml(head) and visited and info.file_size > _TREE_LIMIT:
            # A part this big was streamed by its reader (shared strings, sheets); a second
            # element-by-element pass would double the file's time, so its residue is not swept.
            account.parts[name] = PartAccount(PartStatus.READ, "dedicated reader (over 8 MiB: residue not swept)")
        elif _is_xml(head):
            yield from _sweep_xml(pkg, ctx, name, info, seen, visited)
            how = "dedicated reader; residue swept" if visited else "text and attributes swept"
            account.parts[name] = PartAccount(PartStatus.READ if visited else PartStatus.SWEPT, how)
        elif head.startswith(_IMAGE_MAGIC):
            account.parts[name] = PartAccount(PartStatus.IGNORED, _IMAGE)
        elif head.startswith(_DOCUMENT_MAGIC):
            data = read_member_limited(pkg.zf, info, ctx, ctx.limits.archive_member_bytes)
            yield from member_events(ctx, name, data)
            account.parts[name] = PartAccount(PartStatus.READ, "embedded document")
        else:
            data = read_member_limited(pkg.zf, info, ctx, ctx.limits.archive_member_bytes)
            if strings_readable(data):
                yield from strings_segments(ctx, name, data)
                account.parts[name] = PartAccount(PartStatus.SWEPT, "printable strings")
            else:
                account.parts[name] = PartAccount(PartStatus.REPORTED, "compressed or encrypted binary")
    reported = [n for n, a in account.parts.items() if a.status is PartStatus.REPORTED]
    if reported:
        yield ctx.note("unread_parts", reported)
        yield ctx.problem(f"{pkg.kind} holds parts that could not be read: {', '.join(reported[:5])}")
    collector = _COLLECTOR.get()
    if collector is not None:
        collector.append(account)


def member_events(ctx: Context, name: str, data: bytes) -> Iterator[Event]:
    """An embedded object as a nested document: an OLE Package/Ole10Native wrapper is opened."""
    inner = unwrap_ole_package(data)
    if inner is not None:
        inner_name, payload = inner
        yield from ctx.member(f"{name}/{inner_name}", payload)
    else:
        yield from ctx.member(name, data)


def _head(pkg: Package, info: Any) -> bytes:
    try:
        with pkg.zf.open(info) as fh:
            head: bytes = fh.read(512)
            return head
    except (OSError, EOFError, RuntimeError, NotImplementedError, zlib.error) as exc:
        raise Unscannable(f"damaged ZIP member {info.filename!r}: {exc}") from exc


def _is_xml(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:64].count(b"\x00") > 8 and b"<\x00" in head[:64]:
        return True
    return text.startswith(b"<")


def _read_again(pkg: Package, info: Any, ctx: Context) -> bytes:
    """A part a reader already read (and charged to the budget) read once more, within the part limit."""
    limit = ctx.limits.xml_part_bytes
    try:
        with pkg.zf.open(info) as fh:
            data: bytes = fh.read(limit + 1)
    except (OSError, EOFError, RuntimeError, NotImplementedError, zlib.error) as exc:
        raise Unscannable(f"damaged ZIP member {info.filename!r}: {exc}") from exc
    if len(data) > limit:
        raise Unscannable(f"member {info.filename!r} is too big to read")
    return data


def _part_bytes(pkg: Package, info: Any, ctx: Context, visited: bool) -> bytes:
    if not visited:
        return read_member_limited(pkg.zf, info, ctx, ctx.limits.xml_part_bytes)
    data = _read_again(pkg, info, ctx)
    if _WORKSHEET.search(info.filename.lower()):
        # The sheet reader read and rendered every cell; raw <v> values would report
        # numbers as stored rather than as shown. The rest (validation prompts,
        # hyperlinks, header/footer, ...) is swept.
        data = _cut_sheet_data(data)
    return data


def _cut_sheet_data(data: bytes) -> bytes:
    start = _SHEET_DATA.search(data)
    if start is None:
        return data
    close = data.find(b">", start.start())
    if close > 0 and data[close - 1 : close] == b"/":
        return data
    end = _SHEET_DATA_END.search(data, start.end())
    if end is None:
        return data
    return data[: start.start()] + data[end.end() :]


def _sweep_xml(pkg: Package, ctx: Context, name: str, info: Any, seen: SeenTexts, visited: bool) -> Iterator[Event]:
    data = _part_bytes(pkg, info, ctx, visited)
    if len(data) <= _TREE_LIMIT:
        root = parse_xml(data, name, pkg.kind)
        blocks: list[str] = []
        _walk(root, [], blocks)
    else:
        blocks = _stream_blocks(data, name, pkg.kind)
    residue = _residue(blocks, seen)
    if visited:
        for text in residue:
            yield ctx.segment(text, Location("package", name=name))
        return
    # A part no reader knows: its text in chunks, as the metadata segments always were.
    bits: list[str] = []
    size = 0
    for text in residue:
        bits.append(text)
        size += len(text)
        if size >= _CHUNK:
            yield ctx.segment("\n".join(bits), Location("metadata", name=name))
            bits, size = [], 0
    if bits:
        yield ctx.segment("\n".join(bits), Location("metadata", name=name))


def _residue(blocks: list[str], seen: SeenTexts) -> list[str]:
    """Blocks the readers did not yield, once each; shorter than any value we look for: dropped."""
    out: list[str] = []
    emitted: set[str] = set()
    for block in blocks:
        norm = " ".join(block.split())
        if len(norm) >= _MIN_BLOCK and norm not in emitted and norm.lower() not in _FLAGS and norm not in seen:
            emitted.add(norm)
            out.append(block.strip())
    return out


def _attrs(el: Any, name: str, blocks: list[str]) -> None:
    for key, value in el.attrib.items():
        local = key.rsplit("}", 1)[-1].lower()
        if (
            local in _ATTRS
            or (local == "val" and name in _VAL_ELEMENTS)
            or (local == "name" and name in _NAME_ELEMENTS)
        ):
            if value and value.strip():
                blocks.append(value)


def _walk(el: Any, cur: list[str], blocks: list[str]) -> None:
    """Blocks of ``el``'s subtree: text of inline elements joined, other elements apart."""
    name = local_name(el.tag).lower()
    if not name:  # comment or processing instruction: not shown
        return
    inline = name in _INLINE
    if not inline and cur:
        blocks.append("".join(cur))
        cur.clear()
    if el.attrib:
        _attrs(el, name, blocks)
    if name in _BREAKS:
        cur.append(_BREAKS[name])
    if el.text and name not in _LAYOUT_TEXT:
        cur.append(el.text)
    for child in el:
        _walk(child, cur, blocks)
        if child.tail and child.tail.strip():
            cur.append(child.tail)
    if not inline and cur:
        blocks.append("".join(cur))
        cur.clear()


def _stream_blocks(data: bytes, name: str, kind: str) -> list[str]:
    """Blocks of a big part, streamed: text in document order, tails of inline children kept."""
    check_prolog(data[:PROLOG_SCAN], name)
    blocks: list[str] = []
    cur: list[str] = []
    kinds: dict[Any, tuple[str, bool]] = {}  # tag -> (lower-case local name, inline): one lookup per element
    try:
        for _, el in etree.iterparse(io.BytesIO(data), events=("end",), **PARSER_OPTIONS):
            kind_of = kinds.get(el.tag)
            if kind_of is None:
                local = local_name(el.tag).lower()
                kind_of = kinds[el.tag] = (local, local in _INLINE)
            local, inline = kind_of
            if not local:
                continue
            if el.attrib:
                _attrs(el, local, blocks)
            text = el.text
            if text and local not in _LAYOUT_TEXT and not len(el):
                cur.append(text)
            if not inline:
                if cur:
                    blocks.append("".join(cur))
                    cur.clear()
                el.clear()
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
    except etree.XMLSyntaxError as exc:
        raise PackageError(f"damaged {kind} (XML error in {name}: {exc})") from exc
    return blocks


def _rels_parts(pkg: Package) -> list[str]:
    return [n for n in pkg.names if n.lower().endswith(".rels")]


def _rels_of(pkg: Package, rels_part: str) -> list[Any]:
    """Relationships of a .rels part, via the package cache (source part from the rels name)."""
    folder, _, base = rels_part.rpartition("/")
    if not folder.lower().endswith("_rels") and folder.lower() != "_rels":
        return []
    source_folder = folder[: -len("_rels")].rstrip("/")
    source = base[: -len(".rels")]
    part = f"{source_folder}/{source}" if source_folder else source
    try:
        return list(pkg.rels(part))
    except PackageError:
        return []


def _sweep_rels(pkg: Package, ctx: Context, name: str, seen: SeenTexts) -> Iterator[Event]:
    """External targets (hyperlinks, linked files and templates): URLs a recipient hovers or opens."""
    root = parse_xml(_read_again(pkg, pkg.info(name), ctx), name, pkg.kind)
    targets = [
        el.get("Target") or ""
        for el in root.iter(f"{{{PKG_REL}}}Relationship")
        if (el.get("TargetMode") or "").lower() == "external"
    ]
    for text in _residue(targets, seen):
        yield ctx.segment(text, Location("package", name=name))


def strings_readable(data: bytes) -> bool:
    """False for a binary that is compressed or encrypted (nothing we could read in it)."""
    if len(data) < 4096:
        return True
    sample = data[:65536]
    printable = sum(len(m.group(0)) for m in _PRINTABLE.finditer(sample))
    if printable * 10 >= len(sample):
        return True
    return len(zlib.compress(sample, 1)) < len(sample) * 0.95


def strings_segments(ctx: Context, name: str, data: bytes) -> Iterator[Event]:
    """Printable runs (ASCII and UTF-16LE, four characters or more) of a binary no reader knows."""
    bits: list[str] = []
    size = 0
    for m in _PRINTABLE.finditer(data):
        raw = m.group(0)
        text = raw.decode("utf-16-le", "replace") if raw[1:2] == b"\x00" else raw.decode("latin-1")
        text = text.strip()
        if len(text) >= 4:
            bits.append(text)
            size += len(text)
            if size >= _CHUNK:
                yield ctx.segment("\n".join(bits), Location("package", name=name))
                bits, size = [], 0
    if bits:
        yield ctx.segment("\n".join(bits), Location("package", name=name))


# --- altChunk ----------------------------------------------------------------------


def _sweep_altchunk(pkg: Package, ctx: Context, name: str, seen: SeenTexts, visited: bool) -> Iterator[Event]:
    """An imported HTML/MHT/RTF/text document, decoded; a DOCX altChunk goes in as a member."""
    info = pkg.info(name)
    assert info is not None
    data = _read_again(pkg, info, ctx) if visited else read_member_limited(pkg.zf, info, ctx, ctx.limits.xml_part_bytes)
    if data.startswith(_DOCUMENT_MAGIC):
        if not visited:
            yield from member_events(ctx, name, data)
        return
    text = altchunk_text(data, name)
    blocks = [line for line in text.split("\n") if line.strip()]
    residue = _residue(blocks, seen)
    if residue:
        yield ctx.segment("\n".join(residue), Location("package", name=name))


def altchunk_text(data: bytes, name: str) -> str:
    """Visible text of an imported chunk: markup stripped, entities decoded."""
    low = name.lower()
    head = data[:2048].lstrip().lower()
    if head.startswith(b"{\\rtf") or low.endswith(".rtf"):
        return rtf_to_text(data)
    if low.endswith((".mht", ".mhtml")) or head.startswith((b"mime-version", b"content-type", b"from:")):
        return _mht_text(data)
    text = _decode(data)
    if low.endswith((".txt",)) and b"<" not in head:
        return text
    return html_to_text(text)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    m = re.search(rb"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", data[:4096])
    if m:
        try:
            return data.decode(m.group(1).decode("ascii"), "replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _mht_text(data: bytes) -> str:
    msg = email.message_from_bytes(data)
    out: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        ctype = part.get_content_type()
        if ctype in ("text/html", "application/xhtml+xml"):
            out.append(html_to_text(_decode(payload)))
        elif ctype.startswith("text/"):
            out.append(_decode(payload))
    return "\n".join(out)


# --- OLE objects ---------------------------------------------------------------------


def unwrap_ole_package(data: bytes) -> tuple[str, bytes] | None:
    """The file inside an OLE ``\\x01Ole10Native`` (Packager) or ``Package``/``CONTENTS`` stream."""
    if not data.startswith(_OLE):
        return None
    try:
        import olefile  # deferred: olefile is needed only for a package with embedded OLE objects

        ole = olefile.OleFileIO(data)
    except Exception:
        return None
    try:
        streams = {"/".join(s).lower(): s for s in ole.listdir(streams=True, storages=False)}
        if "\x01ole10native" in streams:
            return _parse_ole10native(ole.openstream(streams["\x01ole10native"]).read())
        for key, label in (("package", "package"), ("contents", "contents")):
            if key in streams:
                return label, ole.openstream(streams[key]).read()
    except Exception:
        return None
    finally:
        ole.close()
    return None


def _parse_ole10native(blob: bytes) -> tuple[str, bytes] | None:
    """Ole10Native: u32 size, u16 flags, label\\0, path\\0, u16, u16, u32 n, temp path, u32 len, data."""
    try:
        pos = 6
        label_end = blob.index(b"\x00", pos)
        label = blob[pos:label_end].decode("latin-1", "replace")
        pos = blob.index(b"\x00", label_end + 1) + 1  # original path
        pos += 4  # two u16 of reserved/unknown
        (n,) = struct.unpack_from("<I", blob, pos)
        pos += 4 + n  # temp path (with its NUL)
        (size,) = struct.unpack_from("<I", blob, pos)
        pos += 4
        if size > len(blob) - pos:
            return None
        name = label.replace("\\", "/").rsplit("/", 1)[-1] or "embedded"
        return name, blob[pos : pos + size]
    except (ValueError, struct.error):
        return None
