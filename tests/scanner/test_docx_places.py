"""Word places a recipient sees beyond the run text, each read by the DOCX reader at a good location.

Every fixture is written with python-docx, with the XML python-docx has no API for
injected into its tree (``docx.oxml.parse_xml``) and extra parts (ActiveX, charts,
SmartArt) added as python-docx ``Part``s, "as a sponsor's tool might". Each plants a
value the detector blocks in plain text, and each test asserts that (a) the reader
yields it at the right part, paragraph and name, and (b) the file is not allowed.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml

from scanner.extract.registry import extract_file
from scanner.model import Location, Segment, Verdict
from scanner.pipeline.scan import scan_file_inline

PLANTED = "SSN: 212-67-4431"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = (
    f'xmlns:w="{W}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture" '
    'xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
)
AX = "http://schemas.microsoft.com/office/2006/activeX"


# --- helpers ------------------------------------------------------------------------


def el(xml: str) -> Any:
    """One element of hand-written WordprocessingML, with every namespace it may use declared."""
    tag = re.match(r"<([\w:]+)", xml)
    assert tag
    return parse_xml(xml.replace(f"<{tag.group(1)}", f"<{tag.group(1)} {NS}", 1))


def doc_with(*paragraph_xml: str) -> DocxDocument:
    """A python-docx document: a benign first paragraph, then each hand-written element."""
    doc = Document()
    doc.add_paragraph("Batch record 4471, reviewed.")
    body = doc.element.body
    for xml in paragraph_xml:
        body.insert(len(body) - 1, el(xml))  # before the final w:sectPr
    return doc


def add_part(doc: DocxDocument, name: str, content_type: str, blob: bytes, reltype: str, source: Any = None) -> str:
    """Add a part to the package, related from the body (or from ``source``); return its r:id."""
    part = Part(PackURI(name), content_type, blob, doc.part.package)
    return (source or doc.part).relate_to(part, reltype)


def save(doc: DocxDocument, tmp_path: Path, name: str = "placed.docx") -> Path:
    path = tmp_path / name
    doc.save(path)
    return path


def segs(path: Path) -> list[Segment]:
    return [e for e in extract_file(path) if isinstance(e, Segment)]


def where(path: Path, value: str = PLANTED) -> list[Location]:
    """Locations of the segments of the file itself that hold ``value`` (the package sweep's excluded)."""
    return [s.location for s in segs(path) if value in s.text and not s.doc and s.location.part != "package"]


def assert_not_allowed(path: Path) -> None:
    top = scan_file_inline(path)[0]
    assert top.verdict is not Verdict.ALLOW, top


def r(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


# --- fields ---------------------------------------------------------------------------


def test_field_code_in_instr_text(tmp_path: Path) -> None:
    # A QUOTE field whose cached result was blanked: the value is in the code (Alt+F9).
    doc = doc_with(
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> QUOTE "{PLANTED}" </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>see file</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )
    path = save(doc, tmp_path)
    assert Location("body", paragraph=1, name="field code") in where(path)
    assert next(s.text for s in segs(path) if s.location.name == "field code") == f'QUOTE "{PLANTED}"'
    assert_not_allowed(path)


def test_field_result_is_body_text(tmp_path: Path) -> None:
    doc = doc_with(
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> DOCPROPERTY Subject </w:instrText></w:r>'
        f'<w:r><w:fldChar w:fldCharType="separate"/></w:r>{r(PLANTED)}<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )
    path = save(doc, tmp_path)
    assert Location("body", paragraph=0) in where(path)
    assert_not_allowed(path)


def test_simple_field_instruction(tmp_path: Path) -> None:
    doc = doc_with(f'<w:p><w:fldSimple w:instr=" QUOTE &quot;{PLANTED}&quot; ">{r("n/a")}</w:fldSimple></w:p>')
    path = save(doc, tmp_path)
    assert Location("body", paragraph=1, name="field code") in where(path)
    assert_not_allowed(path)


def test_field_code_in_header(tmp_path: Path) -> None:
    doc = Document()
    doc.add_paragraph("Body text.")
    header_p = doc.sections[0].header.paragraphs[0]._p
    header_p.append(el(f'<w:fldSimple w:instr=" QUOTE &quot;{PLANTED}&quot; "/>'))
    path = save(doc, tmp_path)
    found = where(path)
    assert len(found) == 1 and found[0].part == "header" and found[0].paragraph == 0
    assert found[0].name and found[0].name.startswith("word/header") and found[0].name.endswith(" field code")
    assert_not_allowed(path)


def test_hyperlink_field_address_and_tooltip(tmp_path: Path) -> None:
    doc = doc_with(
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> HYPERLINK "https://portal.example/lookup?q=SSN%3A%20212-67-4431" '
        "</w:instrText></w:r>"
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>portal</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
        f'<w:p><w:hyperlink w:anchor="top" w:tooltip="{PLANTED}">{r("hover me")}</w:hyperlink></w:p>',
    )
    path = save(doc, tmp_path)
    found = where(path)
    assert Location("body", paragraph=1, name="field code") in found  # /lookup?q=SSN: 212-67-4431
    assert Location("body", paragraph=2, name="tooltip") in found
    assert_not_allowed(path)


def test_hyperlink_relationship_address(tmp_path: Path) -> None:
    doc = Document()
    doc.add_paragraph("Links:")
    rid = doc.part.relate_to("https://records.example/patients?ssn=212-67-4431", RT.HYPERLINK, is_external=True)
    doc.element.body.insert(1, el(f'<w:p><w:hyperlink r:id="{rid}">{r("patient record")}</w:hyperlink></w:p>'))
    path = save(doc, tmp_path)
    assert Location("body", paragraph=1, name="link") in where(path, "/patients?ssn=212-67-4431")
    assert_not_allowed(path)


# --- symbols, ruby, alt text ---------------------------------------------------------------


def test_symbol_characters(tmp_path: Path) -> None:
    # The digits are w:sym characters (F0xx: byte xx of the font), not w:t text.
    digits = "".join(f'<w:sym w:font="Arial" w:char="F0{ord(c):02X}"/>' for c in "212-67-4431")
    doc = doc_with(f'<w:p>{r("SSN: ")}<w:r>{digits}</w:r><w:r><w:sym w:font="Wingdings" w:char="F0FC"/></w:r></w:p>')
    path = save(doc, tmp_path)
    body = [s for s in segs(path) if s.location.part == "body"]
    assert body[0].text.endswith(PLANTED)  # the Wingdings tick is a picture: no character
    assert_not_allowed(path)


def test_ruby_base_and_annotation(tmp_path: Path) -> None:
    doc = doc_with(
        "<w:p><w:r><w:ruby><w:rubyPr/>"
        f"<w:rt>{r(PLANTED)}</w:rt><w:rubyBase>{r('患者')}</w:rubyBase></w:ruby></w:r></w:p>"
    )
    path = save(doc, tmp_path)
    body = [s for s in segs(path) if s.location.part == "body" and s.location.name is None]
    assert body[0].text.endswith("患者")  # the base text stays in its paragraph
    assert Location("body", paragraph=1, name="ruby") in where(path)
    assert_not_allowed(path)


@pytest.mark.parametrize("attr", ["descr", "title"])
def test_image_alt_text_and_title(tmp_path: Path, attr: str) -> None:
    doc = doc_with(
        '<w:p><w:r><w:drawing><wp:inline><wp:extent cx="10" cy="10"/>'
        f'<wp:docPr id="1" name="Picture 1" {attr}="{PLANTED}"/>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>'
        '<pic:nvPicPr><pic:cNvPr id="0" name="scan.png" descr="Scanned label"/><pic:cNvPicPr/></pic:nvPicPr>'
        "</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>"
    )
    path = save(doc, tmp_path)
    assert where(path) == [Location("body", paragraph=1, name="alt text")]
    assert Location("body", paragraph=1, name="alt text") in where(path, "Scanned label")  # pic:cNvPr
    assert_not_allowed(path)


# --- form fields, ActiveX, content controls ---------------------------------------------------


@pytest.mark.parametrize(
    "ff",
    [
        f'<w:textInput><w:default w:val="{PLANTED}"/></w:textInput>',
        f'<w:ddList><w:result w:val="0"/><w:listEntry w:val="n/a"/><w:listEntry w:val="{PLANTED}"/></w:ddList>',
        f'<w:helpText w:type="text" w:val="{PLANTED}"/><w:checkBox><w:default w:val="1"/></w:checkBox>',
    ],
    ids=["text-default", "dropdown-entry", "help-text"],
)
def test_legacy_form_fields(tmp_path: Path, ff: str) -> None:
    doc = doc_with(
        f'<w:p><w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Patient"/>{ff}</w:ffData>'
        "</w:fldChar></w:r><w:r><w:instrText> FORMTEXT </w:instrText></w:r>"
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>     </w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )
    path = save(doc, tmp_path)
    assert where(path) == [Location("form_field", paragraph=1, name="form field Patient")]
    assert_not_allowed(path)


def test_activex_control_value(tmp_path: Path) -> None:
    doc = doc_with()
    ocx = (
        f'<?xml version="1.0" encoding="UTF-8"?><ax:ocx xmlns:ax="{AX}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        'ax:classid="{8BD21D10-EC42-11CE-9E0D-00AA006002F3}" ax:persistence="persistPropertyBag">'
        '<ax:ocxPr ax:name="BackColor" ax:value="2147483653"/>'
        f'<ax:ocxPr ax:name="Value" ax:value="{PLANTED}"/></ax:ocx>'
    ).encode()
    rid = add_part(doc, "/word/activeX/activeX1.xml", "application/vnd.ms-office.activeX+xml", ocx, RT.CONTROL)
    doc.element.body.insert(
        1,
        el(
            '<w:p><w:r><w:object><v:shape id="_x0000_i1025" type="#_x0000_t75"/>'
            f'<w:control r:id="{rid}" w:name="TextBox1" w:shapeid="_x0000_i1025"/></w:object></w:r></w:p>'
        ),
    )
    path = save(doc, tmp_path)
    assert where(path) == [Location("form_field", paragraph=1, name="ActiveX TextBox1")]
    assert "2147483653" not in " ".join(s.text for s in segs(path) if s.location.part == "form_field")
    assert_not_allowed(path)


@pytest.mark.parametrize(
    "pr",
    [
        f'<w:alias w:val="{PLANTED}"/>',
        f'<w:tag w:val="{PLANTED}"/>',
        f'<w:dropDownList><w:listItem w:displayText="{PLANTED}" w:value="1"/></w:dropDownList>',
        f'<w:comboBox><w:listItem w:displayText="other" w:value="{PLANTED}"/></w:comboBox>',
    ],
    ids=["alias", "tag", "dropdown-item", "combo-value"],
)
def test_content_control_properties(tmp_path: Path, pr: str) -> None:
    doc = doc_with(
        f'<w:sdt><w:sdtPr>{pr}<w:dataBinding w:xpath="/root/id" w:storeItemID="{{1}}"/></w:sdtPr>'
        f"<w:sdtContent><w:p>{r('Choose an item.')}</w:p></w:sdtContent></w:sdt>"
    )
    path = save(doc, tmp_path)
    (loc,) = where(path)
    assert loc.part == "form_field" and loc.paragraph == 1 and loc.name and loc.name.startswith("content control")
    body = [s for s in segs(path) if s.location == Location("body", paragraph=0)]
    assert body[0].text == "Batch record 4471, reviewed.\nChoose an item."  # the content, as before
    assert_not_allowed(path)


def test_inline_content_control_in_table_cell(tmp_path: Path) -> None:
    doc = Document()
    table = doc.add_table(rows=2, cols=1)
    table.cell(0, 0).text = "Patient"
    table.cell(1, 0).paragraphs[0]._p.append(
        el(f'<w:sdt><w:sdtPr><w:tag w:val="{PLANTED}"/></w:sdtPr><w:sdtContent>{r("pick one")}</w:sdtContent></w:sdt>')
    )
    path = save(doc, tmp_path)
    assert where(path) == [Location("form_field", paragraph=1, cell="A2", name="table 1 content control")]
    assert_not_allowed(path)


# --- alternate content, text boxes ---------------------------------------------------------------


def test_fallback_read_when_choice_namespace_unknown(tmp_path: Path) -> None:
    # Word does not know "future": it shows the Fallback, which is read as the paragraph's text.
    doc = doc_with(
        '<w:p xmlns:future="urn:example:future"><mc:AlternateContent>'
        f'<mc:Choice Requires="future">{r("Nothing to see.")}</mc:Choice>'
        f"<mc:Fallback>{r(PLANTED)}</mc:Fallback></mc:AlternateContent></w:p>"
    )
    path = save(doc, tmp_path)
    assert Location("body", paragraph=0) in where(path)
    # the Choice's other text is still reported, at its paragraph
    assert Location("body", paragraph=1, name="alternate content") in where(path, "Nothing to see.")
    assert_not_allowed(path)


def test_fallback_that_differs_from_understood_choice(tmp_path: Path) -> None:
    box = "<w:txbxContent><w:p>{}</w:p></w:txbxContent>"
    doc = doc_with(
        "<w:p><w:r><mc:AlternateContent>"
        '<mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>'
        f"<wps:wsp><wps:txbx>{box.format(r('Lot 4471'))}</wps:txbx></wps:wsp></a:graphicData></a:graphic>"
        "</wp:anchor></w:drawing></mc:Choice>"
        f"<mc:Fallback><w:pict><v:shape><v:textbox>{box.format(r(PLANTED))}</v:textbox></v:shape></w:pict>"
        "</mc:Fallback></mc:AlternateContent></w:r></w:p>"
    )
    path = save(doc, tmp_path)
    assert where(path) == [Location("body", paragraph=1, name="alternate content")]
    assert [s.text for s in segs(path) if s.location.part == "textbox"] == ["Lot 4471"]  # read once
    assert_not_allowed(path)


@pytest.mark.parametrize("kind", ["drawingml", "vml"])
def test_text_boxes(tmp_path: Path, kind: str) -> None:
    box = f"<w:txbxContent><w:p>{r(PLANTED)}</w:p></w:txbxContent>"
    shape = (
        f"<w:drawing><wp:anchor><a:graphic><a:graphicData><wps:wsp><wps:txbx>{box}</wps:txbx></wps:wsp>"
        "</a:graphicData></a:graphic></wp:anchor></w:drawing>"
        if kind == "drawingml"
        else f"<w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict>"
    )
    doc = doc_with(f"<w:p><w:r>{shape}</w:r></w:p>")
    path = save(doc, tmp_path)
    assert where(path) == [Location("textbox")]
    assert_not_allowed(path)


def test_field_code_inside_text_box(tmp_path: Path) -> None:
    inner = f'<w:fldSimple w:instr=" QUOTE &quot;{PLANTED}&quot; "/>'
    doc = doc_with(
        f"<w:p><w:r><w:pict><v:shape><v:textbox><w:txbxContent><w:p>{r('Box')}{inner}</w:p></w:txbxContent>"
        "</v:textbox></v:shape></w:pict></w:r></w:p>"
    )
    path = save(doc, tmp_path)
    assert where(path) == [Location("textbox", paragraph=0, name="field code")]
    assert_not_allowed(path)


# --- SmartArt, charts, OLE objects -------------------------------------------------------------------


def test_smartart_data(tmp_path: Path) -> None:
    doc = doc_with()
    data = (
        '<?xml version="1.0" encoding="UTF-8"?><dgm:dataModel '
        'xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><dgm:ptLst>'
        f'<dgm:pt modelId="1"><dgm:t><a:bodyPr/><a:p><a:r><a:t>{PLANTED}</a:t></a:r></a:p></dgm:t></dgm:pt>'
        "</dgm:ptLst></dgm:dataModel>"
    ).encode()
    add_part(
        doc,
        "/word/diagrams/data1.xml",
        "application/vnd.openxmlformats-officedocument.drawingml.diagramData+xml",
        data,
        RT.DIAGRAM_DATA,
    )
    path = save(doc, tmp_path)
    assert where(path) == [Location("textbox", name="word/diagrams/data1.xml")]
    assert_not_allowed(path)


def _chart(category: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><c:chartSpace '
        'xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><c:chart>'
        "<c:title><c:tx><c:rich><a:bodyPr/><a:p><a:r><a:t>Assay by lot</a:t></a:r></a:p></c:rich></c:tx></c:title>"
        '<c:plotArea><c:barChart><c:ser><c:tx><c:strRef><c:f>Sheet1!$B$1</c:f><c:strCache><c:ptCount val="1"/>'
        '<c:pt idx="0"><c:v>Potency</c:v></c:pt></c:strCache></c:strRef></c:tx>'
        f'<c:cat><c:strLit><c:ptCount val="1"/><c:pt idx="0"><c:v>{category}</c:v></c:pt></c:strLit></c:cat>'
        '<c:val><c:numRef><c:f>Sheet1!$B$2</c:f><c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="1"/>'
        '<c:pt idx="0"><c:v>98.75</c:v></c:pt></c:numCache></c:numRef></c:val>'
        "</c:ser></c:barChart></c:plotArea></c:chart></c:chartSpace>"
    ).encode()


def test_chart_caches(tmp_path: Path) -> None:
    doc = doc_with()
    ct = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
    add_part(doc, "/word/charts/chart1.xml", ct, _chart(PLANTED), RT.CHART)
    path = save(doc, tmp_path)
    chart = {s.location.name: s.text for s in segs(path) if s.location.part == "textbox"}
    assert chart["word/charts/chart1.xml"] == "Assay by lot\nPotency"  # title, series name
    assert chart["word/charts/chart1.xml values"] == f"{PLANTED}\n98.75"  # literal category, cached value
    assert_not_allowed(path)


def test_chart_in_header(tmp_path: Path) -> None:
    doc = Document()
    doc.add_paragraph("Body text.")
    header = doc.sections[0].header
    header.paragraphs[0].text = "Header"
    ct = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
    add_part(doc, "/word/charts/chart2.xml", ct, _chart(PLANTED), RT.CHART, source=header.part)
    path = save(doc, tmp_path)
    assert where(path) == [Location("textbox", name="word/charts/chart2.xml values")]
    assert_not_allowed(path)


def test_ole_object_in_body(tmp_path: Path) -> None:
    inner = Document()
    inner.add_paragraph(PLANTED)
    buf = io.BytesIO()
    inner.save(buf)
    doc = doc_with()
    ct = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    rid = add_part(doc, "/word/embeddings/Microsoft_Word_Document.docx", ct, buf.getvalue(), RT.PACKAGE)
    doc.element.body.insert(
        1,
        el(
            f'<w:p>{r("Attached: ")}<w:r><w:object w:dxaOrig="1531" w:dyaOrig="990">'
            '<v:shape id="_x0000_i1025" type="#_x0000_t75" alt="Embedded record"><v:imagedata o:title=""/></v:shape>'
            f'<o:OLEObject Type="Embed" ProgID="Word.Document.12" ShapeID="_x0000_i1025" r:id="{rid}"/>'
            "</w:object></w:r></w:p>"
        ),
    )
    path = save(doc, tmp_path)
    found = [s for s in segs(path) if PLANTED in s.text]
    assert [(s.doc, s.location) for s in found] == [
        ("word/embeddings/Microsoft_Word_Document.docx", Location("body", paragraph=0))
    ]
    body = [s for s in segs(path) if not s.doc and s.location == Location("body", paragraph=0)]
    assert body[0].text == "Batch record 4471, reviewed.\nAttached: "
    assert Location("body", paragraph=1, name="alt text") in where(path, "Embedded record")
    assert_not_allowed(path)
