"""PowerPoint (PPTX/PPTM/POTX/PPSX) text: slides in show order, tables, speaker notes,
comments (classic and modern), charts (cached values, user shapes) and
SmartArt, alt text and shape names, hyperlinks and their tooltips, section names, slide
masters and layouts, properties, embeddings (VBA macros: ``scanner.extract.vba``).

Hidden slides (``show="0"``) are read like the others: the recipient unhides them with one
click. Their text is located as ``hidden_slide`` and a ``hidden_slides`` note lists them.
Master and layout text shows on every slide that uses them (and in Slide Master view), so
it is read once per master/layout, located by its name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import unquote

from scanner.extract.base import Context, Source
from scanner.extract.ooxml import MC, Names, column_letters, drawing_paragraphs, expect_root, extract_package
from scanner.model import Event, Location
from scanner.ooxml.package import Package
from scanner.ooxml.xml import local_name

MATH = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_HLINKS = ("hlinkClick", "hlinkHover", "hlinkMouseOver")  # click, hover and mouse-over actions
# Masters by relationship kind (from the presentation), then by folder for parts no relationship names.
_MASTER_RELS = {"slidemaster": "slide_master", "notesmaster": "notes_master", "handoutmaster": "handout_master"}
_MASTER_FOLDERS = {
    "ppt/slidemasters/": "slide_master",
    "ppt/slidelayouts/": "slide_layout",
    "ppt/notesmasters/": "notes_master",
    "ppt/handoutmasters/": "handout_master",
}
# Chart values that are numbers (shown as data labels or on hover) are not read: they are
# measurements, never identifiers, and would only add false positives.
_NUMERIC_CACHES = {"numCache", "numLit", "numDim"}


class _Links(NamedTuple):
    targets: list[str]
    tooltips: list[str]


def extract_pptx(src: Source, ctx: Context) -> Iterator[Event]:
    return extract_package(
        src,
        ctx,
        "PPTX",
        "ppt/presentation.xml",
        "ppt/embeddings/",
        lambda pkg, c, main: _Presentation(pkg, c, main).events(),
    )


class _Presentation:
    def __init__(self, pkg: Package, ctx: Context, main: str) -> None:
        self.pkg = pkg
        self.ctx = ctx
        self.main = main
        self.names = Names.for_root("")

    def events(self) -> Iterator[Event]:
        pkg = self.pkg
        root = pkg.xml(self.main)
        expect_root(root, "presentation", self.main, "PPTX")
        self.names = names = Names.for_root(root.tag, "p")
        rels = pkg.rel_map(self.main)
        slides: list[str] = []
        for sld in root.iter(names.tag("p", "sldId")):
            rel = rels.get(names.rid(sld) or "")
            if rel is not None and not rel.external and pkg.has(rel.target) and rel.target not in slides:
                slides.append(rel.target)
        hidden: list[int] = []
        for number, part in enumerate(slides, start=1):
            slide = self._parse(part)
            is_hidden = slide.get("show") in ("0", "false")
            if is_hidden:
                hidden.append(number)
            yield from self._slide(part, slide, number, is_hidden)
        if hidden:
            yield self.ctx.note("hidden_slides", hidden)
        yield from self._sections(root)
        yield from self._masters()

    def _parse(self, part: str) -> Any:
        root = self.pkg.xml(part)
        # mc:Fallback repeats mc:Choice for old readers: read one copy only.
        for fallback in list(root.iter(f"{{{MC}}}Fallback")):
            parent = fallback.getparent()
            if parent is not None and parent.find(f"{{{MC}}}Choice") is not None:
                parent.remove(fallback)
        return root

    def _slide(self, part: str, root: Any, number: int, hidden: bool = False) -> Iterator[Event]:
        pkg, ctx = self.pkg, self.ctx
        where = "hidden_slide" if hidden else "slide"
        for text in self._text_bodies(root):
            yield ctx.segment(text, Location(where, page=number))
        yield from self._tables(root, number)
        for text in self._alt_texts(root):
            yield ctx.segment(text, Location(where, page=number, name="alt text"))
        for target in pkg.related(part, "chart", "chartex", "diagramdata"):
            yield from self._graphic(target, Location(where, page=number, name=target))
        for target in pkg.related(part, "notesslide"):
            notes_root = self._parse(target)
            notes = [t for t in self._text_bodies(notes_root, skip_placeholders=("sldNum", "sldImg"))]
            if notes:
                yield ctx.segment("\n".join(notes), Location("notes", page=number))
            yield from self._link_segments(self._links(target, notes_root), page=number, name="notes")
        for target in pkg.related(part, "comments", "moderncomments", "comment"):
            for text in self._comments(pkg.xml(target)):
                yield ctx.segment(text, Location("comment", page=number))
        # Added after the places read first, so earlier segments keep their order.
        yield from self._link_segments(self._links(part, root), page=number)
        shape_names = self._shape_names(root)
        if shape_names:  # the Selection Pane lists them
            yield ctx.segment("\n".join(shape_names), Location(where, page=number, name="shape names"))

    def _graphic(self, target: str, loc: Location) -> Iterator[Event]:
        """A chart or SmartArt part: its text, then what only a chart carries.

        A chart also holds values outside ``c:strCache`` (multi-level categories, literals,
        "value from cells" data labels, chartex data) and text boxes drawn on it (user
        shapes). The workbook its data is edited in is a nested document wherever it lies:
        the package sweep (``ooxml_sweep``) reads every embedded package.
        """
        pkg, ctx, names = self.pkg, self.ctx, self.names
        root = pkg.xml(target)
        texts = drawing_paragraphs(root, names)
        if texts:
            yield ctx.segment("\n".join(texts), loc)
        if local_name(root.tag) != "chartSpace":  # SmartArt data has no chart values
            return
        seen = set(texts)
        extra = [v for v in self._chart_values(root) if v not in seen]
        for shapes in pkg.related(target, "chartusershapes"):
            extra.extend(drawing_paragraphs(self._parse(shapes), names))
        if extra:
            yield ctx.segment("\n".join(dict.fromkeys(extra)), loc._replace(name=f"{loc.name} data"))

    def _chart_values(self, root: Any) -> Iterator[str]:
        """Cached text values (``v``/``pt`` of any chart vocabulary) outside numeric caches."""
        for el in root.iter():
            if not isinstance(el.tag, str) or local_name(el.tag) not in ("v", "pt") or not el.text:
                continue
            text = el.text.strip()
            if not text:
                continue
            parent = el.getparent()
            numeric = False
            while parent is not None:
                if local_name(parent.tag) in _NUMERIC_CACHES:
                    numeric = True
                    break
                parent = parent.getparent()
            if not numeric:
                yield text

    def _sections(self, root: Any) -> Iterator[Event]:
        """Section names (thumbnail pane, slide sorter) and custom show names (Slide Show menu)."""
        found = [
            (el.get("name") or "").strip()
            for el in root.iter()
            if isinstance(el.tag, str) and local_name(el.tag) in ("section", "custShow")
        ]
        found = [f for f in found if f]
        if found:
            yield self.ctx.segment("\n".join(dict.fromkeys(found)), Location("slide", name="sections"))

    def _masters(self) -> Iterator[Event]:
        """Slide masters and their layouts, notes and handout masters, in relationship order.

        Their text (logos' alt text, footers, a confidentiality line, placeholder prompts)
        appears on every slide built on them or in Master view.
        """
        pkg = self.pkg
        kinds: dict[str, str] = {}
        for rel in pkg.rels(self.main):
            where = _MASTER_RELS.get(rel.kind)
            if where and not rel.external and pkg.has(rel.target):
                kinds.setdefault(rel.target, where)
                if where == "slide_master":
                    for layout in pkg.related(rel.target, "slidelayout"):
                        kinds.setdefault(layout, "slide_layout")
        seen = {k.lower() for k in kinds}
        for name in sorted(pkg.names):
            low = name.lower()
            folder = low.rsplit("/", 1)[0] + "/"
            if folder in _MASTER_FOLDERS and low.endswith(".xml") and low not in seen:
                kinds[name] = _MASTER_FOLDERS[folder]
        for part, where in kinds.items():
            yield from self._master(part, where)

    def _master(self, part: str, where: str) -> Iterator[Event]:
        ctx, names = self.ctx, self.names
        root = self._parse(part)
        c_sld = root.find(names.tag("p", "cSld"))
        label = (c_sld.get("name") if c_sld is not None else None) or part
        texts = drawing_paragraphs(root, names)
        texts.extend(self._alt_texts(root))
        if texts:
            yield ctx.segment("\n".join(texts), Location(where, name=label))
        yield from self._link_segments(self._links(part, root), name=label)

    def _links(self, part: str, root: Any) -> _Links:
        """Hyperlink targets a hover shows (external relationships: URLs, mailto:, files) and tooltips.

        External hyperlink relationships of the part that no element uses are read too:
        they travel with the file as its own text.
        """
        rels = self.pkg.rel_map(part)
        targets: list[str] = []
        tooltips: list[str] = []
        for el in root.iter():
            if not isinstance(el.tag, str) or local_name(el.tag) not in _HLINKS:
                continue
            rel = rels.get(self.names.rid(el) or "")
            if rel is not None and rel.external and rel.target.strip():
                targets.append(rel.target.strip())
            tip = (el.get("tooltip") or "").strip()
            if tip:
                tooltips.append(tip)
        for rel in rels.values():
            if rel.external and rel.kind == "hyperlink" and rel.target.strip():
                targets.append(rel.target.strip())
        # A hover shows "mailto:...?subject=SSN 212..." decoded; the stored form is %-encoded.
        targets += [unquote(t) for t in targets if "%" in t]
        return _Links(list(dict.fromkeys(targets)), list(dict.fromkeys(tooltips)))

    def _link_segments(self, links: _Links, page: int | None = None, name: str | None = None) -> Iterator[Event]:
        if links.targets:
            yield self.ctx.segment("\n".join(links.targets), Location("hyperlink", page=page, name=name))
        if links.tooltips:
            tip = f"{name} tooltip" if name else "tooltip"
            yield self.ctx.segment("\n".join(links.tooltips), Location("hyperlink", page=page, name=tip))

    def _text_bodies(self, root: Any, skip_placeholders: tuple[str, ...] = ()) -> Iterator[str]:
        """One string per shape (p:sp/p:txBody), paragraphs joined by newlines."""
        names = self.names
        p_sp, p_txbody, p_ph = names.tag("p", "sp"), names.tag("p", "txBody"), names.tag("p", "ph")
        a_p, a_t, a_br = names.tag("a", "p"), names.tag("a", "t"), names.tag("a", "br")
        m_t = f"{{{MATH}}}t"  # equation text (a14:m > m:oMath) sits in the paragraph beside runs
        for body in root.iter(p_txbody):
            if skip_placeholders:
                shape = body.getparent()
                ph = next(shape.iter(p_ph), None) if shape is not None and shape.tag == p_sp else None
                if ph is not None and ph.get("type") in skip_placeholders:
                    continue
            paras = []
            for p in body.iter(a_p):
                text = "".join("\n" if el.tag == a_br else (el.text or "") for el in p.iter(a_t, a_br, m_t))
                if text.strip():
                    paras.append(text)
            if paras:
                yield "\n".join(paras)

    def _tables(self, root: Any, number: int) -> Iterator[Event]:
        names = self.names
        a_tbl, a_tr, a_tc = names.tag("a", "tbl"), names.tag("a", "tr"), names.tag("a", "tc")
        a_p, a_t, a_br = names.tag("a", "p"), names.tag("a", "t"), names.tag("a", "br")
        for table_no, tbl in enumerate(root.iter(a_tbl), start=1):
            header: dict[int, str] = {}
            for row_no, tr in enumerate(tr for tr in tbl if tr.tag == a_tr):
                row_label: str | None = None
                for col, tc in enumerate(tc for tc in tr if tc.tag == a_tc):
                    paras = [
                        "".join("\n" if el.tag == a_br else (el.text or "") for el in p.iter(a_t, a_br))
                        for p in tc.iter(a_p)
                    ]
                    text = "\n".join(p for p in paras if p.strip()).strip()
                    if not text:
                        continue
                    context = None
                    if row_no == 0:
                        header[col] = text[:200]
                    else:
                        bits = [b for b in (header.get(col), row_label if col else None) if b]
                        context = " | ".join(bits) if bits else None
                    if col == 0:
                        row_label = text[:200]
                    loc = Location(
                        "table", page=number, name=f"table {table_no}", cell=f"{column_letters(col)}{row_no + 1}"
                    )
                    yield self.ctx.segment(text, loc, context=context)

    def _alt_texts(self, root: Any) -> Iterator[str]:
        """Alt text (cNvPr descr/title) that shapes and pictures carry for screen readers."""
        for el in root.iter():
            if local_name(el.tag) == "cNvPr":
                for attr in ("descr", "title"):
                    text = (el.get(attr) or "").strip()
                    if text:
                        yield text

    def _shape_names(self, root: Any) -> list[str]:
        """Shape names (cNvPr name), which the Selection Pane shows; the slide's group root has none."""
        out: list[str] = []
        for el in root.iter():
            if isinstance(el.tag, str) and local_name(el.tag) == "cNvPr":
                name = (el.get("name") or "").strip()
                if name:
                    out.append(name)
        return out

    def _comments(self, root: Any) -> Iterator[str]:
        """Classic (p:cm/p:text) and modern (p188:cm/p188:txBody, with replies) comments."""
        a_p = self.names.tag("a", "p")
        for cm in root.iter():
            if local_name(cm.tag) != "cm":
                continue
            bits = [el.text for el in cm.iter() if local_name(el.tag) == "text" and el.text]
            for p in cm.iter(a_p):
                text = "".join(t.text or "" for t in p.iter() if local_name(t.tag) == "t")
                if text.strip():
                    bits.append(text)
            text = "\n".join(b.strip() for b in bits if b.strip())
            if text:
                yield text
