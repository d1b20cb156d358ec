"""PowerPoint (PPTX/PPTM/POTX/PPSX) text: slides in show order, tables, speaker notes,
comments (classic and modern), charts and SmartArt, alt text, properties, embeddings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.extract.base import Context, Source
from scanner.extract.ooxml import MC, Names, column_letters, drawing_paragraphs, expect_root, extract_package
from scanner.model import Event, Location
from scanner.ooxml.package import Package
from scanner.ooxml.xml import local_name


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
        for number, part in enumerate(slides, start=1):
            yield from self._slide(part, number)

    def _parse(self, part: str) -> Any:
        root = self.pkg.xml(part)
        # mc:Fallback repeats mc:Choice for old readers: read one copy only.
        for fallback in list(root.iter(f"{{{MC}}}Fallback")):
            parent = fallback.getparent()
            if parent is not None and parent.find(f"{{{MC}}}Choice") is not None:
                parent.remove(fallback)
        return root

    def _slide(self, part: str, number: int) -> Iterator[Event]:
        pkg, ctx, names = self.pkg, self.ctx, self.names
        root = self._parse(part)
        for text in self._text_bodies(root):
            yield ctx.segment(text, Location("slide", page=number))
        yield from self._tables(root, number)
        for text in self._alt_texts(root):
            yield ctx.segment(text, Location("slide", page=number, name="alt text"))
        for target in pkg.related(part, "chart", "chartex", "diagramdata"):
            texts = drawing_paragraphs(pkg.xml(target), names)
            if texts:
                yield ctx.segment("\n".join(texts), Location("slide", page=number, name=target))
        for target in pkg.related(part, "notesslide"):
            notes = [t for t in self._text_bodies(self._parse(target), skip_placeholders=("sldNum", "sldImg"))]
            if notes:
                yield ctx.segment("\n".join(notes), Location("notes", page=number))
        for target in pkg.related(part, "comments", "moderncomments", "comment"):
            for text in self._comments(pkg.xml(target)):
                yield ctx.segment(text, Location("comment", page=number))

    def _text_bodies(self, root: Any, skip_placeholders: tuple[str, ...] = ()) -> Iterator[str]:
        """One string per shape (p:sp/p:txBody), paragraphs joined by newlines."""
        names = self.names
        p_sp, p_txbody, p_ph = names.tag("p", "sp"), names.tag("p", "txBody"), names.tag("p", "ph")
        a_p, a_t, a_br = names.tag("a", "p"), names.tag("a", "t"), names.tag("a", "br")
        for body in root.iter(p_txbody):
            if skip_placeholders:
                shape = body.getparent()
                ph = next(shape.iter(p_ph), None) if shape is not None and shape.tag == p_sp else None
                if ph is not None and ph.get("type") in skip_placeholders:
                    continue
            paras = []
            for p in body.iter(a_p):
                text = "".join("\n" if el.tag == a_br else (el.text or "") for el in p.iter(a_t, a_br))
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
