"""PDF: page text, annotations, form fields, metadata, bookmarks and embedded files.

Two jobs, two kinds of engine:

* **Page text** comes from PDFium (pypdfium2, ~300-1000 pages/s). pdfminer.six (10-20
  pages/s) reads only the pages PDFium misreads: a page whose text objects yield few
  characters or, on CJK pages, many objects no text at all (fonts PDFium cannot map to
  Unicode, e.g. vertical CJK gazettes), text that is raw glyph codes or letter-doubled
  words (fake bold), vertical CJK that PDFium returns one character per line, a page
  PDFium cannot load, or every page when PDFium cannot open the file at all; the
  engine that reads more of the page wins. A page whose columns PDFium reads
  across (line 1 of both columns, then line 2) is put back in reading order from
  PDFium's own text boxes (``pdf_columns``). Each engine sits behind one small
  function (``_pdfium_page_text``, ``_pdfminer_page_text``) so either can be measured
  or swapped.
* **Structure** (document information, XMP, AcroForm fields and XFA, annotations,
  bookmarks, embedded files) is walked over pypdf's object model, or pdfminer's when
  pypdf cannot parse the file; one walker serves both through a small adapter.

Fail closed: a truncated file, a password, a page no engine can read, a structure no
engine can parse or more pages than the limit each raise ``Unscannable`` (after what
could be read has been yielded, so the findings still count).
"""

from __future__ import annotations

import contextlib
import html
import io
import logging
import re
import warnings
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, cast

from scanner.extract.base import Context, Source, Unscannable
from scanner.extract.pdf_columns import column_ordered_text
from scanner.model import DocProblem, DocStart, Event, Location

_MiB = 1024 * 1024

# pdfminer and pypdf quote raw document objects in their log records (at debug level and
# in some errors: "Dict required: {... (Patient SSN ...)}"), and we never log raw values.
# What they would say is reported as words instead (a DocProblem, a note).
for _name in ("pdfminer", "pypdf"):
    logging.getLogger(_name).setLevel(logging.CRITICAL + 1)

# ---------------------------------------------------------------------------------------
# Text clean-up shared by both page engines


# PDFium marks a hyphen it thinks is a line-end soft hyphen with U+FFFE (get_text_range)
# or U+0002 (bounded text) and drops the line break: "212-67-\n4431" comes out as
# "212-67\ufffe4431". The glyph was visible on the page, so it becomes a hyphen again.
_CLEAN = str.maketrans(
    {
        "\ufffe": "-",
        "\u0002": "-",
        "\u00ad": "-",
        "\u0000": None,
        "\ufeff": None,
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
_PDFMINER_CID = re.compile(r"\(cid:\d+\)")


def clean_text(text: str) -> str:
    """Normalise line ends, hyphen markers and ligatures; keep everything else as is."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CLEAN)


def _visible(text: str) -> int:
    """Characters other than whitespace (split() and isspace() agree on what that is)."""
    return len("".join(text.split()))


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x3000 <= o <= 0x30FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF
        or 0xAC00 <= o <= 0xD7AF
    )


def looks_like_vertical_cjk(text: str) -> bool:
    """Vertical writing read as horizontal lines: mostly one CJK character per line."""
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    if len(lines) < 8:
        return False
    single = sum(1 for line in lines if len(line) == 1 and _is_cjk(line))
    return single >= 0.6 * len(lines)


# ---------------------------------------------------------------------------------------
# Truncation: PDFium rebuilds a cross-reference table for a cut file and reads what is
# left, so "it opened" proves nothing. A complete file ends with %%EOF, possibly followed
# by junk (NULs, a mail footer); PDF syntax after the last %%EOF is a cut-off revision.

_AFTER_EOF_SYNTAX = re.compile(
    rb"\d+\s+\d+\s+obj\b|\bendobj\b|\bendstream\b|\bstream\r?\n|\bxref\b|\btrailer\b|\bstartxref\b"
)
_EOF = b"%%EOF"


def find_truncation(fh: IO[bytes]) -> str | None:
    """Why the file looks cut off, or None. Reads backwards only as far as needed."""
    size = fh.seek(0, io.SEEK_END)
    pos = size
    carry = b""  # the start of the block read before, so a token split by a block edge is seen
    while pos > 0:
        start = max(0, pos - _MiB)
        fh.seek(start)
        block = fh.read(pos - start) + carry
        eof = block.rfind(_EOF)
        tail = block[eof + len(_EOF) :] if eof >= 0 else block
        if _AFTER_EOF_SYNTAX.search(tail):
            if eof >= 0:
                return "PDF objects follow its last end-of-file marker (an update was cut off)"
            return "the file ends before its end-of-file marker"
        if eof >= 0:
            return None
        carry = block[:32]
        pos = start
    return "the file has no end-of-file marker"


_LINEARIZED = re.compile(rb"<<[^>]*?/Linearized\b[^>]*>>")


def linearized_page_count(fh: IO[bytes]) -> int | None:
    """The page count a linearized file declares up front, if its linearization is intact.

    Only trusted while the declared length /L equals the file's size: an incremental
    update after linearizing may have added or removed pages.
    """
    fh.seek(0)
    head = fh.read(2048)
    m = _LINEARIZED.search(head)
    if not m:
        return None
    n = re.search(rb"/N\s+(\d+)", m.group(0))
    length = re.search(rb"/L\s+(\d+)", m.group(0))
    size = fh.seek(0, io.SEEK_END)
    if n is None or length is None or int(length.group(1)) != size:
        return None
    return int(n.group(1))


# ---------------------------------------------------------------------------------------
# Page text engines


def _pdfium_page_text(textpage: Any) -> str:
    """All characters PDFium found on the page, in its reading order.

    ``get_text_range`` rather than ``get_text_bounded``: the bounded call keeps only
    text inside the page box, and text placed off the page is exactly what hides data.
    """
    return str(textpage.get_text_range(errors="replace"))


def _pdfium_objects(page: Any, textpage: Any = None) -> tuple[int, int, int]:
    """(text objects, image objects, text objects PDFium maps to no text) on the page,
    inside form XObjects too. The last is counted only when ``textpage`` is given."""
    import pypdfium2.raw as pdfium_c

    texts = images = empty = 0
    stack: list[tuple[Any, bool, int]] = [(page.raw, True, 0)]
    while stack:
        parent, is_page, depth = stack.pop()
        count = pdfium_c.FPDFPage_CountObjects(parent) if is_page else pdfium_c.FPDFFormObj_CountObjects(parent)
        for i in range(max(count, 0)):
            obj = pdfium_c.FPDFPage_GetObject(parent, i) if is_page else pdfium_c.FPDFFormObj_GetObject(parent, i)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                texts += 1
                # the length in bytes of UTF-16 text plus its terminator: 2 means none
                if textpage is not None and pdfium_c.FPDFTextObj_GetText(obj, textpage.raw, None, 0) <= 2:
                    empty += 1
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                images += 1
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < 16:
                stack.append((obj, False, depth + 1))
    return texts, images, empty


# Characters a font without a Unicode map comes out as: PDFium hands over the raw glyph
# codes (control characters) or private-use code points instead of the text.
_GLYPH_CODES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd\ue000-\uf8ff]")
# A word whose every letter is doubled ("MMuunniicciippaalliittéé"): text overprinted a
# hair to one side for a bold look, which PDFium merges letter by letter.
_DOUBLED_WORD = re.compile(r"(?<!\w)(?:(\w)\1){3,}(?!\w)")
_SHORT_OBJECTS = 4.0  # characters per text object below which a page may be fake bold
_CJK_CHAR = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\uac00-\ud7af]")


def garbled(text: str, chars_per_object: float = 0.0) -> bool:
    """Does PDFium's text for a page show signs that its letters are not the page's words?

    Letter-doubled words are looked for only where text objects are short (a few
    characters each, as on a map or a fake-bold title): the pattern needs a
    back-reference at every position, a cost a page of running text need not pay.
    """
    codes = len(_GLYPH_CODES.findall(text))
    if codes >= 8 and codes >= 0.3 * _visible(text):
        return True
    if chars_per_object >= _SHORT_OBJECTS:
        return False
    doubled = sum(1 for _ in _DOUBLED_WORD.finditer(text))
    return doubled >= 3 and doubled >= 0.05 * len(text.split())


def _pdfminer_page_text(page: Any, resources: Any) -> tuple[str, int]:
    """(text, image count) of one pdfminer page, with layout analysis.

    ``detect_vertical`` reads vertical CJK columns as lines; ``all_texts`` includes text
    drawn inside form XObjects (figures), which the default layout analysis skips.
    """
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTChar, LTContainer, LTImage, LTTextBox, LTTextLine
    from pdfminer.pdfinterp import PDFPageInterpreter

    device = PDFPageAggregator(resources, laparams=LAParams(detect_vertical=True, all_texts=True))
    PDFPageInterpreter(resources, device).process_page(page)
    parts: list[str] = []
    images = 0
    stack: list[Any] = [device.get_result()]
    while stack:
        item = stack.pop()
        if isinstance(item, LTTextBox):
            parts.append(item.get_text())
            parts.append("\n")
        elif isinstance(item, LTTextLine | LTChar):
            parts.append(item.get_text())
        elif isinstance(item, LTImage):
            images += 1
        elif isinstance(item, LTContainer):
            stack.extend(reversed(list(item)))
    return _PDFMINER_CID.sub("\ufffd", "".join(parts)), images


class _PdfminerPages:
    """pdfminer.six opened on first use and walked forward (it is 20-50x slower than PDFium)."""

    def __init__(self, src: Source) -> None:
        self._src = src
        self._stack: contextlib.ExitStack | None = None
        self._pages: Iterator[Any] | None = None
        self._resources: Any = None
        self._current: Any = None
        self._next = 0

    def text(self, index: int) -> tuple[str, int]:
        """(text, images) of the 0-based page ``index``; raises if pdfminer cannot read it."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # complaints about a malformed file, not news
            return _pdfminer_page_text(self._page(index), self._resources)

    def _page(self, index: int) -> Any:
        if self._pages is None or index < self._next - 1:
            self._open()
        assert self._pages is not None
        while self._next <= index:
            try:
                self._current = next(self._pages)
            except StopIteration:
                raise LookupError(f"pdfminer finds only {self._next} pages") from None
            self._next += 1
        return self._current

    def page_count(self) -> int:
        """Walk to the end (used only when PDFium could not open the file)."""
        count = self._next
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            while True:
                try:
                    self._page(count)
                except LookupError:
                    return count
                count += 1

    def _open(self) -> None:
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfinterp import PDFResourceManager
        from pdfminer.pdfpage import PDFPage
        from pdfminer.pdfparser import PDFParser

        self.close()
        self._stack = contextlib.ExitStack()
        fh = self._stack.enter_context(self._src.open())
        document = PDFDocument(PDFParser(cast(BinaryIO, fh)), password="")
        self._pages = iter(PDFPage.create_pages(document))
        self._resources = PDFResourceManager(caching=True)
        self._current, self._next = None, 0

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None
        self._pages = None


# ---------------------------------------------------------------------------------------
# Structure: one walker over two object models


# Keys whose value never carries document text: a broken one costs nothing.
_NON_TEXT_KEYS = frozenset({"Count", "Type", "Subtype", "Params", "Size", "Length"})


class _CannotDecrypt(Exception):
    """The structure engine cannot decrypt a file PDFium opened without a password."""


class _Objects:
    """What the structure walk needs from a PDF object model."""

    engine = ""
    encrypted = False
    root: Any = None
    info: Any = None

    def __init__(self) -> None:
        self.broken: set[str] = set()

    def resolve(self, obj: Any, what: str = "object") -> tuple[Any, Hashable | None]:
        """(direct object or None, identity of the indirect reference followed, if any).

        A reference that loops or points at garbage reads as None, so one hostile object
        does not hide the rest of the structure; where it could have held text, its key
        is remembered in ``broken`` and the document is reported as not read completely.
        """
        try:
            return self._resolve(obj)
        except MemoryError:
            raise
        except Exception:
            if what not in _NON_TEXT_KEYS:
                self.broken.add(what)
            return None, None

    def _resolve(self, obj: Any) -> tuple[Any, Hashable | None]:
        raise NotImplementedError

    def raw_get(self, obj: Any, key: str) -> Any:
        """``obj[key]`` without resolving (key without the slash); None if absent."""
        raise NotImplementedError

    def text(self, obj: Any) -> str | None:
        """A string, name or number as text; None for anything else."""
        raise NotImplementedError

    def stream_data(self, obj: Any) -> bytes | None:
        """The decoded bytes of a stream; None if ``obj`` is not a stream."""
        raise NotImplementedError

    def keys(self, obj: Any) -> list[str]:
        raise NotImplementedError

    def is_dict(self, obj: Any) -> bool:
        raise NotImplementedError

    def get(self, obj: Any, key: str) -> Any:
        return self.resolve(self.raw_get(obj, key), key)[0]

    def items(self, obj: Any) -> list[Any]:
        """The elements of an array (unresolved); [] for anything else."""
        return list(obj) if isinstance(obj, list) else []


class _PypdfObjects(_Objects):
    engine = "pypdf"

    def __init__(self, fh: IO[bytes]) -> None:
        from pypdf import PdfReader
        from pypdf import generic as g

        super().__init__()
        self._g = g
        reader = PdfReader(fh, strict=False)
        self.encrypted = bool(reader.is_encrypted)
        if self.encrypted and not reader.decrypt(""):
            raise _CannotDecrypt("pypdf cannot decrypt it with an empty password")
        self.root = self._resolve(dict.get(reader.trailer, "/Root"))[0]
        if not self.is_dict(self.root):
            raise ValueError("no document catalog")
        self.info = self.resolve(dict.get(reader.trailer, "/Info"), "Info")[0]

    def _resolve(self, obj: Any) -> tuple[Any, Hashable | None]:
        ident: Hashable | None = None
        for _ in range(32):
            if not isinstance(obj, self._g.IndirectObject):
                break
            if ident is None:
                ident = (obj.idnum, obj.generation)
            obj = obj.get_object()
        if isinstance(obj, self._g.NullObject | self._g.IndirectObject):
            obj = None
        return obj, ident

    def raw_get(self, obj: Any, key: str) -> Any:
        return dict.get(obj, "/" + key) if isinstance(obj, dict) else None

    def text(self, obj: Any) -> str | None:
        g = self._g
        if isinstance(obj, g.NameObject):
            return str(obj)[1:]
        if isinstance(obj, str):
            return str(obj)
        if isinstance(obj, bytes):
            return _decode_pdf_bytes(bytes(obj))
        if isinstance(obj, bool | int | float):
            return str(obj)
        return None

    def stream_data(self, obj: Any) -> bytes | None:
        if isinstance(obj, self._g.StreamObject):
            return bytes(obj.get_data())
        return None

    def keys(self, obj: Any) -> list[str]:
        return [str(k)[1:] for k in obj] if isinstance(obj, dict) else []

    def is_dict(self, obj: Any) -> bool:
        return isinstance(obj, dict)


class _PdfminerObjects(_Objects):
    engine = "pdfminer"

    def __init__(self, fh: IO[bytes]) -> None:
        from pdfminer import pdftypes, psparser
        from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
        from pdfminer.pdfparser import PDFParser

        super().__init__()
        self._t, self._ps = pdftypes, psparser
        try:
            document = PDFDocument(PDFParser(cast(BinaryIO, fh)), password="")
        except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
            raise _CannotDecrypt(f"pdfminer: {type(exc).__name__}") from exc
        self.encrypted = document.encryption is not None
        self.root = document.catalog
        info: dict[str, Any] = {}
        for part in reversed(document.info):  # one dict per revision, newest first: newest wins
            if isinstance(part, dict):
                info.update(part)
        self.info = info

    def _resolve(self, obj: Any) -> tuple[Any, Hashable | None]:
        ident: Hashable | None = None
        for _ in range(32):
            if not isinstance(obj, self._t.PDFObjRef):
                break
            if ident is None:
                ident = obj.objid
            obj = obj.resolve()
        if isinstance(obj, self._t.PDFObjRef):
            obj = None
        return obj, ident

    def raw_get(self, obj: Any, key: str) -> Any:
        if isinstance(obj, self._t.PDFStream):
            obj = obj.attrs
        return obj.get(key) if isinstance(obj, dict) else None

    def text(self, obj: Any) -> str | None:
        if isinstance(obj, bytes):
            return _decode_pdf_bytes(obj)
        if isinstance(obj, str):
            return obj
        if isinstance(obj, self._ps.PSLiteral):
            return self._ps.literal_name(obj)
        if isinstance(obj, bool | int | float):
            return str(obj)
        return None

    def stream_data(self, obj: Any) -> bytes | None:
        if isinstance(obj, self._t.PDFStream):
            return bytes(obj.get_data())
        return None

    def keys(self, obj: Any) -> list[str]:
        if isinstance(obj, self._t.PDFStream):
            obj = obj.attrs
        return [str(k) for k in obj] if isinstance(obj, dict) else []

    def is_dict(self, obj: Any) -> bool:
        return isinstance(obj, dict | self._t.PDFStream)


def _decode_pdf_bytes(raw: bytes) -> str:
    """A PDF string: UTF-16 with a BOM, UTF-8 with a BOM (PDF 2.0), else PDFDocEncoding."""
    if raw[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return raw.decode("utf-16", "replace")
    if raw[:3] == b"\xef\xbb\xbf":
        return raw[3:].decode("utf-8", "replace")
    from pdfminer.utils import decode_text

    return decode_text(raw)


# ---------------------------------------------------------------------------------------
# XML text (XMP, XFA, rich-text annotations): a tokenizer, not a parser, so no entity
# is ever expanded or fetched and malformed markup still yields its text.

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


# ---------------------------------------------------------------------------------------
# The structure walk


@dataclass(slots=True)
class _Item:
    location: Location
    text: str
    context: str | None = None


@dataclass(slots=True)
class _Attachment:
    name: str
    declared_size: int | None
    load: Callable[[], bytes | None]


@dataclass(slots=True)
class _Structure:
    engine: str
    encrypted: bool
    items: list[_Item] = field(default_factory=list)
    attachments: list[_Attachment] = field(default_factory=list)
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

    def __init__(self, objects: _Objects, max_pages: int) -> None:
        self.o = objects
        self.max_pages = max_pages
        self.s = _Structure(objects.engine, objects.encrypted)
        self._seen_attachments: set[Hashable] = set()
        self._field_values: set[str] = set()

    def run(self) -> _Structure:
        self._info()
        self._xmp()
        self._fields()
        self._outline()
        self._pages()
        self._embedded_files()
        self.s.broken = set(self.o.broken)
        return self.s

    def _add(self, location: Location, text: str | None, context: str | None = None) -> None:
        if text and text.strip():
            self.s.items.append(_Item(location, text, context))

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
        if text is not None or not isinstance(obj, list) or depth > 8:
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
        seen: set[Hashable] = set()
        roots = self.o.items(self.o.get(acroform, "Fields"))
        stack: list[tuple[Any, str, int]] = [(ref, "", 0) for ref in reversed(roots)]
        while stack:
            ref, parent, depth = stack.pop()
            node, ident = self.o.resolve(ref, "Fields")
            if not self.o.is_dict(node) or depth > 64 or (ident is not None and ident in seen):
                continue
            if ident is not None:
                seen.add(ident)
            partial = self.o.text(self.o.get(node, "T"))
            name = f"{parent}.{partial}" if parent and partial else (partial or parent)
            self._field(node, name)
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
        stack: list[tuple[Any, int]] = [(self.o.raw_get(self.o.root, "Pages"), 0)]
        while stack:
            ref, depth = stack.pop()
            node, ident = self.o.resolve(ref, "Pages")
            if node is None:
                self.s.missing_pages += 1
                continue
            if not self.o.is_dict(node) or depth > 64 or (ident is not None and ident in seen):
                continue
            if ident is not None:
                seen.add(ident)
            kids = self.o.get(node, "Kids")
            if isinstance(kids, list) and self.o.text(self.o.get(node, "Type")) != "Page":
                stack.extend((kid, depth + 1) for kid in reversed(kids))
                continue
            self.s.pages += 1
            if self.s.pages <= self.max_pages:
                self._annotations(node, self.s.pages)

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
        names = self.o.get(self.o.root, "Names")
        tree = self.o.raw_get(names, "EmbeddedFiles") if self.o.is_dict(names) else None
        seen: set[Hashable] = set()
        stack: list[tuple[Any, int]] = [(tree, 0)]
        while stack:
            ref, depth = stack.pop()
            node, ident = self.o.resolve(ref, "EmbeddedFiles")
            if not self.o.is_dict(node) or depth > 64 or (ident is not None and ident in seen):
                continue
            if ident is not None:
                seen.add(ident)
            entries = self.o.items(self.o.get(node, "Names"))
            for i in range(0, len(entries) - 1, 2):
                key = self.o.text(self.o.resolve(entries[i], "EmbeddedFiles")[0])
                self._file_spec(entries[i + 1], key or f"attachment-{len(self.s.attachments) + 1}")
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
        self.s.attachments.append(_Attachment(name, declared, lambda: o.stream_data(stream)))


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _read_structure(src: Source, max_pages: int, stack: contextlib.ExitStack) -> _Structure:
    """Walk the structure with pypdf, or pdfminer where pypdf fails; Unscannable if both fail.

    The winning engine's file stays open (on ``stack``) so attachments can be read later.
    """
    failures: list[str] = []
    decrypt_failures = 0
    for make in (_PypdfObjects, _PdfminerObjects):
        fh = src.open()
        try:
            with warnings.catch_warnings():
                # Parser warnings about a malformed file are expected here, not news.
                warnings.simplefilter("ignore")
                structure = _Walker(make(fh), max_pages).run()
        except _CannotDecrypt:
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


# ---------------------------------------------------------------------------------------
# The extractor


def _open_pdfium(fh: IO[bytes]) -> tuple[Any, str | None]:
    """(PdfDocument, None) or (None, why PDFium could not open it). Passwords raise."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        return pdfium.PdfDocument(fh), None
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise Unscannable("encrypted PDF (password required)") from exc
        if exc.err_code == pdfium_c.FPDF_ERR_SECURITY:
            raise Unscannable("encrypted PDF (unsupported security handler)") from exc
        return None, str(exc)


@dataclass(slots=True)
class _PageReport:
    engines: dict[str, int] = field(default_factory=lambda: {"pdfium": 0, "pdfminer": 0})
    without_text: int = 0
    unreadable: list[int] = field(default_factory=list)
    last_engine: str | None = None


def extract_pdf(src: Source, ctx: Context) -> Iterator[Event]:
    linearized_pages = None
    if ctx.pages is None:
        # A later page range skips these reads: the first part checked the same bytes
        # before it handed the range out (a cut file is refused before any split).
        with src.open() as fh:
            cut = find_truncation(fh)
            linearized_pages = linearized_page_count(fh)
        if cut:
            raise Unscannable(f"truncated PDF ({cut})")
    problems: list[str] = []
    with contextlib.ExitStack() as stack:
        fh = stack.enter_context(src.open())
        pdf, pdfium_error = _open_pdfium(fh)
        if pdf is not None:
            stack.callback(pdf.close)
        miner = _PdfminerPages(src)
        stack.callback(miner.close)
        if pdf is None:
            try:
                page_count = miner.page_count()
            except Exception as exc:
                raise Unscannable(f"damaged or truncated PDF ({pdfium_error}; pdfminer: {type(exc).__name__})") from exc
            if page_count == 0:
                raise Unscannable(f"damaged or truncated PDF ({pdfium_error}; pdfminer finds no pages)")
        else:
            page_count = len(pdf)
        limit = ctx.limits.max_pages
        readable = min(page_count, limit)
        if ctx.pages is not None:
            # A later part of a file split across workers: its pages' text, nothing else
            # (the first part reads the structure, attachments and page-tree checks).
            start, stop = ctx.pages
            if start > 0:
                # The page before the range, for the matcher's context only (analyse drops
                # its findings): a label at the foot of one page, the value atop the next.
                lead_in = _page_text(pdf, miner, start - 1, _PageReport())
                if lead_in is not None and lead_in.strip():
                    yield ctx.segment(lead_in, Location("body", page=start))
            yield from _page_events(pdf, miner, ctx, start, min(stop, readable), problems)
        else:
            stop = readable
            if ctx.split is not None:  # offered to top-level files only (members get no splitter)
                # Said before the structure walk, so other workers start on their pages
                # while this one walks the page tree.
                stop = ctx.split(readable) or readable
            yield from _whole_document(src, ctx, pdf, miner, stack, page_count, linearized_pages, stop, problems)
    if problems:
        raise Unscannable("; ".join(dict.fromkeys(problems)))


def _whole_document(
    src: Source,
    ctx: Context,
    pdf: Any,
    miner: _PdfminerPages,
    stack: contextlib.ExitStack,
    page_count: int,
    linearized_pages: int | None,
    stop: int,
    problems: list[str],
) -> Iterator[Event]:
    """Structure, pages [0, stop), page-tree checks and attachments: the whole file, or the
    first part of a split one."""
    structure = _read_structure(src, ctx.limits.max_pages, stack)
    if structure.encrypted:
        yield ctx.note("encrypted", "owner password only")
    for item in structure.items:
        yield ctx.segment(item.text, item.location, item.context)
    expected = max(structure.pages + structure.missing_pages, structure.declared_pages or 0, linearized_pages or 0)
    if page_count < expected:
        problems.append(f"damaged PDF: only {page_count} of its {expected} pages can be read")
    if structure.broken:
        problems.append(f"damaged PDF: some objects cannot be read ({', '.join(sorted(structure.broken)[:6])})")
    yield from _page_events(pdf, miner, ctx, 0, stop, problems)
    if page_count > ctx.limits.max_pages:
        problems.append(f"PDF has more than {ctx.limits.max_pages} pages")
    yield from _attachment_events(structure, ctx)


def _page_events(
    pdf: Any, miner: _PdfminerPages, ctx: Context, start: int, stop: int, problems: list[str]
) -> Iterator[Event]:
    """The text of pages [start, stop), then which engines read them and what could not be read."""
    report = _PageReport()
    for index in range(start, stop):
        text = _page_text(pdf, miner, index, report)
        if text is not None and text.strip():
            yield ctx.segment(text, Location("body", page=index + 1), engine=report.last_engine)
    yield ctx.note("engines", report.engines)
    if report.without_text:
        yield ctx.note("pages_without_text", report.without_text)
    if report.unreadable:
        pages = ", ".join(str(p) for p in report.unreadable[:10])
        more = f" and {len(report.unreadable) - 10} more" if len(report.unreadable) > 10 else ""
        problems.append(f"damaged PDF: the text of page(s) {pages}{more} cannot be read")


def _page_text(pdf: Any, miner: _PdfminerPages, index: int, report: _PageReport) -> str | None:
    """One page's text from PDFium, or from pdfminer where PDFium misreads it.

    Updates ``report``: which engine answered, pages with nothing readable but images
    (or glyphs no engine can decode) on them, pages no engine could read at all.
    """
    first = _read_pdfium_page(pdf, index) if pdf is not None else None
    text, misread, vertical, images = "", False, False, 0
    if first is not None:
        text, chars, text_objects, images, empty_objects = first
        # PDFium drops text objects whose font it cannot map to Unicode: many text
        # objects and few characters, or many objects with no text at all (CJK fonts,
        # counted on CJK pages only), means the page's text is there and PDFium missed
        # it; so does text that is raw glyph codes or letter-doubled words.
        misread = text_objects > 0 and (chars < text_objects / 2 or empty_objects >= max(4, text_objects / 4))
        misread = misread or garbled(text, chars / text_objects if text_objects else 0.0)
        vertical = looks_like_vertical_cjk(text)
        if not misread and not vertical:
            return _settle(report, "pdfium", text, hidden=images > 0)
    try:
        alt, alt_images = miner.text(index)
        alt = clean_text(alt)
    except Exception:
        if first is None:
            report.unreadable.append(index + 1)
            return None
        # Undecodable glyphs hide text as surely as pixels do.
        return _settle(report, "pdfium", text, hidden=images > 0 or misread, force=misread)
    # pdfminer's layout analysis rebuilds vertical columns, so for vertical CJK it wins
    # unless it lost characters on the way; otherwise the engine that read more wins.
    if first is None or _visible(alt) > _visible(text) or (vertical and _visible(alt) >= 0.8 * _visible(text)):
        return _settle(report, "pdfminer", alt, hidden=alt_images > 0 or images > 0 or misread)
    return _settle(report, "pdfium", text, hidden=images > 0 or misread)


def _read_pdfium_page(pdf: Any, index: int) -> tuple[str, int, int, int, int] | None:
    """(text, characters PDFium recognised, text objects, image objects, text objects without
    text); None if it fails."""
    try:
        page = pdf[index]
    except Exception:
        return None
    try:
        textpage = page.get_textpage()
        try:
            text = clean_text(_pdfium_page_text(textpage))
            chars = int(textpage.count_chars())
            text = column_ordered_text(textpage, text, clean_text) or text
            # Objects without text are counted on CJK pages only: a call per object, and
            # CJK fonts are where PDFium's Unicode maps fail while others on the page work.
            text_objects, images, empty = _pdfium_objects(page, textpage if _CJK_CHAR.search(text) else None)
        finally:
            textpage.close()
    except Exception:
        return None
    finally:
        page.close()
    return text, chars, text_objects, images, empty


def _settle(report: _PageReport, engine: str, text: str, hidden: bool, force: bool = False) -> str:
    """Count the page for ``engine``; a page with no text but images counts as without text."""
    report.engines[engine] += 1
    report.last_engine = engine
    if force or (hidden and not text.strip()):
        report.without_text += 1
    return text


def _size_words(n: int) -> str:
    return f"{n // _MiB} MiB" if n >= _MiB else f"{n:,} bytes"


def _attachment_events(structure: _Structure, ctx: Context) -> Iterator[Event]:
    limit = ctx.limits.archive_member_bytes
    used: dict[str, int] = {}
    for attachment in structure.attachments:
        name = attachment.name.replace("\\", "/").strip("/") or "attachment"
        used[name] = used.get(name, 0) + 1
        if used[name] > 1:
            name = f"{name} ({used[name]})"
        child = ctx.child_path(name)
        if ctx.budget.members >= ctx.limits.archive_members:
            yield DocStart(child, "unsupported", "", 0)
            yield DocProblem(child, f"more than {ctx.limits.archive_members} archive members in total")
            continue
        if attachment.declared_size is not None and attachment.declared_size > limit:
            yield DocStart(child, "unsupported", "", attachment.declared_size)
            yield DocProblem(child, f"embedded file larger than {_size_words(limit)}")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = attachment.load()
        except (MemoryError, RecursionError, Exception) as exc:
            yield DocStart(child, "unsupported", "", 0)
            yield DocProblem(child, f"embedded file cannot be read ({type(exc).__name__})")
            continue
        if data is None:
            continue
        ctx.charge_expanded(len(data))
        if len(data) > limit:
            yield DocStart(child, "unsupported", "", len(data))
            yield DocProblem(child, f"embedded file larger than {_size_words(limit)}")
            continue
        yield from ctx.member(name, data)
