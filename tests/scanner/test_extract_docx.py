"""DOCX extraction: every place text hides, read from files written here and re-read.

Fixtures are built in ``tmp_path`` with python-docx, or part by part with zipfile where
python-docx cannot write the structure (tracked deletions, text boxes, notes, comments,
Strict namespaces, embedded workbooks).
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from dev_truth import check_planted_entities
from docx import Document
from vba_fixture import Module, vba_project_bin

from scanner.extract.base import Context, Source
from scanner.extract.registry import extract_document, extract_file
from scanner.limits import Limits
from scanner.model import DocNote, DocProblem, DocStart, Segment

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W_STRICT = "http://purl.oclc.org/ooxml/wordprocessingml/main"
R_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"
REL_T = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_S = "http://purl.oclc.org/ooxml/officeDocument/relationships"
NS_DECL = (
    f'xmlns:w="{W}" xmlns:r="{R}" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math"'
)


# --- helpers ------------------------------------------------------------------------


def run(path: Path, limits: Limits | None = None) -> list:
    return list(extract_file(path, limits))


def segments(events: list) -> list[Segment]:
    return [e for e in events if isinstance(e, Segment)]


def problems(events: list) -> list[str]:
    return [e.reason for e in events if isinstance(e, DocProblem)]


def texts(events: list, part: str | None = None) -> list[str]:
    return [s.text for s in segments(events) if part is None or s.location.part == part]


def p(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def write_docx(
    path: Path,
    body: str,
    parts: dict[str, str | bytes] | None = None,
    rels: list[tuple[str, str, str]] | None = None,
    strict: bool = False,
    package_rels: list[tuple[str, str, str]] | None = None,
    root_attrs: str = "",
) -> Path:
    """A minimal Word package: [Content_Types], package rels, document (+ rels), extra parts.

    ``rels`` are (id, type suffix, target) of word/document.xml; ``package_rels`` extra ones
    of the package (properties).
    """
    w_ns, r_ns, rel_base = (W_STRICT, R_STRICT, REL_S) if strict else (W, R, REL_T)
    decl = NS_DECL.replace(W, w_ns).replace(R, r_ns)
    doc = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f"<w:document {decl} {root_attrs}><w:body>{body}<w:sectPr/></w:body></w:document>"
    )
    ctypes = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    pkg_rels = [("rId1", f"{rel_base}/officeDocument", "word/document.xml")]
    for rid, kind, target in package_rels or []:
        pkg_rels.append((rid, kind, target))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", ctypes)
        zf.writestr("_rels/.rels", _rels_xml(pkg_rels))
        zf.writestr("word/document.xml", doc)
        if rels:
            zf.writestr(
                "word/_rels/document.xml.rels",
                _rels_xml([(rid, f"{rel_base}/{kind}", target) for rid, kind, target in rels]),
            )
        for name, data in (parts or {}).items():
            zf.writestr(name, data)
    return path


def _rels_xml(rels: list[tuple[str, str, str]]) -> str:
    body = "".join(f'<Relationship Id="{rid}" Type="{rtype}" Target="{target}"/>' for rid, rtype, target in rels)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships '
        f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>'
    )


def part_xml(root: str, inner: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><w:{root} {NS_DECL}>{inner}</w:{root}>'


# --- python-docx documents -------------------------------------------------------------


def test_body_tables_headers_footers_and_core_properties(tmp_path: Path) -> None:
    doc = Document()
    doc.add_paragraph("Batch record for lot 4471")
    doc.add_paragraph("")
    doc.add_paragraph("Employee SSN:")
    doc.add_paragraph("212-67-4431")
    table = doc.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [("Name", "SSN", "Site"), ("A. Jones", "078-05-1120", "Cork"), ("B. Smith", "219-09-9999", "Basel")]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    nested = table.cell(2, 2).add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "inner left"
    nested.cell(0, 1).text = "inner right"
    section = doc.sections[0]
    section.header.paragraphs[0].text = "CONFIDENTIAL - default header"
    section.footer.paragraphs[0].text = "Page footer text"
    section.different_first_page_header_footer = True
    section.first_page_header.paragraphs[0].text = "First page header"
    doc.settings.odd_and_even_pages_header_footer = True
    section.even_page_footer.paragraphs[0].text = "Even page footer"
    props = doc.core_properties
    props.title, props.subject, props.author = "Roster", "HR data", "Jane Author"
    props.keywords, props.comments, props.category = "ssn payroll", "Contains SSN 212-67-4431", "HR"
    props.last_modified_by = "Editor Person"
    path = tmp_path / "report.docx"
    doc.save(path)

    events = run(path)
    assert not problems(events)
    assert isinstance(events[0], DocStart) and events[0].type == "docx"
    body = segments(events)[0]
    # Consecutive paragraphs are one segment, one per line, empty paragraphs kept as lines.
    assert body.location.part == "body" and body.location.paragraph == 0
    assert body.text == "Batch record for lot 4471\n\nEmployee SSN:\n212-67-4431"

    cells = {s.location.cell: s for s in segments(events) if s.location.part == "table"}
    assert cells["B2"].text == "078-05-1120"
    assert cells["B2"].location.name == "table 1"
    assert cells["B2"].context == "SSN | A. Jones"  # column header, then row label
    assert cells["A1"].context is None
    assert cells["C3"].text == "Basel"  # the nested table is not part of the cell
    nested_cells = {
        s.location.cell: s.text for s in segments(events) if s.location.part == "table" and s.location.name == "table 2"
    }
    assert nested_cells == {"A1": "inner left", "B1": "inner right"}

    headers = {s.text: s.location.name for s in segments(events) if s.location.part == "header"}
    assert "CONFIDENTIAL - default header" in headers and "First page header" in headers
    assert all(name and name.startswith("word/header") for name in headers.values())
    assert set(texts(events, "footer")) >= {"Page footer text", "Even page footer"}

    props_found = {s.location.name: s.text for s in segments(events) if s.location.part == "property"}
    assert props_found["title"] == "Roster"
    assert props_found["creator"] == "Jane Author"
    assert props_found["keywords"] == "ssn payroll"
    assert props_found["description"] == "Contains SSN 212-67-4431"
    assert props_found["lastModifiedBy"] == "Editor Person"
    assert props_found["category"] == "HR"
    assert "created" not in props_found and "modified" not in props_found


def test_runs_tabs_breaks_and_field_codes(tmp_path: Path) -> None:
    body = (
        '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>'
        "<w:r><w:t>SS</w:t></w:r><w:r><w:t>N:</w:t></w:r><w:r><w:tab/><w:t>212-67</w:t></w:r>"
        "<w:r><w:noBreakHyphen/><w:t>4431</w:t><w:br/><w:t>next line</w:t><w:cr/><w:t>end</w:t></w:r></w:p>"
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> HYPERLINK "http://field.example/" </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>link text</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
        "<w:p><m:oMath><m:r><m:t>x=42</m:t></m:r></m:oMath></w:p>"
    )
    events = run(write_docx(tmp_path / "runs.docx", body))
    assert texts(events, "body") == ["SSN:\t212-67-4431\nnext line\nend\nlink text\nx=42"]
    # The field code is a place a recipient sees (Alt+F9, or hovering the link): issue 14 reads it.
    assert "field.example" in json.dumps(texts(events))


def test_tracked_changes_deleted_text_is_read(tmp_path: Path) -> None:
    body = (
        '<w:p><w:r><w:t xml:space="preserve">Patient ID </w:t></w:r>'
        '<w:del w:id="1" w:author="x"><w:r><w:delText>MRN-0099812</w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="x"><w:r><w:t>withheld</w:t></w:r></w:ins></w:p>' + p("second paragraph")
    )
    body += (
        '<w:p><w:moveFrom w:id="3" w:author="x"><w:r><w:t>moved away</w:t></w:r></w:moveFrom></w:p>'
        '<w:p><w:moveTo w:id="4" w:author="x"><w:r><w:t>moved here</w:t></w:r></w:moveTo></w:p>'
    )
    events = run(write_docx(tmp_path / "tracked.docx", body))
    assert texts(events, "body") == ["Patient ID withheld\nsecond paragraph\n\nmoved here"]
    deleted = [s for s in segments(events) if s.location.part == "tracked_change"]
    assert [(s.text, s.location.paragraph) for s in deleted] == [("MRN-0099812", 0), ("moved away", 2)]


def test_text_boxes_read_once_and_wordart(tmp_path: Path) -> None:
    box = "<w:txbxContent><w:p><w:r><w:t>Boxed SSN 212-67-4431</w:t></w:r></w:p></w:txbxContent>"
    body = (
        '<w:p><w:r><w:t xml:space="preserve">Before the box. </w:t></w:r><w:r><mc:AlternateContent>'
        f'<mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>'
        f"<wps:wsp><wps:txbx>{box}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
        f"</mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict>"
        "</mc:Fallback></mc:AlternateContent></w:r><w:r><w:t>After the box.</w:t></w:r></w:p>"
        '<w:p><w:r><w:pict><v:shape><v:textpath string="DRAFT - CONFIDENTIAL"/></v:shape></w:pict></w:r></w:p>'
    )
    events = run(write_docx(tmp_path / "boxes.docx", body, root_attrs='mc:Ignorable="wps"'))
    assert texts(events, "body") == ["Before the box. After the box."]
    assert texts(events, "textbox") == ["Boxed SSN 212-67-4431", "DRAFT - CONFIDENTIAL"]


def test_footnotes_endnotes_comments_glossary_docvars(tmp_path: Path) -> None:
    footnotes = part_xml(
        "footnotes",
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:id="1"><w:p><w:r><w:t>Source: NPI 1234567893</w:t></w:r></w:p></w:footnote>',
    )
    endnotes = part_xml("endnotes", '<w:endnote w:id="2"><w:p><w:r><w:t>Endnote text</w:t></w:r></w:p></w:endnote>')
    comments = part_xml(
        "comments",
        '<w:comment w:id="0" w:author="Rev"><w:p><w:r><w:t>Remove DOB 1961-04-12</w:t></w:r>'
        "</w:p><w:p><w:r><w:t>second line</w:t></w:r></w:p></w:comment>",
    )
    glossary = (
        f'<?xml version="1.0"?><w:glossaryDocument {NS_DECL}><w:docParts><w:docPart><w:docPartBody>'
        f"{p('Building block text')}</w:docPartBody></w:docPart></w:docParts></w:glossaryDocument>"
    )
    settings = part_xml("settings", '<w:docVars><w:docVar w:name="ClientId" w:val="ACME-77"/></w:docVars>')
    header = part_xml("hdr", p("Header line one") + p("Header line two"))
    path = write_docx(
        tmp_path / "notes.docx",
        p("Body"),
        parts={
            "word/footnotes.xml": footnotes,
            "word/endnotes.xml": endnotes,
            "word/comments.xml": comments,
            "word/glossary/document.xml": glossary,
            "word/settings.xml": settings,
            "word/header7.xml": header,
        },
        rels=[
            ("r1", "footnotes", "footnotes.xml"),
            ("r2", "endnotes", "endnotes.xml"),
            ("r3", "comments", "comments.xml"),
            ("r4", "glossaryDocument", "glossary/document.xml"),
            ("r5", "settings", "settings.xml"),
            ("r6", "header", "header7.xml"),
        ],
    )
    events = run(path)
    assert not problems(events)
    by_part = {(s.location.part, s.location.name): s.text for s in segments(events)}
    assert by_part[("footnote", "footnote 1")] == "Source: NPI 1234567893"
    assert by_part[("endnote", "endnote 2")] == "Endnote text"
    assert by_part[("comment", "comment 0")] == "Remove DOB 1961-04-12\nsecond line"
    assert by_part[("body", "word/glossary/document.xml")] == "Building block text"
    assert by_part[("property", "ClientId")] == "ACME-77"
    assert by_part[("header", "word/header7.xml")] == "Header line one\nHeader line two"


def test_custom_properties_app_properties_and_existing_label(tmp_path: Path) -> None:
    guid = "0e5cf4a2-1234-4bcd-9876-00112233aabb"
    custom = (
        '<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="2" name="MSIP_Label_{guid}_Enabled">'
        "<vt:lpwstr>true</vt:lpwstr></property>"
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="3" name="MSIP_Label_{guid}_Name">'
        "<vt:lpwstr>Confidential</vt:lpwstr></property>"
        '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="4" name="PatientRef">'
        "<vt:lpwstr>MRN 00451234</vt:lpwstr></property></Properties>"
    )
    app = (
        '<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties"><Company>Acme CDMO</Company><Manager>Dr. Lee</Manager>'
        "<Application>Word</Application></Properties>"
    )
    path = write_docx(
        tmp_path / "labelled.docx",
        p("x"),
        parts={"docProps/custom.xml": custom, "docProps/app.xml": app},
        package_rels=[
            ("p1", f"{REL_T}/custom-properties", "docProps/custom.xml"),
            ("p2", f"{REL_T}/extended-properties", "docProps/app.xml"),
        ],
    )
    events = run(path)
    props = {s.location.name: s.text for s in segments(events) if s.location.part == "property"}
    assert props["PatientRef"] == "MRN 00451234"
    assert props[f"MSIP_Label_{guid}_Name"] == "Confidential"
    assert props["Company"] == "Acme CDMO" and props["Manager"] == "Dr. Lee"
    assert "Application" not in props
    notes = [e for e in events if isinstance(e, DocNote) and e.key == "existing_label"]
    assert len(notes) == 1
    assert {k: notes[0].value[k] for k in ("name", "source", "guid")} == {
        "name": "Confidential",
        "source": "msip",
        "guid": guid,
    }


def test_clearance_label_preferred(tmp_path: Path) -> None:
    custom = (
        '<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        '<property pid="2" name="Clearance_Label"><vt:lpwstr>Restricted</vt:lpwstr></property></Properties>'
    )
    path = write_docx(tmp_path / "own.docx", p("x"), parts={"docProps/custom.xml": custom})
    notes = [e.value for e in run(path) if isinstance(e, DocNote) and e.key == "existing_label"]
    assert [{k: n[k] for k in ("name", "source", "guid")} for n in notes] == [
        {"name": "Restricted", "source": "clearance", "guid": None}
    ]


def test_embedded_workbook_and_macros(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Name", "SSN"])
    wb.active.append(["J. Doe", "212-67-4431"])
    buf = io.BytesIO()
    wb.save(buf)
    path = write_docx(
        tmp_path / "macro.docm",
        p("See attached"),
        parts={
            "word/embeddings/Sheet1.xlsx": buf.getvalue(),
            "word/vbaProject.bin": vba_project_bin([Module("Module1", "Sub Hello()\nEnd Sub\n")]),
        },
    )
    events = run(path)
    assert not problems(events)
    assert any(isinstance(e, DocNote) and e.key == "macros" and e.value is True for e in events)
    starts = [e for e in events if isinstance(e, DocStart)]
    assert [(s.doc, s.type) for s in starts] == [("", "docx"), ("word/embeddings/Sheet1.xlsx", "xlsx")]
    inner = [s for s in segments(events) if s.doc == "word/embeddings/Sheet1.xlsx"]
    assert any(s.text == "212-67-4431" and s.location.cell == "B2" and s.context == "SSN | J. Doe" for s in inner)


def test_strict_ooxml(tmp_path: Path) -> None:
    body = (
        "<w:p><w:r><w:t>Strict body SSN 212-67-4431</w:t></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Head</w:t></w:r></w:p></w:tc></w:tr>"
        "<w:tr><w:tc><w:p><w:r><w:t>Cell</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    )
    strict_ns = NS_DECL.replace(W, W_STRICT).replace(R, R_STRICT)
    header = f'<?xml version="1.0"?><w:hdr {strict_ns}>{p("Strict header")}</w:hdr>'
    path = write_docx(
        tmp_path / "strict.docx",
        body,
        strict=True,
        parts={"word/header1.xml": header},
        rels=[("r1", "header", "header1.xml")],
    )
    events = run(path)
    assert not problems(events)
    assert texts(events, "body") == ["Strict body SSN 212-67-4431"]
    assert [s.context for s in segments(events) if s.location.part == "table"] == [None, "Head"]
    assert texts(events, "header") == ["Strict header"]


def test_content_controls_and_hyperlinks(tmp_path: Path) -> None:
    body = (
        '<w:sdt><w:sdtPr><w:alias w:val="Patient"/></w:sdtPr><w:sdtContent>'
        '<w:p><w:hyperlink r:id="x"><w:r><w:t>Control text</w:t></w:r></w:hyperlink>'
        '<w:sdt><w:sdtContent><w:r><w:t xml:space="preserve"> and inline</w:t></w:r></w:sdtContent></w:sdt>'
        "</w:p></w:sdtContent></w:sdt>"
    )
    events = run(write_docx(tmp_path / "sdt.docx", body))
    assert texts(events, "body") == ["Control text and inline"]


def test_long_body_is_cut_at_paragraph_ends(tmp_path: Path) -> None:
    body = "".join(p(f"paragraph {i} " + "x" * 200) for i in range(100))
    segs = [s for s in segments(run(write_docx(tmp_path / "long.docx", body))) if s.location.part == "body"]
    assert len(segs) > 1
    assert "\n".join(s.text for s in segs).count("paragraph ") == 100
    # Each segment starts at the paragraph its location names.
    for s in segs:
        assert s.text.startswith(f"paragraph {s.location.paragraph} ")


# --- damaged packages ---------------------------------------------------------------------


def test_truncated_docx_is_unscannable(tmp_path: Path) -> None:
    doc = Document()
    for i in range(200):
        doc.add_paragraph(f"Line {i} of the roster")
    full = tmp_path / "full.docx"
    doc.save(full)
    cut = tmp_path / "cut.docx"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 6 // 10])
    events = run(cut)
    assert problems(events) and "damaged or truncated DOCX" in problems(events)[0]
    assert not segments(events)


def test_missing_main_part_and_bad_xml_are_unscannable(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "nomain.docx", p("x"))
    with zipfile.ZipFile(path) as zf:
        keep = {n: zf.read(n) for n in zf.namelist() if n != "word/document.xml"}
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in keep.items():
            zf.writestr(name, data)
    assert problems(run(path)) == ["damaged or truncated DOCX (no main document part)"]

    bad = write_docx(tmp_path / "badxml.docx", "<w:p><w:r><w:t>unclosed</w:r></w:p>")
    reasons = problems(run(bad))
    assert len(reasons) == 1 and reasons[0].startswith("damaged or truncated DOCX (XML error in word/document.xml")


def test_damaged_optional_part_fails_closed_missing_one_is_fine(tmp_path: Path) -> None:
    ok = write_docx(tmp_path / "dangling.docx", p("Body text"), rels=[("r1", "footnotes", "footnotes.xml")])
    events = run(ok)
    assert not problems(events) and texts(events, "body") == ["Body text"]
    broken = write_docx(
        tmp_path / "broken.docx",
        p("Body text"),
        parts={"word/footnotes.xml": "<w:footnotes"},
        rels=[("r1", "footnotes", "footnotes.xml")],
    )
    assert "XML error in word/footnotes.xml" in problems(run(broken))[0]


def test_duplicate_part_names_refused(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "dup.docx", p("visible"))
    with zipfile.ZipFile(path, "a") as zf, pytest.warns(UserWarning):
        zf.writestr("word/document.xml", "<hidden/>")
    assert "two parts named" in problems(run(path))[0]


def test_member_of_archive_reads_from_memory(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "m.docx", p("in memory"))
    ctx = Context(Limits(), doc="outer.zip!m.docx", depth=1)
    events = list(extract_document(Source(name="m.docx", data=path.read_bytes()), ctx))
    assert [(s.doc, s.text) for s in segments(events)] == [("outer.zip!m.docx", "in memory")]


# --- corpora ---------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


WHERE_PARTS = {
    "header_footer": {"header", "footer"},
    "comment": {"comment"},
    "core_property": {"property"},
    "hidden_sheet": {"hidden_sheet"},
    "cell_comment": {"cell_comment"},
}


@pytest.mark.corpus
def test_dev_corpus_docx_entities_found() -> None:
    """Every planted entity of the top-level documents is in the text, in the right place."""
    dev = CORPUS / "dev"
    if not (dev / "truth.jsonl").is_file():
        pytest.skip("shared corpus not present")
    assert check_planted_entities(dev, ".docx", WHERE_PARTS, lambda v, t: _norm(v) in _norm(t)) > 0


def adversarial(case: str) -> Path:
    path = CORPUS / "adversarial" / "cases" / case
    if not path.exists():
        pytest.skip("adversarial corpus not present")
    return path


@pytest.mark.corpus
@pytest.mark.parametrize("case", ["docx_billion_laughs/hr_summary.docx", "docx_xxe/letter.docx"])
def test_adversarial_entity_documents_refused_quickly(case: str) -> None:
    path = adversarial(case)
    start = time.monotonic()
    events = run(path)
    elapsed = time.monotonic() - start
    reasons = problems(events)
    assert reasons == ["XML part word/document.xml declares entities (possible entity bomb or XXE); refused"]
    dumped = json.dumps([getattr(e, "text", "") for e in events])
    assert "root:x:0:0" not in dumped and "/bin/bash" not in dumped
    assert elapsed < 30, f"took {elapsed:.1f} s"


@pytest.mark.corpus
def test_adversarial_truncated_docx() -> None:
    reasons = problems(run(adversarial("truncated_docx/roster.docx")))
    assert reasons and reasons[0].startswith("damaged or truncated DOCX")


@pytest.mark.corpus
def test_adversarial_embedded_workbook_ssn_found() -> None:
    events = run(adversarial("docx_embedded_xlsx/cover_letter.docx"))
    assert not problems(events)
    assert any("212-67-4431" in s.text and s.doc.startswith("word/embeddings/") for s in segments(events))


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name,expected",
    [
        (
            "tika__testWORD_text_box.docx",
            {("textbox", "This text is inside of a text box in the body of the document.")},
        ),
        ("poi__footnotes.docx", {("footnote", "snoska")}),
        ("tika__testComment.docx", {("comment", "Here is a comment")}),
        ("tika__testWORD_diagramData.docx", {("textbox", "From here\nTo here\nAnd then here.")}),
    ],
)
def test_realworld_hidden_places(name: str, expected: set[tuple[str, str]]) -> None:
    path = CORPUS / "realworld" / "docx" / name
    if not path.is_file():
        pytest.skip("realworld corpus not present")
    events = run(path)
    assert not problems(events)
    got = {(s.location.part, s.text.strip()) for s in segments(events)}
    assert expected <= got


def test_custom_xml_data_store_is_read(tmp_path: Path) -> None:
    item = '<?xml version="1.0"?><root><Patient>J. Doe</Patient><MRN>00451234</MRN></root>'
    path = write_docx(
        tmp_path / "cx.docx",
        p("Body"),
        parts={"customXml/item1.xml": item, "customXml/itemProps1.xml": "<ds:datastoreItem/>"},
    )
    meta = [(s.location.name, s.text) for s in segments(run(path)) if s.location.part == "metadata"]
    assert meta == [("customXml/item1.xml", "J. Doe\n00451234")]


@pytest.mark.parametrize("suffix", ["docx", "xlsx"])
def test_label_written_by_clearance_is_reported_back(tmp_path: Path, suffix: str) -> None:
    """Round trip with the label writer: extraction sees the label relabelling would see."""
    from scanner.act.labelling import apply_label
    from scanner.labels.scheme import LabelScheme

    src = tmp_path / f"plain.{suffix}"
    if suffix == "docx":
        doc = Document()
        doc.add_paragraph("Batch record")
        doc.save(src)
    else:
        from openpyxl import Workbook

        wb = Workbook()
        wb.active["A1"] = "Batch record"
        wb.save(src)
    scheme = LabelScheme.default()
    level = scheme.get(scheme.names[-1])
    labelled = tmp_path / f"labelled.{suffix}"
    apply_label(src, labelled, level, scheme)
    notes = [e.value for e in run(labelled) if isinstance(e, DocNote) and e.key == "existing_label"]
    assert len(notes) == 1
    assert notes[0]["name"] == level.name and notes[0]["guid"] == level.guid
    assert notes[0]["source"] == "clearance"
    assert not [e for e in run(src) if isinstance(e, DocNote) and e.key == "existing_label"]


def test_label_info_part_of_newer_office(tmp_path: Path) -> None:
    guid = "3a9bc1f0-aaaa-4bbb-8ccc-0123456789ab"
    info = (
        '<?xml version="1.0"?><clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/'
        f'mipLabelMetadata"><clbl:label id="{{{guid}}}" enabled="1" method="Privileged" '
        'siteId="{11111111-2222-3333-4444-555555555555}" removed="0"/></clbl:labelList>'
    )
    path = write_docx(
        tmp_path / "li.docx",
        p("x"),
        parts={"docMetadata/LabelInfo.xml": info},
        package_rels=[
            (
                "l1",
                "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels",
                "docMetadata/LabelInfo.xml",
            )
        ],
    )
    events = run(path)
    notes = [e.value for e in events if isinstance(e, DocNote) and e.key == "existing_label"]
    assert len(notes) == 1
    assert (notes[0]["guid"], notes[0]["source"], notes[0]["method"]) == (guid, "msip", "Privileged")
    assert not [s for s in segments(events) if s.location.part == "metadata"]  # read, not swept up
