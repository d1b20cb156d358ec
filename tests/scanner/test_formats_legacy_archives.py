"""Legacy Office (.xls/.doc/.ppt), .xlsb, tar/gzip/bzip2/xz/7z archives and ZIP polyglots.

Each fixture is built here (the legacy formats by hand: ``cfb_fixture``) with a planted
SSN; each test checks the value is extracted at its location and the file is blocked.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import zipfile
from pathlib import Path

import py7zr
import pytest
from cfb_fixture import biff8_xls, cfb, ppt97, summary_information, word97_doc

from scanner.extract.base import Source
from scanner.extract.registry import extract_file
from scanner.limits import Limits
from scanner.model import DocProblem, DocStart, Segment
from scanner.pipeline.scan import decide_outcomes
from scanner.pipeline.worker import ScanOptions, analyse_file
from scanner.sniff import DocType, sniff

SSN = "212-67-4431"
SSN_LINE = f"Employee SSN: {SSN}\n"


def _events(path: Path, limits: Limits | None = None) -> list:
    return list(extract_file(path, limits or Limits()))


def _found(events: list) -> list[Segment]:
    return [e for e in events if isinstance(e, Segment) and SSN in e.text]


def _problems(events: list) -> list[str]:
    return [e.reason for e in events if isinstance(e, DocProblem)]


def _blocked(path: Path) -> bool:
    results = decide_outcomes(analyse_file(path, path.name, ScanOptions()))
    return results[0].verdict.value == "block"


# --- legacy Office --------------------------------------------------------------------------


def test_xls_cells_hidden_sheet_number_format_and_properties(tmp_path: Path) -> None:
    book = biff8_xls(
        [
            ("Data", False, {(0, 0): "Name", (0, 1): "SSN", (1, 0): "A. Jones", (1, 1): 212674431.0}),
            ("Secret", True, {(3, 2): SSN_LINE}),
        ]
    )
    p = tmp_path / "roster.xls"
    p.write_bytes(cfb({"Workbook": book, "\x05SummaryInformation": summary_information(comments=SSN_LINE)}))
    assert sniff(Source(p.name, path=p)).type is DocType.XLS
    events = _events(p)
    where = {(s.location.part, s.location.sheet, s.location.cell, s.location.name) for s in _found(events)}
    # The number stored as 212674431 shows through its 000-00-0000 format, as Excel shows it.
    assert ("sheet", "Data", "B2", None) in where
    assert ("hidden_sheet", "Secret", "C4", None) in where
    assert ("property", None, None, "description") in where
    b2 = next(s for s in _found(events) if s.location.cell == "B2")
    assert b2.context and "SSN" in b2.context
    assert next(e for e in events if isinstance(e, DocStart)).type == "xls"
    assert _blocked(p)


def test_xls_damaged_workbook_is_a_problem(tmp_path: Path) -> None:
    p = tmp_path / "bad.xls"
    p.write_bytes(cfb({"Workbook": b"\x09\x08\x02\x00garbage"}))
    assert _problems(_events(p))


def test_doc_piece_table_body_header_and_properties(tmp_path: Path) -> None:
    streams = word97_doc(f"Dear colleague\r{SSN_LINE}\r", f"Header {SSN}\r")
    streams["\x05SummaryInformation"] = summary_information(title=f"Batch {SSN}")
    p = tmp_path / "letter.doc"
    p.write_bytes(cfb(streams))
    events = _events(p)
    where = {(s.location.part, s.location.paragraph, s.location.name) for s in _found(events)}
    assert ("body", 1, None) in where  # the compressed (cp1252) piece
    assert ("header", 0, None) in where  # the UTF-16 piece, in the header story
    assert ("property", None, "title") in where
    assert not _problems(events)
    assert _blocked(p)


def test_doc_encrypted_is_a_problem(tmp_path: Path) -> None:
    p = tmp_path / "locked.doc"
    p.write_bytes(cfb(word97_doc(SSN_LINE, encrypted=True)))
    assert any("encrypted" in r for r in _problems(_events(p)))
    assert _blocked(p)


def test_doc_damaged_piece_table_is_a_problem(tmp_path: Path) -> None:
    streams = word97_doc(SSN_LINE)
    streams["1Table"] = b"\x02\xff\xff\x00\x00"
    p = tmp_path / "broken.doc"
    p.write_bytes(cfb(streams))
    assert any("piece table" in r for r in _problems(_events(p)))


def test_ppt_text_atoms_by_slide_and_notes(tmp_path: Path) -> None:
    p = tmp_path / "deck.ppt"
    p.write_bytes(cfb({"PowerPoint Document": ppt97(["Quarterly review", SSN_LINE], f"say {SSN}")}))
    assert sniff(Source(p.name, path=p)).type is DocType.PPT
    where = {(s.location.part, s.location.page) for s in _found(_events(p))}
    assert ("slide", 2) in where and ("notes", 1) in where
    assert _blocked(p)


def test_ppt_damaged_record_is_a_problem(tmp_path: Path) -> None:
    p = tmp_path / "broken.ppt"
    p.write_bytes(cfb({"PowerPoint Document": struct.pack("<HHI", 0x000F, 0x03E8, 10_000)}))
    assert _problems(_events(p))


# --- .xlsb ----------------------------------------------------------------------------------


def _brec(rec_id: int, body: bytes) -> bytes:
    out = rec_id.to_bytes(2 if rec_id > 0x7F else 1, "little")
    n = len(body)
    while True:
        out += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            break
    return out + body


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def _xlsb(sheets: list[tuple[str, bool, list[tuple[int, int, str | float]]]]) -> bytes:
    strings: list[str] = []
    book = _brec(0x0183, b"") + _brec(0x018F, b"")
    rels = ""
    parts: dict[str, bytes] = {}
    for i, (name, hidden, cells) in enumerate(sheets, 1):
        book += _brec(0x019C, struct.pack("<II", 1 if hidden else 0, i) + _wide(f"rId{i}") + _wide(name))
        rels += (
            f'<Relationship Id="rId{i}" Target="worksheets/sheet{i}.bin" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/worksheet"/>'
        )
        sheet = _brec(0x0181, b"") + _brec(0x0191, b"")
        row = -1
        for r, c, value in cells:
            if r != row:
                sheet += _brec(0x0000, struct.pack("<I", r) + b"\x00" * 13)
                row = r
            if isinstance(value, str):
                if value not in strings:
                    strings.append(value)
                sheet += _brec(0x0007, struct.pack("<III", c, 0, strings.index(value)))
            else:
                sheet += _brec(0x0005, struct.pack("<IId", c, 0, value))
        parts[f"xl/worksheets/sheet{i}.bin"] = sheet + _brec(0x0192, b"") + _brec(0x0182, b"")
    book += _brec(0x0190, b"") + _brec(0x0184, b"")
    sst = _brec(0x019F, struct.pack("<II", len(strings), len(strings)))
    sst += b"".join(_brec(0x0013, b"\x00" + _wide(s)) for s in strings) + _brec(0x01A0, b"")
    rels += (
        '<Relationship Id="rIdS" Target="sharedStrings.bin" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/sharedStrings"/>'
    )
    ct = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        "</Types>"
    )
    root_rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.bin" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument"/></Relationships>'
    )
    wb_rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{rels}</Relationships>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", ct)
        zf.writestr("_rels/.rels", root_rels)
        zf.writestr("xl/workbook.bin", book)
        zf.writestr("xl/_rels/workbook.bin.rels", wb_rels)
        zf.writestr("xl/sharedStrings.bin", sst)
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_xlsb_cells_and_hidden_sheet(tmp_path: Path) -> None:
    p = tmp_path / "book.xlsb"
    p.write_bytes(
        _xlsb(
            [
                ("Data", False, [(0, 0, "Name"), (0, 1, "SSN"), (1, 0, "A. Jones"), (1, 1, SSN), (2, 1, 42.0)]),
                ("Hidden", True, [(4, 3, SSN_LINE)]),
            ]
        )
    )
    assert sniff(Source(p.name, path=p)).type is DocType.XLSB
    events = _events(p)
    where = {(s.location.part, s.location.sheet, s.location.cell) for s in _found(events)}
    assert where == {("sheet", "Data", "B2"), ("hidden_sheet", "Hidden", "D5")}
    assert any(isinstance(e, Segment) and e.text == "42" for e in events)
    assert not _problems(events)
    assert _blocked(p)


def test_xlsb_missing_shared_string_is_a_problem(tmp_path: Path) -> None:
    data = _xlsb([("Data", False, [(0, 0, SSN)])])
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/sharedStrings.bin":
                body = _brec(0x019F, struct.pack("<II", 0, 0)) + _brec(0x01A0, b"")
            dst.writestr(info.filename, body)
    p = tmp_path / "bad.xlsb"
    p.write_bytes(buf.getvalue())
    assert any("shared string" in r for r in _problems(_events(p)))


# --- archives -------------------------------------------------------------------------------


def _tar(mode: str, members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "mode", "kind"),
    [("a.tar", "w", "tar"), ("a.tar.gz", "w:gz", "gzip"), ("a.tbz2", "w:bz2", "bzip2"), ("a.tar.xz", "w:xz", "xz")],
)
def test_tar_members_plain_and_compressed(tmp_path: Path, name: str, mode: str, kind: str) -> None:
    p = tmp_path / name
    p.write_bytes(_tar(mode, {"docs/readme.txt": b"hello", "../../etc/roster.txt": SSN_LINE.encode()}))
    events = _events(p)
    assert next(e for e in events if isinstance(e, DocStart)).type == kind
    assert [s.doc for s in _found(events)] == ["../../etc/roster.txt"]  # a traversal name is only a label
    assert _blocked(p)


def test_tar_symlink_is_not_followed(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        link = tarfile.TarInfo("passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    p = tmp_path / "link.tar"
    p.write_bytes(buf.getvalue())
    starts = [e for e in _events(p) if isinstance(e, DocStart)]
    assert [s.type for s in starts] == ["tar", "symlink"]


@pytest.mark.parametrize(
    ("name", "compress"),
    [("notes.txt.gz", gzip.compress), ("notes.txt.bz2", bz2.compress), ("notes.txt.xz", lzma.compress)],
)
def test_single_compressed_file_is_its_member(tmp_path: Path, name: str, compress: object) -> None:
    p = tmp_path / name
    p.write_bytes(compress(SSN_LINE.encode()))  # type: ignore[operator]
    assert [s.doc for s in _found(_events(p))] == ["notes.txt"]
    assert _blocked(p)


def test_gzip_keeps_its_stored_name(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="payroll.csv", mode="wb", fileobj=buf) as fh:
        fh.write(b"name,ssn\nA. Jones,212-67-4431\n")
    p = tmp_path / "upload.gz"
    p.write_bytes(buf.getvalue())
    assert {s.doc for s in _found(_events(p))} == {"payroll.csv"}


def test_tar_bomb_over_ratio_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "bomb.tar.gz"
    p.write_bytes(_tar("w:gz", {"zeros.bin": b"\x00" * (8 * 1024 * 1024), "after.txt": SSN_LINE.encode()}))
    events = _events(p)
    assert any("compression ratio" in r for r in _problems(events))
    assert _blocked(p)


def test_tar_over_total_budget_stops(tmp_path: Path) -> None:
    p = tmp_path / "big.tar"
    p.write_bytes(_tar("w", {f"f{i}.txt": b"x" * 300_000 for i in range(5)}))
    limits = Limits(archive_total_bytes=1024 * 1024)
    assert any("MiB in total" in r for r in _problems(_events(p, limits)))


def test_tar_member_count_limit(tmp_path: Path) -> None:
    p = tmp_path / "many.tar"
    p.write_bytes(_tar("w", {f"f{i}.txt": b"x" for i in range(6)}))
    assert any("more than the limit of 5" in r for r in _problems(_events(p, Limits(archive_members=5))))


def test_single_gzip_bomb_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "zeros.txt.gz"
    p.write_bytes(gzip.compress(b"\x00" * (8 * 1024 * 1024)))
    assert any("compression ratio" in r for r in _problems(_events(p)))


def test_7z_members_and_encrypted(tmp_path: Path) -> None:
    p = tmp_path / "a.7z"
    with py7zr.SevenZipFile(p, "w") as z:
        z.writestr(b"hello", "docs/readme.txt")
        z.writestr(SSN_LINE.encode(), "docs/roster.txt")
    events = _events(p)
    assert next(e for e in events if isinstance(e, DocStart)).type == "7z"
    assert [s.doc for s in _found(events)] == ["docs/roster.txt"]
    assert _blocked(p)
    locked = tmp_path / "locked.7z"
    with py7zr.SevenZipFile(locked, "w", password="pw") as z:
        z.writestr(SSN_LINE.encode(), "roster.txt")
    assert any("encrypted 7z" in r for r in _problems(_events(locked)))
    assert _blocked(locked)


def test_7z_bomb_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "bomb.7z"
    with py7zr.SevenZipFile(p, "w") as z:
        z.writestr(b"\x00" * (8 * 1024 * 1024), "zeros.bin")
    assert any("compression ratio" in r for r in _problems(_events(p)))


# --- polyglots ------------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "host"),
    [("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x10" * 3000 + b"\xff\xd9"), ("readme.txt", b"Release notes\n" * 400)],
)
def test_zip_appended_to_another_file_is_read(tmp_path: Path, name: str, host: bytes) -> None:
    p = tmp_path / name
    p.write_bytes(host + _zip({"inner/roster.txt": SSN_LINE.encode()}))
    events = _events(p)
    assert [s.doc for s in _found(events)] == ["appended.zip!inner/roster.txt"]
    assert _blocked(p)


def test_zip_with_offsets_from_host_start_is_read(tmp_path: Path) -> None:
    # ``zip -A`` / self-extractors: the ZIP's offsets count from the host's first byte.
    buf = io.BytesIO()
    buf.write(b"MZ" + b"\x00" * 1000)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("roster.txt", SSN_LINE)
    p = tmp_path / "setup.exe"
    p.write_bytes(buf.getvalue())
    assert [s.doc for s in _found(_events(p))] == ["appended.zip!roster.txt"]


def test_plain_files_have_no_appended_zip(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("PK\x05\x06 is the end-of-directory signature\n" * 3, encoding="utf-8")
    assert not [e for e in _events(p) if isinstance(e, DocStart) and e.doc]


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 40, DocType.SEVEN_ZIP),
        (gzip.compress(b"x"), DocType.GZIP),
        (bz2.compress(b"x"), DocType.BZIP2),
        (bz2.compress(b""), DocType.BZIP2),
        (lzma.compress(b"x"), DocType.XZ),
        (b"BZh is how this note starts, and it is text\n", DocType.TEXT),
    ],
)
def test_archive_magic_sniffed(tmp_path: Path, head: bytes, kind: DocType) -> None:
    p = tmp_path / "blob"
    p.write_bytes(head)
    assert sniff(Source(p.name, path=p)).type is kind


def test_damaged_ole_stays_unsupported(tmp_path: Path) -> None:
    p = tmp_path / "old.doc"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    s = sniff(Source(p.name, path=p))
    assert s.type is DocType.OLE and "Word" in (s.detail or "")


def test_doc_streams_no_reader_knows_are_read_not_skipped(tmp_path: Path) -> None:
    """Read everything by default: an embedded object's stream is a nested document, and any
    other stream's printable text is swept, never silently skipped."""
    streams = word97_doc("Dear colleague\r")
    streams["Data"] = b"\x00\x01" + f"Employee SSN: {SSN}".encode("utf-16-le") + b"\x00\x02"
    streams["Embedded"] = _zip({"roster.txt": f"Employee SSN: {SSN}\n".encode()})
    p = tmp_path / "objects.doc"
    p.write_bytes(cfb(streams))
    events = _events(p)
    found = {(s.doc, s.location.part, s.location.name) for s in _found(events) if SSN in s.text}
    assert ("", "package", "Data") in found
    assert ("Embedded!roster.txt", "body", None) in {(d, part, name) for d, part, name in found if d}
    assert not _problems(events)
    assert _blocked(p)
