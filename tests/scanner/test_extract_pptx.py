"""PPTX extraction: slides in show order, tables, notes, comments, charts, alt text,
properties and embedded documents, from decks written here with python-pptx."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

pptx = pytest.importorskip("pptx")

from pptx import Presentation  # noqa: E402
from pptx.chart.data import CategoryChartData  # noqa: E402
from pptx.enum.chart import XL_CHART_TYPE  # noqa: E402
from pptx.util import Inches  # noqa: E402
from vba_fixture import Module, vba_project_bin  # noqa: E402

from scanner.extract.registry import extract_file  # noqa: E402
from scanner.model import DocNote, DocProblem, DocStart, Segment  # noqa: E402

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"
REL_T = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def run(path: Path) -> list:
    return list(extract_file(path))


def segments(events: list) -> list[Segment]:
    return [e for e in events if isinstance(e, Segment)]


def problems(events: list) -> list[str]:
    return [e.reason for e in events if isinstance(e, DocProblem)]


def build_deck(path: Path) -> Path:
    prs = Presentation()
    title_layout, body_layout, blank = prs.slide_layouts[0], prs.slide_layouts[1], prs.slide_layouts[6]

    s1 = prs.slides.add_slide(title_layout)
    s1.shapes.title.text = "Quarterly batch review"
    s1.placeholders[1].text = "Prepared for partner"

    s2 = prs.slides.add_slide(body_layout)
    s2.shapes.title.text = "Findings"
    frame = s2.placeholders[1].text_frame
    frame.text = "Deviation DEV-2291 closed"
    frame.add_paragraph().text = "Operator SSN 212-67-4431"
    s2.notes_slide.notes_text_frame.text = "Speaker note: call Dr. Lee at 555-0100"

    s3 = prs.slides.add_slide(blank)
    table = s3.shapes.add_table(3, 2, Inches(1), Inches(1), Inches(4), Inches(2)).table
    for r, row in enumerate([("Lot", "Assay"), ("L-001", "99.1%"), ("L-002", "98.7%")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    group = s3.shapes.add_group_shape()
    box = group.shapes.add_textbox(Inches(1), Inches(4), Inches(2), Inches(1))
    box.text_frame.text = "Grouped text box"
    box._element.nvSpPr.cNvPr.set("descr", "Alt text: patient photo")

    s4 = prs.slides.add_slide(blank)
    data = CategoryChartData()
    data.categories = ["Site Cork", "Site Basel"]
    data.add_series("Yield", (91.0, 93.5))
    chart = s4.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(1), Inches(5), Inches(3), data).chart
    chart.has_title = True
    chart.chart_title.text_frame.text = "Yield by site"

    props = prs.core_properties
    props.title, props.author, props.keywords = "Review deck", "Jane Author", "confidential"
    # Move the last slide to the front: the show order is sldIdLst, not part names.
    id_list = prs.slides._sldIdLst
    last = id_list[-1]
    id_list.remove(last)
    id_list.insert(0, last)
    prs.save(path)
    return path


def test_slides_tables_notes_charts_alt_text_properties(tmp_path: Path) -> None:
    events = run(build_deck(tmp_path / "deck.pptx"))
    assert not problems(events)
    assert isinstance(events[0], DocStart) and events[0].type == "pptx"
    slide_text = {(s.location.page, s.text) for s in segments(events) if s.location.part == "slide"}
    assert (2, "Quarterly batch review") in slide_text
    assert (3, "Deviation DEV-2291 closed\nOperator SSN 212-67-4431") in slide_text
    assert (4, "Grouped text box") in slide_text
    assert (4, "Alt text: patient photo") in slide_text
    chart = [s for s in segments(events) if s.location.page == 1]
    assert chart and "Yield by site" in chart[0].text and "Site Cork" in chart[0].text

    notes = [s for s in segments(events) if s.location.part == "notes"]
    assert [(n.location.page, n.text) for n in notes] == [(3, "Speaker note: call Dr. Lee at 555-0100")]

    cells = {s.location.cell: s for s in segments(events) if s.location.part == "table"}
    assert cells["B2"].text == "99.1%" and cells["B2"].location.page == 4
    assert cells["B2"].context == "Assay | L-001"
    assert cells["A1"].context is None

    props = {s.location.name: s.text for s in segments(events) if s.location.part == "property"}
    assert props["title"] == "Review deck" and props["creator"] == "Jane Author"


def _add_parts(path: Path, parts: dict[str, str | bytes], slide_rels: str | None = None) -> None:
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    items.update({k: v.encode() if isinstance(v, str) else v for k, v in parts.items()})
    if slide_rels is not None:
        rels = items["ppt/slides/_rels/slide1.xml.rels"].decode()
        items["ppt/slides/_rels/slide1.xml.rels"] = rels.replace(
            "</Relationships>", slide_rels + "</Relationships>"
        ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)


def test_classic_and_modern_comments_embeddings_macros(tmp_path: Path) -> None:
    from docx import Document

    prs = Presentation()
    prs.slides.add_slide(prs.slide_layouts[6])
    path = tmp_path / "comments.pptm"
    prs.save(path)
    classic = (
        '<?xml version="1.0"?><p:cmLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
        '<p:cm authorId="0" idx="1"><p:pos x="10" y="10"/><p:text>Classic: remove MRN 00451234</p:text>'
        "</p:cm></p:cmLst>"
    )
    modern = (
        '<?xml version="1.0"?><p188:cmLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/'
        'main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><p188:cm id="{1}">'
        "<p188:txBody><a:p><a:r><a:t>Modern: DOB 1961-04-12</a:t></a:r></a:p></p188:txBody>"
        '<p188:replyLst><p188:reply id="{2}"><p188:txBody><a:p><a:r><a:t>Reply text</a:t></a:r></a:p>'
        "</p188:txBody></p188:reply></p188:replyLst></p188:cm></p188:cmLst>"
    )
    doc = Document()
    doc.add_paragraph("Embedded memo 212-67-4431")
    buf = io.BytesIO()
    doc.save(buf)
    _add_parts(
        path,
        {
            "ppt/comments/comment1.xml": classic,
            "ppt/comments/modernComment_1.xml": modern,
            "ppt/embeddings/memo.docx": buf.getvalue(),
            "ppt/vbaProject.bin": vba_project_bin([Module("Module1", "Sub Hello()\nEnd Sub\n")]),
        },
        slide_rels=(
            f'<Relationship Id="c1" Type="{REL_T}/comments" Target="../comments/comment1.xml"/>'
            '<Relationship Id="c2" Type="http://schemas.microsoft.com/office/2018/10/relationships/'
            'comments" Target="../comments/modernComment_1.xml"/>'
        ),
    )
    events = run(path)
    assert not problems(events)
    comments = [(s.location.page, s.text) for s in segments(events) if s.location.part == "comment"]
    assert comments == [(1, "Classic: remove MRN 00451234"), (1, "Modern: DOB 1961-04-12\nReply text")]
    assert any(s.doc == "ppt/embeddings/memo.docx" and "212-67-4431" in s.text for s in segments(events))
    assert any(isinstance(e, DocNote) and e.key == "macros" for e in events)


def test_truncated_and_entity_bomb_decks(tmp_path: Path) -> None:
    path = build_deck(tmp_path / "deck.pptx")
    cut = tmp_path / "cut.pptx"
    cut.write_bytes(path.read_bytes()[:-500])
    assert problems(run(cut))[0].startswith("damaged or truncated PPTX")

    bomb = (
        '<?xml version="1.0"?><!DOCTYPE p:sld [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        '<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree/>'
        "</p:cSld></p:sld>"
    )
    _add_parts(path, {"ppt/slides/slide1.xml": bomb})
    assert problems(run(path)) == [
        "XML part ppt/slides/slide1.xml declares entities (possible entity bomb or XXE); refused"
    ]


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name,expected",
    [
        ("tika__testPPT.pptx", (3, "slide", "Different words to test against")),
        ("pptx__prs-notes.pptx", (1, "notes", "Notes")),
        ("tika__testPPTX_overlappingRelations.pptx", (4, "slide", "POI can read this too")),
    ],
)
def test_realworld_decks(name: str, expected: tuple[int, str, str]) -> None:
    path = CORPUS / "realworld" / "other" / name
    if not path.is_file():
        pytest.skip("realworld corpus not present")
    events = run(path)
    assert not problems(events)
    page, part, start = expected
    assert any(
        s.location.page == page and s.location.part == part and s.text.startswith(start) for s in segments(events)
    )
