"""RTF: the text a reader shows, with escapes decoded, located by paragraph.

striprtf's ``rtf_to_text`` drops every destination group, which hides exactly what a
recipient sees in Word besides the body: headers, footers, footnotes, comments, field
codes (a hyperlink's target shows on hover), text boxes, document properties. So this
module tokenises RTF itself and reuses striprtf's table of font charsets to code pages.

Destination policy (``{\\dest ...}`` and ``{\\*\\dest ...}`` groups):

* read, with their own location: headers, footers, footnotes, annotations (comments),
  the ``\\info`` properties and ``\\userprops`` values, form-field texts, shape text and
  textual shape properties (alt text, WordArt), field instructions;
* read as ``metadata`` (name = the destination word): any other ``{\\*\\...}`` group,
  which a reader skips but whose bytes travel with the file (a planted value there is
  still sent); a long run of hex digits (a binary blob) is dropped as noise;
* skipped: binary and structural tables only (fonts, colours, styles, pictures, theme
  and data-store blobs, list tables, revision ids, bookmarks), which hold no prose;
* ``\\objdata`` (an embedded OLE object) is decoded and returned as bytes, so the
  extractor scans the object as a nested document.

Hidden text (``\\v``) and tracked deletions are read like any other text. ``\\'hh`` bytes
are decoded with the current font's charset, else the document's ``\\ansicpg``.
"""

from __future__ import annotations

import codecs
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from scanner.extract.base import Context, Source
from scanner.model import Event, Location

# One token: a control word (with its optional numeric parameter and delimiting space),
# a hex escape, a control symbol, a brace, a line end, or a run of plain text.
_TOKEN = re.compile(
    r"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\([^a-zA-Z])|([{}])|(\r\n|\n|\r)|([^\\{}\r\n]+)"
)
_HEX_BLOB = re.compile(r"[0-9a-fA-F\s]{64,}")

_HEADER_WORDS = frozenset({"header", "headerl", "headerr", "headerf", "footer", "footerl", "footerr", "footerf"})
_PROPERTY_WORDS = frozenset(
    {"title", "subject", "author", "operator", "keywords", "comment", "doccomm", "company", "manager", "category"}
)
_PROPERTY_WORDS |= {"hlinkbase"}
_FORM_WORDS = frozenset({"ffdeftext", "ffhelptext", "ffstattext", "ffname", "ffl"})
_TEXTBOX_WORDS = frozenset({"shptxt", "dptxbxtext"})
_COMMENT_WORDS = frozenset({"annotation", "atnauthor", "atnid"})
# No prose in these: binary blobs, tables of fonts/colours/styles/lists, ids and dates.
_SKIP_WORDS = frozenset(
    {
        "fonttbl", "colortbl", "stylesheet", "pict", "themedata", "colorschememapping", "datastore",
        "latentstyles", "lsdlockedexcept", "listtable", "listoverridetable", "rsidtbl", "revtbl",
        "generator", "xmlnstbl", "panose", "fontemb", "fontfile", "falt", "filetbl", "pgptbl",
        "wgrffmtfilter", "defchp", "defpap", "mmathPr", "password", "passwordhash", "bkmkstart",
        "bkmkend", "blipuid", "fchars", "lchars", "keycode", "listpicture", "leveltext",
        "levelnumbers", "oleclsid", "objclass", "objname", "objalias", "objtime", "creatim", "revtim",
        "printim", "buptim", "atndate", "atntime", "atnref", "atnparent", "atnicn", "protusertbl",
        "writereservhash", "writereservation", "datafield", "nonshppict", "shppict", "gridtbl",
        "ftnsep", "ftnsepc", "aftnsep", "aftnsepc", "ftncn", "aftncn", "propname", "sn", "tcn",
        "mmathPict", "userprops_", "rsid", "ebcstart", "ebcend",
    }
)  # fmt: skip
_BREAKS = frozenset({"par", "sect", "page"})  # end a paragraph
_CHARS = {
    "line": "\n",
    "tab": "\t",
    "cell": "\t",
    "nestcell": "\t",
    "row": "\n",
    "nestrow": "\n",
    "emdash": "\u2014",
    "endash": "\u2013",
    "emspace": " ",
    "enspace": " ",
    "qmspace": " ",
    "bullet": "\u2022",
    "lquote": "\u2018",
    "rquote": "\u2019",
    "ldblquote": "\u201c",
    "rdblquote": "\u201d",
}
# Control symbols. A non-breaking hyphen shows as "-" and a non-breaking space as a space:
# "212\_67\_4431" is an SSN on screen, so it must be one in the text.
_SYMBOLS = {"~": " ", "_": "-", "-": "", "{": "{", "}": "}", "\\": "\\", "\t": "\t", "|": "", ":": ""}
_BASE_CODEPAGE = {"ansi": "cp1252", "mac": "mac_roman", "pc": "cp437", "pca": "cp850"}
_DEFAULT_CHARSETS = frozenset({0, 1})  # ANSI / DEFAULT_CHARSET: the document's code page applies


@dataclass(frozen=True, slots=True)
class RtfPiece:
    """A run of text and where it is: ``body`` paragraphs, or one destination group."""

    part: str  # a scanner.model.PARTS value
    text: str
    name: str | None = None
    paragraph: int | None = None  # body paragraphs: 0-based index
    line: int | None = None  # body paragraphs: 1-based line of the RTF source where it starts


@dataclass(slots=True)
class RtfDocument:
    pieces: list[RtfPiece] = field(default_factory=list)
    objects: list[bytes] = field(default_factory=list)  # \objdata payloads (OLE1 objects)


@dataclass(slots=True)
class _Group:
    part: str
    name: str | None
    skip: bool
    ucskip: int
    font: str | None
    buf: list[str] | None  # None: body text
    owner: bool = False  # this group opened the destination whose text is ``buf``
    kind: str = ""  # the destination word that opened it (owner only)


def rtf_to_text(data: bytes) -> str:
    """All the text of an RTF document (body, then headers, notes, properties...)."""
    return "\n".join(p.text for p in read_rtf(data).pieces)


def read_rtf(data: bytes) -> RtfDocument:
    return _Parser(data).run()


class _Parser:
    def __init__(self, data: bytes) -> None:
        # RTF is 7-bit: Latin-1 maps each byte to one char, so \binN counts stay right.
        self.text = data.decode("latin-1")
        self.doc = RtfDocument()
        self.codepage = "cp1252"
        self.fonts: dict[str, str] = {}  # font id -> codec, for fonts with a specific charset
        self.font_pending: str | None = None  # the font being defined in the font table
        self.default_font: str | None = None
        self.body: list[str] = []
        self.paragraph = 0
        self.line = 1
        self.para_line = 1
        self.uskip = 0  # characters still to skip after a \uN
        self.pending = bytearray()  # consecutive \'hh bytes, decoded together (DBCS)
        self.pending_buf: list[str] | None = None
        self.surrogates = False
        self.last_name = ""  # the last \sn or \propname: names the \sv / \staticval after it

    def run(self) -> RtfDocument:
        text = self.text
        state = _Group("body", None, False, 1, None, None)
        stack: list[_Group] = []
        star = False
        pos, end = 0, len(text)
        token = _TOKEN.match
        while pos < end:
            m = token(text, pos)
            if m is None:  # a lone backslash at the very end
                break
            pos = m.end()
            word, arg, hexa, sym, brace, newline, run = m.groups()
            if hexa is None and self.pending:
                self._flush_hex()
            if newline is not None:
                self.line += 1
                continue
            if run is not None:
                if self.uskip:
                    cut = min(self.uskip, len(run))
                    self.uskip -= cut
                    run = run[cut:]
                if run and not state.skip:
                    self._emit(state, run)
                continue
            if hexa is not None:
                if self.uskip:
                    self.uskip -= 1
                elif not state.skip:
                    if self.pending and self.pending_buf is not state.buf:
                        self._flush_hex()
                    self.pending.append(int(hexa, 16))
                    self.pending_buf = state.buf
                    self._pending_state = state
                continue
            if brace is not None:
                self.uskip = 0
                if brace == "{":
                    stack.append(state)
                    state = _Group(
                        state.part, state.name, state.skip, state.ucskip, state.font, state.buf, False, state.kind
                    )
                else:
                    self._close(state)
                    if not stack:
                        break  # the document group is closed: what follows is not read
                    state = stack.pop()
                star = False
                continue
            if sym is not None:
                if self.uskip:
                    self.uskip -= 1
                    continue
                if sym == "*":
                    star = True
                    continue
                if sym in ("\n", "\r"):  # "\<newline>" is a \par
                    self.line += 1
                    self._break(state)
                    continue
                if not state.skip:
                    self._emit(state, _SYMBOLS.get(sym, ""))
                continue
            assert word is not None
            if self.uskip:
                self.uskip -= 1
                continue
            if word == "bin":
                skipped = max(int(arg or 0), 0)
                self.line += text.count("\n", pos, pos + skipped)
                pos += skipped
                continue
            was_star, star = star, False
            self._word(state, word, arg, was_star)
        self._finish_body()
        if self.surrogates:
            self.doc.pieces = [_pair_surrogates(p) for p in self.doc.pieces]
        return self.doc

    _pending_state: _Group

    def _word(self, state: _Group, word: str, arg: str | None, star: bool) -> None:
        if state.kind == "fonttbl":
            if word == "f":
                self.font_pending = arg
            elif word in ("fcharset", "cpg") and self.font_pending is not None and arg is not None:
                codec = _charset_codec(int(arg)) if word == "fcharset" else _codec(f"cp{arg}")
                if codec is not None:
                    self.fonts[self.font_pending] = codec
            return
        if self._destination(state, word, star):
            return
        if state.skip:
            return
        if word == "u" and arg is not None:
            code = int(arg)
            code = code + 0x10000 if code < 0 else code
            if 0xD800 <= code <= 0xDFFF:
                self.surrogates = True
            self._emit(state, chr(code))
            self.uskip = state.ucskip
        elif word == "uc" and arg is not None:
            state.ucskip = max(int(arg), 0)
        elif word in _BREAKS:
            self._break(state)
        elif word in _CHARS:
            self._emit(state, _CHARS[word])
        elif word == "f":
            state.font = arg
        elif word == "deff":
            self.default_font = arg
        elif word == "ansicpg" and arg is not None:
            self.codepage = _codec(f"cp{arg}") or self.codepage
        elif word in _BASE_CODEPAGE:
            self.codepage = _BASE_CODEPAGE[word]

    def _destination(self, state: _Group, word: str, star: bool) -> bool:
        """Handle a destination word: True if it was one (its group now reads elsewhere)."""
        if state.skip:
            return True  # nothing inside a skipped group is read, whatever it declares
        if word in _SKIP_WORDS or word == "objdata":
            if word == "sn" or word == "propname":
                self._own(state, word, "metadata", None, capture=True)
            elif word == "objdata":
                self._own(state, word, "metadata", None, capture=True)
            else:
                state.skip = True
                state.kind = state.kind or word
            return True
        if state.owner:
            return False  # one destination per group; what follows belongs to it
        if word in _HEADER_WORDS:
            self._own(state, word, "header" if word.startswith("header") else "footer", word)
        elif word == "footnote":
            self._own(state, word, "footnote", None)
        elif word in _COMMENT_WORDS:
            self._own(state, word, "comment", None if word == "annotation" else word)
        elif word in _PROPERTY_WORDS and state.buf is None:
            self._own(state, word, "property", word)
        elif word in _FORM_WORDS:
            self._own(state, word, "form_field", word)
        elif word in _TEXTBOX_WORDS:
            self._own(state, word, "textbox", None)
        elif word == "sv" or word == "staticval" or word == "linkval":
            name = self.last_name
            textual = word != "sv" or name.startswith(("wz", "gtext"))
            if textual:
                self._own(state, word, "textbox" if word == "sv" else "property", name or None)
            else:
                state.skip = True
        elif word == "fldinst":
            self._own(state, word, state.part, "field code")
        elif word == "info":
            state.kind = word  # its children are the properties
        elif star:
            self._own(state, word, "metadata", word)
        else:
            return False
        return True

    def _own(self, state: _Group, word: str, part: str, name: str | None, capture: bool = False) -> None:
        state.part, state.name, state.owner, state.kind = part, name, True, word
        state.buf = []
        state.skip = False
        if capture:
            state.name = word

    def _emit(self, state: _Group, text: str) -> None:
        if state.buf is not None:
            state.buf.append(text)
            return
        if not self.body:
            self.para_line = self.line
        self.body.append(text)

    def _flush_hex(self) -> None:
        state = self._pending_state
        font = state.font if state.font is not None else self.default_font
        codec = self.fonts.get(font or "", self.codepage)
        text = bytes(self.pending).decode(codec, "replace")
        self.pending.clear()
        if self.pending_buf is None:
            self._emit(state, text)  # state.buf is the body's: the paragraph's line is kept
        else:
            self.pending_buf.append(text)

    def _break(self, state: _Group) -> None:
        if state.skip:
            return
        if state.buf is not None:
            state.buf.append("\n")
            return
        self._finish_body()

    def _finish_body(self) -> None:
        text = "".join(self.body).strip()
        self.body.clear()
        if text:
            self.doc.pieces.append(RtfPiece("body", text, paragraph=self.paragraph, line=self.para_line))
            self.paragraph += 1

    def _close(self, state: _Group) -> None:
        if not state.owner or state.buf is None:
            return
        if self.pending and self.pending_buf is state.buf:
            self._flush_hex()
        text = "".join(state.buf).strip()
        if state.kind in ("sn", "propname"):
            self.last_name = text
            return
        if state.kind == "objdata":
            hexed = "".join(ch for ch in text if ch in "0123456789abcdefABCDEF")
            if len(hexed) % 2:
                hexed = hexed[:-1]
            self.doc.objects.append(bytes.fromhex(hexed))
            return
        if not text or (state.part == "metadata" and _HEX_BLOB.fullmatch(text)):
            return
        self.doc.pieces.append(RtfPiece(state.part, text, state.name))


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _charset_codec(charset: int) -> str | None:
    if charset in _DEFAULT_CHARSETS:
        return None
    from striprtf.striprtf import charset_map  # deferred: only for fonts with a charset

    name = charset_map.get(charset)
    return _codec(name) if isinstance(name, str) else None


def _pair_surrogates(piece: RtfPiece) -> RtfPiece:
    """\\u-10179\\u-8694 is one character above the BMP written as a UTF-16 pair."""
    text = piece.text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return RtfPiece(piece.part, text, piece.name, piece.paragraph, piece.line)


# --- the extractor ---------------------------------------------------------------------------


def extract_rtf(src: Source, ctx: Context) -> Iterator[Event]:
    doc = read_rtf(src.read())
    for piece in doc.pieces:
        yield ctx.segment(piece.text, Location(piece.part, name=piece.name, paragraph=piece.paragraph, line=piece.line))
    for i, blob in enumerate(doc.objects, 1):
        name, native = ole1_native(blob, i)
        if native:
            ctx.charge_expanded(len(native))
            yield from ctx.member(name, native)
        else:
            yield ctx.problem(f"embedded object {i} could not be decoded")


def ole1_native(blob: bytes, index: int) -> tuple[str, bytes]:
    """The native data of an OLE 1.0 embedded object (MS-OLEDS 2.2.4 ObjectHeader then
    NativeDataSize + NativeData); a ``Package`` object is unwrapped to the file it holds.
    Returns ("", b"") when the bytes are not an embedded object."""
    try:
        pos = 8  # OLEVersion, FormatID
        if struct.unpack_from("<I", blob, 4)[0] != 2:  # 2: embedded (1: linked, 5: picture)
            return "", b""
        strings = []
        for _ in range(3):  # ClassName, TopicName, ItemName: length-prefixed ANSI
            n = struct.unpack_from("<I", blob, pos)[0]
            strings.append(blob[pos + 4 : pos + 4 + n].rstrip(b"\x00").decode("latin-1"))
            pos += 4 + n
        size = struct.unpack_from("<I", blob, pos)[0]
        native = blob[pos + 4 : pos + 4 + size]
    except struct.error:
        return "", b""
    cls = strings[0] or "object"
    if cls == "Package":
        unwrapped = _package(native)
        if unwrapped is not None:
            return unwrapped
    return f"object {index} ({cls})", native


def _package(native: bytes) -> tuple[str, bytes] | None:
    """OLE Packager data: signature, label, source path, then the file's bytes."""
    try:
        pos = 2
        label_end = native.index(b"\x00", pos)
        label = native[pos:label_end].decode("latin-1")
        pos = native.index(b"\x00", label_end + 1) + 1  # original path
        pos += 4  # reserved/format
        n = struct.unpack_from("<I", native, pos)[0]
        pos += 4 + n  # temporary path
        size = struct.unpack_from("<I", native, pos)[0]
        data = native[pos + 4 : pos + 4 + size]
    except (ValueError, struct.error):
        return None
    name = label.replace("\\", "/").rsplit("/", 1)[-1] or "package"
    return name, data
