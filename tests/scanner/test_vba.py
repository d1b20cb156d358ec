"""Issue 14: VBA macro source and Excel 4 macro sheets are read, and a secret in them blocks.

The VBA projects are real ``vbaProject.bin`` files written by ``vba_fixture`` (MS-CFB and
MS-OVBA, test-only); olevba reading them back is checked first, so a fixture bug cannot
pass for a reader bug. Packages come from python-docx, openpyxl and python-pptx, made
macro-enabled the way Office saves them.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook
from pptx import Presentation
from vba_fixture import Module, add_vba_project, compound_file, compress, vba_project_bin

from scanner.extract.registry import extract_file
from scanner.limits import Limits
from scanner.model import DocNote, DocProblem, Segment, Verdict
from scanner.pipeline.scan import scan_file_inline

KEY = "AKIAIOSFODNN7EXAMPL3"
SSN = "212-67-4431"
MODULES = [
    Module("ThisDocument", "Private Sub Document_Open()\n    Module1.Upload\nEnd Sub\n", document=True),
    Module("Module1", f'Sub Upload()\n    Const AccessKey = "{KEY}"\n    Debug.Print AccessKey\nEnd Sub\n'),
]


def segments(path: Path, limits: Limits | None = None) -> list[Segment]:
    return [e for e in extract_file(path, limits) if isinstance(e, Segment)]


def problems(path: Path) -> list[str]:
    return [e.reason for e in extract_file(path) if isinstance(e, DocProblem)]


def macro_text(path: Path) -> dict[str | None, str]:
    return {s.location.name: s.text for s in segments(path) if s.location.part == "macro"}


def verdict(path: Path) -> Verdict:
    return scan_file_inline(path)[0].verdict


def docm(tmp_path: Path, project: bytes, name: str = "memo.docm") -> Path:
    doc = Document()
    doc.add_paragraph("Batch summary attached")
    plain = tmp_path / "plain.docx"
    doc.save(plain)
    return add_vba_project(plain, project, "word/document.xml", tmp_path / name)


def test_the_fixture_is_a_project_olevba_reads() -> None:
    """Prove the hand-built vbaProject.bin is real before trusting any test on it."""
    import olefile

    with warnings.catch_warnings():  # olevba uses pyparsing's deprecated names at import
        warnings.simplefilter("ignore", DeprecationWarning)
        from oletools.olevba import VBA_Parser, decompress_stream

    payload = bytes(range(256)) * 20 + b"Attribute VB_Name" * 300
    assert decompress_stream(bytearray(compress(payload))) == payload
    data = vba_project_bin(MODULES)
    ole = olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)  # strict: no tolerated defects
    assert ["VBA", "dir"] in ole.listdir()
    parser = VBA_Parser("vbaProject.bin", data=data)
    found = {path: code for _, path, _, code in parser.extract_macros()}
    assert set(found) == {"VBA/ThisDocument", "VBA/Module1"}
    assert KEY in found["VBA/Module1"]


def test_docm_macro_source_is_read_by_module_and_blocks(tmp_path: Path) -> None:
    path = docm(tmp_path, vba_project_bin(MODULES))
    events = list(extract_file(path))
    assert not [e for e in events if isinstance(e, DocProblem)]
    assert any(isinstance(e, DocNote) and e.key == "macros" and e.value is True for e in events)
    macros = {s.location: s.text for s in events if isinstance(s, Segment) and s.location.part == "macro"}
    locations = {(loc.name, loc.line) for loc in macros}
    assert locations == {("ThisDocument", 1), ("Module1", 1)}
    [module1] = [text for loc, text in macros.items() if loc.name == "Module1"]
    assert f'Const AccessKey = "{KEY}"' in module1 and module1.startswith('Attribute VB_Name = "Module1"')
    result = scan_file_inline(path)[0]
    assert result.verdict is not Verdict.ALLOW
    assert any(f.location.part == "macro" and f.location.name == "Module1" for f in result.outcome.findings)


def test_xlsm_and_pptm_macros_are_read_and_block(tmp_path: Path) -> None:
    project = vba_project_bin([Module("Sheet1", "", document=True), Module("Export", f'Const Owner = "SSN: {SSN}"\n')])
    wb = Workbook()
    wb.active.append(["Lot", "Assay"])
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    xlsm = add_vba_project(plain, project, "xl/workbook.xml", tmp_path / "book.xlsm")

    prs = Presentation()
    prs.slides.add_slide(prs.slide_layouts[6])
    plain_deck = tmp_path / "plain.pptx"
    prs.save(plain_deck)
    pptm = add_vba_project(plain_deck, project, "ppt/presentation.xml", tmp_path / "deck.pptm")

    for path in (xlsm, pptm):
        assert not problems(path), path
        assert SSN in macro_text(path)["Export"], path
        assert verdict(path) is not Verdict.ALLOW, path


def test_a_project_anywhere_or_under_another_name_is_read(tmp_path: Path) -> None:
    """Office finds the project through the vbaProject relationship; a stray vbaProject.bin travels too."""
    base = docm(tmp_path, vba_project_bin(MODULES[:1]))
    with zipfile.ZipFile(base) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    rels = "word/_rels/document.xml.rels"
    items[rels] = items[rels].replace(b'Target="vbaProject.bin"', b'Target="macros/code.bin"')
    items["word/macros/code.bin"] = items.pop("word/vbaProject.bin")
    items["customXml/vbaProject.bin"] = vba_project_bin([Module("Stray", f'Const K = "{KEY}"\n')])
    path = tmp_path / "moved.docm"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    assert not problems(path)
    found = macro_text(path)
    assert "ThisDocument" in found and KEY in found["Stray"]
    assert verdict(path) is not Verdict.ALLOW


@pytest.mark.parametrize(
    "project,reason",
    [
        (b"\x00" * 64, "is not an OLE compound file"),
        (compound_file({"WordDocument": b"not a VBA project" * 10}), "has no VBA storage with PROJECT and dir streams"),
        # the dir stream ends after PROJECTSYSKIND and half a PROJECTLCID record
        (
            vba_project_bin(MODULES, dir_stream=compress(bytes.fromhex("01000400000001000000020004"))),
            "could not be read",
        ),
    ],
    ids=["not-ole", "no-vba-storage", "cut-dir-stream"],
)
def test_an_unreadable_project_is_a_problem_and_blocks(tmp_path: Path, project: bytes, reason: str) -> None:
    path = docm(tmp_path, project)
    found = [p for p in problems(path) if "VBA project word/vbaProject.bin" in p]
    assert found and reason in found[0], problems(path)
    assert verdict(path) is not Verdict.ALLOW


def test_a_module_whose_stream_is_missing_is_a_problem(tmp_path: Path) -> None:
    path = docm(tmp_path, vba_project_bin(MODULES, omit=("ThisDocument",)))
    assert any("VBA module ThisDocument" in p and "source stream missing" in p for p in problems(path))
    assert KEY in macro_text(path)["Module1"]
    assert verdict(path) is not Verdict.ALLOW


def test_a_long_module_is_cut_at_line_ends_with_line_numbers(tmp_path: Path) -> None:
    source = "".join(f"' line {n:03d} of a long module\n" for n in range(2, 200)) + f'Const K = "{KEY}"\n'
    path = docm(tmp_path, vba_project_bin([Module("Long", source)]))
    parts = [s for s in segments(path, Limits(text_chunk_chars=2000)) if s.location.name == "Long"]
    assert len(parts) > 2 and parts[0].location.line == 1
    for seg in parts:
        first = seg.text.split("\n", 1)[0]
        if first.startswith("' line "):
            assert int(first[7:10]) == seg.location.line
    assert all(s.text.endswith("\n") for s in parts[:-1])
    assert KEY in parts[-1].text


def _macro_sheet_book(tmp_path: Path, cells: str) -> Path:
    """An .xlsm with an Excel 4 (XLM) macro sheet ``Auto_Open`` (hidden, as droppers hide it)."""
    wb = Workbook()
    wb.active.append(["Lot"])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    items["xl/macrosheets/sheet1.xml"] = (
        f'<?xml version="1.0"?><xm:macrosheet xmlns="{ns}" '
        f'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData>{cells}</sheetData>'
        "</xm:macrosheet>"
    ).encode()
    items["[Content_Types].xml"] = items["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/macrosheets/sheet1.xml" '
        b'ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>',
    )
    items["xl/_rels/workbook.xml.rels"] = items["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdM1" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" '
        b'Target="macrosheets/sheet1.xml"/></Relationships>',
    )
    items["xl/workbook.xml"] = items["xl/workbook.xml"].replace(
        b"</sheets>",
        b'<sheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        b'name="Auto_Open" sheetId="9" state="hidden" r:id="rIdM1"/></sheets>',
    )
    path = tmp_path / "xlm.xlsm"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    return path


def _macro_cells(path: Path) -> dict[str | None, str]:
    events = list(extract_file(path))
    assert not [e for e in events if isinstance(e, DocProblem)]
    assert any(isinstance(e, DocNote) and e.key == "macros" for e in events)
    return {s.location.cell: s.text for s in events if isinstance(s, Segment) and s.location.sheet == "Auto_Open"}


def test_excel4_macro_sheet_values_and_uncalculated_formulas_are_read(tmp_path: Path) -> None:
    path = _macro_sheet_book(
        tmp_path,
        f'<row r="1"><c r="A1" t="inlineStr"><is><t>key {KEY}</t></is></c></row>'
        f'<row r="2"><c r="A2"><f>ALERT("SSN: {SSN}")</f></c></row>',
    )
    cells = _macro_cells(path)
    assert KEY in cells["A1"] and SSN in cells["A2"]
    assert verdict(path) is not Verdict.ALLOW


def test_excel4_macro_sheet_formula_text_is_read_beside_its_cached_value(tmp_path: Path) -> None:
    path = _macro_sheet_book(tmp_path, f'<row r="1"><c r="A1" t="b"><f>ALERT("SSN: {SSN}")</f><v>1</v></c></row>')
    assert SSN in _macro_cells(path)["A1"]
