"""XLSX extraction: displayed cell values, hidden sheets, comments, headers/footers, names,
properties and hostile workbooks, on files written here and re-read."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from dev_truth import check_planted_entities
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.workbook.defined_name import DefinedName

from scanner.extract.numfmt import NumberFormat
from scanner.extract.numfmt_dates import serial_parts
from scanner.extract.registry import extract_file
from scanner.limits import Limits
from scanner.model import DocNote, DocProblem, Segment

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"
REPO = Path(__file__).parents[2]
X = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
X_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_T = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_S = "http://purl.oclc.org/ooxml/officeDocument/relationships"


def run(path: Path, limits: Limits | None = None) -> list:
    return list(extract_file(path, limits))


def segments(events: list) -> list[Segment]:
    return [e for e in events if isinstance(e, Segment)]


def problems(events: list) -> list[str]:
    return [e.reason for e in events if isinstance(e, DocProblem)]


def cells(events: list, sheet: str | None = None) -> dict[str, Segment]:
    return {
        s.location.cell: s
        for s in segments(events)
        if s.location.part in ("sheet", "hidden_sheet") and (sheet is None or s.location.sheet == sheet)
    }


def _rels_xml(rels: list[tuple[str, str, str]]) -> str:
    body = "".join(f'<Relationship Id="{rid}" Type="{rtype}" Target="{target}"/>' for rid, rtype, target in rels)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships '
        f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>'
    )


def write_xlsx(
    path: Path,
    sheets: list[tuple[str, str, str]],
    shared: list[str] | None = None,
    styles: str | None = None,
    strict: bool = False,
    extra: dict[str, str | bytes] | None = None,
    sheet_rels: dict[int, list[tuple[str, str, str]]] | None = None,
    workbook_extra: str = "",
    raw_shared: str | None = None,
) -> Path:
    """A workbook written part by part: sheets are (name, state, sheetData+ XML)."""
    x_ns, rel_base = (X_STRICT, REL_S) if strict else (X, REL_T)
    r_ns = (
        "http://purl.oclc.org/ooxml/officeDocument/relationships"
        if strict
        else "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    )
    sheet_list = "".join(
        f'<sheet name="{name}" sheetId="{i + 1}" r:id="s{i + 1}"' + (f' state="{state}"' if state else "") + "/>"
        for i, (name, state, _) in enumerate(sheets)
    )
    wb = (
        f'<?xml version="1.0"?><workbook xmlns="{x_ns}" xmlns:r="{r_ns}"><sheets>{sheet_list}</sheets>'
        f"{workbook_extra}</workbook>"
    )
    wb_rels = [(f"s{i + 1}", f"{rel_base}/worksheet", f"worksheets/sheet{i + 1}.xml") for i in range(len(sheets))]
    if shared is not None or raw_shared is not None:
        wb_rels.append(("ss", f"{rel_base}/sharedStrings", "sharedStrings.xml"))
    if styles is not None:
        wb_rels.append(("st", f"{rel_base}/styles", "styles.xml"))
    ctypes = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", ctypes)
        zf.writestr("_rels/.rels", _rels_xml([("r1", f"{rel_base}/officeDocument", "xl/workbook.xml")]))
        zf.writestr("xl/workbook.xml", wb)
        zf.writestr("xl/_rels/workbook.xml.rels", _rels_xml(wb_rels))
        for i, (_, _, data) in enumerate(sheets):
            zf.writestr(
                f"xl/worksheets/sheet{i + 1}.xml",
                f'<?xml version="1.0"?><worksheet xmlns="{x_ns}" xmlns:r="{r_ns}">{data}</worksheet>',
            )
            if sheet_rels and i in sheet_rels:
                zf.writestr(
                    f"xl/worksheets/_rels/sheet{i + 1}.xml.rels",
                    _rels_xml(
                        [
                            (rid, f"{rel_base}/{kind}" if "/" not in kind else kind, target)
                            for rid, kind, target in sheet_rels[i]
                        ]
                    ),
                )
        if raw_shared is not None:
            zf.writestr("xl/sharedStrings.xml", raw_shared)
        elif shared is not None:
            items = "".join(f"<si><t>{s}</t></si>" for s in shared)
            zf.writestr("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst xmlns="{x_ns}">{items}</sst>')
        if styles is not None:
            zf.writestr("xl/styles.xml", f'<?xml version="1.0"?><styleSheet xmlns="{x_ns}">{styles}</styleSheet>')
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


# --- number formats -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code,value,shown",
    [
        ("000-00-0000", 123456789, "123-45-6789"),
        ("000-00-0000", 12345678, "012-34-5678"),
        ("00000", 3601, "03601"),
        ("00000-0000", 123456789, "12345-6789"),
        ("#,##0", 1234567.891, "1,234,568"),
        ("#,##0.00", 1234.5, "1,234.50"),
        ("0%", 0.1234, "12%"),
        ("0.00%", 0.1234, "12.34%"),
        ("0.00", 3.14159, "3.14"),
        ("0.000", 2.0005, "2.001"),
        ("0.0#", 1.5, "1.5"),
        ("yyyy-mm-dd", 29295, "1980-03-15"),
        ("m/d/yyyy", 29295, "3/15/1980"),
        ("mm/dd/yyyy", 29295, "03/15/1980"),
        ("d-mmm-yy", 29295, "15-Mar-80"),
        ("dddd, mmmm dd, yyyy", 29295, "Saturday, March 15, 1980"),
        ("yyyy-mm-dd hh:mm:ss", 29295.5, "1980-03-15 12:00:00"),
        ("h:mm AM/PM", 0.75, "6:00 PM"),
        ("[h]:mm:ss", 1.5, "36:00:00"),
        ("mm:ss.0", 0.0000116, "00:01.0"),
        ("0.00E+00", 12345, "1.23E+04"),
        ("##0.0E+0", 12345, "12.3E+3"),
        ("# ?/?", 1.5, "1 1/2"),
        ("[<=9999999]###-####;(###) ###-####", 7325551234, "(732) 555-1234"),
        ("[<=9999999]###-####;(###) ###-####", 5551234, "555-1234"),
        ("#,##0 ;(#,##0)", -1234, "(1,234)"),
        ('_(* #,##0.00_);_(* \\(#,##0.00\\);_(* "-"??_);_(@_)', 0, "-"),
        ('"$"#,##0.00', 1234.5, "$1,234.50"),
        ("[$€-407]#,##0.00", 12.5, "€12.50"),
        ('#,##0,,"M"', 12345678, "12M"),
        ("0", -3, "-3"),
        ("General", 123456789012, "123456789012"),
        ("General", 0.1 + 0.2, "0.3"),
        ("General", 1e20, "1E+20"),
        (";;;", 123, ""),
        ("@", 5, "5"),
        ('0.0;"neg";"zero";@', 0, "zero"),
        ('0.0;"neg";"zero";@', -2, "neg"),
        ('"Lot "0', 7, "Lot 7"),
        ("0.0#%", 0.12345, "12.35%"),
        ('[<0]"";0%', -1.5, ""),
        ("m/d/yyyy", -1, ""),
    ],
)
def test_number_format(code: str, value: float, shown: str) -> None:
    assert NumberFormat(code).format(float(value)) == shown


def test_date_systems() -> None:
    assert serial_parts(1, False, False) == (1900, 1, 1, 0, 0, 0, 0)
    assert serial_parts(61, False, False) == (1900, 3, 1, 0, 0, 0, 0)
    assert serial_parts(0, True, False) == (1904, 1, 1, 0, 0, 0, 0)
    assert serial_parts(-1, False, False) is None


# --- openpyxl workbooks -----------------------------------------------------------------------


def test_values_formats_hidden_sheets_comments_headers_names(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Roster"
    ws.append(["Employee roster Q3"])
    ws.append([])
    ws.append(["Name", "SSN", "ZIP", "Born", "Rate", "Salary", "Active", "Formula"])
    ws.append(["Ada", 123456789, 3601, dt.date(1961, 4, 12), 0.125, 1234567.5, True, "=B4*2"])
    ws["B4"].number_format = "000-00-0000"
    ws["C4"].number_format = "00000"
    ws["D4"].number_format = "yyyy-mm-dd"
    ws["E4"].number_format = "0.0%"
    ws["F4"].number_format = "#,##0.00"
    ws["B4"].comment = Comment("Verified against card 212-67-4431", "HR")
    ws.oddHeader.center.text = "Payroll &[Page] CONFIDENTIAL"
    ws.oddFooter.left.text = "Prepared by HR"
    hidden = wb.create_sheet("Lookup")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "hidden value 078-05-1120"
    very = wb.create_sheet("Secret")
    very.sheet_state = "veryHidden"
    very["A1"] = "very hidden value"
    wb.defined_names["PatientRange"] = DefinedName("PatientRange", attr_text="Roster!$A$4:$B$4")
    wb.properties.title = "Payroll workbook"
    wb.properties.creator = "Jane Author"
    path = tmp_path / "roster.xlsx"
    wb.save(path)

    events = run(path)
    assert not problems(events)
    roster = cells(events, "Roster")
    assert roster["A1"].text == "Employee roster Q3"
    assert roster["B4"].text == "123-45-6789"
    assert roster["B4"].context == "SSN | Ada"  # column header from the real header row
    assert roster["C4"].text == "03601"
    assert roster["D4"].text == "1961-04-12"
    assert roster["E4"].text == "12.5%"
    assert roster["F4"].text == "1,234,567.50"
    assert roster["G4"].text == "TRUE"
    assert roster["H4"].text == "=B4*2"  # never calculated: the formula is what exists
    assert roster["A3"].context is None  # the header row has no header of its own
    assert all(s.location.part == "sheet" for s in roster.values())

    hidden_cells = [s for s in segments(events) if s.location.part == "hidden_sheet"]
    assert {(s.location.sheet, s.location.cell, s.text) for s in hidden_cells} == {
        ("Lookup", "A1", "hidden value 078-05-1120"),
        ("Secret", "A1", "very hidden value"),
    }

    comments = [s for s in segments(events) if s.location.part == "cell_comment"]
    assert [(c.location.sheet, c.location.cell, c.location.name) for c in comments] == [
        ("Roster", "B4", None),
        ("Roster", None, "authors"),  # shown with the comment
    ]
    assert "212-67-4431" in comments[0].text

    header = [s for s in segments(events) if s.location.part == "header"]
    footer = [s for s in segments(events) if s.location.part == "footer"]
    assert header[0].location.sheet == "Roster" and "CONFIDENTIAL" in header[0].text and "&" not in header[0].text
    assert footer[0].text == "Prepared by HR"

    names = [s for s in segments(events) if s.location.part == "defined_name"]
    assert [(n.location.name, n.text) for n in names] == [
        ("PatientRange", "Roster!$A$4:$B$4"),
        ("PatientRange", "PatientRange"),  # the name itself, as the Name Manager shows it
    ]
    props = {s.location.name: s.text for s in segments(events) if s.location.part == "property"}
    assert props["title"] == "Payroll workbook" and props["creator"] == "Jane Author"


def test_custom_properties_and_label_note(tmp_path: Path) -> None:
    from openpyxl.packaging.custom import StringProperty

    wb = Workbook()
    wb.active["A1"] = "x"
    guid = "11111111-2222-3333-4444-555555555555"
    wb.custom_doc_props.append(StringProperty(name=f"MSIP_Label_{guid}_Enabled", value="true"))
    wb.custom_doc_props.append(StringProperty(name=f"MSIP_Label_{guid}_Name", value="Internal"))
    wb.custom_doc_props.append(StringProperty(name="Study", value="NCT01234567"))
    path = tmp_path / "props.xlsx"
    wb.save(path)
    events = run(path)
    props = {s.location.name: s.text for s in segments(events) if s.location.part == "property"}
    assert props["Study"] == "NCT01234567"
    labels = [e.value for e in events if isinstance(e, DocNote) and e.key == "existing_label"]
    assert [{k: n[k] for k in ("name", "source", "guid")} for n in labels] == [
        {"name": "Internal", "source": "msip", "guid": guid}
    ]


def test_hidden_display_keeps_stored_value(tmp_path: Path) -> None:
    """A format that hides digits (;;; or a mask) does not hide the stored number from us."""
    styles = (
        '<numFmts count="2"><numFmt numFmtId="164" formatCode=";;;"/>'
        '<numFmt numFmtId="165" formatCode="&quot;XXX-XX-&quot;0000"/></numFmts>'
        '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="165"/></cellXfs>'
    )
    data = (
        '<sheetData><row r="1"><c r="A1" s="1"><v>212674431</v></c>'
        '<c r="B1" s="2"><v>4431</v></c><c r="C1" s="2"><v>212674431</v></c></row></sheetData>'
    )
    events = run(write_xlsx(tmp_path / "mask.xlsx", [("S", "", data)], styles=styles))
    got = {k: s.text for k, s in cells(events).items()}
    assert got == {"A1": "212674431", "B1": "XXX-XX-4431", "C1": "XXX-XX-212674431"}


def test_raw_parts_inline_rich_escapes_phonetic_errors_and_missing_refs(tmp_path: Path) -> None:
    shared = (
        '<?xml version="1.0"?><sst xmlns="' + X + '"><si><t>plain</t></si>'
        '<si><r><t>rich </t></r><r><rPr><b/></rPr><t>text</t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></si>'
        "<si><t>line_x000D_break</t></si></sst>"
    )
    data = (
        '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="s"><v>2</v></c></row>'
        '<row><c t="inlineStr"><is><t>inline one</t></is></c><c t="inlineStr"><is><r><t>in</t></r>'
        '<r><t>line two</t></r></is></c><c t="e"><v>#N/A</v></c><c t="str"><f>A1</f><v>cached</v></c></row>'
        "</sheetData>"
    )
    events = run(write_xlsx(tmp_path / "raw.xlsx", [("S", "", data)], raw_shared=shared))
    got = {k: s.text for k, s in cells(events).items()}
    assert got == {
        "A1": "plain",
        "B1": "rich text",
        "C1": "line\rbreak",
        "A2": "inline one",
        "B2": "inline two",
        "C2": "#N/A",
        "D2": "cached",
    }


def test_threaded_comments_text_boxes_and_strict(tmp_path: Path) -> None:
    threaded = (
        '<?xml version="1.0"?><ThreadedComments xmlns="http://schemas.microsoft.com/office/'
        'spreadsheetml/2018/threadedcomments"><threadedComment ref="A1" id="{1}" personId="{2}">'
        "<text>Threaded: DOB 1961-04-12</text></threadedComment></ThreadedComments>"
    )
    drawing = (
        '<?xml version="1.0"?><xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/'
        'spreadsheetDrawing" xmlns:a="http://purl.oclc.org/ooxml/drawingml/main"><xdr:twoCellAnchor>'
        "<xdr:sp><xdr:txBody><a:p><a:r><a:t>Box text NDC 0002-1433-80</a:t></a:r></a:p></xdr:txBody>"
        "</xdr:sp></xdr:twoCellAnchor></xdr:wsDr>"
    )
    data = '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Strict cell</t></is></c></row></sheetData>'
    path = write_xlsx(
        tmp_path / "strict.xlsx",
        [("S", "", data)],
        strict=True,
        extra={"xl/threadedComments/threadedComment1.xml": threaded, "xl/drawings/drawing1.xml": drawing},
        sheet_rels={
            0: [
                (
                    "t1",
                    "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment",
                    "../threadedComments/threadedComment1.xml",
                ),
                ("d1", "drawing", "../drawings/drawing1.xml"),
            ]
        },
    )
    events = run(path)
    assert not problems(events)
    assert cells(events)["A1"].text == "Strict cell"
    by_part = {s.location.part: s for s in segments(events)}
    assert by_part["cell_comment"].text == "Threaded: DOB 1961-04-12"
    assert by_part["cell_comment"].location.cell == "A1"
    assert by_part["textbox"].text == "Box text NDC 0002-1433-80" and by_part["textbox"].location.sheet == "S"


def test_hidden_state_and_date1904_from_workbook_xml(tmp_path: Path) -> None:
    styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'
    data = '<sheetData><row r="1"><c r="A1" s="1"><v>0</v></c></row></sheetData>'
    events = run(
        write_xlsx(
            tmp_path / "mac.xlsx",
            [("Mac", "veryHidden", data)],
            styles=styles,
            workbook_extra='<workbookPr date1904="1"/>',
        )
    )
    seg = cells(events)["A1"]
    assert seg.text == "1/1/1904" and seg.location.part == "hidden_sheet"


def test_missing_shared_string_is_damage(tmp_path: Path) -> None:
    data = '<sheetData><row r="1"><c r="A1" t="s"><v>7</v></c></row></sheetData>'
    events = run(write_xlsx(tmp_path / "bad.xlsx", [("S", "", data)], shared=["only one"]))
    assert problems(events) == ["damaged XLSX (cell S!A1 refers to a missing shared string)"]


def test_cell_limit(tmp_path: Path) -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 51))
    path = write_xlsx(tmp_path / "many.xlsx", [("S", "", f"<sheetData>{rows}</sheetData>")])
    assert problems(run(path, Limits(max_cells=20))) == ["workbook has more than 20 non-empty cells (limit)"]
    assert not problems(run(path))


def test_macros_xlsb_and_truncation(tmp_path: Path) -> None:
    data = '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
    path = write_xlsx(tmp_path / "m.xlsm", [("S", "", data)], extra={"xl/vbaProject.bin": b"\x00" * 32})
    assert any(isinstance(e, DocNote) and e.key == "macros" for e in run(path))

    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(path.read_bytes()[:-200])
    assert problems(run(cut))[0].startswith("damaged or truncated XLSX")

    xlsb = tmp_path / "b.xlsb"
    with zipfile.ZipFile(xlsb, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/xl/workbook.bin" ContentType="application/'
            'vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>',
        )
        zf.writestr("_rels/.rels", _rels_xml([("r1", f"{REL_T}/officeDocument", "xl/workbook.bin")]))
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    # A binary workbook goes to the XLSB reader (issue 14); this one is a stub, so it is a problem either way.
    reasons = problems(run(xlsb))
    assert reasons and "xlsb" in reasons[0].lower()


def test_missing_sheet_part_is_damage(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "gone.xlsx", [("S", "", "<sheetData/>")])
    with zipfile.ZipFile(path) as zf:
        keep = {n: zf.read(n) for n in zf.namelist() if n != "xl/worksheets/sheet1.xml"}
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in keep.items():
            zf.writestr(name, blob)
    assert problems(run(path)) == ["damaged or truncated XLSX (the part of sheet 'S' is missing)"]


def test_embedded_document_in_workbook(tmp_path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.add_paragraph("Embedded memo 212-67-4431")
    buf = io.BytesIO()
    doc.save(buf)
    data = '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
    path = write_xlsx(tmp_path / "emb.xlsx", [("S", "", data)], extra={"xl/embeddings/memo.docx": buf.getvalue()})
    events = run(path)
    assert not problems(events)
    assert any(s.doc == "xl/embeddings/memo.docx" and "212-67-4431" in s.text for s in segments(events))


# --- corpora ------------------------------------------------------------------------------------


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
def test_dev_corpus_xlsx_entities_found() -> None:
    """Every planted entity of the top-level workbooks is in the text, in the right place."""
    dev = CORPUS / "dev"
    if not (dev / "truth.jsonl").is_file():
        pytest.skip("shared corpus not present")
    assert check_planted_entities(dev, ".xlsx", WHERE_PARTS, lambda v, t: _norm(v) in _norm(t)) > 0


def adversarial(case: str) -> Path:
    path = CORPUS / "adversarial" / "cases" / case
    if not path.exists():
        pytest.skip("adversarial corpus not present")
    return path


@pytest.mark.corpus
def test_adversarial_truncated_xlsx() -> None:
    reasons = problems(run(adversarial("truncated_xlsx/roster.xlsx")))
    assert reasons and reasons[0].startswith("damaged or truncated XLSX")


_PROBE = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from scanner.extract.registry import extract_file
from scanner.model import DocProblem, Segment
start = time.monotonic()
found, cells, problems = [], 0, []
for ev in extract_file(sys.argv[1]):
    if isinstance(ev, Segment):
        cells += 1
        if "212-67-4431" in ev.text:
            found.append([ev.location.part, ev.location.sheet, ev.location.cell])
    elif isinstance(ev, DocProblem):
        problems.append(ev.reason)
try:
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
except ImportError:  # Windows: no resource module
    rss_mb = None
print(json.dumps({"found": found, "segments": cells, "problems": problems, "rss_mb": rss_mb,
                  "seconds": time.monotonic() - start}))
"""


@pytest.mark.corpus
@pytest.mark.parametrize(
    "case,cell", [("xlsx_million_cells/stock.xlsx", "A1048576"), ("xlsx_huge_sharedstrings/lookup.xlsx", "A2")]
)
@pytest.mark.slow  # seconds, not milliseconds: left out of `dev.py test --fast`
def test_adversarial_huge_workbooks(case: str, cell: str) -> None:
    """The SSN at the far end is found, within the time and memory bounds, in a fresh process."""
    path = adversarial(case)
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), str(REPO)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"{case}: {result['seconds']:.1f} s, {result['rss_mb']} MB peak, {result['segments']} segments")
    assert not result["problems"]
    assert result["found"] == [["sheet", "Sheet", cell]]
    assert result["seconds"] < 120
    if result["rss_mb"] is not None:
        assert result["rss_mb"] < 700


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name,part,text",
    [
        ("poi__TwoSheetsOneHidden.xlsx", "hidden_sheet", "Sheet1A1"),
        ("poi__SimpleWithComments.xlsx", "cell_comment", "Yegor Kozlov:\nfirst cell"),
        ("tika__testEXCEL_textbox.xlsx", "textbox", "this is some autoshape text"),
        ("poi__SimpleStrict.xlsx", "sheet", "This is sheet 2"),
    ],
)
def test_realworld_places(name: str, part: str, text: str) -> None:
    path = CORPUS / "realworld" / "xlsx" / name
    if not path.is_file():
        pytest.skip("realworld corpus not present")
    events = run(path)
    assert not problems(events)
    assert (part, text) in {(s.location.part, s.text) for s in segments(events)}


@pytest.mark.corpus
def test_realworld_entity_bomb_in_shared_strings() -> None:
    path = CORPUS / "realworld" / "xlsx" / "poi__poc-xmlbomb.xlsx"
    if not path.is_file():
        pytest.skip("realworld corpus not present")
    start = time.monotonic()
    reasons = problems(run(path))
    assert reasons == ["XML part xl/sharedStrings.xml declares entities (possible entity bomb or XXE); refused"]
    assert time.monotonic() - start < 30


def test_unread_parts_safety_net(tmp_path: Path) -> None:
    """Parts no reader walks to still travel with the file: orphan sheets, pivot caches, connections."""
    orphan = (
        f'<?xml version="1.0"?><worksheet xmlns="{X}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
        "<t>orphan SSN 212-67-4431</t></is></c></row></sheetData></worksheet>"
    )
    pivot = (
        f'<?xml version="1.0"?><pivotCacheRecords xmlns="{X}"><r><s v="Deleted source: DOB 1961-04-12"/>'
        '<n v="42"/></r></pivotCacheRecords>'
    )
    connections = (
        f'<?xml version="1.0"?><connections xmlns="{X}"><connection id="1" name="db"><dbPr '
        'connection="Provider=SQLOLEDB;User ID=sa;Password=Hunter2!"/></connection></connections>'
    )
    data = '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
    path = write_xlsx(
        tmp_path / "net.xlsx",
        [("S", "", data)],
        extra={
            "xl/worksheets/sheet9.xml": orphan,
            "xl/pivotCache/pivotCacheRecords1.xml": pivot,
            "xl/connections.xml": connections,
            "xl/theme/theme1.xml": f'<a:theme xmlns:a="{X}"><a:t>Calibri</a:t></a:theme>',
        },
    )
    events = run(path)
    assert not problems(events)
    meta = {s.location.name: s.text for s in segments(events) if s.location.part == "metadata"}
    assert set(meta) == {"xl/worksheets/sheet9.xml", "xl/pivotCache/pivotCacheRecords1.xml", "xl/connections.xml"}
    assert "orphan SSN 212-67-4431" in meta["xl/worksheets/sheet9.xml"]
    assert "Deleted source: DOB 1961-04-12" in meta["xl/pivotCache/pivotCacheRecords1.xml"]
    assert "Password=Hunter2!" in meta["xl/connections.xml"]


def test_main_part_of_the_wrong_kind_is_damage(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "odd.xlsx", [("S", "", "<sheetData/>")])
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    items["xl/workbook.xml"] = f'<?xml version="1.0"?><worksheet xmlns="{X}"/>'.encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in items.items():
            zf.writestr(name, blob)
    assert problems(run(path)) == ["damaged XLSX (xl/workbook.xml is a <worksheet>, not a <workbook>)"]


def test_prerelease_namespace_is_read_not_skipped(tmp_path: Path) -> None:
    """Office 2007 beta files use another namespace (and <sstItem>): read them, never yield nothing."""
    beta = "http://schemas.microsoft.com/office/excel/2006/2"
    path = write_xlsx(
        tmp_path / "beta.xlsx",
        [("S", "", '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>')],
        raw_shared=f'<sst xmlns="{beta}"><sstItem><t>beta text</t></sstItem></sst>',
    )
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    for name in ("xl/workbook.xml", "xl/worksheets/sheet1.xml"):
        items[name] = items[name].replace(X.encode(), beta.encode())
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in items.items():
            zf.writestr(name, blob)
    assert {k: s.text for k, s in cells(run(path)).items()} == {"A1": "beta text"}
