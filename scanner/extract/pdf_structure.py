"""PDF structure: document information, XMP, form fields and XFA, annotations and the
text their appearance streams draw, tiling patterns' text, JavaScript, bookmarks and
embedded files, walked over pypdf's object model, or pdfminer's when pypdf cannot
parse the file (``pdf_objects``: one walker serves both through a small adapter).

The walk collects texts (``Item``) and attachments (``Attachment``, read only on
demand) and counts the page tree, so ``pdf`` can tell a damaged file from a whole one.
"""

from __future__ import annotations

import contextlib
import html
import re
import warnings
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from scanner.extract.base import Source, Unscannable
from scanner.extract.pdf_objects import CannotDecrypt, Objects, PdfminerObjects, PypdfObjects
from scanner.model import Location

# --- XML text (XMP, XFA, rich-text annotations) ----------------------------------------
# A tokenizer, not a parser, so no entity is ever expanded or fetched and malformed
# markup still yields its text.

_MARKUP = re.compile(r"<!\[CDATA\[(.*?)\]\]>|<!--.*?-->|<\?.*?\?>|<![^>]*>|<(/?)([^>]*)>", re.S)
_ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# Attributes that say how the XML is built, not what the document says.
_STRUCTURAL_ATTRIBUTES = {"rdf:about", "rdf:parseType", "x:xmptk", "xml:lang", "rdf:resource", "stEvt:action"}


def markup_text(markup: str, attributes: bool = False) -> str:
    """The text of XML/XHTML markup, one run per line; attribute values too if asked.

    XMP writes a value either as element text or, in its abbreviated form, as an
    attribute (``pdf:Keywords="..."``), so XMP needs ``attributes=True``.
    """
    out: list[str] = []
    pos = 0
    for m in _MARKUP.finditer(markup):
        out.append(markup[pos : m.start()])
        pos = m.end()
        if m.group(1) is not None:
            out.append(m.group(1))
        elif attributes and m.group(3) is not None and not m.group(2):
            for a in _ATTRIBUTE.finditer(m.group(3)):
                name = a.group(1)
                if not name.startswith("xmlns") and name not in _STRUCTURAL_ATTRIBUTES:
                    out.append("\n" + (a.group(2) if a.group(2) is not None else a.group(3) or ""))
        out.append("\n")
    out.append(markup[pos:])
    text = html.unescape("".join(out))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _decode_xml(data: bytes) -> str:
    if data[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8-sig", "replace")


# --- the structure walk ----------------------------------------------------------------

# Trees (fields, pages, embedded files) nested deeper than this are hostile, not documents.
_MAX_TREE_DEPTH = 64
_MAX_ARRAY_DEPTH = 8  # arrays of arrays of strings read as text
_MAX_ACTIONS = 64  # actions chained by /Next from one trigger; a longer chain is a loop or an attack
_MAX_STATES = 8  # appearance states (a check box's /Yes and /Off) read per annotation
# Appearances a viewer draws: normal, and on hovering (rollover) or pressing (down).
_APPEARANCES = (("N", "appearance"), ("R", "rollover appearance"), ("D", "down appearance"))
# A content stream's text-showing operators (Tj, TJ, ' and "): most appearances draw only
# an icon or a border, and reading those for text would cost as much as a page.
_SHOWS_TEXT = re.compile(rb"T[jJ]\b|[)>\]]\s*['\"]")
# Document triggers (/AA of the catalog and of pages) in words for a location.
_TRIGGERS = {
    "O": "open",
    "C": "close",
    "WC": "before closing",
    "WS": "before saving",
    "DS": "after saving",
    "WP": "before printing",
    "DP": "after printing",
    "K": "keystroke",
    "F": "format",
    "V": "validate",
    "E": "mouse enter",
    "X": "mouse exit",
    "D": "mouse down",
    "U": "mouse up",
    "Fo": "focus",
    "Bl": "blur",
    "PO": "page open",
    "PC": "page close",
    "PV": "page visible",
    "PI": "page invisible",
}


@dataclass(slots=True)
class Item:
    """A text the structure holds, with where it is."""

    location: Location
    text: str
    context: str | None = None


@dataclass(slots=True)
class Attachment:
    """An embedded file; its bytes are read (``load``) only when it is scanned."""

    name: str
    declared_size: int | None
    load: Callable[[], bytes | None]


@dataclass(slots=True)
class Structure:
    """Everything the walk found."""

    encrypted: bool
    items: list[Item] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    pages: int = 0  # page objects found in the page tree
    missing_pages: int = 0  # page references that lead nowhere
    declared_pages: int | None = None
    broken: set[str] = field(default_factory=set)  # keys of objects that could not be read


# Sensitivity-label fields (ours and Office's MSIP keys) are metadata about the file,
# not its content: a label saying "Confidential" must not read as a confidentiality
# legend, or labelling a file would change its verdict. They are read back as the
# existing label instead (scanner.pipeline.worker).
_LABEL_XMP = re.compile(r"<(clearance:[\w.-]+|pdfx:MSIP_Label_[\w.-]+)\b[^>]*?(?:/>|>.*?</\1\s*>)", re.S | re.I)


class _Walker:
    """Collects every text the structure holds; reads attachment bytes only on demand."""

    def __init__(self, objects: Objects, max_pages: int) -> None:
        self.o = objects
        self.max_pages = max_pages
        self.s = Structure(objects.encrypted)
        self._seen_attachments: set[Hashable] = set()
        self._seen_patterns: set[Hashable] = set()
        self._field_values: set[str] = set()
        self._form_resources: Any = None  # the AcroForm's /DR: fonts for appearances without their own
        self._values_text: str | None = None  # every field value, squashed: what appearances repeat

    def run(self) -> Structure:
        self._info()
        self._xmp()
        self._fields()
        self._outline()
        self._document_javascript()
        self._pages()
        self._embedded_files()
        self.s.broken = set(self.o.broken)
        return self.s

    def _add(self, location: Location, text: str | None, context: str | None = None) -> None:
        if text and text.strip():
            self.s.items.append(Item(location, text, context))

    def _info(self) -> None:
        info = self.o.info
        if not self.o.is_dict(info):
            return
        for key in self.o.keys(info):
            value = self.o.get(info, key)
            self._add(Location("metadata", name=key), self._flat_text(value))

    def _xmp(self) -> None:
        stream = self.o.get(self.o.root, "Metadata")
        data = self.o.stream_data(stream) if stream is not None else None
        if data:
            xml = _LABEL_XMP.sub("", _decode_xml(data))
            self._add(Location("metadata", name="xmp"), markup_text(xml, attributes=True))

    def _flat_text(self, obj: Any, depth: int = 0) -> str | None:
        """Text of a string, name, number or (nested) array of them."""
        text = self.o.text(obj)
        if text is not None or not isinstance(obj, list) or depth > _MAX_ARRAY_DEPTH:
            return text
        parts = [self._flat_text(self.o.resolve(x, "array")[0], depth + 1) for x in obj]
        return "\n".join(p for p in parts if p) or None

    def _rich_text(self, obj: Any) -> str | None:
        """/RC, /RV: XHTML in a string or a stream."""
        data = self.o.stream_data(obj)
        raw = _decode_xml(data) if data is not None else self.o.text(obj)
        return markup_text(raw) if raw else None

    def _fields(self) -> None:
        acroform = self.o.get(self.o.root, "AcroForm")
        if not self.o.is_dict(acroform):
            return
        self._form_resources = self.o.get(acroform, "DR")
        seen: set[Hashable] = set()
        roots = self.o.items(self.o.get(acroform, "Fields"))
        stack: list[tuple[Any, str, int]] = [(ref, "", 0) for ref in reversed(roots)]
        while stack:
            ref, parent, depth = stack.pop()
            node, ident = self.o.resolve(ref, "Fields")
            if not self.o.is_dict(node) or depth > _MAX_TREE_DEPTH or (ident is not None and ident in seen):
                continue
            if ident is not None:
                seen.add(ident)
            partial = self.o.text(self.o.get(node, "T"))
            name = f"{parent}.{partial}" if parent and partial else (partial or parent)
            self._field(node, name)
            self._actions(node, f"field {name}" if name else "field", None)
            stack.extend((kid, name, depth + 1) for kid in reversed(self.o.items(self.o.get(node, "Kids"))))
        self._xfa(self.o.get(acroform, "XFA"))

    def _field(self, node: Any, name: str) -> None:
        tooltip = self.o.text(self.o.get(node, "TU"))
        context = " ".join(x for x in (name, tooltip) if x) or None
        emitted: list[str] = []
        for key, label in (("V", name), ("DV", f"{name} (default)"), ("Opt", f"{name} (options)")):
            text = self._flat_text(self.o.get(node, key))
            if not text or not text.strip() or any(_same(text, e) for e in emitted):
                continue  # a default equal to the value would count every finding twice
            emitted.append(text)
            self._field_values.add(text.strip())
            self._add(Location("form_field", name=label or None), text, context)
        signature = self.o.get(node, "V")
        if self.o.is_dict(signature):  # a signature value names who signed, where and why
            words = [self.o.text(self.o.get(signature, k)) for k in ("Name", "Reason", "Location", "ContactInfo")]
            self._add(
                Location("form_field", name=f"{name} (signature)" if name else "signature"),
                "\n".join(w for w in words if w),
                context,
            )
        rich = self._rich_text(self.o.get(node, "RV"))
        self._add(Location("form_field", name=f"{name} (rich text)" if name else None), rich, context)

    def _xfa(self, xfa: Any) -> None:
        """XFA forms keep their captions and filled-in values in XML packets."""
        if xfa is None:
            return
        data = self.o.stream_data(xfa)
        if data is not None:
            self._add(Location("form_field", name="xfa"), markup_text(_decode_xml(data)))
            return
        entries = self.o.items(xfa)
        for i in range(0, len(entries) - 1, 2):
            packet = self.o.text(self.o.resolve(entries[i], "XFA")[0]) or str(i // 2)
            data = self.o.stream_data(self.o.resolve(entries[i + 1], "XFA")[0])
            if data:
                self._add(Location("form_field", name=f"xfa:{packet}"), markup_text(_decode_xml(data)))

    def _outline(self) -> None:
        outlines = self.o.get(self.o.root, "Outlines")
        if not self.o.is_dict(outlines):
            return
        titles: list[str] = []
        seen: set[Hashable] = set()
        stack: list[Any] = [self.o.raw_get(outlines, "First")]
        while stack:
            item, ident = self.o.resolve(stack.pop(), "Outlines")
            if not self.o.is_dict(item) or (ident is not None and ident in seen):
                continue
            if ident is not None:
                seen.add(ident)
            title = self.o.text(self.o.get(item, "Title"))
            if title and title.strip():
                titles.append(title.strip())
            # Depth first keeps the reading order: the next sibling waits under the children.
            stack.append(self.o.raw_get(item, "Next"))
            stack.append(self.o.raw_get(item, "First"))
        self._add(Location("metadata", name="bookmarks"), "\n".join(titles))

    def _pages(self) -> None:
        pages = self.o.get(self.o.root, "Pages")
        count = self.o.get(pages, "Count") if self.o.is_dict(pages) else None
        if isinstance(count, int) and not isinstance(count, bool):
            self.s.declared_pages = count
        seen: set[Hashable] = set()
        # (node, depth, resources inherited from the page tree above it)
        stack: list[tuple[Any, int, Any]] = [(self.o.raw_get(self.o.root, "Pages"), 0, None)]
        while stack:
            ref, depth, inherited = stack.pop()
            node, ident = self.o.resolve(ref, "Pages")
            if node is None:
                self.s.missing_pages += 1
                continue
            if not self.o.is_dict(node) or depth > _MAX_TREE_DEPTH or (ident is not None and ident in seen):
                continue
            if ident is not None:
                seen.add(ident)
            resources = self.o.raw_get(node, "Resources") or inherited
            kids = self.o.get(node, "Kids")
            if isinstance(kids, list) and self.o.text(self.o.get(node, "Type")) != "Page":
                stack.extend((kid, depth + 1, resources) for kid in reversed(kids))
                continue
            self.s.pages += 1
            if self.s.pages <= self.max_pages:
                self._annotations(node, self.s.pages)
                self._actions(node, f"page {self.s.pages}", self.s.pages)
                self._patterns(resources, self.s.pages)

    def _annotations(self, page: Any, number: int) -> None:
        done: set[str] = set()
        for ref in self.o.items(self.o.get(page, "Annots")):
            annot = self.o.resolve(ref, "Annots")[0]
            if not self.o.is_dict(annot):
                continue
            subtype = self.o.text(self.o.get(annot, "Subtype")) or "Annot"
            if subtype == "Widget":
                self._orphan_widget(annot)
            if subtype == "FileAttachment":
                self._file_spec(self.o.raw_get(annot, "FS"), f"attachment-page{number}")
            text = self._annotation_text(annot, subtype)
            if text and text not in done:
                done.add(text)
                self._add(Location("annotation", page=number, name=subtype), text)
            self._appearances(annot, subtype, number, text)
            self._actions(annot, f"{subtype} annotation", number)

    def _appearances(self, annot: Any, subtype: str, number: int, said: str) -> None:
        """The text an annotation's appearance streams draw: what a viewer shows, which
        need not be its /Contents or a widget's /V (a flattened or hand-made appearance)."""
        ap = self.o.get(annot, "AP")
        if not self.o.is_dict(ap):
            return
        widget = subtype == "Widget"
        name = self._widget_name(annot) if widget else subtype
        if widget and self._values_text is None:  # field values are all known once pages are walked
            self._values_text = "\n".join(_squash(v) for v in self._field_values)
        own = self._flat_text(self.o.get(annot, "V")) if widget else None
        known = f"{_squash(said)}\n{_squash(own or '')}\n{self._values_text}" if widget else _squash(said)
        resources = self._form_resources if widget else None
        seen: set[str] = set()
        for key, words in _APPEARANCES:
            entry = self.o.get(ap, key)
            streams = [entry]
            if self.o.stream_data(entry) is None and self.o.is_dict(entry):  # one stream per state
                streams = [self.o.get(entry, state) for state in self.o.keys(entry)[:_MAX_STATES]]
            for stream in streams:
                data = self.o.stream_data(stream)
                if data is None or not _SHOWS_TEXT.search(data):
                    continue  # an icon, a border, a check mark's box: no text to read
                text = self.o.form_text(stream, resources)
                squashed = _squash(text) if text else ""
                if not squashed or squashed in seen or squashed in known:
                    continue  # what /Contents or /V already said would count every finding twice
                seen.add(squashed)
                where = f"{name} ({words})" if name else words
                self._add(Location("form_field" if widget else "annotation", page=number, name=where), text)

    def _widget_name(self, annot: Any) -> str:
        """A widget's full field name, from its own /T and its parents'."""
        parts: list[str] = []
        node, seen = annot, 0
        while self.o.is_dict(node) and seen < _MAX_TREE_DEPTH:
            partial = self.o.text(self.o.get(node, "T"))
            if partial:
                parts.append(partial)
            node = self.o.get(node, "Parent")
            seen += 1
        return ".".join(reversed(parts))

    def _patterns(self, resources_ref: Any, number: int) -> None:
        """Text in a tiling pattern's cell: drawn wherever the pattern fills a shape, and not
        part of the page text PDFium reads."""
        resources = self.o.resolve(resources_ref, "Resources")[0]
        patterns = self.o.get(resources, "Pattern") if self.o.is_dict(resources) else None
        if not self.o.is_dict(patterns):
            return
        for key in self.o.keys(patterns):
            pattern, ident = self.o.resolve(self.o.raw_get(patterns, key), "Pattern")
            marker = ident if ident is not None else id(pattern)
            if marker in self._seen_patterns or self.o.get(pattern, "PatternType") != 1:
                continue
            self._seen_patterns.add(marker)
            self._add(Location("body", page=number, name=f"pattern {key}"), self.o.form_text(pattern))

    # --- JavaScript ------------------------------------------------------------------------

    def _document_javascript(self) -> None:
        """Scripts run on opening the file, on document events, and those in the /JavaScript
        name tree (all run when the document opens)."""
        root = self.o.root
        self._action(self.o.raw_get(root, "OpenAction"), "document open", None)
        self._actions(root, "document", None)
        for index, (key, value) in enumerate(self._name_tree("JavaScript")):
            self._action(value, key or str(index), None)

    def _actions(self, node: Any, where: str, page: int | None) -> None:
        """A node's action (/A) and its additional actions (/AA: one per trigger)."""
        if node is not self.o.root:  # the catalog's action is its /OpenAction
            self._action(self.o.raw_get(node, "A"), where, page)
        triggers = self.o.get(node, "AA")
        for key in self.o.keys(triggers) if self.o.is_dict(triggers) else ():
            self._action(self.o.raw_get(triggers, key), f"{where}, {_TRIGGERS.get(key, key)}", page)

    def _action(self, ref: Any, where: str, page: int | None) -> None:
        """The JavaScript of an action and of the actions it chains (/Next)."""
        seen: set[Hashable] = set()
        stack: list[Any] = [ref]
        count = 0
        while stack and count < _MAX_ACTIONS:
            action, ident = self.o.resolve(stack.pop(), "Action")
            if isinstance(action, list):  # /Next may be an array of actions
                stack.extend(reversed(action))
                continue
            if not self.o.is_dict(action) or (ident is not None and ident in seen):
                continue
            if ident is not None:
                seen.add(ident)
            count += 1
            script = self.o.get(action, "JS")
            data = self.o.stream_data(script)
            text = _decode_xml(data) if data is not None else self.o.text(script)
            self._add(Location("macro", page=page, name=f"javascript: {where}"), text)
            stack.append(self.o.raw_get(action, "Next"))

    def _annotation_text(self, annot: Any, subtype: str) -> str:
        """Comment text, its rich-text twin, subject and author (a widget's /T is its field name)."""
        parts: list[str] = []
        contents = self.o.text(self.o.get(annot, "Contents"))
        rich = self._rich_text(self.o.get(annot, "RC"))
        author = self.o.text(self.o.get(annot, "T")) if subtype != "Widget" else None
        for text in (contents, rich, self.o.text(self.o.get(annot, "Subj")), author):
            if text and text.strip() and not any(_same(text, p) for p in parts):
                parts.append(text.strip())
        action = self.o.get(annot, "A")
        uri = self.o.text(self.o.get(action, "URI")) if self.o.is_dict(action) else None
        if uri:
            parts.append(uri)
        return "\n".join(parts)

    def _orphan_widget(self, annot: Any) -> None:
        """A widget with a value that the AcroForm field tree does not reach."""
        value = self._flat_text(self.o.get(annot, "V"))
        if value and value.strip() and value.strip() not in self._field_values:
            self._field_values.add(value.strip())
            name = self.o.text(self.o.get(annot, "T"))
            tooltip = self.o.text(self.o.get(annot, "TU"))
            self._add(Location("form_field", name=name), value, " ".join(x for x in (name, tooltip) if x) or None)

    def _embedded_files(self) -> None:
        for key, value in self._name_tree("EmbeddedFiles"):
            self._file_spec(value, key or f"attachment-{len(self.s.attachments) + 1}")

    def _name_tree(self, tree_name: str) -> Iterator[tuple[str | None, Any]]:
        """(key, value) pairs of one of the catalogue's /Names trees, depth-bounded and
        cycle-safe (a hostile file can point a /Kids entry back at its parent)."""
        names = self.o.get(self.o.root, "Names")
        tree = self.o.raw_get(names, tree_name) if self.o.is_dict(names) else None
        seen: set[Hashable] = set()
        stack: list[tuple[Any, int]] = [(tree, 0)]
        while stack:
            ref, depth = stack.pop()
            node, ident = self.o.resolve(ref, tree_name)
            if not self.o.is_dict(node) or depth > _MAX_TREE_DEPTH or (ident is not None and ident in seen):
                continue
            if ident is not None:
                seen.add(ident)
            entries = self.o.items(self.o.get(node, "Names"))
            for i in range(0, len(entries) - 1, 2):
                yield self.o.text(self.o.resolve(entries[i], tree_name)[0]) or None, entries[i + 1]
            stack.extend((kid, depth + 1) for kid in reversed(self.o.items(self.o.get(node, "Kids"))))

    def _file_spec(self, ref: Any, fallback: str) -> None:
        spec = self.o.resolve(ref, "FS")[0]
        if not self.o.is_dict(spec):
            return  # a plain file name: the file lives outside this PDF
        name = self.o.text(self.o.get(spec, "UF")) or self.o.text(self.o.get(spec, "F")) or fallback
        embedded = self.o.get(spec, "EF")
        if not self.o.is_dict(embedded):
            return
        stream_ref = self.o.raw_get(embedded, "UF") or self.o.raw_get(embedded, "F")
        stream, ident = self.o.resolve(stream_ref, "EF")
        if stream is None:
            return
        key = ident if ident is not None else id(stream)
        if key in self._seen_attachments:
            return
        self._seen_attachments.add(key)
        params = self.o.get(stream, "Params")
        size = self.o.get(params, "Size") if self.o.is_dict(params) else None
        declared = size if isinstance(size, int) and not isinstance(size, bool) else None
        o = self.o
        self.s.attachments.append(Attachment(name, declared, lambda: o.stream_data(stream)))


def _same(a: str, b: str) -> bool:
    """Equal but for whitespace."""
    return " ".join(a.split()) == " ".join(b.split())


def _squash(text: str) -> str:
    """Without any whitespace: an appearance wraps the lines of the value it shows."""
    return "".join(text.split())


def walk_pypdf(fh: IO[bytes], max_pages: int) -> Structure:
    """The structure as pypdf reads it, no fallback (an earlier revision of an updated file)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _Walker(PypdfObjects(fh), max_pages).run()


def read_structure(src: Source, max_pages: int, stack: contextlib.ExitStack) -> Structure:
    """Walk the structure with pypdf, or pdfminer where pypdf fails; Unscannable if both fail.

    The winning engine's file stays open (on ``stack``) so attachments can be read later.
    """
    failures: list[str] = []
    decrypt_failures = 0
    for make in (PypdfObjects, PdfminerObjects):
        fh = src.open()
        try:
            with warnings.catch_warnings():
                # Parser warnings about a malformed file are expected here, not news.
                warnings.simplefilter("ignore")
                structure = _Walker(make(fh), max_pages).run()
        except CannotDecrypt:
            fh.close()
            decrypt_failures += 1
            failures.append(f"{make.engine}: cannot decrypt")
            continue
        except Exception as exc:
            fh.close()
            if isinstance(exc, MemoryError | RecursionError):
                raise
            failures.append(f"{make.engine}: {type(exc).__name__}")
            continue
        stack.enter_context(fh)
        return structure
    if decrypt_failures == len(failures):
        raise Unscannable("encrypted PDF (password required for its metadata, form fields or attachments)")
    raise Unscannable(
        f"damaged PDF: its structure (metadata, form fields, annotations) cannot be read ({'; '.join(failures)})"
    )
