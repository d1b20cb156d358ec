"""Word (DOCX/DOCM/DOTX) text: body, tables, headers/footers, notes, comments, tracked
deletions, text boxes, properties and embedded objects, read from the package's XML parts.

Text is read with lxml over ``word/document.xml`` and the parts its relationships name,
not through python-docx: that is 20-36x slower and never shows comments, footnotes or
deleted text, which are exactly where sensitive values hide.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from scanner.extract.base import Context, Source
from scanner.extract.ooxml import MC, VML, Names, column_letters, drawing_paragraphs, expect_root, extract_package
from scanner.model import Event, Location
from scanner.ooxml.package import Package
from scanner.ooxml.xml import parse_xml

# Body text is cut into segments of about this many characters, at paragraph ends.
_CHUNK_CHARS = 8192

_MATH = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_STRICT_MATH = "http://purl.oclc.org/ooxml/officeDocument/math"


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


class _PartWalker:
    """Turns one word-processing part into units, paragraph by paragraph."""

    def __init__(self, tags: _Tags) -> None:
        self.t = tags
        self.para = 0
        self.tables = 0

    # -- preparation ---------------------------------------------------------------
    def detach_special(self, root: Any, data: bytes) -> tuple[list[Any], list[str]]:
        """Remove what must not be read as part of its paragraph; return text boxes and WordArt.

        * ``mc:Fallback`` repeats its ``mc:Choice`` for old readers: dropped, or every
          text box would be read twice;
        * ``w:moveFrom`` text is the old place of moved text: read as deleted text;
        * ``w:rt`` is phonetic ruby text above the base text: not what the reader reads;
        * ``w:txbxContent`` (text boxes) holds whole paragraphs inside a run: detached and
          read on their own as ``textbox`` text;
        * VML ``v:textpath`` (WordArt, watermarks such as "CONFIDENTIAL") keeps its text
          in an attribute.

        The byte checks skip a tree walk for the (usual) documents that have none of these.
        """
        t = self.t
        if b"Fallback" in data:
            for fallback in list(root.iter(t.FALLBACK)):
                parent = fallback.getparent()
                if parent is not None and parent.find(t.CHOICE) is not None:
                    parent.remove(fallback)
        if b"moveFrom" in data:
            # Moved text sits in both places: at w:moveTo as body text and at w:moveFrom as a
            # tracked change, like a deletion (Word shows it struck through there).
            for moved in root.iter(t.MOVEFROM):
                for text in moved.iter(t.T):
                    text.tag = t.DELTEXT
        if b"rt>" in data:
            for rt in list(root.iter(t.RT)):
                rt.getparent().remove(rt)
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
                text, deleted = self.paragraph(child)
                if deleted or text.strip():
                    yield _Unit(text, deleted, index)
            elif tag == t.TBL:
                yield from self.table(child)
            elif tag == t.SDT:
                for sub in child:
                    if sub.tag == t.SDTCONTENT:
                        yield from self.walk(sub)
            elif tag in t.no_text or not isinstance(tag, str):
                continue
            elif len(child):
                # w:customXml, w:ins/w:del around blocks, mc:AlternateContent/Choice, ...
                yield from self.walk(child)

    def paragraph(self, p: Any) -> tuple[str, str]:
        """(visible text, deleted text) of one paragraph."""
        t = self.t
        out: list[str] = []
        deleted: list[str] = []
        for el in p.iter(t.run_text):
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
            else:  # w:br, w:cr
                out.append("\n")
        return "".join(out), "".join(deleted)

    def _children(self, el: Any, tag: str) -> Iterator[Any]:
        """Direct ``tag`` children, also those wrapped in row/cell-level content controls."""
        t = self.t
        for child in el:
            if child.tag == tag:
                yield child
            elif child.tag in (t.SDT, t.SDTCONTENT) or str(child.tag).endswith("}customXml"):
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
                first = self.para
                for unit in self.walk(tc):
                    if unit.table is not None:
                        nested.append(unit)
                        continue
                    if unit.text.strip():
                        texts.append(unit.text)
                    if unit.deleted:
                        deleted.append(unit.deleted)
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
                if text.strip() or deleted:
                    yield _Unit(text, "\n".join(deleted), first, number, f"{column_letters(col)}{row_no}", context)
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

    def _load(self, part: str) -> tuple[Any, bytes]:
        data = self.pkg.read(part)
        return parse_xml(data, part, "DOCX"), data

    def events(self) -> Iterator[Event]:
        pkg, ctx = self.pkg, self.ctx
        root, data = self._load(self.main)
        expect_root(root, "document", self.main, "DOCX")
        self.tags = _Tags(Names.for_root(root.tag, "w"))
        yield from self._flow_part(root, data, "body", None)

        rels = pkg.rels(self.main)
        by_kind: dict[str, list[str]] = {}
        for rel in rels:
            if not rel.external and pkg.has(rel.target):
                targets = by_kind.setdefault(rel.kind, [])
                if rel.target not in targets:
                    targets.append(rel.target)
        for kind in ("header", "footer"):
            for part in sorted(by_kind.get(kind, []), key=_natural):
                proot, pdata = self._load(part)
                yield from self._flow_part(proot, pdata, kind, part)
        for kind, part_name, tag in (
            ("footnotes", "footnote", self.tags.FOOTNOTE),
            ("endnotes", "endnote", self.tags.ENDNOTE),
            ("comments", "comment", self.tags.COMMENT),
        ):
            for part in by_kind.get(kind, []):
                yield from self._notes_part(part, part_name, tag)
        for part in by_kind.get("glossarydocument", []):
            groot, gdata = self._load(part)
            yield from self._flow_part(groot, gdata, "body", part)
        for kind in ("diagramdata", "chart"):
            for part in by_kind.get(kind, []):
                texts = drawing_paragraphs(self.pkg.xml(part), Names.for_root(root.tag))
                if texts:
                    yield ctx.segment("\n".join(texts), Location("textbox", name=part))
        for part in by_kind.get("settings", []):
            yield from self._doc_vars(part)
        for part in by_kind.get("afchunk", []):
            # altChunk: HTML/MHT/RTF/DOCX pasted in whole; Word renders it as body text.
            yield from ctx.member(part, pkg.read(part))

    def _flow_part(self, root: Any, data: bytes, part: str, name: str | None) -> Iterator[Event]:
        """A part whose content flows like the body: body, glossary, header, footer.

        Consecutive paragraphs outside tables become one segment, one paragraph per line
        (empty paragraphs kept as empty lines), so a value wrapped over several lines (a
        DNA sequence, an address) or a label in the paragraph before its value reads as
        it does on the page. ``paragraph`` is the segment's first paragraph; the n-th line
        is paragraph + n unless a line break (``w:br``) split a paragraph. Table cells stay
        one segment each, with their column header as context.
        """
        assert self.tags is not None
        ctx = self.ctx
        walker = _PartWalker(self.tags)
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
            elif unit.table is not None:
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
        if lines:
            yield ctx.segment("\n".join(lines), Location(part, paragraph=first, name=name))
        yield from self._boxes(boxes, wordart, name)

    def _boxes(self, boxes: list[Any], wordart: list[str], name: str | None) -> Iterator[Event]:
        assert self.tags is not None
        for box in boxes:
            walker = _PartWalker(self.tags)
            units = list(walker.walk(box))
            text = "\n".join(u.text for u in units if u.text.strip())
            if text:
                yield self.ctx.segment(text, Location("textbox", name=name))
            deleted = "\n".join(u.deleted for u in units if u.deleted)
            if deleted:
                yield self.ctx.segment(deleted, Location("tracked_change", name=name))
        for text in wordart:
            yield self.ctx.segment(text, Location("textbox", name=name))

    def _notes_part(self, part: str, part_name: str, tag: str) -> Iterator[Event]:
        """footnotes.xml / endnotes.xml / comments.xml: one segment per note."""
        assert self.tags is not None
        root, data = self._load(part)
        walker = _PartWalker(self.tags)
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
        yield from self._boxes(boxes, wordart, part)

    def _doc_vars(self, part: str) -> Iterator[Event]:
        """Document variables in settings.xml: invisible name/value pairs macros and templates use."""
        assert self.tags is not None
        root = self.pkg.xml(part)
        for var in root.iter(self.tags.DOCVAR):
            value = (var.get(self.tags.VAL) or "").strip()
            if value:
                yield self.ctx.segment(value, Location("property", name=var.get(self.tags.NAME) or "docVar"))


def _natural(name: str) -> tuple[Any, ...]:
    """'header2.xml' before 'header10.xml'."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name))
