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
    XLS = "xls"  # legacy Excel (BIFF in an OLE2 compound file)
    DOC = "doc"  # legacy Word 97-2003
    PPT = "ppt"  # legacy PowerPoint 97-2003
    XLSB = "xlsb"  # Excel binary workbook (BIFF12 parts in an OPC package)
    TAR = "tar"
    GZIP = "gzip"  # one compressed file, or a .tar.gz
    BZIP2 = "bzip2"
    XZ = "xz"
    SEVEN_ZIP = "7z"
    RTF = "rtf"
    EML = "eml"  # an RFC 5322 e-mail message (MIME)
    MBOX = "mbox"  # messages one after another, each after a "From " line
    MSG = "msg"  # an Outlook message (OLE2 compound file with __substg1.0_ streams)
    ODT = "odt"  # OpenDocument text
    ODS = "ods"  # OpenDocument spreadsheet
    ODP = "odp"  # OpenDocument presentation (and drawing)
    TEXT = "text"
    CSV = "csv"
    EMPTY = "empty"
    UNSUPPORTED = "unsupported"


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Known formats we recognise but do not read: (magic, offset, type name shown to users).
_UNSUPPORTED_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"Rar!\x1a\x07", 0, "RAR archive"),
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
    "ms-excel.sheet.binary.macroEnabled.main": DocType.XLSB,
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
    ".xlsb": DocType.XLSB,
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

# Archives read as containers (scanner.extract.archive), by magic number.
_ARCHIVE_MAGIC: tuple[tuple[bytes, int, DocType], ...] = (
    (b"7z\xbc\xaf\x27\x1c", 0, DocType.SEVEN_ZIP),
    (b"\x1f\x8b\x08", 0, DocType.GZIP),  # 08: deflate, the only method gzip defines
    (b"\xfd7zXZ\x00", 0, DocType.XZ),
    (b"ustar", 257, DocType.TAR),  # POSIX and GNU tar both put "ustar" here
)
# "BZh" + block size digit + the magic of a first block (or of the end of an empty stream):
# "BZh" alone would take a text file that starts with those letters for an archive.
_BZIP2_BLOCK_MAGIC = (b"1AY&SY", b"\x17rE8P\x90")

# The legacy Office formats read from their OLE streams (the rest of OLE stays unsupported).
_OLE_READABLE: dict[str, DocType] = {
    "legacy Word .doc": DocType.DOC,
    "legacy Excel .xls": DocType.XLS,
    "legacy PowerPoint .ppt": DocType.PPT,
    "Outlook message (.msg)": DocType.MSG,
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
_UTF32_HIGH_NUL_SHARE = 0.9  # UTF-32 without BOM: the two high bytes of each unit


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
        detail = _ole_detail(src)
        return Sniffed(_OLE_READABLE.get(detail, DocType.OLE), detail)
    archive = _archive_type(head)
    if archive is not None:
        return Sniffed(archive)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
        return Sniffed(DocType.RTF)
    for magic, offset, what in _UNSUPPORTED_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return Sniffed(DocType.UNSUPPORTED, what)
    if _looks_like_text(head):
        mail = _mail_type(head)
        if mail is not None:
            return Sniffed(mail)
        if ext in _CSV_EXTENSIONS:
            return Sniffed(DocType.CSV)
        return Sniffed(DocType.TEXT)
    return Sniffed(DocType.UNSUPPORTED, f"unrecognised binary data{f' ({ext} file)' if ext else ''}")


def _archive_type(head: bytes) -> DocType | None:
    for magic, offset, kind in _ARCHIVE_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in _BZIP2_BLOCK_MAGIC:
        return DocType.BZIP2
    return None


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
                    odf = _ODF_MIME.get(mime.strip().rsplit(".", 1)[-1])
                    if odf is not None:
                        return Sniffed(odf)
                    return Sniffed(DocType.UNSUPPORTED, f"OpenDocument file ({mime.rsplit('.', 1)[-1]})")
                if "epub" in mime:
                    return Sniffed(DocType.UNSUPPORTED, "EPUB e-book")
            if "content.xml" in names:
                odf = _odf_without_mimetype(zf, names)
                if odf is not None:
                    return Sniffed(odf)
            return Sniffed(DocType.ZIP)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError):
        # Damaged central directory: still a ZIP-shaped file. Office types keep their
        # name so the user is told "truncated DOCX", not "bad zip".
        return Sniffed(_OFFICE_EXT.get(ext, DocType.ZIP))


# OpenDocument kinds by the last word of their media type (``mimetype`` member or manifest).
_ODF_MIME: dict[str, DocType] = {
    "text": DocType.ODT,
    "text-template": DocType.ODT,
    "text-master": DocType.ODT,
    "text-web": DocType.ODT,
    "spreadsheet": DocType.ODS,
    "spreadsheet-template": DocType.ODS,
    "presentation": DocType.ODP,
    "presentation-template": DocType.ODP,
    "graphics": DocType.ODP,
    "graphics-template": DocType.ODP,
}
# ... and by the element under office:body, for a package with neither mimetype nor manifest.
_ODF_BODY: tuple[tuple[bytes, DocType], ...] = (
    (b"<office:text", DocType.ODT),
    (b"<office:spreadsheet", DocType.ODS),
    (b"<office:presentation", DocType.ODP),
    (b"<office:drawing", DocType.ODP),
)
_ODF_SNIFF_BYTES = 1024 * 1024  # content.xml read this far for its office:body child


def _odf_without_mimetype(zf: zipfile.ZipFile, names: set[str]) -> DocType | None:
    """An OpenDocument package whose ``mimetype`` member was left out: the manifest's
    entry for "/" names it, else content.xml's root and office:body child do."""
    if "META-INF/manifest.xml" in names:
        with zf.open("META-INF/manifest.xml") as fh:
            manifest = fh.read(_ODF_SNIFF_BYTES)
        at = manifest.find(b'full-path="/"')
        if at >= 0:
            tag_start = manifest.rfind(b"<", 0, at)
            tag = manifest[tag_start : manifest.find(b">", at) + 1]
            marker = b"opendocument."
            i = tag.find(marker)
            if i >= 0:
                kind = tag[i + len(marker) :].split(b'"', 1)[0].decode("ascii", "replace")
                if kind in _ODF_MIME:
                    return _ODF_MIME[kind]
    with zf.open("content.xml") as fh:
        content = fh.read(_ODF_SNIFF_BYTES)
    if b"office:document-content" not in content[:4096]:
        return None
    for marker_tag, odf in _ODF_BODY:
        if marker_tag in content:
            return odf
    return DocType.ODT


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
    named = _LEGACY_BY_EXT.get(_ext(src.name), "OLE2 compound document")
    # Named by extension only: not one of the readable types (see _OLE_READABLE).
    return f"{named} (unreadable compound file)" if not streams else named


# Header fields every mailer writes; an e-mail's header block has at least _MAIL_KNOWN of them.
_MAIL_FIELDS = frozenset(
    {
        b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"mime-version", b"received",
        b"return-path", b"reply-to", b"sender", b"content-type", b"delivered-to", b"x-mailer",
    }
)  # fmt: skip
_MAIL_KNOWN = 3
_MAIL_HEADER_LINES = 200  # the header block must end (blank line) within the sniffed head or this many lines


def _mail_type(head: bytes) -> DocType | None:
    """An e-mail (RFC 5322): header fields from the first line to a blank line, at least
    three of them ones every mailer writes; an mbox: the same after a "From " line."""
    lines = head.split(b"\n", _MAIL_HEADER_LINES)
    kind = DocType.EML
    if lines[0].startswith(b"From "):
        kind, lines = DocType.MBOX, lines[1:]
    known = 0
    for raw in lines[:-1]:  # the last piece may be cut off by the head's end
        line = raw.rstrip(b"\r")
        if not line:
            return kind if known >= _MAIL_KNOWN else None
        if line[:1] in (b" ", b"\t"):
            if known == 0:
                return None  # a continuation line before any field
            continue
        name, colon, _ = line.partition(b":")
        if not colon or not name or any(c <= 32 or c > 126 for c in name):
            return None
        known += name.lower() in _MAIL_FIELDS
    return kind if known >= _MAIL_KNOWN else None


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return True
    sample = head[:_TEXT_SAMPLE_BYTES]
    if b"\x00" in sample:
        return (
            _utf16_shaped(sample[0::2], sample[1::2])
            or _utf16_shaped(sample[1::2], sample[0::2])
            or utf32_order(sample) is not None
        )
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control <= len(sample) * _MAX_CONTROL_SHARE


def utf32_order(sample: bytes) -> str | None:
    """The codec ("utf-32-le"/"utf-32-be") of UTF-32 text without a BOM, else None.

    Every code point below U+10000 has two NUL high bytes; Latin text a third. So the
    top two bytes of each 4-byte unit are (almost) always NUL and the low one almost never.
    """
    if len(sample) < 8:
        return None
    units = sample[: len(sample) & ~3]
    n = len(units) // 4
    nuls = [units[k::4].count(0) for k in range(4)]
    high, rare = _UTF32_HIGH_NUL_SHARE * n, _UTF16_OTHER_NUL_SHARE * n
    if nuls[2] > high and nuls[3] > high and nuls[0] < rare:
        return "utf-32-le"
    if nuls[0] > high and nuls[1] > high and nuls[3] < rare:
        return "utf-32-be"
    return None


def _utf16_shaped(text_bytes: bytes, high_bytes: bytes) -> bool:
    """UTF-16 Latin text without a BOM: the high bytes mostly NUL, the others almost never."""
    return high_bytes.count(0) > _UTF16_NUL_SHARE * len(high_bytes) and text_bytes.count(
        0
    ) < _UTF16_OTHER_NUL_SHARE * len(text_bytes)
