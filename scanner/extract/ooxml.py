"""What the three OOXML extractors (DOCX, XLSX, PPTX) share beyond the package model.

The package itself (parts, relationships, safe XML) is ``scanner.ooxml``, which the label
writer reads packages through too. Here: the scan's way of reading parts (every byte
charged to the file's budget, big parts streamed), namespace families, document
properties, the parts nothing else read, and embedded objects.

The extractors read the package's XML parts directly with lxml rather than through
python-docx/openpyxl object models: those are 20-55x slower here and hide the places
where text hides (comments, tracked deletions, hidden sheets, custom properties).

Safety rules every part follows:

* bytes come out of the ZIP only through ``read_member_limited`` (or ``PartStream``,
  which applies the same size, ratio and budget checks while streaming), so a zip bomb
  inside a package costs nothing;
* a part whose prolog declares entities is refused before lxml sees it (billion laughs,
  XXE), and the parser is configured never to resolve entities, load a DTD or touch the
  network anyway (``scanner.ooxml.xml``);
* a package that is damaged (bad ZIP, missing main part, malformed XML) raises
  ``Unscannable``: we never report "clean" for text we could not read.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from lxml import etree

from scanner.extract.archive import read_member_limited
from scanner.extract.base import Context, Source, Unscannable
from scanner.extract.ooxml_sweep import SeenTexts, sweep_package, unwrap_ole_package
from scanner.labels.existing import effective_label, label_info_entries
from scanner.limits import MiB
from scanner.model import Event, Location, Segment
from scanner.ooxml.package import Package, StreamedPart
from scanner.ooxml.xml import PARSER_OPTIONS, PROLOG_SCAN, PackageError, check_prolog, local_name, short_reason

_STREAM_BLOCK = 256 * 1024  # bytes per read when iterparse asks for "all"

# --- namespaces -----------------------------------------------------------------
# Transitional and Strict OOXML use different namespace URIs for the same vocabulary.
# Each extractor asks ``Names.for_root`` which family a package uses and builds its tags
# from that, so both kinds of file go through one code path.

MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
VML = "urn:schemas-microsoft-com:vml"

_TRANSITIONAL = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "p": "http://schemas.openxmlformats.org/presentationml/2006/main",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
_STRICT = {
    "w": "http://purl.oclc.org/ooxml/wordprocessingml/main",
    "x": "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "p": "http://purl.oclc.org/ooxml/presentationml/main",
    "a": "http://purl.oclc.org/ooxml/drawingml/main",
    "c": "http://purl.oclc.org/ooxml/drawingml/chart",
    "r": "http://purl.oclc.org/ooxml/officeDocument/relationships",
}


@dataclass(frozen=True, slots=True)
class Names:
    """Namespace URIs of one package family; ``tag("w", "t")`` gives a Clark name."""

    uris: dict[str, str]
    strict: bool

    @classmethod
    def for_root(cls, root_tag: str, main: str | None = None) -> Names:
        """The family of a main part's root; ``main`` ("w", "x", "p") takes the root's own URI.

        Taking the main vocabulary's URI from the root itself means a pre-release or
        otherwise unexpected namespace (Office 2007 beta files exist) is read, not
        silently matched against nothing.
        """
        strict = root_tag.startswith("{http://purl.oclc.org/ooxml/")
        uris = dict(_STRICT if strict else _TRANSITIONAL)
        if main is not None and root_tag.startswith("{"):
            uris[main] = root_tag[1:].split("}", 1)[0]
        return cls(uris, strict)

    def tag(self, prefix: str, local: str) -> str:
        return f"{{{self.uris[prefix]}}}{local}"

    def rid(self, el: Any, local: str = "id") -> str | None:
        """A relationship-id attribute (r:id, r:embed, ...) in either namespace family."""
        value: str | None = el.get(f"{{{self.uris['r']}}}{local}")
        if value is None:
            other = _TRANSITIONAL if self.strict else _STRICT
            value = el.get(f"{{{other['r']}}}{local}")
        return value


def expect_root(root: Any, local: str, part: str, kind: str) -> None:
    """Fail closed when a main part is not what it claims (we would read nothing from it)."""
    if local_name(root.tag) != local:
        raise Unscannable(f"damaged {kind} ({part} is a <{local_name(root.tag)}>, not a <{local}>)")


# --- streaming ---------------------------------------------------------------------


def iterparse(
    stream: StreamedPart,
    part: str,
    kind: str,
    tags: tuple[str, ...] | None,
    events: tuple[str, ...] = ("end",),
) -> Iterator[tuple[str, Any]]:
    """Stream (event, element) pairs of a big part with the same safe options."""
    try:
        yield from etree.iterparse(stream, events=events, tag=tags, **PARSER_OPTIONS)
    except etree.XMLSyntaxError as exc:
        raise Unscannable(f"damaged or truncated {kind} (XML error in {part}: {short_reason(exc)})") from exc


def release(el: Any) -> None:
    """Free a streamed element and the finished siblings before it (iterparse keeps them otherwise)."""
    el.clear()
    parent = el.getparent()
    if parent is None:  # the root (or a node beside it, such as a comment before the root)
        return
    while el.getprevious() is not None:
        del parent[0]


# --- package --------------------------------------------------------------------


class PartStream(io.RawIOBase):
    """A part read incrementally (for iterparse) under the same limits as ``read_member_limited``.

    Big worksheets and shared-string tables are streamed rather than held as bytes, so
    a 50 MB sheet costs a few hundred KB of buffers instead of two copies of itself.
    """

    def __init__(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, ctx: Context, max_bytes: int, kind: str) -> None:
        super().__init__()
        if info.flag_bits & 0x1:
            raise Unscannable("encrypted ZIP member")
        self._info = info
        self._ctx = ctx
        self._max = max_bytes
        self._compressed = max(info.compress_size, 1)
        self._count = 0
        try:
            self._fh = zf.open(info)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise Unscannable(f"damaged or truncated {kind} (part {info.filename}: {exc})") from exc
        first = self._pull(PROLOG_SCAN)
        try:
            check_prolog(first, info.filename)
        except PackageError as exc:  # the caller catches Unscannable around a stream (xlsx damage report)
            raise Unscannable(str(exc)) from exc
        self._pending = first

    def readable(self) -> bool:
        return True

    def _pull(self, n: int) -> bytes:
        try:
            block = self._fh.read(n)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
            raise Unscannable(f"damaged ZIP member {self._info.filename!r}: {exc}") from exc
        if block:
            self._count += len(block)
            self._ctx.charge_expanded(len(block))
            if self._count > self._max:
                raise Unscannable(f"member {self._info.filename!r} expands beyond {self._max // MiB} MiB")
            ratio_limit = self._ctx.limits.archive_ratio
            if self._count > MiB and self._count / self._compressed > ratio_limit:
                raise Unscannable(
                    f"member {self._info.filename!r} compression ratio above {ratio_limit:.0f}:1 (possible zip bomb)"
                )
        return block

    def read(self, n: int | None = -1) -> bytes:
        if self._pending:
            block, self._pending = self._pending, b""
            return block
        return self._pull(n if n and n > 0 else _STREAM_BLOCK)

    def close(self) -> None:
        try:
            self._fh.close()
        finally:
            super().close()


class _ScanReader:
    """The scan's ``PartReader``: every byte read counts against the file's budget and limits."""

    def __init__(self, zf: zipfile.ZipFile, ctx: Context, kind: str) -> None:
        self._zf = zf
        self._ctx = ctx
        self._kind = kind

    def read(self, info: zipfile.ZipInfo) -> bytes:
        return read_member_limited(self._zf, info, self._ctx, self._ctx.limits.xml_part_bytes)

    def stream(self, info: zipfile.ZipInfo) -> PartStream:
        return PartStream(self._zf, info, self._ctx, self._ctx.limits.xml_part_bytes, self._kind)


class open_package:
    """``with open_package(src, ctx, "DOCX") as pkg:`` — BadZipFile becomes Unscannable."""

    def __init__(self, src: Source, ctx: Context, kind: str) -> None:
        self._src = src
        self._ctx = ctx
        self._kind = kind
        self._fh: IO[bytes] | None = None
        self._zf: zipfile.ZipFile | None = None

    def __enter__(self) -> Package:
        try:
            self._fh = self._src.open()
            self._zf = zipfile.ZipFile(self._fh)
            return Package(self._zf, self._kind, _ScanReader(self._zf, self._ctx, self._kind))
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            self.__exit__(None, None, None)
            raise Unscannable(f"damaged or truncated {self._kind} ({short_reason(exc)})") from exc
        except PackageError as exc:
            self.__exit__(None, None, None)
            raise Unscannable(str(exc)) from exc
        except Unscannable:
            self.__exit__(None, None, None)
            raise

    def __exit__(self, *exc: object) -> None:
        if self._zf is not None:
            self._zf.close()
        if self._fh is not None:
            self._fh.close()


# --- text helpers -----------------------------------------------------------------

_XESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_xstring(text: str) -> str:
    """OOXML's ``_xHHHH_`` escapes (ST_Xstring) back to characters; ``_x005F_`` is a literal '_'."""
    if "_x" not in text:
        return text
    return _XESC.sub(lambda m: chr(int(m.group(1), 16)), text)


def drawing_paragraphs(root: Any, names: Names) -> list[str]:
    """Text of a DrawingML tree (shape text, SmartArt data, chart titles) one entry per a:p.

    Chart category/series names cached as ``c:strCache`` values are text a reader sees
    too, so they are included.
    """
    a_p, a_t, a_br = names.tag("a", "p"), names.tag("a", "t"), names.tag("a", "br")
    out: list[str] = []
    for p in root.iter(a_p):
        bits = [("\n" if el.tag == a_br else (el.text or "")) for el in p.iter(a_t, a_br)]
        text = "".join(bits).strip()
        if text:
            out.append(text)
    c_str, c_v = names.tag("c", "strCache"), names.tag("c", "v")
    for cache in root.iter(c_str):
        for v in cache.iter(c_v):
            if v.text and v.text.strip():
                out.append(v.text.strip())
    return out


# --- properties, labels, macros, embeddings ----------------------------------------

_CORE_SKIP = {"created", "modified", "lastPrinted", "revision"}  # dates and counters: no one's data
_APP_KEEP = ("Company", "Manager", "HyperlinkBase")


def _prop_parts(pkg: Package) -> dict[str, str]:
    """core/app/custom property part names, from the package rels or the usual names."""
    found: dict[str, str] = {}
    for r in pkg.rels(""):
        if r.external or not pkg.has(r.target):
            continue
        if r.kind == "coreproperties":
            found.setdefault("core", r.target)
        elif r.kind == "extendedproperties":
            found.setdefault("app", r.target)
        elif r.kind == "customproperties":
            found.setdefault("custom", r.target)
    for key, usual in (("core", "docProps/core.xml"), ("app", "docProps/app.xml"), ("custom", "docProps/custom.xml")):
        if key not in found and pkg.has(usual):
            found[key] = usual
    return found


def iter_properties(pkg: Package, ctx: Context) -> Iterator[Event]:
    """Document properties as ``property`` segments, plus an ``existing_label`` note."""
    parts = _prop_parts(pkg)
    core = pkg.xml_or_none(parts.get("core"))
    if core is not None:
        for el in core:
            name = local_name(el.tag)
            if not name or name in _CORE_SKIP:
                continue
            text = "".join(el.itertext()).strip()
            if text:
                yield ctx.segment(text, Location("property", name=name))
    app = pkg.xml_or_none(parts.get("app"))
    if app is not None:
        for el in app:
            name = local_name(el.tag)
            if name in _APP_KEEP:
                text = "".join(el.itertext()).strip()
                if text:
                    yield ctx.segment(text, Location("property", name=name))
    custom = pkg.xml_or_none(parts.get("custom"))
    values: dict[str, str] = {}
    if custom is not None:
        for el in custom:
            name = el.get("name")
            if not name:
                continue
            text = "".join(el.itertext()).strip()
            values[name] = text
            if text:
                yield ctx.segment(text, Location("property", name=name))
    # What relabelling would see as the previous label: the writer applies the same rule.
    label = effective_label(values, _label_info(pkg))
    if label is not None:
        yield ctx.note("existing_label", label.to_dict())


def _label_info(pkg: Package) -> list[dict[str, str]]:
    """Label entries of newer Office's ``docMetadata/LabelInfo.xml`` (package rel "classificationlabels")."""
    out: list[dict[str, str]] = []
    for target in pkg.related("", "classificationlabels"):
        out.extend(label_info_entries(pkg.xml(target)))
    return out


# Parts that hold layout, formatting or bookkeeping, never the document's own words.
_STRUCTURAL = re.compile(
    r"(^|/)(styles|styleswitheffects|fonttable|websettings|numbering|settings|theme\d*|themeoverride\d*"
    r"|commentsextended|commentsids|commentsextensible|people|tablestyles|presprops|viewprops|calcchain"
    r"|itemprops\d*|app|core|custom|volatiledependencies|metadata|sheetmetadata|persons?|person\d*"
    r"|commentauthors|authors|style\d*|colors\d*|quickstyle\d*|layout\d*|fonts?\d*)\.xml$"
    r"|/(slidelayouts|slidemasters|notesmasters|handoutmasters|printersettings|theme|_xmlsignatures"
    r"|customxml/_rels|webextensions|activex|ink)/"
    r"|/diagrams/drawing\d*\.xml$"
)
_UNREAD_ATTRS = ("v", "connection", "command")
_UNREAD_CHUNK = 65536


def iter_unread_parts(pkg: Package, ctx: Context) -> Iterator[Event]:
    """Text of XML parts that nothing above read (the XLSB reader's safety net; the OOXML
    extractors use the fuller ``ooxml_sweep`` instead, which also reads residue and binaries).

    Orphan sheets or slides (in the ZIP, not in the workbook), pivot caches (a full copy
    of the source data, kept after the source sheet is deleted), custom XML data stores,
    external-link caches, data connections (connection strings) travel with the file
    even though no extractor walks to them. Their text nodes (and the value attributes
    pivot caches and connections use) become ``metadata`` segments named by part.
    """
    for name in sorted(pkg.names):
        low = name.lower()
        if (
            low in pkg.visited
            or not low.endswith(".xml")
            or "_rels/" in low
            or low == "[content_types].xml"
            or _STRUCTURAL.search("/" + low)
        ):
            continue
        with pkg.stream(name) as stream:
            bits: list[str] = []
            size = 0
            for _, el in iterparse(stream, name, pkg.kind, None):
                text = el.text.strip() if isinstance(el.text, str) else ""
                if text:
                    bits.append(text)
                    size += len(text)
                for attr in _UNREAD_ATTRS:
                    value = el.get(attr) if isinstance(el.tag, str) else None
                    if value and value.strip():
                        bits.append(value.strip())
                        size += len(value)
                release(el)
                if size >= _UNREAD_CHUNK:
                    yield ctx.segment("\n".join(bits), Location("metadata", name=name))
                    bits, size = [], 0
            if bits:
                yield ctx.segment("\n".join(bits), Location("metadata", name=name))


def has_macros(pkg: Package) -> bool:
    """VBA projects (any ``vbaProject.bin``) and Excel 4 macro sheets."""
    for name in pkg.names:
        low = name.lower()
        if low.endswith("vbaproject.bin") or low.startswith("xl/macrosheets/"):
            return True
    return False


def iter_embedded(pkg: Package, ctx: Context, folders: tuple[str, ...]) -> Iterator[Event]:
    """Every embedded object (``word/embeddings/*`` ...) scanned as a nested document.

    OLE "Package" wrappers (how Office embeds an arbitrary file) are unwrapped so the file
    inside is what gets scanned; other OLE objects go to the registry as they are.
    """
    for name in sorted(pkg.names):
        low = name.lower()
        if not any(low.startswith(f) for f in folders):
            continue
        info = pkg.info(name)
        assert info is not None
        data = read_member_limited(pkg.zf, info, ctx, ctx.limits.archive_member_bytes)
        inner = unwrap_ole_package(data)
        if inner is not None:
            inner_name, payload = inner
            yield from ctx.member(f"{name}/{inner_name}", payload)
        else:
            yield from ctx.member(name, data)


def column_letters(index: int) -> str:
    """Spreadsheet-style column name of a 0-based index: 0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def extract_package(
    src: Source,
    ctx: Context,
    kind: str,
    main_default: str,
    embeddings: str,
    read_main: Callable[[Package, Context, str], Iterator[Event]],
    binary_reason: str | None = None,
) -> Iterator[Event]:
    """The shape every OOXML extractor shares: open safely, read the main document and
    the properties with the dedicated readers, then sweep every part (``ooxml_sweep``):
    the residue the readers did not yield, the parts they never read, embedded objects."""
    try:
        with open_package(src, ctx, kind) as pkg:
            main = pkg.main_part(main_default)
            if binary_reason and main.lower().endswith(".bin"):
                raise Unscannable(binary_reason)
            if has_macros(pkg):
                yield ctx.note("macros", True)
            seen = SeenTexts()
            yield from _remember(read_main(pkg, ctx, main), seen, ctx.doc)
            yield from _remember(iter_properties(pkg, ctx), seen, ctx.doc)
            # Macro source is text anyone who opens the macros sees: the VBA reader reads every
            # project (any *vbaProject.bin, or the main part's vbaProject target) and the sweep skips them.
            from scanner.extract.vba import iter_vba_projects, vba_project_parts  # deferred: start-up time

            vba_parts = vba_project_parts(pkg, main)
            yield from _remember(iter_vba_projects(pkg, ctx, vba_parts), seen, ctx.doc)
            yield from sweep_package(pkg, ctx, seen, embeddings.lower(), {p.lower() for p in vba_parts})
    except PackageError as exc:  # the package model's words, reported as this document's problem
        raise Unscannable(str(exc)) from exc


def _remember(events: Iterator[Event], seen: SeenTexts, doc: str) -> Iterator[Event]:
    """Pass the readers' events on, keeping the text of this document's segments for the sweep."""
    for ev in events:
        if type(ev) is Segment and ev.doc == doc:
            seen.add(ev.text)
        yield ev
