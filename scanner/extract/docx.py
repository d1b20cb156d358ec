"""Word (DOCX/DOCM/DOTX) text: body, tables, headers/footers, notes, comments, tracked
deletions, text boxes, properties and embedded objects, read from the package's XML parts.

Beside the run text, each paragraph reports what a recipient sees by hovering, toggling
field codes or opening a control (``docx_places``): field codes, symbols, ruby text, alt
text, link tooltips and addresses, form-field and content-control entries, ActiveX
values and the branch of alternate content Word does not show. These are segments at
the paragraph's part and number, named by what they are ("field code", "alt text", ...).

Text is read with lxml over ``word/document.xml`` and the parts its relationships name,
not through python-docx: that is 20-36x slower and never shows comments, footnotes or
deleted text, which are exactly where sensitive values hide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from scanner.extract import docx_places as places
from scanner.extract.base import Context, Source
from scanner.extract.ooxml import MC, VML, Names, column_letters, drawing_paragraphs, expect_root, extract_package
from scanner.model import Event, Location
from scanner.ooxml.package import Package, Rel
from scanner.ooxml.xml import parse_xml

# Body text is cut into segments of about this many characters, at paragraph ends.
_CHUNK_CHARS = 8192

_MATH = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_STRICT_MATH = "http://purl.oclc.org/ooxml/officeDocument/math"
_O = "urn:schemas-microsoft-com:office:office"
# Where pictures and shapes keep their alt text (descr) and title, in both namespace families.
_DRAWING_PROPS = tuple(
    f"{{{base}{ns}}}{local}"
    for base in ("http://schemas.openxmlformats.org/drawingml/2006/", "http://purl.oclc.org/ooxml/drawingml/")
    for ns, local in (("wordprocessingDrawing", "docPr"), ("picture", "cNvPr"))
) + (
    "{http://schemas.microsoft.com/office/word/2010/wordprocessingShape}cNvPr",
    "{http://schemas.microsoft.com/office/word/2010/wordprocessingGroup}cNvPr",
)
_VML_SHAPES = tuple(f"{{{VML}}}{local}" for local in ("shape", "rect", "roundrect", "oval", "group", "imagedata"))

_FORM_KINDS = ("form field", "content control", "ActiveX")

# One extra text of a paragraph: (what it is, its text), e.g. ("field code", "QUOTE ...").
Extra = tuple[str, str]


def extract_docx(src: Source, ctx: Context) -> Iterator[Event]:
    return extract_package(
        src,
        ctx,
        "DOCX",
        "word/document.xml",
        "word/embeddings/",
        lambda pkg, c, main: _Document(pkg, c, main).events(),
        "unsupported format: Word binary document inside an OOXML package",
    )


class _Unit(NamedTuple):
    """One paragraph, or one table cell, of a part (a NamedTuple: one is built per paragraph)."""

    text: str
    deleted: str
    para: int  # index of the (first) paragraph within the part
    table: int | None = None  # table number within the part (1-based), for cells
    cell: str | None = None  # "B3": column B, row 3 of that table
    context: str | None = None  # column header and row label of a cell
    extras: tuple[Extra, ...] = ()  # field codes, alt text, ... (see docx_places)


class _Tags:
    """Clark names for one namespace family (Transitional or Strict)."""

    def __init__(self, names: Names) -> None:
        def w(local: str) -> str:
            return names.tag("w", local)

        self.P, self.TBL, self.TR, self.TC = w("p"), w("tbl"), w("tr"), w("tc")
        self.T, self.DELTEXT, self.TAB, self.TABS = w("t"), w("delText"), w("tab"), w("tabs")
        self.BR, self.CR, self.NBH, self.PTAB = w("br"), w("cr"), w("noBreakHyphen"), w("ptab")
        self.SDT, self.SDTCONTENT, self.SDTPR = w("sdt"), w("sdtContent"), w("sdtPr")
        self.TXBX, self.RT, self.SECTPR = w("txbxContent"), w("rt"), w("sectPr")
        self.MOVEFROM = w("moveFrom")
        self.TCPR, self.GRIDSPAN, self.VAL = w("tcPr"), w("gridSpan"), w("val")
        self.TBLPR, self.TBLGRID, self.TRPR = w("tblPr"), w("tblGrid"), w("trPr")
        self.FOOTNOTE, self.ENDNOTE, self.COMMENT = w("footnote"), w("endnote"), w("comment")
        self.ID, self.NAME, self.DOCVAR = w("id"), w("name"), w("docVar")
        self.W = names.uris["w"]
        self.names = names
        self.INSTR, self.DELINSTR, self.FLDCHAR = w("instrText"), w("delInstrText"), w("fldChar")
        self.FLDTYPE, self.FFDATA = w("fldCharType"), w("ffData")
        self.FLDSIMPLE, self.INSTR_ATTR = w("fldSimple"), w("instr")
        self.SYM, self.CHAR, self.FONT = w("sym"), w("char"), w("font")
        self.HYPERLINK, self.TOOLTIP, self.CONTROL = w("hyperlink"), w("tooltip"), w("control")
        self.AC = f"{{{MC}}}AlternateContent"
        self.O_TITLE = f"{{{_O}}}title"
        self.MATH_T = f"{{{_STRICT_MATH if names.strict else _MATH}}}t"
        self.FALLBACK, self.CHOICE = f"{{{MC}}}Fallback", f"{{{MC}}}Choice"
        self.TEXTPATH = f"{{{VML}}}textpath"
        # Elements that never hold document text: skip without looking inside.
        self.no_text = {
            self.SECTPR,
            self.SDTPR,
            self.TBLPR,
            self.TBLGRID,
            self.TRPR,
            self.TCPR,
            w("pPr"),
            w("rPr"),
            w("bookmarkStart"),
            w("bookmarkEnd"),
            w("proofErr"),
        }
        self.run_text = (self.T, self.DELTEXT, self.TAB, self.BR, self.CR, self.NBH, self.PTAB, self.MATH_T)
        # What else a paragraph is walked for (docx_places), each behind the bytes its tag
        # must contain: an element's name cannot be escaped in XML, so a part without the
        # bytes has none of them, and the usual document is walked for run text only (each
        # tag asked for costs lxml's iter time on every element).
        self.place_markers: tuple[tuple[bytes, tuple[str, ...]], ...] = (
            (b"instrText", (self.INSTR, self.DELINSTR)),
            (b"fldChar", (self.FLDCHAR,)),
            (b"fldSimple", (self.FLDSIMPLE,)),
            (b"sym", (self.SYM,)),
            (b"hyperlink", (self.HYPERLINK,)),
            (b"control", (self.CONTROL,)),
            (b"sdtPr", (self.SDTPR,)),
            (b"docPr", _DRAWING_PROPS),
            (b"cNvPr", _DRAWING_PROPS),
            (b"vml", _VML_SHAPES),
            (b"AlternateContent", (places.EXTRA,)),
            (b"rt>", (places.EXTRA,)),
        )
        self.drawing_props = frozenset(_DRAWING_PROPS)
        self.vml_shapes = frozenset(_VML_SHAPES)


class _PartWalker:
    """Turns one word-processing part into units, paragraph by paragraph."""

    def __init__(
        self, tags: _Tags, rels: dict[str, Rel] | None = None, control: Callable[[str], list[str]] | None = None
    ) -> None:
        self.t = tags
        self.para = 0
        self.tables = 0
        self.rels = rels or {}  # the part's relationships: link addresses, ActiveX controls
        self.control = control  # the texts of an ActiveX control's part
        self.pending: list[Extra] = []  # properties of row- and cell-level content controls
        self.paragraph_tags: tuple[str, ...] = tags.run_text  # and the part's place tags (detach_special)

    def fresh(self) -> _PartWalker:
        """A walker for a text box of the same part (its own paragraph count)."""
        walker = _PartWalker(self.t, self.rels, self.control)
        walker.paragraph_tags = self.paragraph_tags
        return walker

    # -- preparation ---------------------------------------------------------------
    def detach_special(self, root: Any, data: bytes) -> tuple[list[Any], list[str]]:
        """Remove what must not be read as part of its paragraph; return text boxes and WordArt.

        * ``mc:AlternateContent`` offers a ``mc:Choice`` and a ``mc:Fallback`` for readers
          that do not know the Choice's namespaces: the branch Word shows is read in place;
          the other, which usually repeats it (every text box twice), is dropped when it
          holds nothing new, and otherwise reported as "alternate content";
        * ``w:moveFrom`` text is the old place of moved text: read as deleted text;
        * ``w:rt`` is phonetic ruby text above the base text: reported as "ruby", apart
          from the paragraph's own text;
        * ``w:txbxContent`` (text boxes) holds whole paragraphs inside a run: detached and
          read on their own as ``textbox`` text;
        * VML ``v:textpath`` (WordArt, watermarks such as "CONFIDENTIAL") keeps its text
          in an attribute.

        The byte checks skip a tree walk for the (usual) documents that have none of these.
        """
        t = self.t
        wanted = [tag for marker, tags in t.place_markers if marker in data for tag in tags]
        self.paragraph_tags = t.run_text + tuple(dict.fromkeys(wanted))
        if b"AlternateContent" in data:
            for ac in list(root.iter(t.AC)):
                places.choose_branch(ac, t.CHOICE, t.FALLBACK)
        if b"moveFrom" in data:
            # Moved text sits in both places: at w:moveTo as body text and at w:moveFrom as a
            # tracked change, like a deletion (Word shows it struck through there).
            for moved in root.iter(t.MOVEFROM):
                for text in moved.iter(t.T):
                    text.tag = t.DELTEXT
        if b"rt>" in data:
            for rt in list(root.iter(t.RT)):
                text = "".join(x.text or "" for x in rt.iter(t.T)).strip()
                rt.getparent().replace(rt, places.extra_element("ruby", text))
        boxes: list[Any] = []
        if b"txbxContent" in data:
            boxes = list(root.iter(t.TXBX))
            for box in boxes:
                box.getparent().remove(box)
        wordart: list[str] = []
        if b"textpath" in data:
            for tp in root.iter(t.TEXTPATH):
                text = (tp.get("string") or "").strip()
                if text:
                    wordart.append(text)
        return boxes, wordart

    # -- block level ---------------------------------------------------------------
    def walk(self, container: Any) -> Iterator[_Unit]:
        t = self.t
        for child in container:
            tag = child.tag
            if tag == t.P:
                index = self.para
                self.para += 1
                text, deleted, extras = self.paragraph(child)
                if deleted or extras or text.strip():
                    yield _Unit(text, deleted, index, extras=extras)
            elif tag == t.TBL:
                yield from self.table(child)
            elif tag == t.SDT:
                for sub in child:
                    if sub.tag == t.SDTCONTENT:
                        yield from self.walk(sub)
                    elif sub.tag == t.SDTPR:
                        found = self.content_control(sub)
                        if found:
                            yield _Unit("", "", self.para, extras=(found,))
            elif tag == places.EXTRA:
                yield _Unit("", "", self.para, extras=((child.get("kind"), child.text or ""),))
            elif tag in t.no_text or not isinstance(tag, str):
                continue
            elif len(child):
                # w:customXml, w:ins/w:del around blocks, mc:AlternateContent/Choice, ...
                yield from self.walk(child)

    def paragraph(self, p: Any) -> tuple[str, str, tuple[Extra, ...]]:
        """(visible text, deleted text, extras) of one paragraph."""
        t = self.t
        out: list[str] = []
        deleted: list[str] = []
        extras: list[Extra] = []
        fields: list[list[str]] = []  # instruction pieces of the fields open at this point
        for el in p.iter(self.paragraph_tags):
            tag = el.tag
            if tag == t.T or tag == t.MATH_T:
                if el.text:
                    out.append(el.text)
            elif tag == t.DELTEXT:
                if el.text:
                    deleted.append(el.text)
            elif tag == t.TAB:
                if el.getparent().tag != t.TABS:  # w:tabs/w:tab is a tab stop, not a character
                    out.append("\t")
            elif tag == t.NBH:
                out.append("-")
            elif tag == t.PTAB:
                out.append("\t")
            elif tag == t.BR or tag == t.CR:
                out.append("\n")
            elif tag == t.SYM:
                out.append(places.symbol_char(el.get(t.CHAR), el.get(t.FONT)))
            else:
                self._place(el, tag, extras, fields)
        for pieces in fields:  # a field that goes on in the next paragraph
            self._field("".join(pieces), extras)
        return "".join(out), "".join(deleted), tuple(dict.fromkeys(extras)) if extras else ()

    def _place(self, el: Any, tag: str, extras: list[Extra], fields: list[list[str]]) -> None:
        """One element of a paragraph that is not run text (see docx_places)."""
        t = self.t
        if tag == t.INSTR or tag == t.DELINSTR:
            if fields:
                fields[-1].append(el.text or "")
            else:
                fields.append([el.text or ""])
        elif tag == t.FLDCHAR:
            kind = el.get(t.FLDTYPE)
            if kind == "begin":
                fields.append([])
                for ff in el.iter(t.FFDATA):
                    name, texts = places.form_field(ff, t.W)
                    if texts:
                        extras.append((f"form field {name}".strip(), "\n".join(texts)))
            elif kind == "end" and fields:
                self._field("".join(fields.pop()), extras)
        elif tag == t.FLDSIMPLE:
            self._field(el.get(t.INSTR_ATTR) or "", extras)
        elif tag == t.HYPERLINK:
            tip = (el.get(t.TOOLTIP) or "").strip()
            if tip:
                extras.append(("tooltip", tip))
            rel = self.rels.get(t.names.rid(el) or "")
            if rel is not None and rel.external:
                address = places.link_data(rel.target)
                if address:
                    extras.append(("link", address))
        elif tag == t.CONTROL:
            rel = self.rels.get(t.names.rid(el) or "")
            if rel is not None and not rel.external and self.control is not None:
                texts = self.control(rel.target)
                if texts:
                    extras.append((f"ActiveX {el.get(t.NAME) or ''}".strip(), "\n".join(texts)))
        elif tag == t.SDTPR:
            found = self.content_control(el)
            if found:
                extras.append(found)
        elif tag == places.EXTRA:
            if el.text:
                extras.append((el.get("kind") or "", el.text))
        elif tag in t.drawing_props:
            for attr, kind in (("descr", "alt text"), ("title", "alt text"), ("name", "shape name")):
                value = (el.get(attr) or "").strip()
                if value:
                    extras.append((kind, value))  # the Alt Text and Selection panes show them
        elif tag in t.vml_shapes:
            for value in (el.get("alt"), el.get("title"), el.get(t.O_TITLE)):
                if value and value.strip():
                    extras.append(("alt text", value.strip()))

    @staticmethod
    def _field(instruction: str, extras: list[Extra]) -> None:
        text = places.field_text(instruction)
        if text:
            extras.append(("field code", text))

    def content_control(self, sdt_pr: Any) -> Extra | None:
        title, texts = places.content_control(sdt_pr, self.t.W)
        return (f"content control {title}".strip(), "\n".join(texts)) if texts else None

    def _children(self, el: Any, tag: str) -> Iterator[Any]:
        """Direct ``tag`` children, also those wrapped in row/cell-level content controls."""
        t = self.t
        for child in el:
            if child.tag == tag:
                yield child
            elif child.tag in (t.SDT, t.SDTCONTENT) or str(child.tag).endswith("}customXml"):
                if child.tag == t.SDT:
                    for pr in child:
                        found = self.content_control(pr) if pr.tag == t.SDTPR else None
                        if found:
                            self.pending.append(found)
                yield from self._children(child, tag)

    def table(self, tbl: Any) -> Iterator[_Unit]:
        t = self.t
        self.tables += 1
        number = self.tables
        header: dict[int, str] = {}
        for row_no, tr in enumerate(self._children(tbl, t.TR), start=1):
            col = 0
            row_label: str | None = None
            for tc in self._children(tr, t.TC):
                texts: list[str] = []
                deleted: list[str] = []
                nested: list[_Unit] = []
                extras, self.pending = self.pending, []
                first = self.para
                for unit in self.walk(tc):
                    if unit.table is not None:
                        nested.append(unit)
                        continue
                    if unit.text.strip():
                        texts.append(unit.text)
                    if unit.deleted:
                        deleted.append(unit.deleted)
                    extras.extend(unit.extras)
                text = "\n".join(texts)
                context = None
                if row_no == 1:
                    if text.strip():
                        header[col] = text.strip()
                else:
                    bits = [b for b in (header.get(col), row_label if col else None) if b]
                    context = " | ".join(bits) if bits else None
                if col == 0 and text.strip():
                    row_label = text.strip()[:200]
                if text.strip() or deleted or extras:
                    cell = f"{column_letters(col)}{row_no}"
                    yield _Unit(text, "\n".join(deleted), first, number, cell, context, tuple(dict.fromkeys(extras)))
                yield from nested
                col += self._span(tc)

    def _span(self, tc: Any) -> int:
        """Grid columns a cell spans (w:tcPr/w:gridSpan). Children are walked, not ``find``-ed:
        ElementPath costs a microsecond a call and tcPr is nearly always the first child."""
        t = self.t
        for pr in tc:
            if pr.tag == t.TCPR:
                for span in pr:
                    if span.tag == t.GRIDSPAN:
                        try:
                            return max(1, int(span.get(t.VAL) or 1))
                        except ValueError:
                            return 1
                return 1
        return 1


class _Document:
    def __init__(self, pkg: Package, ctx: Context, main: str) -> None:
        self.pkg = pkg
        self.ctx = ctx
        self.main = main
        self.tags: _Tags | None = None
        self._controls: dict[str, list[str]] = {}  # ActiveX part -> its texts (a part may be shared)

    def _load(self, part: str) -> tuple[Any, bytes]:
        data = self.pkg.read(part)
        return parse_xml(data, part, "DOCX"), data

    def events(self) -> Iterator[Event]:
        pkg, ctx = self.pkg, self.ctx
        root, data = self._load(self.main)
        expect_root(root, "document", self.main, "DOCX")
        self.tags = _Tags(Names.for_root(root.tag, "w"))
        yield from self._flow_part(root, data, "body", None, self.main)

        rels = pkg.rels(self.main)
        by_kind: dict[str, list[str]] = {}
        for rel in rels:
            if not rel.external and pkg.has(rel.target):
                targets = by_kind.setdefault(rel.kind, [])
                if rel.target not in targets:
                    targets.append(rel.target)
        drawings = {kind: list(by_kind.get(kind, [])) for kind in ("diagramdata", "chart", "chartex")}
        for kind in ("header", "footer"):
            for part in sorted(by_kind.get(kind, []), key=_natural):
                proot, pdata = self._load(part)
                yield from self._flow_part(proot, pdata, kind, part, part)
                # A chart or SmartArt in a header hangs off the header's relationships.
                for dkind, targets in drawings.items():
                    targets.extend(t for t in pkg.related(part, dkind) if t not in targets)
        for kind, part_name, tag in (
            ("footnotes", "footnote", self.tags.FOOTNOTE),
            ("endnotes", "endnote", self.tags.ENDNOTE),
            ("comments", "comment", self.tags.COMMENT),
        ):
            for part in by_kind.get(kind, []):
                yield from self._notes_part(part, part_name, tag)
        for part in by_kind.get("glossarydocument", []):
            groot, gdata = self._load(part)
            yield from self._flow_part(groot, gdata, "body", part, part)
        names = Names.for_root(root.tag)
        for kind in ("diagramdata", "chart"):
            for part in drawings[kind]:
                droot = self.pkg.xml(part)
                texts = drawing_paragraphs(droot, names)
                if texts:
                    yield ctx.segment("\n".join(texts), Location("textbox", name=part))
                values = places.chart_values(droot, names.uris["c"]) if kind == "chart" else []
                if values:
                    yield ctx.segment("\n".join(values), Location("textbox", name=f"{part} values"))
        for part in drawings["chartex"]:
            # Office 2016 charts (waterfall, sunburst, ...): their data cache is cx:pt text.
            texts = places.all_texts(self.pkg.xml(part))
            if texts:
                yield ctx.segment("\n".join(texts), Location("textbox", name=part))
        for part in by_kind.get("settings", []):
            yield from self._doc_vars(part)
        for part in by_kind.get("afchunk", []):
            # altChunk: HTML/MHT/RTF/DOCX pasted in whole; Word renders it as body text.
            yield from ctx.member(part, pkg.read(part))
        for part in sorted(pkg.names):
            # ActiveX controls no paragraph names (their w:control removed, the part kept).
            low = part.lower()
            if low.startswith("word/activex/") and low.endswith(".xml") and low not in pkg.visited:
                texts = self._activex(part)
                if texts:
                    yield ctx.segment("\n".join(texts), Location("form_field", name=part))

    def _activex(self, part: str) -> list[str]:
        """The texts of an ActiveX control's XML part (its binary persistence is the package sweep's)."""
        found = self._controls.get(part)
        if found is None:
            found = self._controls[part] = places.activex_texts(self.pkg.xml(part)) if self.pkg.has(part) else []
        return found

    def _walker(self, source: str) -> _PartWalker:
        assert self.tags is not None
        return _PartWalker(self.tags, self.pkg.rel_map(source), self._activex)

    def _flow_part(self, root: Any, data: bytes, part: str, name: str | None, source: str) -> Iterator[Event]:
        """A part whose content flows like the body: body, glossary, header, footer.

        Consecutive paragraphs outside tables become one segment, one paragraph per line
        (empty paragraphs kept as empty lines), so a value wrapped over several lines (a
        DNA sequence, an address) or a label in the paragraph before its value reads as
        it does on the page. ``paragraph`` is the segment's first paragraph; the n-th line
        is paragraph + n unless a line break (``w:br``) split a paragraph. Table cells stay
        one segment each, with their column header as context. Extras (field codes, alt
        text, ...) are one segment each at their paragraph, named by what they are.
        """
        ctx = self.ctx
        walker = self._walker(source)
        boxes, wordart = walker.detach_special(root, data)
        lines: list[str] = []
        first = last = -1
        size = 0
        for unit in walker.walk(root):
            if unit.table is None and unit.text.strip():
                if lines and unit.para - last > 1:
                    lines.extend([""] * (unit.para - last - 1))
                elif not lines:
                    first = unit.para
                lines.append(unit.text)
                last = unit.para
                size += len(unit.text)
                if size >= _CHUNK_CHARS:
                    yield ctx.segment("\n".join(lines), Location(part, paragraph=first, name=name))
                    lines, size = [], 0
            elif unit.table is not None and (unit.deleted or unit.text.strip()):  # not a cell with extras only
                if lines:
                    yield ctx.segment("\n".join(lines), Location(part, paragraph=first, name=name))
                    lines, size = [], 0
                if unit.text.strip():
                    if part == "body":
                        label = f"table {unit.table}" if name is None else f"{name} table {unit.table}"
                        loc = Location("table", paragraph=unit.para, cell=unit.cell, name=label)
                    else:
                        loc = Location(part, paragraph=unit.para, cell=unit.cell, name=name)
                    yield ctx.segment(unit.text, loc, context=unit.context)
            if unit.deleted:
                yield ctx.segment(unit.deleted, Location("tracked_change", paragraph=unit.para, name=name))
            for kind, text in unit.extras:
                if unit.table is not None and part == "body":
                    label = f"table {unit.table}" if name is None else f"{name} table {unit.table}"
                    loc = _place("table", unit, f"{label} {kind}", kind)
                else:
                    loc = _place(part, unit, _label(name, kind), kind)
                yield ctx.segment(text, loc)
        if lines:
            yield ctx.segment("\n".join(lines), Location(part, paragraph=first, name=name))
        yield from self._boxes(walker, boxes, wordart, name)

    def _boxes(self, parent: _PartWalker, boxes: list[Any], wordart: list[str], name: str | None) -> Iterator[Event]:
        for box in boxes:
            walker = parent.fresh()
            units = list(walker.walk(box))
            text = "\n".join(u.text for u in units if u.text.strip())
            if text:
                yield self.ctx.segment(text, Location("textbox", name=name))
            for unit in units:
                for kind, extra in unit.extras:
                    yield self.ctx.segment(extra, _place("textbox", unit, _label(name, kind), kind))
            deleted = "\n".join(u.deleted for u in units if u.deleted)
            if deleted:
                yield self.ctx.segment(deleted, Location("tracked_change", name=name))
        for text in wordart:
            yield self.ctx.segment(text, Location("textbox", name=name))

    def _notes_part(self, part: str, part_name: str, tag: str) -> Iterator[Event]:
        """footnotes.xml / endnotes.xml / comments.xml: one segment per note."""
        assert self.tags is not None
        root, data = self._load(part)
        walker = self._walker(part)
        boxes, wordart = walker.detach_special(root, data)
        for note in root.iter(tag):
            note_id = note.get(self.tags.ID) or "?"
            units = list(walker.walk(note))
            label = f"{part_name} {note_id}"
            text = "\n".join(u.text for u in units if u.text.strip())
            if text:
                yield self.ctx.segment(text, Location(part_name, name=label))
            deleted = "\n".join(u.deleted for u in units if u.deleted)
            if deleted:
                yield self.ctx.segment(deleted, Location("tracked_change", name=label))
            for unit in units:
                for kind, extra in unit.extras:
                    yield self.ctx.segment(extra, _place(part_name, unit, f"{label} {kind}", kind))
        yield from self._boxes(walker, boxes, wordart, part)

    def _doc_vars(self, part: str) -> Iterator[Event]:
        """Document variables in settings.xml: invisible name/value pairs macros and templates use."""
        assert self.tags is not None
        root = self.pkg.xml(part)
        for var in root.iter(self.tags.DOCVAR):
            value = (var.get(self.tags.VAL) or "").strip()
            if value:
                yield self.ctx.segment(value, Location("property", name=var.get(self.tags.NAME) or "docVar"))


def _place(part: str, unit: _Unit, label: str, kind: str) -> Location:
    """Where an extra is: its paragraph's part, except that what a recipient fills in or
    picks (form fields, content controls, ActiveX controls) is a ``form_field``."""
    if kind.startswith(_FORM_KINDS):
        part = "form_field"
    return Location(part, paragraph=unit.para, cell=unit.cell, name=label)


def _label(name: str | None, kind: str) -> str:
    """'field code' in the body; 'word/header1.xml field code' in a header."""
    return kind if name is None else f"{name} {kind}"


def _natural(name: str) -> tuple[Any, ...]:
    """'header2.xml' before 'header10.xml'."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name))
