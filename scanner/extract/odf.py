"""OpenDocument (.odt/.ods/.odp, and packages without a ``mimetype`` member).

Parts read, each parsed safely (``ooxml.xml.parse_xml``: no entity declarations, no DTD,
no network):

* ``content.xml``: text paragraphs (``body``, 0-based paragraph index), tables in text
  (``table`` + cell), spreadsheet cells (``sheet``/``hidden_sheet`` + sheet + cell), slides
  (``slide`` + page number, hidden ones too) and their speaker notes (``notes``), comments
  (``office:annotation``: ``comment``, ``cell_comment`` in a sheet), foot/endnotes, tracked
  changes, text boxes, and the text a reader gets by hovering or in a field (link targets,
  hidden and conditional text, a cell's formula, svg title/description).
* ``styles.xml``: the master pages, where headers and footers (and a presentation's
  master-slide text) live.
* ``meta.xml``: document properties, user-defined ones included (``property``).
* ``Object N/`` sub-packages (an embedded chart, formula or document): repackaged and read
  as a nested document. Any other file in the package that is not a picture, thumbnail or
  configuration (an embedded OLE object, macros) is a nested document too.

Not read: ``settings.xml`` (view settings) and pictures (images, as in OOXML).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from functools import partial
from typing import Any, NamedTuple

from scanner.extract.archive import Member, check_member_count, read_member_limited, scan_members
from scanner.extract.base import Context, Source, Unscannable
from scanner.model import Event, Location, Segment
from scanner.ooxml.xml import PackageError, local_name, parse_xml

_MAX_SPACES = 64  # a text:s c="1000000" is spacing, not text worth a megabyte
_SKIP_PREFIXES = ("META-INF/", "Thumbnails/", "Pictures/", "ObjectReplacements/", "Configurations2/")
_SKIP_NAMES = frozenset({"mimetype", "settings.xml", "manifest.rdf", "layout-cache"})
_READ_NAMES = ("content.xml", "styles.xml", "meta.xml")
_OBJECT_PART = re.compile(r"^(.+)/(content|styles|meta)\.xml$")
# Attributes whose value a reader sees: a link's target on hover, hidden or conditional
# text, a cell's formula in the formula bar, a cell's string value.
_SHOWN_ATTRS = frozenset(
    {"href", "string-value", "string-value-if-true", "string-value-if-false", "formula", "title", "description"}
)
_NOTE_PARTS = {"footnote": "footnote", "endnote": "endnote"}
_SEPARATE = frozenset({"annotation", "note", "frame", "text-box", "custom-shape", "tracked-changes"})
_NO_TEXT = frozenset({"annotation-end", "bookmark", "bookmark-start", "bookmark-end", "soft-page-break"})


class _Where(NamedTuple):
    part: str
    page: int | None = None
    sheet: str | None = None
    cell: str | None = None
    name: str | None = None


def extract_odf(src: Source, ctx: Context) -> Iterator[Event]:
    fh = src.open()
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        fh.close()
        raise Unscannable(f"damaged or truncated OpenDocument package ({exc})") from exc
    with fh, zf:
        infos = {i.filename: i for i in zf.infolist() if not i.is_dir()}
        if "content.xml" not in infos:
            raise Unscannable("OpenDocument package without content.xml")
        limit = ctx.limits.xml_part_bytes
        roots: dict[str, Any] = {}
        for name in _READ_NAMES:
            if name in infos:
                try:
                    roots[name] = parse_xml(read_member_limited(zf, infos[name], ctx, limit), name, "OpenDocument")
                except PackageError as exc:
                    raise Unscannable(str(exc)) from exc
        reader = _Reader(ctx)
        yield from reader.content(roots["content.xml"])
        if "styles.xml" in roots:
            yield from reader.master_pages(roots["styles.xml"])
        if "meta.xml" in roots:
            yield from reader.meta(roots["meta.xml"])
        members = list(_members(zf, infos, ctx))
        if members:
            check_member_count(ctx, len(members))
            yield from scan_members(ctx, members)


def _members(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], ctx: Context) -> Iterator[Member]:
    """Embedded ``Object N/`` packages (rebuilt as a ZIP of their own) and other files."""
    folders: dict[str, list[zipfile.ZipInfo]] = {}
    for name in infos:
        m = _OBJECT_PART.match(name)
        if m and not name.startswith(_SKIP_PREFIXES):
            folders.setdefault(m.group(1), [])
    for name, info in infos.items():
        owner = next((f for f in folders if name.startswith(f + "/")), None)
        if owner is not None:
            folders[owner].append(info)
            continue
        if name in _SKIP_NAMES or name in _READ_NAMES or name.startswith(_SKIP_PREFIXES):
            continue
        yield Member(name, info.file_size, partial(read_member_limited, zf, info, ctx, _member_limit(ctx)))
    for folder, parts in folders.items():
        yield Member(folder, sum(p.file_size for p in parts), partial(_repack, zf, parts, folder, ctx))


def _member_limit(ctx: Context) -> int:
    return ctx.limits.archive_member_bytes


def _repack(zf: zipfile.ZipFile, parts: list[zipfile.ZipInfo], folder: str, ctx: Context) -> bytes:
    """An embedded object's files as a package of their own (no mimetype: it is sniffed
    from its content.xml, as a package a tool wrote without one would be)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        for info in parts:
            out.writestr(info.filename[len(folder) + 1 :], read_member_limited(zf, info, ctx, _member_limit(ctx)))
    return buf.getvalue()


class _Reader:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.paragraphs: dict[str, int] = {}
        self.hidden_styles: set[str] = set()

    # --- the three parts ----------------------------------------------------------------

    def content(self, root: Any) -> Iterator[Segment]:
        for el in root:
            if local_name(el.tag) == "automatic-styles":
                self.hidden_styles |= _hidden_styles(el)
        for el in root:
            if local_name(el.tag) != "body":
                continue
            for kind in el:
                name = local_name(kind.tag)
                if name == "presentation" or name == "drawing":
                    yield from self.slides(kind)
                else:
                    yield from self.walk(kind, _Where("body"))

    def master_pages(self, root: Any) -> Iterator[Segment]:
        for el in root.iter():
            if local_name(el.tag) == "automatic-styles":
                self.hidden_styles |= _hidden_styles(el)
        for el in root:
            if local_name(el.tag) != "master-styles":
                continue
            for page in el:
                if local_name(page.tag) != "master-page":
                    continue
                master = _attr(page, "name") or "master page"
                for child in page:
                    name = local_name(child.tag)
                    if name.startswith(("header", "footer")):
                        yield from self.walk(child, _Where(name.split("-", 1)[0], name=master))
                    elif name == "notes":
                        yield from self.walk(child, _Where("notes", name=f"master {master}"))
                    else:
                        yield from self.walk_one(child, _Where("slide", name=f"master {master}"))

    def meta(self, root: Any) -> Iterator[Segment]:
        for holder in root:
            for el in holder:
                name = local_name(el.tag)
                if name in ("document-statistic", "generator", "editing-cycles", "editing-duration", "template"):
                    continue
                text = "".join(el.itertext()).strip()
                if name == "user-defined":
                    name = _attr(el, "name") or name
                if text:
                    yield self.ctx.segment(text, Location("property", name=name))

    # --- structure ----------------------------------------------------------------------

    def slides(self, presentation: Any) -> Iterator[Segment]:
        number = 0
        for page in presentation:
            if local_name(page.tag) != "page":
                yield from self.walk_one(page, _Where("slide"))
                continue
            number += 1
            hidden = _attr(page, "style-name") in self.hidden_styles
            label = _attr(page, "name")
            name = f"{label} (hidden)" if hidden else label
            for child in page:
                if local_name(child.tag) == "notes":
                    yield from self.walk(child, _Where("notes", page=number))
                else:
                    yield from self.walk_one(child, _Where("slide", page=number, name=name))

    def table(self, table: Any, where: _Where) -> Iterator[Segment]:
        tname = _attr(table, "name")
        if where.part == "body":  # a spreadsheet's sheet (a text document's tables are below)
            hidden = _attr(table, "style-name") in self.hidden_styles or _attr(table, "display") == "false"
            base = _Where("hidden_sheet" if hidden else "sheet", sheet=tname)
        else:
            base = _Where("table", page=where.page, name=tname)
        row = 0
        for r in table.iter():
            if local_name(r.tag) != "table-row":
                continue
            col = 0
            for c in r:
                cname = local_name(c.tag)
                if cname not in ("table-cell", "covered-table-cell"):
                    continue
                if len(c) or _shown_attrs(c):
                    yield from self.walk_one(c, base._replace(cell=f"{_column(col)}{row + 1}"))
                col += _int(_attr(c, "number-columns-repeated"))
            row += _int(_attr(r, "number-rows-repeated"))

    def walk(self, el: Any, where: _Where) -> Iterator[Segment]:
        for child in el:
            yield from self.walk_one(child, where)

    def walk_one(self, el: Any, where: _Where) -> Iterator[Segment]:
        name = local_name(el.tag)
        if not name or name in _NO_TEXT:
            return
        if name in ("p", "h"):
            yield from self.paragraph(el, where)
            return
        if name == "table" and where.cell is None:
            yield from self.table(
                el, where if where.part == "body" and self._spreadsheet(el) else where._replace(part="table")
            )
            return
        if name in _SEPARATE:
            where = self._separate(el, name, where)
        for attr_text in _shown_attrs(el):
            yield self._segment(attr_text, where, name)
        text = (el.text or "").strip()
        if text:
            yield self._segment(text, where, name)
        for child in el:
            yield from self.walk_one(child, where)
            tail = (child.tail or "").strip()
            if tail:
                yield self._segment(tail, where, name)

    def paragraph(self, el: Any, where: _Where) -> Iterator[Segment]:
        out: list[str] = []
        later: list[Any] = []
        extra: list[str] = []
        _inline(el, out, later, extra)
        text = "".join(out).strip()
        if text:
            yield self._segment(text, where, None)
        for value in extra:
            yield self._segment(value, where, "field")
        for child in later:
            yield from self.walk_one(child, where)

    # --- helpers ------------------------------------------------------------------------

    def _separate(self, el: Any, name: str, where: _Where) -> _Where:
        if name == "annotation":
            return where._replace(part="cell_comment" if where.part in ("sheet", "hidden_sheet") else "comment")
        if name == "note":
            return where._replace(part=_NOTE_PARTS.get(_attr(el, "note-class") or "footnote", "footnote"))
        if name == "tracked-changes":
            return where._replace(part="tracked_change")
        if name == "text-box" and where.part == "body":
            return where._replace(part="textbox")
        return where

    @staticmethod
    def _spreadsheet(el: Any) -> bool:
        parent = el.getparent()
        return parent is not None and local_name(parent.tag) == "spreadsheet"

    def _segment(self, text: str, where: _Where, name: str | None) -> Segment:
        paragraph = None
        if where.cell is None and where.sheet is None:
            key = f"{where.part}/{where.page}"
            paragraph = self.paragraphs.get(key, 0)
            self.paragraphs[key] = paragraph + 1
        shown_name = where.name if name is None else (f"{where.name}: {name}" if where.name else name)
        loc = Location(
            where.part, page=where.page, sheet=where.sheet, cell=where.cell, paragraph=paragraph, name=shown_name
        )
        return self.ctx.segment(text, loc)


def _inline(el: Any, out: list[str], later: list[Any], extra: list[str]) -> None:
    """A paragraph's text as shown: spans joined, spaces/tabs/breaks rendered; notes,
    comments and frames collected in ``later`` (their own locations), attribute text in ``extra``."""
    if el.text:
        out.append(el.text)
    for child in el:
        name = local_name(child.tag)
        if name in _SEPARATE:
            later.append(child)
        elif name == "s":
            out.append(" " * min(_int(_attr(child, "c")), _MAX_SPACES))
        elif name == "tab":
            out.append("\t")
        elif name == "line-break":
            out.append("\n")
        elif name and name not in _NO_TEXT:
            extra.extend(_shown_attrs(child))
            _inline(child, out, later, extra)
        if child.tail:
            out.append(child.tail)


def _shown_attrs(el: Any) -> list[str]:
    return [v for k, v in el.attrib.items() if local_name(k) in _SHOWN_ATTRS and v.strip() and not v.startswith("#")]


def _hidden_styles(styles: Any) -> set[str]:
    """Automatic styles that hide a sheet (table:display="false") or a slide
    (presentation:visibility="hidden")."""
    hidden: set[str] = set()
    for style in styles:
        for props in style:
            if _attr(props, "display") == "false" or _attr(props, "visibility") == "hidden":
                name = _attr(style, "name")
                if name:
                    hidden.add(name)
    return hidden


def _attr(el: Any, local: str) -> str | None:
    for key, value in el.attrib.items():
        if local_name(key) == local:
            return str(value)
    return None


def _int(value: str | None) -> int:
    try:
        return max(int(value or 1), 1)
    except ValueError:
        return 1


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
