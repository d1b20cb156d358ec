"""A worksheet's ``<sheetData>`` rows read with regular expressions, lxml for everything else.

Building an lxml element for every cell of a million-cell export costs more than
everything else the XLSX extractor does for that cell. The rows Excel, LibreOffice and
openpyxl write use a tiny, regular subset of XML (``<row r="2"><c r="A2" s="1"><v>3</v>
</c>...</row>``), so ``SheetRows`` recognises those rows with compiled patterns over the
inflated, decoded text and hands them out as plain tuples. It never guesses:

* a row is taken only if the patterns cover every character of it, with nothing in it
  that XML would read differently from its face value (a CR, which XML turns into LF; a
  character XML forbids; ``]]>``; an undeclared or repeated attribute; an entity other
  than the five predefined ones, or a character reference to a forbidden character);
* everything else goes, in document order, to one incremental lxml parser with the same
  safe settings as every other part: the prolog, ``sheetPr``, ``cols``, whatever follows
  ``</sheetData>`` (``headerFooter``), and every row the patterns leave (rich text,
  comments, prefixed names, unusual attributes). That parser sees the whole part except
  the rows taken here, which are complete, well-formed elements, so a malformed or
  truncated part still fails as damaged (``SheetXMLError``), and a part declaring
  entities is still refused by ``PartStream`` before anything reads it;
* a part that is not plain UTF-8 with the worksheet namespace as the root's default is
  not read here at all (``fast`` is False): the caller reads ``replay()``, the stream
  from its first byte, with iterparse. A sheet whose rows mostly miss the patterns
  (pretty-printed XML, say) is handed to lxml whole after a few hundred rows.

The part is read in the pieces lxml's iterparse asks for, so a read that fails (a bad
CRC, a size or ratio limit) fails after the same rows as with the reference reader.

``items()`` yields a row as ``(r, cells)``, ``cells`` a list of ``(r, s, t, formula,
value, inline)`` strings with '' for anything absent, and the elements lxml finished
(rows the patterns left, ``headerFooter``) as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from typing import Any, Protocol

from lxml import etree

from scanner.extract.base import Unscannable

# The parser settings and error wording every other OOXML part gets (no entities, no DTD, no network).
from scanner.ooxml.xml import PARSER_OPTIONS, short_reason


class Readable(Protocol):
    """What the reader needs of a part's stream (``ooxml.PartStream``)."""

    def read(self, n: int = -1, /) -> bytes: ...


Cell = tuple[str, str, str, str, str, str]  # r, s, t, formula, value, inline text
Row = tuple[str, list[Cell]]  # the row's r attribute, its cells
Item = Row | Any  # ... or an lxml element (row, headerFooter)

_CHUNK = 32 * 1024  # bytes per read: what lxml's iterparse asks for (see ``items``)
_MAX_FAST_ROW = 1 << 20  # longer rows go to lxml, which enforces its own text-size limits
_MAX_PENDING = 8 << 20  # a node still open after this much text: lxml reads the rest
_MAX_PROLOG = 8 << 20  # no <sheetData> within this much text: lxml reads the part
_BAIL_MIN_ODD = 256  # this many nodes lxml had to read, and more than the fast rows:
# the patterns do not fit this writer, and lxml alone is cheaper

# --- the row grammar --------------------------------------------------------------------
# One cell: <c r= s= t=> (in that order, each optional), then an optional formula, then a
# value or a one-run inline string. Captures: r, s, t, formula text, value, inline text.
# Possessive quantifiers (*+, ?+) change no match here (whatever a group could give back
# can never start what follows it) and spare the engine its backtracking bookkeeping.
_ATTR = r' [A-Za-z_][A-Za-z0-9_.:-]*+="[^"<]*+"'
_SPACE = r'(?: xml:space="preserve")?+'
_CELL = (
    r'<c(?: r="([A-Z]{1,3}[0-9]{1,7})")?+(?: s="([0-9]{1,9})")?+(?: t="([A-Za-z]{1,9})")?+'
    r"(?: ?/>|>"
    rf"(?:<f(?:{_ATTR})*+(?: ?/>|>([^<]*+)</f>))?+"
    rf"(?:<v{_SPACE}>([^<]*+)</v>|<is><t{_SPACE}>([^<]*+)</t></is>)?+"
    r"</c>)"
)
_CELLS = re.compile(_CELL)
# A row: r (when it comes first), the other attributes, the cells (as above, uncaptured).
_CELL_NC = re.sub(r"[(](?![?])", "(?:", _CELL)
_ROW = re.compile(rf'<row(?: r="([0-9]{{1,7}})")?+((?:{_ATTR})*+)(?: ?/>|>((?:{_CELL_NC})*+)</row>)')
_ROW_R = re.compile(r' r="([0-9]{1,7})"')
_ATTRS = re.compile(r' ([A-Za-z_][A-Za-z0-9_.:-]*)="[^"<]*"')
_F_ATTRS = re.compile(rf"<f((?:{_ATTR})+)")
_WS = re.compile(r"[ \t\r\n]*")

# What makes a row's face value differ from what XML means, or makes it not XML: an entity
# or character reference, a CR (XML reads CR LF and CR as LF), a character XML forbids
# (here also invalid UTF-8, decoded to lone surrogates), "]]>". A chunk without any is
# checked once, as bytes (a C loop); rows of the other chunks one by one.
_SUSPECT_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0D, 0x20), ord("&")])
_SUSPECT_CHAR = re.compile("[&\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_CHAR = re.compile("[\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BAD_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});)")
_REF = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9A-Fa-f]+));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}

# --- a minimal XML lexer, to find where a node the patterns do not cover ends -----------
_TOKEN = re.compile(
    r"""
    [^<]+                                           # text
  | <!--.*?-->                                      # comment
  | <!\[CDATA\[.*?\]\]>                             # CDATA section
  | <\?.*?\?>                                       # processing instruction
  | (?P<open><!--|<!\[CDATA\[|<\?)                  # one of those, not finished yet
  | (?P<bang><!)                                    # a declaration: never inside an element
  | (?P<end></[^>]*>)
  | (?P<empty><[^/>"'][^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*/>)
  | (?P<start><[^/>"'][^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>)
""",
    re.S | re.X,
)
_TAG_ATTR = re.compile(r"""([^\s=/<>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ROW_START = re.compile(r"<row[\s/>]")
_NAME = re.compile(r"<([^\s/>]*)")
# What may precede <sheetData> in a worksheet (ECMA-376 Part 1, 18.3.1.99, CT_Worksheet).
_BEFORE_SHEET_DATA = frozenset(("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols"))
_NEED_MORE, _CLOSES, _UNKNOWN = -1, -2, -3


def _node_end(text: str, pos: int) -> int:
    """End of the node (element, text, comment ...) starting at ``pos``.

    ``_NEED_MORE`` when it does not end within ``text``, ``_CLOSES`` when ``pos`` is the
    end tag of the enclosing element, ``_UNKNOWN`` for a declaration. On well-formed XML
    the tokens are exactly libxml2's; on anything else lxml reports the damage when it
    is fed the same bytes.
    """
    if text.startswith("<row", pos) and _ROW_START.match(text, pos):
        # The usual odd node: a row with a formula attribute, rich text, a prefixed name.
        # Its first '</row>' ends it unless a comment, CDATA, PI or nested row intervenes
        # (markup cannot hold '<' anywhere else); then the general walk below decides.
        tag = _TOKEN.match(text, pos)
        if tag is not None and tag.lastgroup == "empty":
            return tag.end()
        if tag is not None and tag.lastgroup == "start":
            close = text.find("</row", tag.end())
            if close < 0:
                return _NEED_MORE  # no end tag yet: a long row still arriving
            if text.startswith("</row>", close):
                inner = text[tag.end() : close]
                if "<!" not in inner and "<?" not in inner and not _ROW_START.search(inner):
                    return close + 6
    depth = 0
    match = _TOKEN.match
    while True:
        m = match(text, pos)
        if m is None:
            return _NEED_MORE
        kind = m.lastgroup
        if kind == "start":
            depth += 1
        elif kind == "end":
            depth -= 1
            if depth < 0:
                return _CLOSES
        elif kind == "open":
            return _NEED_MORE
        elif kind == "bang":
            return _UNKNOWN
        pos = m.end()
        if depth == 0:
            return pos


def _legal_char(code: int) -> bool:
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _refs_ok(text: str) -> bool:
    """Every '&' starts a predefined entity or a character reference to a legal XML character."""
    if _BAD_AMP.search(text):
        return False
    return all(_legal_char(int(m[2]) if m[2] else int(m[3], 16)) for m in _REF.finditer(text) if not m[1])


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    return _REF.sub(lambda m: _NAMED[m[1]] if m[1] else chr(int(m[2]) if m[2] else int(m[3], 16)), text)


def _cut(data: bytes) -> int:
    """Where to stop decoding: after the last '</row>' (else the last '>'), a character boundary."""
    end = data.rfind(b"</row>")
    if end >= 0:
        return end + 6
    return data.rfind(b">") + 1


def _decode(data: bytes) -> tuple[str, bool]:
    """The text of ``data`` and whether anything in it is suspect (see ``_SUSPECT_BYTES``).

    Invalid UTF-8 becomes lone surrogates, which no pattern accepts: such a row goes to
    lxml as the original bytes (``_encode`` restores them exactly) and is reported there.
    """
    suspect = len(data.translate(None, _SUSPECT_BYTES)) != len(data) or b"]]>" in data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "surrogateescape"), True
    if not suspect and not text.isascii():
        suspect = b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data  # U+FFFE, U+FFFF
    return text, suspect


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class SheetXMLError(Unscannable):
    """Malformed XML in a sheet part, as lxml saw it: the part without the rows read here.

    Its line and column count from that shorter text, not from the part.
    """


class _Replay:
    """The part's stream with the bytes already read put back in front."""

    def __init__(self, head: bytes, stream: Readable) -> None:
        self._head = head
        self._stream = stream

    def read(self, n: int = -1) -> bytes:
        if self._head:
            block, self._head = self._head, b""
            return block
        return self._stream.read(n)


class SheetRows:
    """The rows of one worksheet part, read fast where the patterns allow (see the module doc)."""

    def __init__(
        self,
        stream: Readable,
        part: str,
        kind: str,
        ns: str,
        tags: tuple[str, ...],
        on_damage: Callable[[SheetXMLError], Unscannable] | None = None,
    ) -> None:
        """``tags``: the elements lxml yields (row, headerFooter, and the other elements the
        caller reads, such as hyperlinks). ``on_damage`` may restate malformed XML in the
        part's own coordinates (see ``SheetXMLError``)."""
        self._stream = stream
        self._on_damage = on_damage
        self._part = part
        self._kind = kind
        self._ns = ns
        self._tags = tags
        self._head = stream.read(_CHUNK)  # PartStream gives its checked prolog block first
        self._prefixes: dict[str, str] = {"xml": "http://www.w3.org/XML/1998/namespace"}
        self._attr_ok: dict[str, bool] = {}
        self._parser: Any = None
        self.fast = self._eligible(self._head)
        self.fast_rows = 0  # counters, for tests and the bail-out rule
        self.odd_nodes = 0

    def replay(self) -> _Replay:
        """The stream from its first byte, for a reader that takes the part whole."""
        return _Replay(self._head, self._stream)

    # -- eligibility ------------------------------------------------------------------------
    def _eligible(self, head: bytes) -> bool:
        """UTF-8 without a BOM, no DOCTYPE, and a root whose default namespace is the sheet's."""
        if not head.startswith(b"<") and not head[:1].isspace():
            return False  # a BOM, UTF-16, or not XML at all
        text = _decode(head[: _cut(head)])[0]
        pos = 0
        while True:
            m = _TOKEN.match(text, pos)
            if m is None:
                return False
            token = m.group()
            kind = m.lastgroup
            if token.startswith("<?xml") and pos == 0:
                if not self._declaration_ok(token):
                    return False
            elif kind in ("start", "empty"):
                return kind == "start" and self._root_ok(token)
            elif kind is not None or not (token.startswith(("<!--", "<?")) or token.isspace()):
                return False  # DOCTYPE, CDATA or text before the root
            pos = m.end()

    @staticmethod
    def _declaration_ok(decl: str) -> bool:
        attrs = {m[1]: m[2] if m[2] is not None else m[3] for m in _TAG_ATTR.finditer(decl)}
        return attrs.get("version", "1.0") == "1.0" and attrs.get("encoding", "utf-8").lower() in ("utf-8", "utf8")

    def _root_ok(self, tag: str) -> bool:
        if ":" in _tag_name(tag):
            return False
        default = None
        for m in _TAG_ATTR.finditer(tag):
            key, value = m[1], m[2] if m[2] is not None else m[3]
            if "&" in value:
                return False
            if key == "xmlns":
                default = value
            elif key.startswith("xmlns:"):
                self._prefixes[key[6:]] = value
        return default == self._ns

    def _attrs_ok(self, attrs: str) -> bool:
        """Extra attributes of a row or formula: unique, no namespace declarations, declared prefixes.

        Rows repeat the same few (spans, ht, x14ac:dyDescent), so the answer is memoised.
        """
        ok = self._attr_ok.get(attrs)
        if ok is None:
            seen: set[tuple[str, str]] = set()
            ok = True
            for name in _ATTRS.findall(attrs):
                prefix, _, local = name.rpartition(":")
                uri = self._prefixes.get(prefix) if prefix else ""
                key = (uri or "", local)
                if (
                    name == "r"
                    or name == "xmlns"
                    or prefix == "xmlns"
                    or uri is None
                    or ":" in prefix
                    or not local[:1].isalpha()
                    and local[:1] != "_"
                    or key in seen
                ):
                    ok = False
                    break
                seen.add(key)
            if len(self._attr_ok) >= 4096:
                self._attr_ok.clear()
            self._attr_ok[attrs] = ok
        return ok

    # -- the lxml side ------------------------------------------------------------------------
    def _feed(self, data: bytes) -> Iterator[Any]:
        """Give lxml the next bytes of the part; yield the rows and header/footers it finished."""
        try:
            self._parser.feed(data)
        except etree.XMLSyntaxError as exc:
            yield from self._finished()  # what precedes the damage, as iterparse would give it
            raise self._damaged(exc) from exc
        yield from self._finished()

    def _close(self) -> Iterator[Any]:
        try:
            self._parser.close()
        except etree.XMLSyntaxError as exc:
            yield from self._finished()
            raise self._damaged(exc) from exc
        yield from self._finished()

    def _damaged(self, exc: etree.XMLSyntaxError) -> Unscannable:
        err = SheetXMLError(f"damaged or truncated {self._kind} (XML error in {self._part}: {short_reason(exc)})")
        return self._on_damage(err) if self._on_damage is not None else err

    def _finished(self) -> Iterator[Any]:
        for _, el in self._parser.read_events():
            yield el

    def _rest_to_lxml(self, text: str, raw: bytes) -> Iterator[Any]:
        yield from self._feed(_encode(text) + raw)
        while block := self._stream.read(_CHUNK):
            yield from self._feed(block)
        yield from self._close()

    # -- the reader ---------------------------------------------------------------------------
    def items(self) -> Iterator[Item]:
        """Rows (tuples) and finished elements, in document order."""
        self._parser = etree.XMLPullParser(events=("end",), tag=self._tags, **PARSER_OPTIONS)
        raw, self._head = self._head, b""  # bytes not decoded yet
        text = ""  # decoded, not handled yet; starts at a node boundary
        in_rows = False
        depth = 0  # element depth, until <sheetData> is found
        before = 0  # characters walked before it
        suspect = False  # may a row in ``text`` need a closer look?
        eof = False
        while True:
            cut = len(raw) if eof else _cut(raw)
            piece, piece_suspect = _decode(raw[:cut])
            suspect = piece_suspect or (suspect and bool(text))
            text += piece
            raw = raw[cut:]
            if not in_rows:
                pos, depth, found = self._before_rows(text, depth)
                before += pos
                if found is None or before > _MAX_PROLOG:  # lxml reads the whole part
                    yield from self._rest_to_lxml(text, raw)
                    return
                yield from self._feed(_encode(text[:pos]))
                text = text[pos:]
                in_rows = found
            if in_rows:
                pos = yield from self._rows(text, suspect)
                if pos < 0:  # </sheetData>, or lxml had better read the rest
                    yield from self._rest_to_lxml(text[-1 - pos :], raw)
                    return
                text = text[pos:]
            if eof or len(text) > _MAX_PENDING:
                yield from self._rest_to_lxml(text, raw)
                return
            block = self._stream.read(_CHUNK)
            eof = not block
            raw += block

    def _before_rows(self, text: str, depth: int) -> tuple[int, int, bool | None]:
        """Walk the tokens before the rows: (how far, element depth, at the rows?).

        The rows are reached after the start tag of the root's ``<sheetData>`` child. None:
        they cannot be taken here (no such child, an empty or namespaced one, a
        declaration), and lxml reads everything.
        """
        pos = 0
        while True:
            m = _TOKEN.match(text, pos)
            if m is None or m.lastgroup == "open":
                return pos, depth, False  # unfinished: wait for more text
            kind = m.lastgroup
            if kind == "bang":
                return pos, depth, None
            if kind == "end":
                depth -= 1
                if depth <= 0:
                    return pos, depth, None
            elif kind in ("start", "empty") and depth == 1:
                name = _tag_name(m.group())
                if name == "sheetData":
                    if kind == "empty" or "xmlns" in m.group():
                        return pos, depth, None
                    return m.end(), depth + 1, True
                if name not in _BEFORE_SHEET_DATA:
                    return pos, depth, None  # past where <sheetData> can be (or wrapped in mc:)
                if kind == "start":
                    depth += 1
            elif kind == "start":
                depth += 1
            pos = m.end()

    def _rows(self, text: str, suspect: bool) -> Generator[Item, None, int]:
        """Yield the rows of ``text``; return where the unhandled rest starts, or -1 - that
        position when lxml is to read everything from there (``</sheetData>``, a
        declaration, or mostly rows the patterns do not cover)."""
        pos, n = 0, len(text)
        match, take = _ROW.match, self._take
        while pos < n:
            if text[pos] != "<":
                ws = _WS.match(text, pos).end()  # type: ignore[union-attr]  # '*' always matches
                # (whitespace between rows means nothing)
                if ws == n:
                    return ws
                if ws > pos and text[ws] == "<":
                    pos = ws
                    continue
            m = match(text, pos)
            if m is not None:
                row = take(m, suspect)
                if row is not None:
                    self.fast_rows += 1
                    yield row
                    pos = m.end()
                    continue
            end = _node_end(text, pos)
            if end == _NEED_MORE:
                return pos
            if end < 0:
                return -1 - pos
            self.odd_nodes += 1
            handed_back = 0
            for el in self._feed(_encode(text[pos:end])):
                handed_back += 1
                yield el
            if not handed_back and text.startswith("<row", pos):
                return -1 - end  # lxml kept the row back: from here on it reads everything, in order
            pos = end
            if self.odd_nodes >= _BAIL_MIN_ODD and self.odd_nodes > self.fast_rows:
                return -1 - pos
        return pos

    def _take(self, m: re.Match[str], suspect: bool) -> Row | None:
        """A row the pattern matched, as (r, cells); None when lxml must read it after all."""
        r, extra, body = m.groups()
        if extra:
            if r is None and ' r="' in extra:  # r= after other attributes (older openpyxl)
                found = _ROW_R.search(extra)
                if found is None:
                    return None
                r, extra = found[1], extra[: found.start()] + extra[found.end() :]
            if not self._attrs_ok(extra):
                return None
        if m.end() - m.start() > _MAX_FAST_ROW:
            return None
        if body and "<f " in body and not all(self._attrs_ok(a) for a in _F_ATTRS.findall(body)):
            return None
        unescape = False
        if suspect:
            whole = m.group()
            if _SUSPECT_CHAR.search(whole) is not None or "]]>" in whole:
                if _FORBIDDEN_CHAR.search(whole) is not None or "]]>" in whole or not _refs_ok(whole):
                    return None
                unescape = True
        if not body:
            return r or "", []
        if unescape:
            return r or "", [tuple(map(_unescape, cell)) for cell in _CELLS.findall(body)]  # type: ignore[misc]
        return r or "", _CELLS.findall(body)


def _tag_name(tag: str) -> str:
    return _NAME.match(tag)[1]  # type: ignore[index]
