"""The OOXML sweep: every part read, ignored with a reason, or reported (scanner.extract.ooxml_sweep).

Each fixture hides "SSN: 212-67-4431" in one place the structure-aware readers do not
know, written by hand the way a sponsor's tool might; the value must come out with a
location naming the part, and the file must not be allowed.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import olefile
from docx import Document

from scanner.extract.base import Context, Source
from scanner.extract.ooxml import extract_package
from scanner.extract.ooxml_sweep import PartStatus, altchunk_text, collect_accounting
from scanner.extract.registry import extract_document, extract_file
from scanner.limits import Limits
from scanner.model import DocNote, DocProblem, Event, Location, Segment, Verdict
from scanner.ooxml.package import Package
from scanner.pipeline.scan import scan_paths
from scanner.pipeline.worker import ScanOptions
from tests.scanner.cfb_fixture import cfb

SSN = "212-67-4431"
PLANTED = f"SSN: {SSN}"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
REL_T = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _base_docx() -> dict[str, bytes]:
    doc = Document()
    doc.add_paragraph("Batch record for lot 7")
    buf = io.BytesIO()
    doc.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def _docx(path: Path, body_xml: str = "", extra: dict[str, bytes] | None = None, rels: str = "") -> Path:
    parts = _base_docx()
    if body_xml:
        doc = parts["word/document.xml"].decode()
        parts["word/document.xml"] = doc.replace("<w:sectPr", body_xml + "<w:sectPr", 1).encode()
    if rels:
        r = parts["word/_rels/document.xml.rels"].decode()
        parts["word/_rels/document.xml.rels"] = r.replace("</Relationships>", rels + "</Relationships>").encode()
    parts.update(extra or {})
    return _write(path, parts)


def _segments(path: Path) -> list[Segment]:
    return [ev for ev in extract_file(path) if isinstance(ev, Segment)]


def _body_text_only(pkg: Package, ctx: Context, main: str) -> Iterator[Event]:
    """A reader that knows only w:t and drops mc:Fallback (as the readers did): the rest is residue."""
    root = pkg.xml(main)
    for fallback in list(root.iter("{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback")):
        fallback.getparent().remove(fallback)
    text = "\n".join("".join(t.text or "" for t in p.iter(f"{{{W}}}t")) for p in root.iter(f"{{{W}}}p"))
    if text.strip():
        yield ctx.segment(text, Location("body"))


def _sweep_only(path: Path) -> list[Segment]:
    """Segments of ``path`` read by the sweep behind a reader that knows only body runs."""
    ctx = Context(Limits(), dispatch=extract_document)
    events = extract_package(
        Source(path.name, path=path), ctx, "DOCX", "word/document.xml", "word/embeddings/", _body_text_only
    )
    return [ev for ev in events if isinstance(ev, Segment)]


def _not_allowed(path: Path) -> None:
    results = list(scan_paths([path], ScanOptions(), jobs=1))
    top = [r for r in results if "!" not in r.path]
    assert top and all(r.verdict is not Verdict.ALLOW for r in top), [(r.path, r.verdict) for r in results]


def _assert_found(path: Path, part: str, name: str | None) -> None:
    """Found by the real extractors (any location: a dedicated reader may know the place by
    now), found by the sweep alone at the expected location, and the file is not allowed."""
    assert any(SSN in s.text for s in _segments(path)), "planted value not extracted"
    if path.suffix == ".docx":
        hits = [s for s in _sweep_only(path) if SSN in s.text]
        assert any(s.location.part == part and (name is None or s.location.name == name) for s in hits), hits
    _not_allowed(path)


def test_field_code_instr_text(tmp_path: Path) -> None:
    body = (
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> MERGEFIELD "{PLANTED}" </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>«Patient»</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )
    _assert_found(_docx(tmp_path / "field.docx", body), "package", "word/document.xml")


def test_picture_alt_text(tmp_path: Path) -> None:
    body = (
        '<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/'
        f'wordprocessingDrawing"><wp:extent cx="1" cy="1"/><wp:docPr id="1" name="Picture 1" descr="{PLANTED}"/>'
        "</wp:inline></w:drawing></w:r></w:p>"
    )
    _assert_found(_docx(tmp_path / "alt.docx", body), "package", "word/document.xml")


def test_mc_fallback_when_choice_needs_an_unknown_namespace(tmp_path: Path) -> None:
    body = (
        '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        '<mc:Choice Requires="zz"><w:p><w:r><w:t>Future shape</w:t></w:r></w:p></mc:Choice>'
        f"<mc:Fallback><w:p><w:r><w:t>SSN: </w:t></w:r><w:r><w:t>{SSN}</w:t></w:r></w:p></mc:Fallback>"
        "</mc:AlternateContent>"
    )
    path = _docx(tmp_path / "fallback.docx", body)
    _assert_found(path, "package", "word/document.xml")
    # The two runs are one block again: the whole "SSN: 212-67-4431" reads as one text.
    assert any(PLANTED in s.text for s in _segments(path))


def test_alt_chunk_html(tmp_path: Path) -> None:
    html = f"<html><body><p>SSN&#58; <b>212</b>&#8209;67-4431</p><p>{PLANTED.replace(':', '&#x3a;')}</p></body></html>"
    body = '<w:altChunk r:id="ac1"/>'
    rels = f'<Relationship Id="ac1" Type="{REL_T}/aFChunk" Target="chunk.htm"/>'
    path = _docx(tmp_path / "altchunk.docx", body, {"word/chunk.htm": html.encode()}, rels)
    _assert_found(path, "package", "word/chunk.htm")


def test_alt_chunk_decoders() -> None:
    assert "SSN: 212-67-4431" in altchunk_text(b"<p>SSN&#58; <i>212</i>-67-4431</p>", "a.html")
    rtf = rb"{\rtf1\ansi{\fonttbl\f0 Arial;}\f0 SSN: 212-67-4431\par}"
    assert PLANTED in altchunk_text(rtf, "a.rtf")
    mht = (
        b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>SSN: 212-67=\r\n-4431</p>\r\n"
    )
    assert PLANTED in altchunk_text(mht, "a.mht")


def test_hyperlink_target_and_tooltip(tmp_path: Path) -> None:
    body = '<w:p><w:hyperlink r:id="h1" w:tooltip="Patient record"><w:r><w:t>open</w:t></w:r></w:hyperlink></w:p>'
    target = f"https://x.example/?q=SSN:{SSN}"
    rels = f'<Relationship Id="h1" Type="{REL_T}/hyperlink" Target="{target}" TargetMode="External"/>'
    _assert_found(_docx(tmp_path / "link.docx", body, rels=rels), "package", "word/_rels/document.xml.rels")
    body = f'<w:p><w:hyperlink w:anchor="a" w:tooltip="{PLANTED}"><w:r><w:t>open</w:t></w:r></w:hyperlink></w:p>'
    _assert_found(_docx(tmp_path / "tip.docx", body), "package", "word/document.xml")


def test_unknown_custom_xml_part(tmp_path: Path) -> None:
    xml = f'<?xml version="1.0"?><patients><p><label>SSN:</label> <v>{SSN}</v></p></patients>'.encode()
    path = _docx(tmp_path / "custom.docx", extra={"customXml/item7.xml": xml})
    _assert_found(path, "metadata", "customXml/item7.xml")


def test_unknown_binary_part_strings(tmp_path: Path) -> None:
    blob = os.urandom(64) + PLANTED.encode("utf-16-le") + b"\x00\x01" * 8 + b"note " + PLANTED.encode()
    path = _docx(tmp_path / "blob.docx", extra={"word/extra/state.dat": blob})
    _assert_found(path, "package", "word/extra/state.dat")


def test_ole_object_under_activex(tmp_path: Path) -> None:
    inner = _base_docx()
    doc = inner["word/document.xml"].decode().replace("Batch record for lot 7", PLANTED)
    inner["word/document.xml"] = doc.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in inner.items():
            zf.writestr(name, data)
    ole = cfb({"CONTENTS": buf.getvalue()})  # an OLE object whose CONTENTS stream is a DOCX
    assert olefile.isOleFile(io.BytesIO(ole))
    path = _docx(tmp_path / "activex.docx", extra={"word/activeX/activeX1.bin": ole})
    hits = [s for s in _segments(path) if SSN in s.text]
    assert hits and all(s.doc.startswith("word/activeX/activeX1.bin") for s in hits)
    _not_allowed(path)


def test_xlsx_data_validation_prompt(tmp_path: Path) -> None:
    import openpyxl
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "Lot"
    dv = DataValidation(type="list", formula1='"A,B"', showInputMessage=True)
    dv.promptTitle, dv.prompt = "Help", PLANTED
    ws.add_data_validation(dv)
    dv.add("A2")
    path = tmp_path / "dv.xlsx"
    wb.save(path)
    _assert_found(path, "package", "xl/worksheets/sheet1.xml")


def test_unreadable_binary_is_reported_and_blocks(tmp_path: Path) -> None:
    path = _docx(tmp_path / "opaque.docx", extra={"word/extra/opaque.dat": os.urandom(20000)})
    with collect_accounting() as acc:
        events = list(extract_file(path))
    (package,) = acc
    assert package.parts["word/extra/opaque.dat"].status is PartStatus.REPORTED
    notes = [e for e in events if isinstance(e, DocNote) and e.key == "unread_parts"]
    assert notes and notes[0].value == ["word/extra/opaque.dat"]
    assert any(isinstance(e, DocProblem) and "opaque.dat" in e.reason for e in events)
    _not_allowed(path)


def test_every_part_is_accounted_for(tmp_path: Path) -> None:
    path = _docx(tmp_path / "plain.docx", extra={"word/media/image1.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 32})
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    with collect_accounting() as acc:
        events = list(extract_file(path))
    (package,) = acc
    assert set(package.parts) == names
    assert package.parts["word/document.xml"].status is PartStatus.READ
    assert package.parts["word/media/image1.png"].how.startswith("image")
    assert package.parts["word/styles.xml"].status is PartStatus.IGNORED
    assert not [e for e in events if isinstance(e, DocProblem)]
    # The plain body is not read twice: no residue for text the body reader yielded.
    assert not [s for s in events if isinstance(s, Segment) and s.location.part == "package"]
