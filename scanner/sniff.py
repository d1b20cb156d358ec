"""Tell a document's type from its bytes; the extension only breaks ties.

A ``.pdf`` that is really a DOCX is a DOCX; an unknown binary is "unsupported" with
words that say what it is, never "clean".
"""

from __future__ import annotations

import enum
import zipfile
from dataclasses import dataclass
from typing import IO, Protocol

import olefile


class DocType(enum.StrEnum):
    """What a document's bytes say it is; the value is the ``type`` of its outcome (JSON contract)."""

    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    ZIP = "zip"
    OLE = "ole"  # an OLE2 compound file (legacy Office, encrypted OOXML): reported as unsupported
    TEXT = "text"
    CSV = "csv"
    EMPTY = "empty"
    UNSUPPORTED = "unsupported"


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Known formats we recognise but do not read: (magic, offset, type name shown to users).
_UNSUPPORTED_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"{\\rtf", 0, "RTF document"),
    (b"7z\xbc\xaf\x27\x1c", 0, "7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "RAR archive"),
    (b"\x1f\x8b", 0, "gzip archive"),
    (b"BZh", 0, "bzip2 archive"),
    (b"\xfd7zXZ\x00", 0, "xz archive"),
    (b"ustar", 257, "tar archive"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG image"),
    (b"\xff\xd8\xff", 0, "JPEG image"),
    (b"GIF87a", 0, "GIF image"),
    (b"GIF89a", 0, "GIF image"),
    (b"II*\x00", 0, "TIFF image"),
    (b"MM\x00*", 0, "TIFF image"),
    (b"BM", 0, "BMP image"),
    (b"RIFF", 0, "RIFF media file"),
    (b"\x7fELF", 0, "executable (ELF)"),
    (b"MZ", 0, "executable (Windows)"),
    (b"SQLite format 3\x00", 0, "SQLite database"),
    (b"%!PS", 0, "PostScript document"),
    (b"\x00\x00\x01\x00", 0, "icon image"),
    (b"wOFF", 0, "web font"),
    (b"OTTO", 0, "font"),
    (b"\xca\xfe\xba\xbe", 0, "Java class / Mach-O binary"),
)

_OOXML_MAIN: dict[str, DocType] = {
    "wordprocessingml.document.main": DocType.DOCX,
    "wordprocessingml.template.main": DocType.DOCX,
    "ms-word.document.macroEnabled.main": DocType.DOCX,
    "ms-word.template.macroEnabledTemplate.main": DocType.DOCX,
    "spreadsheetml.sheet.main": DocType.XLSX,
    "spreadsheetml.template.main": DocType.XLSX,
    "ms-excel.sheet.macroEnabled.main": DocType.XLSX,
    "ms-excel.template.macroEnabled.main": DocType.XLSX,
    "ms-excel.addin.macroEnabled.main": DocType.XLSX,
    "presentationml.presentation.main": DocType.PPTX,
    "presentationml.slideshow.main": DocType.PPTX,
    "presentationml.template.main": DocType.PPTX,
    "ms-powerpoint.presentation.macroEnabled.main": DocType.PPTX,
    "ms-powerpoint.slideshow.macroEnabled.main": DocType.PPTX,
    "ms-powerpoint.template.macroEnabled.main": DocType.PPTX,
}

_OFFICE_EXT: dict[str, DocType] = {
    ".docx": DocType.DOCX,
    ".docm": DocType.DOCX,
    ".dotx": DocType.DOCX,
    ".xlsx": DocType.XLSX,
    ".xlsm": DocType.XLSX,
    ".xltx": DocType.XLSX,
    ".pptx": DocType.PPTX,
    ".pptm": DocType.PPTX,
    ".potx": DocType.PPTX,
}

_CSV_EXTENSIONS = frozenset({".csv", ".tsv", ".tab"})

_LEGACY_BY_EXT = {
    ".doc": "legacy Word .doc",
    ".xls": "legacy Excel .xls",
    ".ppt": "legacy PowerPoint .ppt",
    ".msg": "Outlook message (.msg)",
}

HEAD_BYTES = 8192  # read from the start of every file: enough for every magic number and the text test
PDF_HEADER_WINDOW = 1024  # PDF readers accept the header anywhere in the first KiB; so must we
# A [Content_Types].xml is a few KiB; one larger than this is not worth inflating to name the type.
MAX_CONTENT_TYPES_BYTES = 4 * 1024 * 1024
_TEXT_SAMPLE_BYTES = 4096
_MAX_CONTROL_SHARE = 0.02  # control characters (other than tab, CR, LF, FF, VT) in text: almost none
# UTF-16 without BOM: every other byte is NUL for Latin text (above this share) and the
# bytes between them almost never are (below this one).
_UTF16_NUL_SHARE = 0.4
_UTF16_OTHER_NUL_SHARE = 0.1


class Readable(Protocol):
    """The bytes to sniff (``scanner.extract.base.Source`` is one): a name and a way in."""

    @property
    def name(self) -> str: ...

    def head(self, n: int = ...) -> bytes: ...

    def open(self) -> IO[bytes]: ...


@dataclass(frozen=True, slots=True)
class Sniffed:
    type: DocType
    detail: str | None = None  # for unsupported/ole: what it is, in words


def sniff(src: Readable) -> Sniffed:
    head = src.head(HEAD_BYTES)
    ext = _ext(src.name)
    if not head:
        return Sniffed(DocType.EMPTY)
    if b"%PDF-" in head[:PDF_HEADER_WINDOW]:
        return Sniffed(DocType.PDF)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06") or head.startswith(b"PK\x07\x08"):
        return _sniff_zip(src, ext)
    if head.startswith(OLE_MAGIC):
        return Sniffed(DocType.OLE, _ole_detail(src))
    for magic, offset, what in _UNSUPPORTED_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return Sniffed(DocType.UNSUPPORTED, what)
    if _looks_like_text(head):
        if ext in _CSV_EXTENSIONS:
            return Sniffed(DocType.CSV)
        return Sniffed(DocType.TEXT)
    return Sniffed(DocType.UNSUPPORTED, f"unrecognised binary data{f' ({ext} file)' if ext else ''}")


def _ext(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _sniff_zip(src: Readable, ext: str) -> Sniffed:
    try:
        with src.open() as fh, zipfile.ZipFile(fh) as zf:
            names = set(zf.namelist())
            if "[Content_Types].xml" in names:
                info = zf.getinfo("[Content_Types].xml")
                if info.file_size > MAX_CONTENT_TYPES_BYTES:
                    return Sniffed(DocType.ZIP)
                ctypes = zf.read(info).decode("utf-8", "replace")
                for marker, kind in _OOXML_MAIN.items():
                    if marker in ctypes:
                        return Sniffed(kind)
                # An OPC package we don't know (XPS, VSDX...): guess from the parts.
                if any(n.startswith("word/") for n in names):
                    return Sniffed(DocType.DOCX)
                if any(n.startswith("xl/") for n in names):
                    return Sniffed(DocType.XLSX)
                if any(n.startswith("ppt/") for n in names):
                    return Sniffed(DocType.PPTX)
                return Sniffed(DocType.ZIP)
            if "mimetype" in names:
                mime = zf.read("mimetype")[:100].decode("ascii", "replace")
                if "opendocument" in mime:
                    return Sniffed(DocType.UNSUPPORTED, f"OpenDocument file ({mime.rsplit('.', 1)[-1]})")
                if "epub" in mime:
                    return Sniffed(DocType.UNSUPPORTED, "EPUB e-book")
            return Sniffed(DocType.ZIP)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError):
        # Damaged central directory: still a ZIP-shaped file. Office types keep their
        # name so the user is told "truncated DOCX", not "bad zip".
        return Sniffed(_OFFICE_EXT.get(ext, DocType.ZIP))


def _ole_detail(src: Readable) -> str:
    """Name what an OLE2 compound file holds: encrypted OOXML or a legacy Office format."""
    try:
        with src.open() as fh:
            ole = olefile.OleFileIO(fh)
            try:
                streams = {"/".join(s) for s in ole.listdir(streams=True, storages=True)}
            finally:
                ole.close()
    except Exception:  # a damaged compound file: name it by extension
        streams = set()
    lower = {s.lower() for s in streams}
    if "encryptioninfo" in lower or "encryptedpackage" in lower:
        return "encrypted Office document (password-protected OOXML)"
    if "worddocument" in lower:
        return "legacy Word .doc"
    if "workbook" in lower or "book" in lower:
        return "legacy Excel .xls"
    if "powerpoint document" in lower:
        return "legacy PowerPoint .ppt"
    if any(s.startswith("__substg1.0_") for s in lower):
        return "Outlook message (.msg)"
    return _LEGACY_BY_EXT.get(_ext(src.name), "OLE2 compound document")


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = head[:_TEXT_SAMPLE_BYTES]
    if b"\x00" in sample:
        return _utf16_shaped(sample[0::2], sample[1::2]) or _utf16_shaped(sample[1::2], sample[0::2])
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control <= len(sample) * _MAX_CONTROL_SHARE


def _utf16_shaped(text_bytes: bytes, high_bytes: bytes) -> bool:
    """UTF-16 Latin text without a BOM: the high bytes mostly NUL, the others almost never."""
    return high_bytes.count(0) > _UTF16_NUL_SHARE * len(high_bytes) and text_bytes.count(
        0
    ) < _UTF16_OTHER_NUL_SHARE * len(text_bytes)
