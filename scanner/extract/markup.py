"""HTML and XML as the reader sees them: tags gone, entities decoded, words whole.

Markup can split one value over several elements (``212-67-<span>4431</span>``) or
spell its digits as character references (``&#50;&#49;&#50;``); matching the raw source
misses both. These readers render the text a recipient sees: block elements break lines,
inline elements are joined *without* adding spaces, so a split value is whole again.

Text a recipient sees by hovering or viewing the source, comments and attribute values
(``title``, ``alt``, ``value``...), is kept too, but on lines of its own after the body
text ("side" text): put inline, it would break the very values the joining mends.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

# Elements that start a new line when rendered (HTML's block and line-breaking elements).
_BLOCK = frozenset(
    "address article aside blockquote body br caption center dd details dialog dir div dl dt "
    "fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html legend li "
    "main menu nav ol option p pre section summary table tbody tfoot thead title tr ul".split()
)
_CELL = frozenset({"td", "th"})  # cells of one row stay on one line, apart
_SKIP = frozenset({"script", "style"})  # code and styling: not text a reader sees
# Attributes whose values are human text shown on hover, in a form, or in the page's metadata.
_TEXT_ATTRS = frozenset(
    {"title", "alt", "placeholder", "value", "content", "label", "summary", "abbr", "aria-label", "href"}
)
_PRE = frozenset({"pre", "textarea", "listing", "plaintext", "xmp"})
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_SPACE_RUN = re.compile(r"[ \t\f\v]+")  # horizontal runs only: collapsing a rendered line
_CELL_MARK = "\x1f"  # marks a cell boundary until the line is tidied (survives space collapsing)
CELL_SEP = " | "  # as scanner.detect.tables.CELL_SEP: the matcher then reads an HTML row by column
_ENTITY_REF = re.compile(r"&([A-Za-z_][\w.-]*);")
_MAX_ATTR_CHARS = 4096  # a data: URI or inline image is not text; its first KiB or so is plenty


@dataclass(frozen=True, slots=True)
class Line:
    """One rendered line, the source line where its text starts (1-based), and which
    part of a document it is: "body" (rendered text), "comment" or "metadata" (attribute
    values, code, declarations)."""

    text: str
    source_line: int
    part: str = "body"


class HtmlReader(HTMLParser):
    """Incremental HTML rendering: ``feed`` text, then ``lines()`` what is complete.

    Streams: a large page is fed in chunks and its finished lines taken after each, so
    nothing holds the whole rendered page.
    """

    def __init__(self, keep_code: bool = False) -> None:
        """``keep_code``: script and style text go to the side lines instead of nowhere
        (a file's source is one "view source" away; CSS ``content:`` even renders)."""
        super().__init__(convert_charrefs=True)
        self._keep_code = keep_code
        self._row_cells = False  # the current line is a table row with a cell started
        self._parts: list[str] = []  # the current rendered line, in pieces
        self._line_start = 0  # source line of the current rendered line's first text (0: none yet)
        self._done: list[Line] = []
        self._side: list[Line] = []
        self._skip = 0
        self._pre = 0
        self._json_script = False

    # --- output ---------------------------------------------------------------------

    def lines(self) -> list[Line]:
        """Rendered lines finished so far (taken: each is returned once)."""
        out, self._done = self._done, []
        return out

    def side_lines(self) -> list[Line]:
        """Comments and attribute values seen so far (taken: each is returned once)."""
        out, self._side = self._side, []
        return out

    def close(self) -> None:
        super().close()
        self._break()

    def _break(self) -> None:
        if self._parts:
            text = _SPACE_RUN.sub(" ", "".join(self._parts)).strip()
            if _CELL_MARK in text:
                text = CELL_SEP.join(cell.strip() for cell in text.strip(_CELL_MARK + " ").split(_CELL_MARK))
            if text.strip(" |"):
                self._done.append(Line(text, self._line_start or self.getpos()[0]))
        self._parts = []
        self._line_start = 0
        self._row_cells = False

    def _add(self, text: str) -> None:
        if not self._parts:
            self._line_start = self.getpos()[0]
        self._parts.append(text)

    def _add_side(self, text: str, part: str, label: str | None = None) -> None:
        text = _SPACES.sub(" ", text[:_MAX_ATTR_CHARS]).strip()
        if text:
            self._side.append(Line(f"{label}: {text}" if label else text, self.getpos()[0], part))

    # --- parser callbacks -----------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
            # Structured data (JSON-LD) and templates in a script are data, not code.
            kind = next((v or "" for k, v in attrs if k == "type"), "").lower()
            self._json_script = "json" in kind or "template" in kind
        elif tag in _BLOCK:
            self._break()
        elif tag in _CELL:
            if self._row_cells:
                self._add(_CELL_MARK)
            self._row_cells = True
        if tag in _PRE:
            self._pre += 1
        self._attrs(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._break()
        self._attrs(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            self._json_script = False
        elif tag in _BLOCK:
            self._break()
        if tag in _PRE:
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            if self._json_script or self._keep_code:
                self._add_side(data, "metadata")
            return
        if self._pre:
            # Preformatted text keeps its own lines.
            first, *rest = data.split("\n")
            self._add(first)
            for piece in rest:
                self._break()
                self._add(piece)
            return
        self._add(_SPACES.sub(" ", data))

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA["):
            self.handle_data(data[6:])

    def handle_comment(self, data: str) -> None:
        # Conditional comments and "<!-- SSN: ... -->" both show in the page source.
        self._add_side(html.unescape(data), "comment")

    def _attrs(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        name = next((v for k, v in attrs if k in ("name", "id") and v), None)
        for key, value in attrs:
            if not value or not (key in _TEXT_ATTRS or key.startswith("data-")):
                continue
            if key == "href" and value.lower().startswith(("data:", "javascript:", "#")):
                continue
            # A form field's name labels its value ("ssn: 212-67-4431"), as a cell header would.
            label = name if key == "value" and tag in ("input", "option", "button", "param") else None
            self._add_side(value, "metadata", label)


def html_lines(html_text: str, keep_code: bool = False) -> Iterator[Line]:
    """All rendered lines of an HTML document, then its side text (comments, attributes)."""
    reader = HtmlReader(keep_code)
    reader.feed(html_text)
    reader.close()
    yield from reader.lines()
    yield from reader.side_lines()


def html_to_text(html_text: str) -> str:
    """The text a browser shows (plus comments and attribute text on lines after it)."""
    return "\n".join(line.text for line in html_lines(html_text))


# --- XML ----------------------------------------------------------------------------


def xml_lines(xml: bytes | str, recover: bool = True) -> list[Line]:
    """An XML document's text, safely parsed: no entity expanded, no DTD or network read.

    An element with only child elements puts each child on its own line; an element with
    text of its own (mixed content, ``<p>SSN <b>212-67-</b>4431</p>``) is one line, its
    pieces joined without spaces. A leaf's tag labels its text (``ssn: 212-67-4431``), as
    a key does in JSON. Attribute values, comments, processing instructions and the
    internal DTD subset's entity values follow the text. Raises ``ValueError`` with words
    for a document lxml cannot parse at all (with ``recover=False``: for any XML error,
    so a caller can read the text as written instead of what recovery kept of it).
    """
    from lxml import etree  # deferred: start-up time (~20 ms), only XML files need it

    from scanner.ooxml.xml import PARSER_OPTIONS  # deferred with lxml, which it imports

    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if isinstance(xml, str):
        # lxml refuses a str with an encoding declaration; the bytes say UTF-8 now.
        data = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", data, count=1)
    parser = etree.XMLParser(**PARSER_OPTIONS, recover=recover, remove_blank_text=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"XML could not be parsed: {str(exc).strip()[:160]}") from exc
    if root is None:
        raise ValueError("XML could not be parsed: no root element")
    body: list[Line] = []
    side: list[Line] = []
    entities: dict[str, str] = {}
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None:
        for entity in dtd.iterentities():
            if entity.content and not entity.system_url:
                # Declared but never expanded by the parser; a browser would show the value,
                # so it is kept (one level, by lookup: nothing recursive can blow up).
                entities[entity.name] = entity.content
                side.append(Line(f"{entity.name}: {_clean(entity.content)}", 1, "metadata"))
    _xml_element(root, body, side, entities)
    for sibling in _prolog_and_epilog(root):
        _xml_misc(sibling, side)
    return body + side


def xml_to_text(xml: bytes | str) -> str:
    """The text of an XML document (see ``xml_lines``), one line per element or value."""
    return "\n".join(line.text for line in xml_lines(xml))


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _xml_element(root: Any, body: list[Line], side: list[Line], entities: dict[str, str]) -> None:
    from scanner.ooxml.xml import local_name  # deferred with lxml: see xml_lines

    # An explicit stack, not recursion: a deeply nested document must not exhaust the stack.
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node.tag, str):
            _xml_misc(node, side)
            continue
        line = node.sourceline or 1
        _xml_attrs(node, side, line, local_name)
        children = list(node)
        mixed = bool((node.text or "").strip()) or any((c.tail or "").strip() for c in children)
        if not mixed:
            stack.extend(reversed(children))
            continue
        # Text with inline markup: one line, its pieces joined as they render.
        text = _clean("".join(node.itertext()))
        if entities and "&" in text:
            text = _ENTITY_REF.sub(lambda m: entities.get(m.group(1), m.group(0)), text)
        if text:
            body.append(Line(text if children else f"{local_name(node.tag)}: {text}", line))
        for sub in node.iterdescendants():  # their attributes and comments still count
            if isinstance(sub.tag, str):
                _xml_attrs(sub, side, sub.sourceline or line, local_name)
            else:
                _xml_misc(sub, side)


def _xml_attrs(node: Any, side: list[Line], line: int, local_name: Callable[[object], str]) -> None:
    for key, value in node.attrib.items():
        text = _clean(value)
        if text:
            side.append(Line(f"{local_name(key)}: {text}", line, "metadata"))


def _xml_misc(node: Any, side: list[Line]) -> None:
    """A comment or processing instruction: its text, if any (an entity reference has none)."""
    if node.tag is _entity_tag():
        return
    text = _clean(getattr(node, "text", None) or "")
    if text:
        side.append(Line(text, getattr(node, "sourceline", None) or 1, "comment"))


def _prolog_and_epilog(root: Any) -> Iterator[Any]:
    before = []
    node = root.getprevious()
    while node is not None:
        before.append(node)
        node = node.getprevious()
    yield from reversed(before)
    node = root.getnext()
    while node is not None:
        yield node
        node = node.getnext()


def _entity_tag() -> Any:
    from lxml import etree  # deferred: see xml_lines (already imported by then)

    return etree.Entity
