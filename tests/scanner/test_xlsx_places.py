"""Issue 14, Excel: every place beside the cells that a recipient sees, read with its location.

One workbook per place, each with one planted value (an SSN or an AWS-style key) only
there. Each test checks (a) the value is extracted with the place's location and (b) the
workbook is not allowed. openpyxl writes what it can (hidden sheets, defined names,
validations, conditional formats, hyperlinks, comments, tables); the rest is written part
by part as Excel writes it (threaded comments and their people, the x14 validation
extension, chart caches, VML form controls and their properties, shared strings no cell
uses, formulas without a cached value).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableColumn

from scanner.extract.registry import extract_file
from scanner.model import DocProblem, Location, Segment, Verdict
from scanner.pipeline.scan import scan_file_inline

SSN = "212-67-4431"
KEY = "AKIAIOSFODNN7EXAMPL3"
X = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"


def segments(path: Path) -> list[Segment]:
    events = list(extract_file(path))
    assert not [e for e in events if isinstance(e, DocProblem)]
    return [e for e in events if isinstance(e, Segment)]


def located(path: Path, value: str) -> list[Location]:
    return [s.location for s in segments(path) if value in s.text]


def assert_not_allowed(path: Path) -> None:
    (result,) = scan_file_inline(path)
    assert result.verdict is not Verdict.ALLOW, result.outcome.findings


def _save(wb: Workbook, path: Path) -> Path:
    wb.save(path)
    return path


# --- written by openpyxl ------------------------------------------------------------------------


def hidden_sheet_name(path: Path) -> Path:
    wb = Workbook()
    wb.active["A1"] = "cover"
    wb.create_sheet(f"SSN {SSN}").sheet_state = "hidden"
    return _save(wb, path)


def very_hidden_sheet_name(path: Path) -> Path:
    wb = Workbook()
    wb.active["A1"] = "cover"
    wb.create_sheet(f"AWS {KEY}").sheet_state = "veryHidden"
    return _save(wb, path)


def defined_name(path: Path) -> Path:
    wb = Workbook()
    wb.active["A1"] = "cover"
    wb.defined_names["Contact"] = DefinedName("Contact", attr_text=f'"SSN {SSN}"')
    return _save(wb, path)


def _validation(path: Path, dv: DataValidation) -> Path:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "Status"
    ws.add_data_validation(dv)
    dv.add("A2:A5")
    return _save(wb, path)


def validation_list(path: Path) -> Path:
    return _validation(path, DataValidation(type="list", formula1=f'"Yes,No,SSN {SSN}"'))


def validation_prompt(path: Path) -> Path:
    dv = DataValidation(type="whole", promptTitle="Patient", prompt=f"Use SSN {SSN}", showInputMessage=True)
    return _validation(path, dv)


def validation_error(path: Path) -> Path:
    dv = DataValidation(type="whole", errorTitle="Rejected", error=f"Not SSN {SSN}", showErrorMessage=True)
    return _validation(path, dv)


def conditional_format(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "value"
    ws.conditional_formatting.add("A1:A3", FormulaRule(formula=[f'$A$1="SSN {SSN}"']))
    return _save(wb, path)


def hyperlink_target(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "download"
    ws["A1"].hyperlink = f"https://files.example.com/get?AWSAccessKeyId={KEY}"
    return _save(wb, path)


def hyperlink_tooltip(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "see record"
    ws["A1"].hyperlink = Hyperlink(ref="A1", location="Sheet!B9", tooltip=f"SSN {SSN}")
    return _save(wb, path)


def comment_author(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "checked"
    ws["A1"].comment = Comment("verified", f"SSN {SSN}")
    return _save(wb, path)


def table_header(path: Path) -> Path:
    """A table whose header names are in the table part only (its header cells are empty)."""
    wb = Workbook()
    ws = wb.active
    ws["A2"], ws["B2"] = "Ada", 1
    table = Table(displayName="Roster", ref="A1:B2")
    table.tableColumns = [TableColumn(id=1, name=f"SSN {SSN}"), TableColumn(id=2, name="Count")]
    ws.add_table(table)
    return _save(wb, path)


# --- written part by part ------------------------------------------------------------------------


def _rels(rels: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"'
        + (' TargetMode="External"' if target.startswith("http") else "")
        + "/>"
        for rid, kind, target in rels
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">{body}</Relationships>'


def crafted(
    path: Path,
    sheet: str,
    *,
    sheet_rels: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    workbook_rels: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    shared: list[str] = (),  # type: ignore[assignment]
    styles: str = "",
    parts: dict[str, str] | None = None,
) -> Path:
    """A workbook of one sheet ("S") whose part holds ``sheet`` inside <worksheet>."""
    wb_rels = [("s1", f"{R}/worksheet", "worksheets/sheet1.xml"), *workbook_rels]
    if shared:
        wb_rels.append(("ss", f"{R}/sharedStrings", "sharedStrings.xml"))
    if styles:
        wb_rels.append(("st", f"{R}/styles", "styles.xml"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        z.writestr("_rels/.rels", _rels([("r1", f"{R}/officeDocument", "xl/workbook.xml")]))
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook xmlns="{X}" xmlns:r="{R}"><sheets>'
            '<sheet name="S" sheetId="1" r:id="s1"/></sheets></workbook>',
        )
        z.writestr("xl/_rels/workbook.xml.rels", _rels(wb_rels))
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0"?><worksheet xmlns="{X}" xmlns:r="{R}" xmlns:x14="{X14}" xmlns:xm="{XM}" '
            f'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">{sheet}</worksheet>',
        )
        if sheet_rels:
            z.writestr("xl/worksheets/_rels/sheet1.xml.rels", _rels(sheet_rels))
        if shared:
            items = "".join(f"<si><t>{s}</t></si>" for s in shared)
            z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst xmlns="{X}">{items}</sst>')
        if styles:
            z.writestr("xl/styles.xml", f'<?xml version="1.0"?><styleSheet xmlns="{X}">{styles}</styleSheet>')
        for name, data in (parts or {}).items():
            z.writestr(name, data)
    return path


_ONE_CELL = '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>cover</t></is></c></row></sheetData>'
_TC = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"


def threaded_reply(path: Path) -> Path:
    threads = (
        f'<?xml version="1.0"?><ThreadedComments xmlns="{_TC}">'
        '<threadedComment ref="A1" dT="2024-01-02T10:00:00" personId="{P1}" id="{C1}"><text>Which patient?</text>'
        "</threadedComment>"
        '<threadedComment ref="A1" dT="2024-01-02T11:00:00" personId="{P1}" id="{C2}" parentId="{C1}">'
        f"<text>SSN {SSN}</text></threadedComment></ThreadedComments>"
    )
    return crafted(
        path,
        _ONE_CELL,
        sheet_rels=[
            (
                "t1",
                "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment",
                "../threadedComments/threadedComment1.xml",
            )
        ],
        parts={"xl/threadedComments/threadedComment1.xml": threads},
    )


def threaded_person(path: Path) -> Path:
    people = (
        f'<?xml version="1.0"?><personList xmlns="{_TC}"><person displayName="SSN {SSN}" id="{{P1}}" '
        'userId="reviewer@example.com" providerId="AD"/></personList>'
    )
    return crafted(
        path,
        _ONE_CELL,
        workbook_rels=[
            ("p1", "http://schemas.microsoft.com/office/2017/10/relationships/person", "persons/person.xml")
        ],
        parts={"xl/persons/person.xml": people},
    )


def x14_validation(path: Path) -> Path:
    ext = (
        '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"><x14:dataValidations count="1">'
        '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" promptTitle="Pick" '
        'prompt="From the list"><x14:formula1><xm:f>"Yes,No,SSN ' + SSN + '"</xm:f></x14:formula1>'
        "<xm:sqref>B2:B9</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>"
    )
    return crafted(path, _ONE_CELL + ext)


def _chart_book(path: Path, series: str) -> Path:
    drawing = (
        '<?xml version="1.0"?><xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/'
        'spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        f'xmlns:c="{C}" xmlns:r="{R}"><xdr:twoCellAnchor><xdr:graphicFrame><a:graphic><a:graphicData>'
        '<c:chart r:id="c1"/></a:graphicData></a:graphic></xdr:graphicFrame></xdr:twoCellAnchor></xdr:wsDr>'
    )
    chart = (
        f'<?xml version="1.0"?><c:chartSpace xmlns:c="{C}"><c:chart><c:plotArea><c:barChart><c:ser>'
        f"{series}</c:ser></c:barChart></c:plotArea></c:chart></c:chartSpace>"
    )
    return crafted(
        path,
        _ONE_CELL + '<drawing r:id="d1"/>',
        sheet_rels=[("d1", f"{R}/drawing", "../drawings/drawing1.xml")],
        parts={
            "xl/drawings/drawing1.xml": drawing,
            "xl/drawings/_rels/drawing1.xml.rels": _rels([("c1", f"{R}/chart", "../charts/chart1.xml")]),
            "xl/charts/chart1.xml": chart,
        },
    )


def chart_number_cache(path: Path) -> Path:
    """The series' values cached under the SSN format of their (deleted) source cells."""
    series = (
        '<c:tx><c:strRef><c:f>Data!$B$1</c:f><c:strCache><c:ptCount val="1"/><c:pt idx="0"><c:v>SSN</c:v></c:pt>'
        "</c:strCache></c:strRef></c:tx>"
        "<c:val><c:numRef><c:f>Data!$B$2</c:f><c:numCache><c:formatCode>000-00-0000</c:formatCode>"
        '<c:ptCount val="1"/><c:pt idx="0"><c:v>212674431</c:v></c:pt></c:numCache></c:numRef></c:val>'
    )
    return _chart_book(path, series)


def chart_string_literal(path: Path) -> Path:
    series = '<c:cat><c:strLit><c:ptCount val="1"/><c:pt idx="0"><c:v>SSN ' + SSN + "</c:v></c:pt></c:strLit></c:cat>"
    return _chart_book(path, series)


_VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel">'
)


def _vml_book(path: Path, shapes: str, extra: dict[str, str] | None = None, rels: list | None = None) -> Path:
    return crafted(
        path,
        _ONE_CELL + '<legacyDrawing r:id="v1"/>',
        sheet_rels=[("v1", f"{R}/vmlDrawing", "../drawings/vmlDrawing1.vml"), *(rels or [])],
        parts={"xl/drawings/vmlDrawing1.vml": _VML_HEAD + shapes + "</xml>", **(extra or {})},
    )


def vml_checkbox(path: Path) -> Path:
    shape = (
        '<v:shape id="_x0000_s1025" type="#_x0000_t201"><v:textbox><div style="text-align:left">'
        f'<font face="Segoe UI" size="160">Consent on file: SSN {SSN}</font></div></v:textbox>'
        '<x:ClientData ObjectType="Checkbox"><x:FmlaLink>$C$1</x:FmlaLink></x:ClientData></v:shape>'
    )
    return _vml_book(path, shape)


def vml_note(path: Path) -> Path:
    """A comment shape whose text is only in the VML (no comments part)."""
    shape = (
        '<v:shape id="_x0000_s1026" type="#_x0000_t202"><v:textbox><div>'
        f"<font>SSN {SSN}</font></div></v:textbox>"
        '<x:ClientData ObjectType="Note"><x:Row>3</x:Row><x:Column>1</x:Column></x:ClientData></v:shape>'
    )
    return _vml_book(path, shape)


def control_list_items(path: Path) -> Path:
    shape = (
        '<v:shape id="_x0000_s1027" type="#_x0000_t201"><x:ClientData ObjectType="Drop">'
        "<x:FmlaLink>$D$1</x:FmlaLink></x:ClientData></v:shape>"
    )
    props = (
        f'<?xml version="1.0"?><formControlPr xmlns="{X14}" objectType="Drop" dropStyle="combo" '
        f'fmlaLink="$D$1"><itemLst><item val="Ada"/><item val="SSN {SSN}"/></itemLst></formControlPr>'
    )
    return _vml_book(
        path,
        shape,
        {"xl/ctrlProps/ctrlProp1.xml": props},
        [("cp1", f"{R}/ctrlProp", "../ctrlProps/ctrlProp1.xml")],
    )


def uncalculated_concat(path: Path) -> Path:
    sheet = '<sheetData><row r="1"><c r="A1" t="str"><f>"SSN 212-67"&amp;"-4431"</f></c></row></sheetData>'
    return crafted(path, sheet)


def unreferenced_string(path: Path) -> Path:
    sheet = '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>'
    return crafted(path, sheet, shared=["Name", f"SSN {SSN}"])


PLACES: dict[str, tuple[Callable[[Path], Path], str, Callable[[Location], bool]]] = {
    "hidden sheet name": (
        hidden_sheet_name,
        SSN,
        lambda loc: loc.part == "sheet_name" and loc.sheet == f"SSN {SSN}" and loc.name == "hidden",
    ),
    "very hidden sheet name": (
        very_hidden_sheet_name,
        KEY,
        lambda loc: loc.part == "sheet_name" and loc.name == "veryHidden",
    ),
    "defined name formula": (
        defined_name,
        SSN,
        lambda loc: loc.part == "defined_name" and loc.name == "Contact",
    ),
    "validation list": (
        validation_list,
        SSN,
        lambda loc: loc == Location("data_validation", sheet="Sheet", cell="A2:A5", name="list"),
    ),
    "validation prompt": (
        validation_prompt,
        SSN,
        lambda loc: loc == Location("data_validation", sheet="Sheet", cell="A2:A5", name="prompt"),
    ),
    "validation error": (
        validation_error,
        SSN,
        lambda loc: loc == Location("data_validation", sheet="Sheet", cell="A2:A5", name="error"),
    ),
    "x14 validation list": (
        x14_validation,
        SSN,
        lambda loc: loc == Location("data_validation", sheet="S", cell="B2:B9", name="list"),
    ),
    "conditional format formula": (
        conditional_format,
        SSN,
        lambda loc: loc == Location("conditional_format", sheet="Sheet", cell="A1:A3", name="formula"),
    ),
    "hyperlink target": (
        hyperlink_target,
        KEY,
        lambda loc: loc == Location("hyperlink", sheet="Sheet", cell="A1", name="target"),
    ),
    "hyperlink tooltip": (
        hyperlink_tooltip,
        SSN,
        lambda loc: loc == Location("hyperlink", sheet="Sheet", cell="A1", name="tooltip"),
    ),
    "comment author": (
        comment_author,
        SSN,
        lambda loc: loc == Location("cell_comment", sheet="Sheet", name="authors"),
    ),
    "threaded comment reply": (
        threaded_reply,
        SSN,
        lambda loc: loc == Location("cell_comment", sheet="S", cell="A1"),
    ),
    "threaded comment person": (
        threaded_person,
        SSN,
        lambda loc: loc == Location("cell_comment", name="xl/persons/person.xml"),
    ),
    "table header": (
        table_header,
        SSN,
        lambda loc: loc == Location("table", sheet="Sheet", cell="A1:B2", name="Roster"),
    ),
    "chart number cache": (
        chart_number_cache,
        SSN,
        lambda loc: loc == Location("chart", sheet="S", name="xl/charts/chart1.xml"),
    ),
    "chart string literal": (
        chart_string_literal,
        SSN,
        lambda loc: loc == Location("chart", sheet="S", name="xl/charts/chart1.xml"),
    ),
    "VML form control caption": (
        vml_checkbox,
        SSN,
        lambda loc: loc == Location("form_field", sheet="S", name="Checkbox _x0000_s1025"),
    ),
    "VML comment shape": (
        vml_note,
        SSN,
        lambda loc: loc == Location("cell_comment", sheet="S", cell="B4", name="xl/drawings/vmlDrawing1.vml"),
    ),
    "form control list items": (
        control_list_items,
        SSN,
        lambda loc: loc == Location("form_field", sheet="S", name="Drop xl/ctrlProps/ctrlProp1.xml"),
    ),
    "formula without cached value": (
        uncalculated_concat,
        SSN,
        lambda loc: loc == Location("sheet", sheet="S", cell="A1"),
    ),
    "shared string no cell uses": (
        unreferenced_string,
        SSN,
        lambda loc: loc == Location("unreferenced_string", name="xl/sharedStrings.xml #1"),
    ),
}


@pytest.mark.parametrize("place", list(PLACES))
def test_place_is_read_with_its_location_and_blocks(tmp_path: Path, place: str) -> None:
    build, value, where = PLACES[place]
    path = build(tmp_path / "planted.xlsx")
    locations = located(path, value)
    assert any(where(loc) for loc in locations), locations
    assert_not_allowed(path)


# --- what each place reads, in detail ---------------------------------------------------------------


def test_validation_list_items_one_a_line_and_prompt_title(tmp_path: Path) -> None:
    dv = DataValidation(type="list", formula1='"Yes,No,Maybe"', promptTitle="Patient ID", prompt="Type it")
    segs = {s.location.name: s.text for s in segments(_validation(tmp_path / "v.xlsx", dv))}
    assert segs["list"] == "Yes\nNo\nMaybe"
    assert segs["promptTitle"] == "Patient ID" and segs["prompt"] == "Type it"


def test_hyperlink_location_and_display(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "jump"
    ws["A1"].hyperlink = Hyperlink(ref="A1", location="'Patients'!A1", display="Patients list")
    path = _save(wb, tmp_path / "h.xlsx")
    got = {s.location.name: s.text for s in segments(path) if s.location.part == "hyperlink"}
    assert got == {"location": "'Patients'!A1", "display": "Patients list"}


def test_uncalculated_formula_shows_as_written_with_joined_literals(tmp_path: Path) -> None:
    sheet = (
        '<sheetData><row r="1"><c r="A1"><f>SUM(B1:B3)</f></c><c r="B1" t="str"><f>"SSN 212-67-4431"</f></c>'
        '<c r="C1" t="str"><f>"a "&amp;"b"</f><v></v></c></row></sheetData>'
    )
    cells = {s.location.cell: s.text for s in segments(crafted(tmp_path / "f.xlsx", sheet)) if s.location.cell}
    assert cells == {"A1": "=SUM(B1:B3)", "B1": '="SSN 212-67-4431"', "C1": '="a "&"b"\ta b'}


def test_iso_date_cell_shows_under_its_format(tmp_path: Path) -> None:
    styles = (
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="mmmm dd, yyyy"/></numFmts>'
        '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs>'
    )
    sheet = (
        '<sheetData><row r="1"><c r="A1" t="d" s="1"><v>1962-03-11T00:00:00</v></c>'
        '<c r="B1" t="d"><v>1962-03-11</v></c></row></sheetData>'
    )
    cells = {s.location.cell: s.text for s in segments(crafted(tmp_path / "d.xlsx", sheet, styles=styles))}
    assert cells["A1"] == "March 11, 1962"
    assert cells["B1"] == "1962-03-11"  # no date format: the stored text is what we have


def test_sheet_names_with_their_state_and_no_unreferenced_strings_when_all_used(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "Front"
    wb.active["A1"] = "Name"
    wb.create_sheet("Back").sheet_state = "hidden"
    path = _save(wb, tmp_path / "n.xlsx")
    segs = segments(path)
    names = [(s.text, s.location.name) for s in segs if s.location.part == "sheet_name"]
    assert names == [("Front", "visible"), ("Back", "hidden")]
    assert not [s for s in segs if s.location.part == "unreferenced_string"]


def test_comment_shape_repeating_a_comment_is_not_given_twice(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws["B2"] = "x"
    ws["B2"].comment = Comment("Checked by QA", "QA")
    path = _save(wb, tmp_path / "c.xlsx")  # openpyxl writes the comment's VML shape too
    comments = [s for s in segments(path) if s.location.part == "cell_comment" and "Checked by QA" in s.text]
    assert len(comments) == 1 and comments[0].location.cell == "B2"


def test_chart_caches_keep_the_drawing_text_and_add_numbers(tmp_path: Path) -> None:
    series = (
        '<c:tx><c:strRef><c:strCache><c:ptCount val="1"/><c:pt idx="0"><c:v>Lot yield</c:v></c:pt>'
        "</c:strCache></c:strRef></c:tx><c:val><c:numLit><c:formatCode>0.0%</c:formatCode>"
        '<c:ptCount val="1"/><c:pt idx="0"><c:v>0.125</c:v></c:pt></c:numLit></c:val>'
    )
    segs = segments(_chart_book(tmp_path / "c.xlsx", series))
    by_part = {s.location.part: s for s in segs if s.location.name == "xl/charts/chart1.xml"}
    assert by_part["textbox"].text == "Lot yield"
    assert by_part["chart"].text == "12.5%" and by_part["chart"].context == "Lot yield"


def test_filters_scenarios_controls_and_x14_conditional_formats(tmp_path: Path) -> None:
    after = (
        '<scenarios current="0"><scenario name="Worst case" comment="for the audit" user="QA" count="1">'
        f'<inputCells r="B2" val="SSN {SSN}"/></scenario></scenarios>'
        '<autoFilter ref="A1:A9"><filterColumn colId="0"><filters><filter val="Lot 7"/></filters>'
        "</filterColumn></autoFilter>"
        '<mc:AlternateContent><mc:Choice Requires="x14"><controls><control shapeId="1025" r:id="c9" name="Pick lot">'
        '<controlPr altText="Lot picker" linkedCell="$D$1"/></control></controls></mc:Choice>'
        '<mc:Fallback><controls><control shapeId="1025" r:id="c9" name="Pick lot"/></controls></mc:Fallback>'
        "</mc:AlternateContent>"
        '<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}"><x14:conditionalFormatting>'
        '<x14:cfRule type="expression" id="{1}"><xm:f>$A$1="Lot 9"</xm:f></x14:cfRule>'
        "<xm:sqref>A1:A4</xm:sqref></x14:conditionalFormatting></ext></extLst>"
    )
    segs = segments(crafted(tmp_path / "x.xlsx", _ONE_CELL + after))
    got = {(s.location.part, s.location.cell, s.location.name): s.text for s in segs if s.location.sheet == "S"}
    assert got[("scenario", None, "Worst case")] == f"Worst case\nfor the audit\nQA\nB2: SSN {SSN}"
    assert got[("filter", "A1:A9", None)] == "Lot 7"
    assert got[("form_field", None, "Pick lot")] == "Pick lot\nLot picker\n$D$1"
    assert got[("conditional_format", "A1:A4", "formula")] == '$A$1="Lot 9"'
    assert sum(1 for s in segs if s.location.part == "form_field") == 1  # Choice and Fallback: once
