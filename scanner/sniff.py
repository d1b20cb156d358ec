"""Tell a document's type from its bytes; the extension only breaks ties.

A ``.pdf`` that is really a DOCX is a DOCX; an unknown binary is "unsupported" with
words that say what it is, never "clean".
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

from scanner.extract.base import Source

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

_OOXML_MAIN = {
    "wordprocessingml.document.main": "docx",
    "wordprocessingml.template.main": "docx",
    "ms-word.document.macroEnabled.main": "docx",
    "ms-word.template.macroEnabledTemplate.main": "docx",
    "spreadsheetml.sheet.main": "xlsx",
    "spreadsheetml.template.main": "xlsx",
    "ms-excel.sheet.macroEnabled.main": "xlsx",
    "ms-excel.template.macroEnabled.main": "xlsx",
    "ms-excel.addin.macroEnabled.main": "xlsx",
    "presentationml.presentation.main": "pptx",
    "presentationml.slideshow.main": "pptx",
    "presentationml.template.main": "pptx",
    "ms-powerpoint.presentation.macroEnabled.main": "pptx",
    "ms-powerpoint.slideshow.macroEnabled.main": "pptx",
    "ms-powerpoint.template.macroEnabled.main": "pptx",
}

_OFFICE_EXT = {
    ".docx": "docx",
    ".docm": "docx",
    ".dotx": "docx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xltx": "xlsx",
    ".pptx": "pptx",
    ".pptm": "pptx",
    ".potx": "pptx",
}

_TEXT_EXT_CSV = {".csv": "csv", ".tsv": "csv", ".tab": "csv"}


@dataclass(frozen=True, slots=True)
class Sniffed:
    type: str  # pdf docx xlsx pptx zip ole text csv empty unsupported
    detail: str | None = None  # for unsupported/ole: what it is, in words


def sniff(src: Source) -> Sniffed:
    head = src.head(8192)
    ext = _ext(src.name)
    if not head:
        return Sniffed("empty")
    # PDF readers accept the header anywhere in the first KiB; so must we.
    if b"%PDF-" in head[:1024]:
        return Sniffed("pdf")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06") or head.startswith(b"PK\x07\x08"):
        return _sniff_zip(src, ext)
    if head.startswith(OLE_MAGIC):
        return Sniffed("ole", _ole_detail(src))
    for magic, offset, what in _UNSUPPORTED_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return Sniffed("unsupported", what)
    if _looks_like_text(head):
        if ext in _TEXT_EXT_CSV:
            return Sniffed("csv")
        return Sniffed("text")
    return Sniffed("unsupported", f"unrecognised binary data{f' ({ext} file)' if ext else ''}")


def _ext(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _sniff_zip(src: Source, ext: str) -> Sniffed:
    try:
        with src.open() as fh, zipfile.ZipFile(fh) as zf:
            names = set(zf.namelist())
            if "[Content_Types].xml" in names:
                info = zf.getinfo("[Content_Types].xml")
                if info.file_size > 4 * 1024 * 1024:
                    return Sniffed("zip")
                ctypes = zf.read(info).decode("utf-8", "replace")
                for marker, kind in _OOXML_MAIN.items():
                    if marker in ctypes:
                        return Sniffed(kind)
                # An OPC package we don't know (XPS, VSDX...): guess from the parts.
                if any(n.startswith("word/") for n in names):
                    return Sniffed("docx")
                if any(n.startswith("xl/") for n in names):
                    return Sniffed("xlsx")
                if any(n.startswith("ppt/") for n in names):
                    return Sniffed("pptx")
                return Sniffed("zip")
            if "mimetype" in names:
                mime = zf.read("mimetype")[:100].decode("ascii", "replace")
                if "opendocument" in mime:
                    return Sniffed("unsupported", f"OpenDocument file ({mime.rsplit('.', 1)[-1]})")
                if "epub" in mime:
                    return Sniffed("unsupported", "EPUB e-book")
            return Sniffed("zip")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError):
        # Damaged central directory: still a ZIP-shaped file. Office types keep their
        # name so the user is told "truncated DOCX", not "bad zip".
        kind = _OFFICE_EXT.get(ext)
        if kind:
            return Sniffed(kind)
        return Sniffed("zip")


def _ole_detail(src: Source) -> str:
    """Name what an OLE2 compound file holds: encrypted OOXML or a legacy Office format."""
    try:
        import olefile

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
    ext = _ext(src.name)
    legacy = {
        ".doc": "legacy Word .doc",
        ".xls": "legacy Excel .xls",
        ".ppt": "legacy PowerPoint .ppt",
        ".msg": "Outlook message (.msg)",
    }
    return legacy.get(ext, "OLE2 compound document")


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = head[:4096]
    if b"\x00" in sample:
        # UTF-16 without BOM: every other byte is NUL for Latin text.
        even, odd = sample[0::2], sample[1::2]
        return (odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even)) or (
            even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd)
        )
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control <= len(sample) * 0.02
