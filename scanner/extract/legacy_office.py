"""Legacy Word (.doc) and PowerPoint (.ppt) text, read from their OLE2 streams.

.doc: MS-DOC 2.4.1 "Retrieving Text": the FIB at the start of the WordDocument stream
gives the CLX in the table stream (0Table or 1Table), whose PlcPcd lists the pieces of
the document's text, each 8-bit (cp1252, "compressed") or UTF-16LE. The text is the main
story, then footnotes, headers/footers, comments, endnotes and text boxes, in the order
and lengths the FIB's ccp counts give.

.ppt: MS-PPT records of the "PowerPoint Document" stream walked as a tree; every
TextCharsAtom (UTF-16LE), TextBytesAtom (8-bit) and CString (UTF-16LE: hyperlinks,
comments, headers/footers, names) is text, located by the slide or notes page it is in.

Both: the OLE property sets (SummaryInformation, DocumentSummaryInformation) as
``property`` segments, via olefile (``ole_properties``, also used for .xls).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import olefile

from scanner.extract.base import Context, Source, Unscannable
from scanner.extract.ooxml_sweep import member_events, strings_readable, strings_segments
from scanner.model import Event, Location

# --- OLE property sets ----------------------------------------------------------------------

# olefile's attribute -> the property name OOXML readers use for the same field.
_PROPERTY_NAMES: dict[str, str] = {
    "title": "title",
    "subject": "subject",
    "author": "creator",
    "keywords": "keywords",
    "comments": "description",
    "last_saved_by": "lastModifiedBy",
    "template": "Template",
    "category": "category",
    "manager": "Manager",
    "company": "Company",
    "content_status": "contentStatus",
}


def open_ole(src: Source, kind: str) -> olefile.OleFileIO:
    try:
        return olefile.OleFileIO(src.read())
    except (OSError, ValueError, struct.error) as exc:
        raise Unscannable(f"damaged {kind} (not a readable OLE2 compound file: {exc})") from exc


def ole_properties(ole: olefile.OleFileIO, ctx: Context) -> Iterator[Event]:
    """Title, subject, author, keywords, comments... of the OLE property sets."""
    try:
        meta = ole.get_metadata()
    except Exception as exc:  # olefile raises what its parser meets in a damaged property set
        yield ctx.problem(f"document properties could not be read ({type(exc).__name__})")
        return
    for attr, name in _PROPERTY_NAMES.items():
        value = getattr(meta, attr, None)
        if isinstance(value, bytes):
            value = value.decode("cp1252", "replace")
        if isinstance(value, str) and value.strip("\x00 \t\r\n"):
            yield ctx.segment(value.strip("\x00 \t\r\n"), Location("property", name=name))


def _stream(ole: olefile.OleFileIO, name: str, kind: str) -> bytes:
    try:
        with ole.openstream(name) as fh:
            data: bytes = fh.read()
            return data
    except (OSError, ValueError, struct.error) as exc:
        raise Unscannable(f"damaged {kind} (stream {name!r} unreadable: {exc})") from exc


# Streams a legacy reader reads itself, and the container's own bookkeeping.
_KNOWN_STREAMS = frozenset(
    {
        "worddocument",
        "0table",
        "1table",
        "powerpoint document",
        "current user",
        "workbook",
        "book",
        "\x05summaryinformation",
        "\x05documentsummaryinformation",
        "\x01compobj",
        "\x01ole",
        "compobj",
    }
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EMBEDDED_MAGIC = (_OLE_MAGIC, b"PK\x03\x04", b"%PDF")


def other_streams(ole: olefile.OleFileIO, ctx: Context) -> Iterator[Event]:
    """Every stream no reader above read: embedded objects (ObjectPool, MBD storages, Ole10Native
    packages) are scanned as nested documents, anything else has its printable strings swept.
    Read everything by default: a place no reader visits is a leak."""
    compressed: list[str] = []
    for path in ole.listdir(streams=True, storages=False):
        name = "/".join(path)
        if path[-1].lower() in _KNOWN_STREAMS and len(path) == 1:
            continue
        data = _stream(ole, name, "compound file")
        if not data:
            continue
        if path[-1] == "\x01Ole10Native" or data.startswith(_EMBEDDED_MAGIC):
            yield from member_events(ctx, name.replace("\x01", ""), data)
        elif strings_readable(data):
            yield from strings_segments(ctx, name.replace("\x01", "").replace("\x05", ""), data)
        else:
            compressed.append(name)  # pictures: no text layer until OCR (issue 17)
    if compressed:
        yield ctx.note("compressed_streams", compressed)


def _has(ole: olefile.OleFileIO, name: str) -> bool:
    return bool(ole.exists(name))


# --- .doc ---------------------------------------------------------------------------------

_DOC = "legacy Word .doc"
_WIDENT = 0xA5EC
_NFIB_WORD97 = 0xC1  # older FIBs (Word 6/95) lay out the text differently
_F_WHICH_TBL = 0x0200  # FibBase flag: the table stream is 1Table (else 0Table)
_F_ENCRYPTED = 0x0100
_F_OBFUSCATED = 0x8000  # XOR obfuscation (with fEncrypted)
_FC_CLX_INDEX = 33  # fcClx/lcbClx is the 34th pair of FibRgFcLcb97
_CCP_FIELDS = 8  # ccpText ... ccpHdrTxbx in FibRgLw97, from index 3
_PCD_SIZE = 8
_COMPRESSED = 0x40000000
# The stories of the text, in order, with the part each is shown under (MS-DOC 2.4.1);
# index 3 (ccpMcr) is reserved and always 0.
_STORIES = ("body", "footnote", "header", "", "comment", "endnote", "textbox", "textbox")
# Word's special characters: paragraph and cell marks end a paragraph; field marks,
# object anchors and note references are not shown as such.
_DOC_CHARS = str.maketrans(
    {
        "\x07": "\t",  # cell / row end
        "\x0b": "\n",  # line break
        "\x0c": "\n",  # page / section break
        "\x0e": "\n",  # column break
        "\x13": " ",  # field begin: the field code (a hyperlink's target...) stays readable
        "\x14": " ",  # field separator: the result follows
        "\x15": " ",  # field end
        "\x01": None,  # picture anchor
        "\x02": None,  # footnote reference mark
        "\x05": None,  # comment reference mark
        "\x08": None,  # drawn object anchor
        "\x1e": "-",  # non-breaking hyphen
        "\x1f": None,  # optional hyphen
        "\xa0": " ",
    }
)


def extract_doc(src: Source, ctx: Context) -> Iterator[Event]:
    ole = open_ole(src, _DOC)
    try:
        text, ccps = _doc_text(ole, ctx)
        pos = 0
        for part, ccp in zip(_STORIES, ccps, strict=True):
            story = text[pos : pos + ccp]
            pos += ccp
            if part:
                yield from _doc_paragraphs(story, part, ctx)
        if pos < len(text):  # pieces past the counted stories: still text that travels
            yield from _doc_paragraphs(text[pos:], "body", ctx)
        yield from ole_properties(ole, ctx)
        yield from other_streams(ole, ctx)
    finally:
        ole.close()


def _doc_paragraphs(story: str, part: str, ctx: Context) -> Iterator[Event]:
    for i, para in enumerate(story.split("\r")):
        shown = para.translate(_DOC_CHARS).strip()
        if shown:
            yield ctx.segment(shown, Location(part, paragraph=i))


def _doc_text(ole: olefile.OleFileIO, ctx: Context) -> tuple[str, list[int]]:
    """The concatenated text of every piece, and the FIB's story lengths."""
    if not _has(ole, "WordDocument"):
        raise Unscannable(f"damaged {_DOC} (no WordDocument stream)")
    word = _stream(ole, "WordDocument", _DOC)
    fib = _read_fib(word)
    table_name = "1Table" if fib.flags & _F_WHICH_TBL else "0Table"
    if not _has(ole, table_name):
        raise Unscannable(f"damaged {_DOC} (no {table_name} stream)")
    table = _stream(ole, table_name, _DOC)
    if fib.lcb_clx <= 0 or fib.fc_clx + fib.lcb_clx > len(table):
        raise Unscannable(f"damaged {_DOC} (piece table outside the {table_name} stream)")
    pieces = _piece_table(table[fib.fc_clx : fib.fc_clx + fib.lcb_clx])
    limit = ctx.limits.xml_part_bytes
    out: list[str] = []
    total = 0
    for cp_start, cp_end, fc_raw in pieces:
        count = cp_end - cp_start
        if count <= 0:
            continue
        total += count
        if total > limit:
            raise Unscannable(f"{_DOC} text longer than {limit // (1024 * 1024)} Mi characters (limit)")
        if fc_raw & _COMPRESSED:
            start = (fc_raw & ~_COMPRESSED) // 2
            raw = word[start : start + count]
            if len(raw) < count:
                raise Unscannable(f"damaged {_DOC} (a text piece runs past the WordDocument stream)")
            out.append(raw.decode("cp1252", "replace"))
        else:
            start = fc_raw
            raw = word[start : start + 2 * count]
            if len(raw) < 2 * count:
                raise Unscannable(f"damaged {_DOC} (a text piece runs past the WordDocument stream)")
            out.append(raw.decode("utf-16-le", "replace"))
    return "".join(out), fib.ccps


@dataclass(frozen=True, slots=True)
class _Fib:
    flags: int
    ccps: list[int]  # ccpText, ccpFtn, ccpHdd, ccpMcr, ccpAtn, ccpEdn, ccpTxbx, ccpHdrTxbx
    fc_clx: int
    lcb_clx: int


def _read_fib(word: bytes) -> _Fib:
    """FibBase, then the variable-length FibRgW, FibRgLw and FibRgFcLcb, each bounds-checked."""
    if len(word) < 34:
        raise Unscannable(f"damaged {_DOC} (WordDocument stream too short)")
    ident, nfib = struct.unpack_from("<HH", word, 0)
    (flags,) = struct.unpack_from("<H", word, 0x0A)
    if ident != _WIDENT:
        raise Unscannable(f"damaged {_DOC} (no Word file information block)")
    if flags & _F_ENCRYPTED:
        kind = "obfuscated" if flags & _F_OBFUSCATED else "encrypted"
        raise Unscannable(f"{kind} {_DOC} (password-protected)")
    if nfib < _NFIB_WORD97:
        raise Unscannable(f"unsupported format: Word 6/95 document (nFib {nfib:#x})")
    pos = 32
    (csw,) = struct.unpack_from("<H", word, pos)
    pos += 2 + 2 * csw
    if pos + 2 > len(word):
        raise Unscannable(f"damaged {_DOC} (file information block truncated)")
    (cslw,) = struct.unpack_from("<H", word, pos)
    pos += 2
    if cslw < 3 + _CCP_FIELDS or pos + 4 * cslw + 2 > len(word):
        raise Unscannable(f"damaged {_DOC} (file information block truncated)")
    lw = struct.unpack_from(f"<{cslw}i", word, pos)
    ccps = [max(0, v) for v in lw[3 : 3 + _CCP_FIELDS]]
    pos += 4 * cslw
    (cb_fclcb,) = struct.unpack_from("<H", word, pos)
    pos += 2
    if cb_fclcb <= _FC_CLX_INDEX or pos + 8 * (_FC_CLX_INDEX + 1) > len(word):
        raise Unscannable(f"damaged {_DOC} (file information block has no piece table)")
    fc_clx, lcb_clx = struct.unpack_from("<II", word, pos + 8 * _FC_CLX_INDEX)
    return _Fib(flags, ccps, fc_clx, lcb_clx)


def _piece_table(clx: bytes) -> list[tuple[int, int, int]]:
    """(cp start, cp end, FcCompressed) of each piece: skip the Prcs, read the Pcdt's PlcPcd."""
    pos = 0
    while pos < len(clx):
        clxt = clx[pos]
        if clxt == 0x01:  # Prc: a grpprl of property modifiers, skipped
            if pos + 3 > len(clx):
                break
            (cb,) = struct.unpack_from("<h", clx, pos + 1)
            if cb < 0:
                break
            pos += 3 + cb
            continue
        if clxt != 0x02 or pos + 5 > len(clx):
            break
        (lcb,) = struct.unpack_from("<I", clx, pos + 1)
        plc = clx[pos + 5 : pos + 5 + lcb]
        if len(plc) < lcb or lcb < 4 + 4 + _PCD_SIZE or (lcb - 4) % (4 + _PCD_SIZE):
            break
        n = (lcb - 4) // (4 + _PCD_SIZE)
        cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
        base = 4 * (n + 1)
        pieces = []
        for i in range(n):
            (fc,) = struct.unpack_from("<I", plc, base + i * _PCD_SIZE + 2)
            pieces.append((cps[i], cps[i + 1], fc))
        return pieces
    raise Unscannable(f"damaged {_DOC} (no piece table in the CLX)")


# --- .ppt ---------------------------------------------------------------------------------

_PPT = "legacy PowerPoint .ppt"
_REC_HEADER = 8
_CONTAINER = 0xF
_TEXT_CHARS = 0x0FA0
_TEXT_BYTES = 0x0FA8
_CSTRING = 0x0FBA
_SLIDE = 0x03EE
_NOTES = 0x03F0
_MAIN_MASTER = 0x03F8
_SLIDE_LIST = 0x0FF0  # SlideListWithText: instance 0 slides, 1 masters, 2 notes
_SLIDE_PERSIST = 0x03F3
_COMMENT = 0x2EE0
_HYPERLINK = 0x0FD7
_CRYPT_SESSION = 0x2F14
_MAX_RECORD_DEPTH = 64


@dataclass(slots=True)
class _Frame:
    end: int
    rec_type: int
    instance: int
    persist: int = 0  # SlidePersistAtoms seen in a SlideListWithText


def extract_ppt(src: Source, ctx: Context) -> Iterator[Event]:
    ole = open_ole(src, _PPT)
    try:
        if _has(ole, "EncryptedSummary"):
            raise Unscannable(f"encrypted {_PPT} (password-protected)")
        if not _has(ole, "PowerPoint Document"):
            raise Unscannable(f"damaged {_PPT} (no PowerPoint Document stream)")
        stream = _stream(ole, "PowerPoint Document", _PPT)
        yield from _ppt_text(stream, ctx)
        yield from ole_properties(ole, ctx)
        yield from other_streams(ole, ctx)
    finally:
        ole.close()


def _ppt_text(data: bytes, ctx: Context) -> Iterator[Event]:
    stack: list[_Frame] = []
    slides = notes = 0
    pos = 0
    end = len(data)
    while pos + _REC_HEADER <= end:
        while stack and pos >= stack[-1].end:
            stack.pop()
        ver_inst, rec_type, rec_len = struct.unpack_from("<HHI", data, pos)
        body = pos + _REC_HEADER
        limit = stack[-1].end if stack else end
        if body + rec_len > limit:
            raise Unscannable(f"damaged {_PPT} (a record runs past its container)")
        if rec_type == _CRYPT_SESSION:
            raise Unscannable(f"encrypted {_PPT} (password-protected)")
        if ver_inst & 0xF == _CONTAINER:
            if len(stack) >= _MAX_RECORD_DEPTH:
                raise Unscannable(f"damaged {_PPT} (records nested too deeply)")
            if rec_type == _SLIDE:
                slides += 1
            elif rec_type == _NOTES:
                notes += 1
            stack.append(_Frame(body + rec_len, rec_type, ver_inst >> 4))
            pos = body
            continue
        if rec_type == _SLIDE_PERSIST and stack and stack[-1].rec_type == _SLIDE_LIST:
            stack[-1].persist += 1
        elif rec_type in (_TEXT_CHARS, _TEXT_BYTES, _CSTRING):
            raw = data[body : body + rec_len]
            text = raw.decode("latin-1") if rec_type == _TEXT_BYTES else raw.decode("utf-16-le", "replace")
            text = text.replace("\r", "\n").replace("\x0b", "\n").strip("\x00 \n")
            if text:
                yield ctx.segment(text, _ppt_location(stack, slides, notes))
        pos = body + rec_len


def _ppt_location(stack: list[_Frame], slides: int, notes: int) -> Location:
    """Where a text atom is: the innermost slide, notes page, master, comment or link."""
    for frame in reversed(stack):
        if frame.rec_type == _COMMENT:
            return Location("comment")
        if frame.rec_type == _HYPERLINK:
            return Location("annotation", name="hyperlink")
        if frame.rec_type == _SLIDE:
            return Location("slide", page=slides)
        if frame.rec_type == _NOTES:
            return Location("notes", page=notes)
        if frame.rec_type == _MAIN_MASTER:
            return Location("slide", name="master")
        if frame.rec_type == _SLIDE_LIST:
            n = frame.persist or None
            if frame.instance == 2:
                return Location("notes", page=n)
            if frame.instance == 1:
                return Location("slide", name="master")
            return Location("slide", page=n)
    return Location("body")
