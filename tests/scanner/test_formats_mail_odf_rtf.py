"""E-mail (.eml, .mbox), Outlook .msg, OpenDocument and RTF: a planted value is found where
a recipient sees it, and the file is not allowed.

Fixtures are built here: e-mail with the stdlib ``email`` package; .msg by hand (Python
has no writer) as MAPI property streams in a compound file ([MS-OXMSG] 2.1-2.4 over
[MS-CFB], written by ``vba_fixture.compound_file``); OpenDocument with ``zipfile`` and
hand-written XML; RTF by hand with ``\\u`` and ``\\'hh`` escapes.
"""

from __future__ import annotations

import mailbox
import struct
import zipfile
from email.message import EmailMessage
from pathlib import Path

from vba_fixture import compound_file

from scanner.extract.registry import extract_file
from scanner.extract.rtf import read_rtf, rtf_to_text
from scanner.model import DocProblem, DocStart, Segment, Verdict
from scanner.pipeline.scan import scan_file_inline
from scanner.sniff import DocType, sniff

SSN = "212-67-4431"


def events(path: Path) -> list[object]:
    return list(extract_file(path))


def located(path: Path, value: str = SSN) -> list[Segment]:
    return [e for e in events(path) if isinstance(e, Segment) and value in e.text]


def assert_blocked(path: Path) -> None:
    assert scan_file_inline(path)[0].verdict is not Verdict.ALLOW


# --- e-mail ------------------------------------------------------------------------------


def _message() -> EmailMessage:
    m = EmailMessage()
    m["From"] = "Alice <alice@cdmo.example>"
    m["To"] = "bob@sponsor.example"
    m["Subject"] = "Batch record"
    m["Date"] = "Mon, 01 Jan 2024 10:00:00 +0000"
    m.set_content("Hello,\nsee attached.\n", cte="quoted-printable")
    m.add_alternative("<p>Patient SSN: 212-67-<span>44</span><b>31</b></p>", subtype="html", cte="base64")
    return m


def test_eml_headers_bodies_and_attachments(tmp_path: Path) -> None:
    m = _message()
    m.replace_header("Subject", f"SSN {SSN}")  # stored as written; an encoded word is decoded
    m.add_attachment(f"name,ssn\nbob,{SSN}\n".encode(), maintype="text", subtype="csv", filename="list.csv")
    path = tmp_path / "mail.eml"
    path.write_bytes(bytes(m))
    found = located(path)
    where = {(s.doc, s.location.part, s.location.name) for s in found}
    assert ("", "header", "Subject") in where
    assert ("", "body", "text/html") in where  # base64 HTML, the value split by spans
    assert any(doc == "list.csv" for doc, _, _ in where)
    assert any(isinstance(e, DocStart) and e.doc == "list.csv" and e.type == "csv" for e in events(path))
    assert_blocked(path)


def test_eml_quoted_printable_latin1_body(tmp_path: Path) -> None:
    m = EmailMessage()
    m["From"] = "a@x.example"
    m["To"] = "b@y.example"
    m["Subject"] = "Résumé"
    m.set_content(f"Numéro de sécurité sociale: {SSN}\n", charset="iso-8859-1", cte="quoted-printable")
    path = tmp_path / "qp.eml"
    path.write_bytes(bytes(m))
    assert sniff_type(path) is DocType.EML
    [seg] = located(path)
    assert seg.location.part == "body" and "sécurité" in seg.text
    assert_blocked(path)


def test_mbox_each_message_is_a_member(tmp_path: Path) -> None:
    path = tmp_path / "box.mbox"
    box = mailbox.mbox(path)
    first = _message()
    second = EmailMessage()
    second["From"] = "c@x.example"
    second["To"] = "d@y.example"
    second["Subject"] = "follow-up"
    second.set_content(f"From the record: SSN {SSN}\n")
    box.add(first)
    box.add(second)
    box.flush()
    box.close()
    assert sniff_type(path) is DocType.MBOX
    found = located(path)
    assert {s.doc for s in found} == {"message 1.eml", "message 2.eml"}
    assert_blocked(path)


def sniff_type(path: Path) -> DocType:
    from scanner.extract.base import Source

    return sniff(Source(path.name, path=path)).type


# --- Outlook .msg ----------------------------------------------------------------------


def _props(strings: dict[int, str], header: bytes, binaries: dict[int, bytes] | None = None) -> dict[str, bytes]:
    """A property stream ([MS-OXMSG] 2.4: header, then 16-byte entries) and its value streams."""
    streams: dict[str, bytes] = {}
    entries = b""
    for pid, value in sorted(strings.items()):
        data = value.encode("utf-16-le") + b"\x00\x00"
        streams[f"__substg1.0_{pid:04X}001F"] = data
        entries += struct.pack("<IIII", (pid << 16) | 0x001F, 6, len(data), 0)
    for pid, blob in sorted((binaries or {}).items()):
        streams[f"__substg1.0_{pid:04X}0102"] = blob
        entries += struct.pack("<IIII", (pid << 16) | 0x0102, 6, len(blob), 0)
    streams["__properties_version1.0"] = header + entries
    return streams


def _msg(tmp_path: Path, attachment: bytes | None = None) -> Path:
    root = _props(
        {0x001A: "IPM.Note", 0x0037: f"Subject SSN {SSN}", 0x1000: f"Body: SSN {SSN}"},
        b"\x00" * 8 + struct.pack("<IIII", 0, 1, 0, 1 if attachment else 0) + b"\x00" * 8,
    )
    tree: dict[str, bytes | dict] = dict(root)  # type: ignore[arg-type]
    tree["__nameid_version1.0"] = {}
    if attachment is not None:
        att = _props({0x3707: "trial.txt"}, b"\x00" * 8, {0x3701: attachment})
        # PidTagAttachMethod (0x3705, PtypInteger32) = 1: the bytes are stored by value.
        att["__properties_version1.0"] += struct.pack("<IIII", (0x3705 << 16) | 0x0003, 6, 1, 0)
        tree["__attach_version1.0_#00000000"] = att  # type: ignore[assignment]
    path = tmp_path / "note.msg"
    path.write_bytes(compound_file(tree))
    return path


def test_msg_subject_body_and_attachment(tmp_path: Path) -> None:
    path = _msg(tmp_path, attachment=b"AWS key for the portal: AKIAIOSFODNN7EXAMPL3\n")
    assert sniff_type(path) is DocType.MSG
    found = located(path)
    where = {(s.location.part, s.location.name) for s in found}
    assert ("header", "Subject") in where
    assert ("body", "text/plain") in where
    assert any(s.doc == "trial.txt" for s in located(path, "AKIAIOSFODNN7EXAMPL3"))
    assert_blocked(path)


def test_msg_that_oxmsg_cannot_parse_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.msg"
    # __substg streams (so it is sniffed as a message) but no property stream.
    path.write_bytes(compound_file({"__substg1.0_0037001F": "x".encode("utf-16-le")}))
    problems = [e.reason for e in events(path) if isinstance(e, DocProblem)]
    assert problems and "Outlook message" in problems[0]
    assert_blocked(path)


# --- OpenDocument -------------------------------------------------------------------------

_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def _odf(
    path: Path, kind: str | None, content: str, styles: str = "", meta: str = "", extra: dict[str, str] | None = None
) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        if kind is not None:
            z.writestr(zipfile.ZipInfo("mimetype"), f"application/vnd.oasis.opendocument.{kind}")
        z.writestr(
            "content.xml", f'<?xml version="1.0"?><office:document-content {_NS}>{content}</office:document-content>'
        )
        if styles:
            z.writestr("styles.xml", f"<office:document-styles {_NS}>{styles}</office:document-styles>")
        if meta:
            z.writestr(
                "meta.xml", f"<office:document-meta {_NS}><office:meta>{meta}</office:meta></office:document-meta>"
            )
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


def test_odt_body_header_comment_note_and_meta(tmp_path: Path) -> None:
    content = (
        "<office:body><office:text>"
        "<text:p>Intro</text:p>"
        "<text:p>SSN: 212-<text:span>67</text:span>-4431<office:annotation><dc:creator>QA</dc:creator>"
        "<text:p>comment SSN 212-67-4431</text:p></office:annotation></text:p>"
        '<text:p>x<text:note text:note-class="footnote"><text:note-body><text:p>note SSN 212-67-4431</text:p>'
        "</text:note-body></text:note></text:p>"
        "</office:text></office:body>"
    )
    styles = (
        '<office:master-styles><style:master-page style:name="Standard"><style:header>'
        "<text:p>Header SSN 212-67-4431</text:p></style:header></style:master-page></office:master-styles>"
    )
    meta = '<meta:user-defined meta:name="Patient">SSN 212-67-4431</meta:user-defined>'
    for kind in ("text", None):  # with and without a mimetype member
        path = _odf(tmp_path / f"doc-{kind}.odt", kind, content, styles, meta)
        assert sniff_type(path) is DocType.ODT
        where = {(s.location.part, s.location.paragraph, s.location.name) for s in located(path)}
        assert ("body", 1, None) in where
        assert ("comment", 1, None) in where  # 0: the author (dc:creator)
        assert ("footnote", 0, None) in where
        assert ("header", 0, "Standard") in where
        assert ("property", None, "Patient") in where
        assert_blocked(path)


def test_ods_cells_hidden_sheet_and_cell_comment(tmp_path: Path) -> None:
    content = (
        '<office:automatic-styles><style:style style:name="ta2" style:family="table">'
        '<style:table-properties table:display="false"/></style:style></office:automatic-styles>'
        "<office:body><office:spreadsheet>"
        '<table:table table:name="Visible"><table:table-row><table:table-cell/>'
        "<table:table-cell><text:p>ok</text:p><office:annotation><text:p>SSN 212-67-4431</text:p></office:annotation>"
        "</table:table-cell></table:table-row></table:table>"
        '<table:table table:name="Secret" table:style-name="ta2"><table:table-row table:number-rows-repeated="2">'
        '<table:table-cell table:number-columns-repeated="2"/></table:table-row><table:table-row>'
        '<table:table-cell/><table:table-cell/><table:table-cell office:value-type="string">'
        "<text:p>SSN 212-67-4431</text:p>"
        "</table:table-cell></table:table-row></table:table>"
        "</office:spreadsheet></office:body>"
    )
    path = _odf(tmp_path / "book.ods", None, content)
    assert sniff_type(path) is DocType.ODS
    where = {(s.location.part, s.location.sheet, s.location.cell) for s in located(path)}
    assert ("hidden_sheet", "Secret", "C3") in where
    assert ("cell_comment", "Visible", "B1") in where
    assert_blocked(path)


def test_odp_slides_notes_and_embedded_object(tmp_path: Path) -> None:
    content = (
        '<office:automatic-styles><style:style style:name="dp2" style:family="drawing-page">'
        '<style:drawing-page-properties presentation:visibility="hidden"/></style:style></office:automatic-styles>'
        '<office:body><office:presentation><draw:page draw:name="one"><draw:frame><draw:text-box>'
        "<text:p>Welcome</text:p></draw:text-box></draw:frame></draw:page>"
        '<draw:page draw:name="two" draw:style-name="dp2"><draw:frame><draw:text-box><text:p>SSN 212-67-4431</text:p>'
        "</draw:text-box></draw:frame><presentation:notes><draw:frame><draw:text-box>"
        "<text:p>notes SSN 212-67-4431</text:p></draw:text-box></draw:frame></presentation:notes></draw:page>"
        "</office:presentation></office:body>"
    )
    embedded = (
        f"<office:document-content {_NS}><office:body><office:text><text:p>object SSN 212-67-4431</text:p>"
        "</office:text></office:body></office:document-content>"
    )
    path = _odf(tmp_path / "deck.odp", "presentation", content, extra={"Object 1/content.xml": embedded})
    found = located(path)
    where = {(s.doc, s.location.part, s.location.page) for s in found}
    assert ("", "slide", 2) in where
    assert ("", "notes", 2) in where
    assert ("Object 1", "body", None) in where
    assert any(s.location.name == "two (hidden)" for s in found)
    assert_blocked(path)


def test_odf_entity_declaration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.odt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><office:document-content/>')
    assert any(isinstance(e, DocProblem) for e in events(path))
    assert_blocked(path)


# --- RTF ------------------------------------------------------------------------------------

_RTF = (
    r"{\rtf1\ansi\ansicpg1251\deff0{\fonttbl{\f0\fswiss\fcharset0 Arial;}{\f1\froman\fcharset204 Times;}}"
    "\n{\\colortbl;\\red0\\green0\\blue0;}"
    "\n{\\info{\\title Plan}{\\author SSN 212-67-4431}}"
    "\n{\\header \\pard Header SSN 212-67-4431\\par}"
    "\n\\pard Intro \\u1055\\'3f and {\\f1 \\'cf\\'f0\\'e8}\\par"
    "\nSSN\\~212\\_67\\u45?4431 here\\par"
    '\n{\\*\\fldinst HYPERLINK "https://x.example/?ssn=212-67-4431"}{\\fldrslt link}\\par'
    "\n{\\*\\mystery hidden SSN 212-67-4431}"
    "\n{\\footnote note SSN 212-67-4431}"
    "\n}"
)


def test_rtf_escapes_and_destinations(tmp_path: Path) -> None:
    path = tmp_path / "memo.rtf"
    path.write_bytes(_RTF.encode("ascii"))
    assert sniff_type(path) is DocType.RTF
    text = rtf_to_text(path.read_bytes())
    assert "Intro П and При" in text  # \uN, and \'hh in the code page of the font's charset
    found = located(path)
    where = {(s.location.part, s.location.paragraph, s.location.name) for s in found}
    assert ("body", 1, None) in where  # \~ and \_ and \u45? shown as space and hyphens
    assert ("header", None, "header") in where
    assert ("property", None, "author") in where
    assert ("footnote", None, None) in where
    assert ("metadata", None, "mystery") in where
    assert ("body", None, "field code") in where
    body = next(s for s in found if s.location.part == "body" and s.location.paragraph == 1)
    assert body.location.line == 6
    assert_blocked(path)


def test_rtf_ansicpg_decodes_hex_escapes() -> None:
    doc = read_rtf(rb"{\rtf1\ansi\ansicpg1252 caf\'e9 SSN\'a0212-67-4431\par}")
    assert doc.pieces[0].text == "café SSN\xa0212-67-4431"


def test_rtf_embedded_package_object_is_scanned(tmp_path: Path) -> None:
    payload = f"SSN: {SSN}\n".encode()
    package = (
        b"\x02\x00" + b"data.txt\x00" + b"C:\\data.txt\x00" + b"\x00\x00\x03\x00"
        + struct.pack("<I", 13) + b"C:\\tmp\\x.txt\x00" + struct.pack("<I", len(payload)) + payload
    )  # fmt: skip
    ole1 = struct.pack("<II", 0x0501, 2)
    for s in (b"Package\x00", b"\x00", b"\x00"):
        ole1 += struct.pack("<I", len(s)) + s
    ole1 += struct.pack("<I", len(package)) + package
    rtf = b"{\\rtf1\\ansi {\\object\\objemb{\\*\\objclass Package}{\\*\\objdata " + ole1.hex().encode() + b"}}\\par}"
    path = tmp_path / "obj.rtf"
    path.write_bytes(rtf)
    assert any(s.doc == "data.txt" for s in located(path))
    assert_blocked(path)
