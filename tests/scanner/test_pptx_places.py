"""Issue 14: every place a PowerPoint recipient sees is read, and a secret planted there blocks.

Decks are written with python-pptx; what it cannot write (modern comments, chartex charts,
"value from cells" data labels, chart user shapes, sections, equations, tooltips) is added
as the XML PowerPoint saves, into the same package.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE
from pptx.util import Inches

from scanner.extract.registry import extract_file
from scanner.model import DocNote, DocProblem, Location, Segment, Verdict
from scanner.pipeline.scan import scan_file_inline

SSN = "SSN: 212-67-4431"
KEY = "AKIAIOSFODNN7EXAMPL3"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
P = "http://schemas.openxmlformats.org/presentationml/2006/main"
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"


def events(path: Path) -> list:
    found = list(extract_file(path))
    assert not [e.reason for e in found if isinstance(e, DocProblem)]
    return found


def where(path: Path, value: str) -> list[Location]:
    """The locations of the segments (of the deck itself) holding ``value``."""
    return [e.location for e in events(path) if isinstance(e, Segment) and value in e.text and not e.doc]


def blocked(path: Path) -> bool:
    return scan_file_inline(path)[0].verdict is not Verdict.ALLOW


def rewrite(path: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    change(items)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    return path


def add_rel(items: dict[str, bytes], source: str, rel_id: str, rel_type: str, target: str) -> None:
    folder, base = source.rsplit("/", 1)
    name = f"{folder}/_rels/{base}.rels"
    rel = f'<Relationship Id="{rel_id}" Type="{rel_type}" Target="{target}"/>'
    items[name] = items[name].replace(b"</Relationships>", rel.encode() + b"</Relationships>")


def deck(tmp_path: Path, build: Callable[..., None], name: str = "deck.pptx") -> Path:
    prs = Presentation()
    build(prs)
    path = tmp_path / name
    prs.save(path)
    return path


def add_sp(owner: object, text: str) -> None:
    """A text box on a master or layout (python-pptx adds shapes to slides only)."""
    sp = (
        f'<p:sp xmlns:p="{P}" xmlns:a="{A}"><p:nvSpPr><p:cNvPr id="90" name="Text 90"/><p:cNvSpPr txBox="1"/>'
        f"<p:nvPr/></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:p><a:r><a:t>{text}</a:t></a:r></a:p></p:txBody></p:sp>"
    )
    owner.shapes._spTree.append(etree.fromstring(sp))  # type: ignore[attr-defined]


def box(slide: object, text: str) -> object:
    shape = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1))  # type: ignore[attr-defined]
    shape.text_frame.text = text
    return shape


# --- masters and layouts -------------------------------------------------------------


def test_master_and_layout_text_is_read_with_their_names_and_blocks(tmp_path: Path) -> None:
    def build(prs: Presentation) -> None:
        add_sp(prs.slide_masters[0], f"Confidential - owner {SSN}")
        add_sp(prs.slide_layouts[1], f"Layout footer {KEY}")
        prs.slides.add_slide(prs.slide_layouts[1]).shapes.title.text = "Plain slide"

    path = deck(tmp_path, build)
    assert where(path, SSN) == [Location("slide_master", name="ppt/slideMasters/slideMaster1.xml")]
    assert where(path, KEY) == [Location("slide_layout", name="Title and Content")]
    assert where(path, "Click to edit Master title style")[0].part == "slide_master"
    assert blocked(path)


def test_an_orphan_layout_and_the_notes_master_are_read(tmp_path: Path) -> None:
    def build(prs: Presentation) -> None:
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        slide.notes_slide.notes_text_frame.text = "notes"  # creates the notes master
        add_sp(prs.notes_master, f"Printed notes header {SSN}")

    path = deck(tmp_path, build)

    def orphan(items: dict[str, bytes]) -> None:
        layout = items["ppt/slideLayouts/slideLayout7.xml"].replace(b"Blank", b"Unused")
        items["ppt/slideLayouts/slideLayout99.xml"] = layout.replace(
            b"</p:spTree>",
            b'<p:sp><p:nvSpPr><p:cNvPr id="9" name="x"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr/>'
            b"<p:txBody><a:bodyPr/><a:p><a:r><a:t>" + KEY.encode() + b"</a:t></a:r></a:p></p:txBody></p:sp></p:spTree>",
        )

    rewrite(path, orphan)
    assert where(path, SSN) == [Location("notes_master", name="ppt/notesMasters/notesMaster1.xml")]
    assert where(path, KEY) == [Location("slide_layout", name="Unused")]
    assert blocked(path)


# --- hidden slides, notes, comments ------------------------------------------------------


def test_a_hidden_slide_is_read_located_as_hidden_and_noted(tmp_path: Path) -> None:
    def build(prs: Presentation) -> None:
        box(prs.slides.add_slide(prs.slide_layouts[6]), "Visible slide")
        hidden = prs.slides.add_slide(prs.slide_layouts[6])
        hidden._element.set("show", "0")
        box(hidden, f"Backup data {SSN}")
        hidden.notes_slide.notes_text_frame.text = f"Hidden slide notes {KEY}"

    path = deck(tmp_path, build)
    found = events(path)
    assert where(path, SSN) == [Location("hidden_slide", page=2)]
    assert where(path, KEY) == [Location("notes", page=2)]
    assert where(path, "Visible slide") == [Location("slide", page=1)]
    assert [e.value for e in found if isinstance(e, DocNote) and e.key == "hidden_slides"] == [[2]]
    assert blocked(path)


def test_speaker_notes_block(tmp_path: Path) -> None:
    def build(prs: Presentation) -> None:
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        slide.notes_slide.notes_text_frame.text = f"Say nothing about {SSN}"

    path = deck(tmp_path, build)
    assert where(path, SSN) == [Location("notes", page=1)]
    assert blocked(path)


def test_a_modern_comment_reply_blocks(tmp_path: Path) -> None:
    path = deck(tmp_path, lambda prs: prs.slides.add_slide(prs.slide_layouts[6]))
    modern = (
        '<p188:cmLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main" '
        f'xmlns:a="{A}"><p188:cm id="{{1}}"><p188:txBody><a:p><a:r><a:t>Please check</a:t></a:r></a:p>'
        '</p188:txBody><p188:replyLst><p188:reply id="{2}"><p188:txBody><a:p><a:r>'
        f"<a:t>It is {SSN}</a:t></a:r></a:p></p188:txBody></p188:reply></p188:replyLst></p188:cm></p188:cmLst>"
    )

    def add(items: dict[str, bytes]) -> None:
        items["ppt/comments/modernComment_1.xml"] = modern.encode()
        rel_type = "http://schemas.microsoft.com/office/2018/10/relationships/comments"
        add_rel(items, "ppt/slides/slide1.xml", "rc", rel_type, "../comments/modernComment_1.xml")

    rewrite(path, add)
    assert where(path, SSN) == [Location("comment", page=1)]
    assert blocked(path)


# --- charts --------------------------------------------------------------------------------


def chart_deck(tmp_path: Path) -> Path:
    def build(prs: Presentation) -> None:
        data = CategoryChartData()
        site = data.add_category("Cork")
        site.add_sub_category("Line 1")
        site.add_sub_category(f"Operator {SSN}")  # a second category level: c:multiLvlStrCache
        data.add_series("Yield", (91.0, 93.5))
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(1), Inches(6), Inches(4), data)

    return deck(tmp_path, build)


def test_multi_level_chart_categories_and_the_chart_workbook_are_read(tmp_path: Path) -> None:
    path = chart_deck(tmp_path)
    assert Location("slide", page=1, name="ppt/charts/chart1.xml data") in where(path, SSN)
    inner = [e for e in events(path) if isinstance(e, Segment) and e.doc.startswith("ppt/embeddings/")]
    assert any(SSN in s.text for s in inner), "the workbook the chart is edited in"
    assert blocked(path)


def test_chart_workbook_outside_embeddings_labels_from_cells_and_user_shapes(tmp_path: Path) -> None:
    path = chart_deck(tmp_path)
    ns = f'xmlns:c="{C}" xmlns:c15="http://schemas.microsoft.com/office/drawing/2012/chart"'
    labels = (
        '<c:extLst><c:ext uri="{02D57815-91ED-43cb-92C2-25804820EDAC}" '
        f'{ns}><c15:datalabelsRange><c15:f>Sheet1!$D$2:$D$3</c15:f><c15:dlblRangeCache><c:ptCount val="2"/>'
        f'<c:pt idx="0"><c:v>label {KEY}</c:v></c:pt></c15:dlblRangeCache></c15:datalabelsRange></c:ext></c:extLst>'
    )
    shapes = (
        '<c:userShapes xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
        f'xmlns:cdr="http://schemas.openxmlformats.org/drawingml/2006/chartDrawing" xmlns:a="{A}">'
        "<cdr:relSizeAnchor><cdr:from><cdr:x>0.1</cdr:x><cdr:y>0.1</cdr:y></cdr:from><cdr:to><cdr:x>0.5</cdr:x>"
        '<cdr:y>0.3</cdr:y></cdr:to><cdr:sp><cdr:nvSpPr><cdr:cNvPr id="2" name="Note"/><cdr:cNvSpPr/></cdr:nvSpPr>'
        f"<cdr:spPr/><cdr:txBody><a:bodyPr/><a:p><a:r><a:t>Drawn on chart: {SSN}</a:t></a:r></a:p></cdr:txBody>"
        "</cdr:sp></cdr:relSizeAnchor></c:userShapes>"
    )

    def change(items: dict[str, bytes]) -> None:
        chart = items["ppt/charts/chart1.xml"]
        items["ppt/charts/chart1.xml"] = chart.replace(b"</c:ser>", labels.encode() + b"</c:ser>", 1)
        items["ppt/drawings/drawing1.xml"] = shapes.encode()
        add_rel(items, "ppt/charts/chart1.xml", "rUs", f"{REL}/chartUserShapes", "../drawings/drawing1.xml")
        [book] = [n for n in items if n.startswith("ppt/embeddings/")]
        items["ppt/charts/data/book.xlsx"] = items.pop(book)
        rels = "ppt/charts/_rels/chart1.xml.rels"
        items[rels] = items[rels].replace(f"../embeddings/{book.rsplit('/', 1)[1]}".encode(), b"data/book.xlsx")

    rewrite(path, change)
    data = Location("slide", page=1, name="ppt/charts/chart1.xml data")
    assert where(path, KEY) == [data]
    assert data in where(path, "Drawn on chart")
    inner = [e for e in events(path) if isinstance(e, Segment) and e.doc == "ppt/charts/data/book.xlsx"]
    assert any(SSN in s.text for s in inner)
    assert blocked(path)


def test_a_chartex_chart_data_is_read(tmp_path: Path) -> None:
    path = deck(tmp_path, lambda prs: prs.slides.add_slide(prs.slide_layouts[6]))
    cx = (
        '<cx:chartSpace xmlns:cx="http://schemas.microsoft.com/office/drawing/2014/chartex" '
        f'xmlns:a="{A}"><cx:chartData><cx:data id="0"><cx:strDim type="cat"><cx:f>Sheet1!$A$2:$A$3</cx:f>'
        f'<cx:lvl ptCount="2"><cx:pt idx="0">Site A</cx:pt><cx:pt idx="1">{SSN}</cx:pt></cx:lvl></cx:strDim>'
        '<cx:numDim type="size"><cx:lvl ptCount="2" formatCode="General"><cx:pt idx="0">212674431</cx:pt>'
        '<cx:pt idx="1">5</cx:pt></cx:lvl></cx:numDim></cx:data></cx:chartData><cx:chart><cx:title><cx:tx>'
        "<cx:txData><cx:v>Treemap of sites</cx:v></cx:txData></cx:tx></cx:title></cx:chart></cx:chartSpace>"
    )

    def add(items: dict[str, bytes]) -> None:
        items["ppt/charts/chartEx1.xml"] = cx.encode()
        rel_type = "http://schemas.microsoft.com/office/2014/relationships/chartEx"
        add_rel(items, "ppt/slides/slide1.xml", "rcx", rel_type, "../charts/chartEx1.xml")

    rewrite(path, add)
    [segment] = [
        e for e in events(path) if isinstance(e, Segment) and e.location.name == "ppt/charts/chartEx1.xml data"
    ]
    assert segment.text == f"Site A\n{SSN}\nTreemap of sites"  # numbers are measurements: not read
    assert blocked(path)


# --- hyperlinks, tooltips, names -------------------------------------------------------------


@pytest.mark.parametrize("planted", ["url", "tooltip", "shape-link", "mailto"])
def test_hyperlink_targets_and_tooltips_are_read_and_block(tmp_path: Path, planted: str) -> None:
    url = {
        "url": f"https://files.example.com/export?key={KEY}",
        "mailto": "mailto:qa@example.com?subject=SSN%20212-67-4431",
    }.get(planted, "https://example.com/")

    def build(prs: Presentation) -> None:
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        shape = box(slide, "Click here")
        if planted == "shape-link":
            shape.click_action.hyperlink.address = f"https://example.com/p?id={KEY}"  # type: ignore[attr-defined]
            return
        run = shape.text_frame.paragraphs[0].runs[0]  # type: ignore[attr-defined]
        run.hyperlink.address = url
        if planted == "tooltip":
            run._r.find(f"{{{A}}}rPr/{{{A}}}hlinkClick").set("tooltip", f"Patient {SSN}")

    path = deck(tmp_path, build)
    found = {loc: value for value in (KEY, SSN, "212-67-4431") for loc in where(path, value)}
    expected = Location("hyperlink", page=1, name="tooltip" if planted == "tooltip" else None)
    assert expected in found
    assert blocked(path)


def test_shape_names_sections_and_equations_are_read(tmp_path: Path) -> None:
    def build(prs: Presentation) -> None:
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        box(slide, "Body").name = f"Owner {SSN}"  # type: ignore[attr-defined]

    path = deck(tmp_path, build)
    section = (
        '<p:extLst><p:ext uri="{521415D9-36F7-43E2-AB2F-B90AF26B5E84}"><p14:sectionLst '
        'xmlns:p14="http://schemas.microsoft.com/office/powerpoint/2010/main"><p14:section '
        f'name="Backup {KEY}" id="{{1}}"><p14:sldIdLst/></p14:section></p14:sectionLst></p:ext></p:extLst>'
    )
    math = (
        '<a:p><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        '<mc:Choice xmlns:a14="http://schemas.microsoft.com/office/drawing/2010/main" Requires="a14"><a14:m>'
        '<m:oMathPara xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math"><m:oMath><m:r>'
        "<m:t>dose = 212-67-4431</m:t></m:r></m:oMath></m:oMathPara></a14:m></mc:Choice><mc:Fallback><a:r>"
        "<a:t>[picture of an equation]</a:t></a:r></mc:Fallback></mc:AlternateContent></a:p>"
    )

    def change(items: dict[str, bytes]) -> None:
        pres = etree.fromstring(items["ppt/presentation.xml"])
        pres.append(etree.fromstring(section.replace("<p:extLst>", f'<p:extLst xmlns:p="{P}">')))
        items["ppt/presentation.xml"] = etree.tostring(pres)
        slide = items["ppt/slides/slide1.xml"]
        items["ppt/slides/slide1.xml"] = slide.replace(b"</p:txBody>", math.encode() + b"</p:txBody>", 1)

    rewrite(path, change)
    assert where(path, SSN) == [Location("slide", page=1, name="shape names")]
    assert where(path, KEY) == [Location("slide", name="sections")]
    assert where(path, "dose = 212-67-4431") == [Location("slide", page=1)]
    assert blocked(path)
