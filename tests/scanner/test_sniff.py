"""Types come from the bytes; the extension only breaks ties."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from scanner.extract.base import Source
from scanner.sniff import OLE_MAGIC, sniff


def _src(tmp_path: Path, name: str, data: bytes) -> Source:
    p = tmp_path / name
    p.write_bytes(data)
    return Source(name=name, path=p)


def _ooxml(main_ct: str, part: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-officedocument.'
            f'{main_ct}+xml"/></Types>',
        )
        zf.writestr(part, "<x/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("ct", "part", "kind"),
    [
        ("wordprocessingml.document.main", "word/document.xml", "docx"),
        ("spreadsheetml.sheet.main", "xl/workbook.xml", "xlsx"),
        ("presentationml.presentation.main", "ppt/presentation.xml", "pptx"),
    ],
)
def test_ooxml_told_apart_by_content_types_not_extension(tmp_path: Path, ct: str, part: str, kind: str) -> None:
    # deliberately misleading names
    assert sniff(_src(tmp_path, "report.pdf", _ooxml(ct, part))).type == kind


def test_pdf_named_docx_is_pdf(tmp_path: Path) -> None:
    assert sniff(_src(tmp_path, "memo.docx", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj")).type == "pdf"


def test_plain_zip_and_text(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "hello")
    assert sniff(_src(tmp_path, "notes.txt", buf.getvalue())).type == "zip"
    assert sniff(_src(tmp_path, "a.bin", "Grüße, naïve café\n".encode("cp1252"))).type == "text"
    assert sniff(_src(tmp_path, "a.csv", b"a,b\n1,2\n")).type == "csv"
    assert sniff(_src(tmp_path, "u16.txt", "hello world".encode("utf-16"))).type == "text"
    assert sniff(_src(tmp_path, "u16le.txt", "hello world, no BOM".encode("utf-16-le"))).type == "text"


def test_empty_and_unknown_binary(tmp_path: Path) -> None:
    assert sniff(_src(tmp_path, "empty.docx", b"")).type == "empty"
    s = sniff(_src(tmp_path, "blob.dat", bytes(range(256)) * 10))
    assert s.type == "unsupported" and "binary" in (s.detail or "")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"Rar!\x1a\x07\x01\x00", "RAR"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
    ],
)
def test_known_unsupported_formats_are_named(tmp_path: Path, data: bytes, words: str) -> None:
    s = sniff(_src(tmp_path, "x.bin", data))
    assert s.type == "unsupported" and words in (s.detail or "")


@pytest.mark.parametrize(
    ("data", "kind"),
    [(b"{\\rtf1\\ansi hello}", "rtf"), (b"7z\xbc\xaf\x27\x1c\x00\x04", "7z")],
)
def test_formats_read_since_issue_14_are_no_longer_unsupported(tmp_path: Path, data: bytes, kind: str) -> None:
    assert sniff(_src(tmp_path, "x.bin", data)).type == kind


def test_ole_legacy_and_encrypted_are_named(tmp_path: Path) -> None:
    # Without a parseable directory olefile fails; the extension then names the legacy format.
    s = sniff(_src(tmp_path, "old.doc", OLE_MAGIC + b"\x00" * 600))
    assert s.type == "ole" and "Word" in (s.detail or "")
