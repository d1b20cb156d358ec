"""The PDF object model behind the structure walk, over pypdf or pdfminer.six.

``pdf_structure`` walks one interface (``Objects``); ``PypdfObjects`` and
``PdfminerObjects`` adapt the two libraries to it, so a file pypdf cannot parse is
walked again over pdfminer's model by the same code. pypdf and pdfminer are imported
inside the adapters: ~70 ms and ~60 ms to import, paid only when a PDF is read.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Hashable
from typing import IO, Any, BinaryIO, ClassVar, cast

from scanner.extract.pdf_text import pdfminer_page_text

# Indirect references followed in a row before an object counts as unreadable: real files
# need one or two; a longer chain is a loop or an attack.
_MAX_REFERENCE_CHAIN = 32
# Keys whose value never carries document text: a broken one costs nothing.
_NON_TEXT_KEYS = frozenset({"Count", "Type", "Subtype", "Params", "Size", "Length"})


class CannotDecrypt(Exception):
    """The structure engine cannot decrypt a file PDFium opened without a password."""


class Objects(abc.ABC):
    """What the structure walk needs from a PDF object model."""

    engine: ClassVar[str]  # the library's name, for reasons
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

    @abc.abstractmethod
    def _resolve(self, obj: Any) -> tuple[Any, Hashable | None]:
        """``resolve`` without the safety net."""

    @abc.abstractmethod
    def raw_get(self, obj: Any, key: str) -> Any:
        """``obj[key]`` without resolving (key without the slash); None if absent."""

    @abc.abstractmethod
    def text(self, obj: Any) -> str | None:
        """A string, name or number as text; None for anything else."""

    @abc.abstractmethod
    def stream_data(self, obj: Any) -> bytes | None:
        """The decoded bytes of a stream; None if ``obj`` is not a stream."""

    @abc.abstractmethod
    def form_text(self, obj: Any, resources: Any = None) -> str | None:
        """The text a content stream draws (an annotation's appearance, a tiling pattern's
        cell); ``resources`` stands in for a stream without its own. None if not a stream."""

    @abc.abstractmethod
    def keys(self, obj: Any) -> list[str]:
        """A dictionary's keys without the slash; [] for anything else."""

    @abc.abstractmethod
    def is_dict(self, obj: Any) -> bool:
        """Is ``obj`` a dictionary (or, for pdfminer, a stream with one)?"""

    def get(self, obj: Any, key: str) -> Any:
        return self.resolve(self.raw_get(obj, key), key)[0]

    def items(self, obj: Any) -> list[Any]:
        """The elements of an array (unresolved); [] for anything else."""
        return list(obj) if isinstance(obj, list) else []


class PypdfObjects(Objects):
    engine = "pypdf"

    def __init__(self, fh: IO[bytes]) -> None:
        # Deferred: start-up time (see the module's docstring).
        from pypdf import PdfReader
        from pypdf import generic as g

        super().__init__()
        self._g = g
        reader = PdfReader(fh, strict=False)
        self._reader = reader
        self.encrypted = bool(reader.is_encrypted)
        if self.encrypted and not reader.decrypt(""):
            raise CannotDecrypt("pypdf cannot decrypt it with an empty password")
        self.root = self._resolve(dict.get(reader.trailer, "/Root"))[0]
        if not self.is_dict(self.root):
            raise ValueError("no document catalog")
        self.info = self.resolve(dict.get(reader.trailer, "/Info"), "Info")[0]

    def _resolve(self, obj: Any) -> tuple[Any, Hashable | None]:
        ident: Hashable | None = None
        for _ in range(_MAX_REFERENCE_CHAIN):
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

    def form_text(self, obj: Any, resources: Any = None) -> str | None:
        if not isinstance(obj, self._g.StreamObject):
            return None
        from pypdf import PageObject  # deferred: start-up time (see the module's docstring)

        if "/Resources" not in obj and isinstance(resources, dict):
            obj[self._g.NameObject("/Resources")] = resources  # in memory only: nothing is written
        text = PageObject(pdf=self._reader).extract_xform_text(cast(Any, obj))
        return text if text.strip() else _literal_strings(bytes(obj.get_data()))

    def keys(self, obj: Any) -> list[str]:
        return [str(k)[1:] for k in obj] if isinstance(obj, dict) else []

    def is_dict(self, obj: Any) -> bool:
        return isinstance(obj, dict)


class PdfminerObjects(Objects):
    engine = "pdfminer"

    def __init__(self, fh: IO[bytes]) -> None:
        # Deferred: start-up time (see the module's docstring).
        from pdfminer import pdftypes, psparser
        from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
        from pdfminer.pdfparser import PDFParser

        super().__init__()
        self._t, self._ps = pdftypes, psparser
        try:
            document = PDFDocument(PDFParser(cast(BinaryIO, fh)), password="")
        except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
            raise CannotDecrypt(f"pdfminer: {type(exc).__name__}") from exc
        self.encrypted = document.encryption is not None
        self.root = document.catalog
        info: dict[str, Any] = {}
        for part in reversed(document.info):  # one dict per revision, newest first: newest wins
            if isinstance(part, dict):
                info.update(part)
        self.info = info

    def _resolve(self, obj: Any) -> tuple[Any, Hashable | None]:
        ident: Hashable | None = None
        for _ in range(_MAX_REFERENCE_CHAIN):
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

    def form_text(self, obj: Any, resources: Any = None) -> str | None:
        if not isinstance(obj, self._t.PDFStream):
            return None
        # Deferred: start-up time (see the module's docstring).
        from pdfminer.pdfinterp import PDFResourceManager

        own = self.resolve(obj.attrs.get("Resources"), "Resources")[0]
        box = [self.resolve(x)[0] for x in self.items(self.resolve(obj.attrs.get("BBox"))[0])]
        page = _Canvas(
            own if isinstance(own, dict) else resources if isinstance(resources, dict) else {},
            tuple(box) if len(box) == 4 and all(isinstance(x, int | float) for x in box) else (0, 0, 612, 792),
            obj,
        )
        text = pdfminer_page_text(page, PDFResourceManager(caching=True))[0]
        return text if text.strip() else _literal_strings(bytes(obj.get_data()))

    def keys(self, obj: Any) -> list[str]:
        if isinstance(obj, self._t.PDFStream):
            obj = obj.attrs
        return [str(k) for k in obj] if isinstance(obj, dict) else []

    def is_dict(self, obj: Any) -> bool:
        return isinstance(obj, dict | self._t.PDFStream)


class _Canvas:
    """What pdfminer's interpreter asks of a page, for a lone content stream."""

    pageid = 0
    rotate = 0
    attrs: ClassVar[dict[str, Any]] = {}

    def __init__(self, resources: dict[str, Any], box: tuple[Any, ...], stream: Any) -> None:
        self.resources = resources
        self.mediabox = self.cropbox = box
        self.contents = [stream]


# A literal string in a content stream: what a text operator shows when its font (missing
# from the stream's resources) cannot say how its bytes map to characters.
_LITERAL = re.compile(rb"\(((?:\\.|[^\\)])*)\)", re.S)
_ESCAPE = re.compile(rb"\\(.)", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _literal_strings(data: bytes) -> str | None:
    """The literal strings of a content stream read as Latin-1: pieces of one TJ array
    joined, a new line wherever a text operator came between two strings."""
    out: list[str] = []
    last = 0
    for m in _LITERAL.finditer(data):
        if out and b"T" in data[last : m.start()]:
            out.append("\n")
        out.append(_ESCAPE.sub(lambda e: _ESCAPES.get(e.group(1), e.group(1)), m.group(1)).decode("latin-1"))
        last = m.end()
    text = "".join(out)
    return text if text.strip() else None


def _decode_pdf_bytes(raw: bytes) -> str:
    """A PDF string: UTF-16 with a BOM, UTF-8 with a BOM (PDF 2.0), else PDFDocEncoding."""
    if raw[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return raw.decode("utf-16", "replace")
    if raw[:3] == b"\xef\xbb\xbf":
        return raw[3:].decode("utf-8", "replace")
    from pdfminer.utils import decode_text  # deferred: start-up time (see the module's docstring)

    return decode_text(raw)
