"""Issue #8: worksheet rows read by patterns (``sheet_xml.SheetRows``) give exactly what the
reference iterparse reader gives, on every shape of sheet XML the patterns must not
misread: formulas, rich text, entities, line ends, missing r=, empty rows, comments,
prefixes, header/footers, truncation, entity declarations, bad bytes, read boundaries.

Each workbook is extracted twice, with ``xlsx.FAST_SHEETS`` on and off, and the event
lists must be equal; the expected texts are asserted as well, and where it matters which
reader took a row (the patterns or lxml), that is asserted too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from xlsx_fixtures import R, X, one_sheet_workbook

from scanner.extract import sheet_xml, xlsx
from scanner.extract.registry import extract_file
from scanner.model import DocProblem, Segment

X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
STYLES = (
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="00000"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="165"/><xf numFmtId="164"/><xf numFmtId="2"/></cellXfs>'
)


def worksheet(rows: str, before: str = "", after: str = "", attrs: str = "") -> str:
    return f'{DECL}<worksheet xmlns="{X}" xmlns:r="{R}"{attrs}>{before}<sheetData>{rows}</sheetData>{after}</worksheet>'


def book(
    path: Path, sheet: str | bytes, shared: tuple[str, ...] = ("Name", "SSN", "Ada"), styles: str = STYLES
) -> Path:
    """A workbook with one sheet part written exactly as given."""
    return one_sheet_workbook(path, sheet, shared, styles)


class Read:
    """One workbook read both ways: the events (equal, or the test fails) and the fast reader."""

    def __init__(self, events: list[object], reader: sheet_xml.SheetRows | None) -> None:
        self.events = events
        self.reader = reader

    @property
    def cells(self) -> dict[str, str]:
        return {
            e.location.cell: e.text
            for e in self.events
            if isinstance(e, Segment) and e.location.part in ("sheet", "hidden_sheet")
        }

    @property
    def problems(self) -> list[str]:
        return [e.reason for e in self.events if isinstance(e, DocProblem)]


def _damage(reason: str) -> str:
    """What a damage reason says that is ours: the format and the part, not libxml2's words or position."""
    found = re.match(r"(.*?XML error in \S+?):", reason)
    return found.group(1) if found else reason


def _is_subsequence(short: list[object], long: list[object]) -> bool:
    rest = iter(long)
    return all(any(item == other for other in rest) for item in short)


def assert_agree(fast: list[object], reference: list[object]) -> None:
    """The fast reader gives what lxml gives; on a damaged part, what matters is the same.

    Both must mark the same part damaged, and every cell either reads must be read identically
    by the other, except the few rows one parser still took before it gave up: *where* libxml2
    stops inside a broken part is its business and moves between releases (lxml 6.2 stops
    earlier than 6.0 on a repeated attribute), so it is not part of the contract.
    """
    fast_problems = [_damage(e.reason) for e in fast if isinstance(e, DocProblem)]
    reference_problems = [_damage(e.reason) for e in reference if isinstance(e, DocProblem)]
    assert fast_problems == reference_problems
    if not fast_problems:
        assert fast == reference
        return
    fast_rest = [e for e in fast if not isinstance(e, DocProblem)]
    reference_rest = [e for e in reference if not isinstance(e, DocProblem)]
    short, long = sorted((fast_rest, reference_rest), key=len)
    assert _is_subsequence(short, long), "one reader gives a cell, or an order, the other does not"
    extra = [e for e in long if e not in short]
    assert all(isinstance(e, Segment) and e.location.part in ("sheet", "hidden_sheet") for e in extra)


@pytest.fixture()
def both(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], Read]:
    def read(path: Path) -> Read:
        made: list[sheet_xml.SheetRows] = []

        class Spy(sheet_xml.SheetRows):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, **kwargs)  # type: ignore[arg-type]
                made.append(self)

        monkeypatch.setattr(xlsx, "SheetRows", Spy)
        monkeypatch.setattr(xlsx, "FAST_SHEETS", True)
        fast = list(extract_file(path))
        monkeypatch.setattr(xlsx, "FAST_SHEETS", False)
        reference = list(extract_file(path))
        assert len(made) <= 1, "the fast run reads the sheet through SheetRows once (if it opens); the reference never"
        assert_agree(fast, reference)
        return Read(fast, made[0] if made else None)

    return read


def test_plain_rows_are_taken_by_the_patterns(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    rows = (
        '<row r="1" spans="1:4" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" s="1"><v>44000.75</v></c></row>'
        '<row r="2" spans="1:4" x14ac:dyDescent="0.25"><c r="A2" t="s"><v>2</v></c><c r="B2" s="2"><v>123</v></c>'
        '<c r="C2" s="3"><v>2.5</v></c><c r="D2" t="n"><v>0.1</v></c><c r="E2" t="b"><v>1</v></c>'
        '<c r="F2" t="e"><v>#N/A</v></c><c r="G2" s="1" /><c r="H2"><v>12345678901234567</v></c></row>'
    )
    got = both(book(tmp_path / "plain.xlsx", worksheet(rows, attrs=f' xmlns:x14ac="{X14AC}"')))
    assert got.cells == {
        "A1": "Name",
        "B1": "SSN",
        "C1": "2020-06-18 18:00",
        "A2": "Ada",
        "B2": "00123",
        "C2": "2.50",
        "D2": "0.1",
        "E2": "TRUE",
        "F2": "#N/A",
        "H2": "1.23457E+16",
    }
    assert got.reader is not None and got.reader.fast
    assert (got.reader.fast_rows, got.reader.odd_nodes) == (2, 0)


def test_formulas(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    rows = (
        '<row r="1"><c r="A1"><v>2</v></c><c r="B1"><f>A1*2</f><v>4</v></c>'
        '<c r="C1"><f t="shared" ref="C1:C2" si="0">A1+1</f><v>3</v></c>'
        '<c r="D1"><f>SUM(A1:C1)</f></c>'  # never calculated
        '<c r="E1" t="str"><f>"a"&amp;"b"</f><v xml:space="preserve">ab </v></c>'
        '<c r="F1" t="str"><f t="array" ref="F1:F1">UPPER("x")</f><v>X</v></c></row>'
        '<row r="2"><c r="C2"><f t="shared" si="0"/><v>7</v></c><c r="D2" t="str"><f>"&lt;"</f></c></row>'
    )
    got = both(book(tmp_path / "formulas.xlsx", worksheet(rows)))
    assert got.cells == {
        "A1": "2",
        "B1": "4",
        "C1": "3",
        "D1": "=SUM(A1:C1)",
        "E1": "ab ",
        "F1": "X",
        "C2": "7",
        "D2": '="<"',
    }
    assert got.reader is not None and got.reader.odd_nodes == 0


def test_formula_with_a_repeated_attribute_is_damage(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><f t="shared" t="array">B2</f><v>2</v></c></row>'
    )
    got = both(book(tmp_path / "dup.xlsx", worksheet(rows)))
    assert got.cells == {"A1": "1"}
    assert got.problems
    assert got.problems[0].startswith("damaged or truncated XLSX (XML error in xl/worksheets/sheet1.xml")


def test_rich_text_and_phonetic_runs_go_to_lxml(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>plain</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><r><rPr><b/></rPr><t>Bold</t></r>'
        '<r><t xml:space="preserve"> text</t></r><rPh sb="0" eb="1"><t>ignored</t></rPh></is></c>'
        '<c r="B2" t="inlineStr"><is><t>x_x0041_</t></is></c></row>'
    )
    got = both(book(tmp_path / "rich.xlsx", worksheet(rows)))
    assert got.cells == {"A1": "plain", "A2": "Bold text", "B2": "xA"}
    assert got.reader is not None and (got.reader.fast_rows, got.reader.odd_nodes) == (1, 1)


def test_entities_and_character_references(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>R&amp;D &lt;lab&gt; &#x41;&#66; &quot;q&quot; &apos;s</t>'
        "</is></c>"
        '<c r="B1" t="str"><v>x&amp;y</v></c><c r="C1" t="inlineStr"><is><t>&#x1F600;&#233;</t></is></c></row>'
    )
    got = both(book(tmp_path / "entities.xlsx", worksheet(rows)))
    assert got.cells == {"A1": 'R&D <lab> AB "q" \'s', "B1": "x&y", "C1": "\U0001f600é"}
    assert got.reader is not None and got.reader.odd_nodes == 0


@pytest.mark.parametrize("text", ["&#0;", "&#xD800;", "&#xFFFE;", "&nbsp;", "a & b", "&#x110000;"])
def test_bad_references_are_damage(tmp_path: Path, both: Callable[[Path], Read], text: str) -> None:
    rows = f'<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>{text}</t></is></c></row>'
    got = both(book(tmp_path / "bad.xlsx", worksheet(rows)))
    # The damaged cell itself may come out cut short or not at all, as the parser's release decides.
    assert got.cells["A1"] == "1" and set(got.cells) <= {"A1", "A2"}
    assert len(got.problems) == 1 and "XML error in xl/worksheets/sheet1.xml" in got.problems[0]


def test_xml_space_preserve(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve">  padded  </t></is></c>'
        '<c r="B1" t="inlineStr"><is><t> </t></is></c></row>'
    )
    got = both(book(tmp_path / "space.xlsx", worksheet(rows)))
    assert got.cells == {"A1": "  padded  ", "B1": " "}
    assert got.reader is not None and got.reader.odd_nodes == 0


def test_line_ends_in_text(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    """XML reads CR LF and a lone CR as LF; a CR written as &#13; stays a CR."""
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>a\r\nb</t></is></c><c r="B1" t="inlineStr"><is><t>c\rd</t>'
        '</is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>e&#13;f\ng</t></is></c></row>'
    )
    got = both(book(tmp_path / "crlf.xlsx", worksheet(rows)))
    assert got.cells == {"A1": "a\nb", "B1": "c\nd", "A2": "e\rf\ng"}
    assert got.reader is not None and (got.reader.fast_rows, got.reader.odd_nodes) == (1, 1)


def test_unknown_and_empty_types_show_the_stored_text(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    """t="" is not "no type": like any unknown type it shows the stored text, unformatted."""
    rows = (
        '<row r="1"><c r="A1" s="2" t=""><v>12</v></c><c r="B1" s="2"><v>12</v></c>'
        '<c r="C1" s="2" t="zz"><v>12</v></c><c r="D1" t="d"><v>2024-01-02T00:00:00</v></c></row>'
    )
    got = both(book(tmp_path / "types.xlsx", worksheet(rows)))
    assert got.cells == {"A1": "12", "B1": "00012", "C1": "12", "D1": "2024-01-02T00:00:00"}
    assert got.reader is not None and got.reader.odd_nodes == 1  # t="" is outside the patterns


def test_cells_and_rows_without_r(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    rows = (
        '<row><c><v>1</v></c><c r="C1"><v>2</v></c><c><v>3</v></c></row>'
        '<row r="4"><c t="inlineStr"><is><t>x</t></is></c><c/><c><v>4</v></c></row>'
        "<row><c><v>5</v></c></row>"
        '<row spans="1:2" r="7"><c><v>7</v></c></row>'
    )  # r= after another attribute
    got = both(book(tmp_path / "nor.xlsx", worksheet(rows)))
    assert got.cells == {"A1": "1", "C1": "2", "D1": "3", "A4": "x", "C4": "4", "A5": "5", "A7": "7"}
    assert got.reader is not None and got.reader.odd_nodes == 0


def test_empty_rows_keep_the_row_count(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    rows = (
        '<row r="3"/><row r="5"></row><row /><row><c><v>1</v></c></row><row r="9" ht="12" /><row><c><v>2</v></c></row>'
    )
    got = both(book(tmp_path / "empty.xlsx", worksheet(rows)))
    assert got.cells == {"A7": "1", "A10": "2"}
    assert got.reader is not None and (got.reader.fast_rows, got.reader.odd_nodes) == (6, 0)


def test_comments_processing_instructions_and_cdata(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    """A row inside a comment is no row, even when the comment holds '</row>' and looks like rows."""
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c></row>'
        '<!-- <row r="2"><c r="A2"><v>222</v></c></row> -->'
        '<row r="3"><!-- </row><row r="8"> --><c r="A3"><v>3</v></c></row>'
        '<?pi <row r="9"><c r="A9"><v>999</v></c></row> ?>'
        '<row r="4"><c r="A4"><v><![CDATA[44]]></v></c>'
        '<c r="B4" t="inlineStr"><is><t><![CDATA[a<b>]]></t></is></c></row>'
        '<row r="5"><c r="A5"><v>5</v></c></row>'
    )
    got = both(book(tmp_path / "comments.xlsx", worksheet(rows)))
    assert got.cells == {"A1": "1", "A3": "3", "A4": "44", "B4": "a<b>", "A5": "5"}
    assert got.reader is not None and got.reader.fast_rows == 2


def test_prefixed_namespace_sheet_is_read_by_lxml(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    sheet = (
        f'{DECL}<x:worksheet xmlns:x="{X}"><x:sheetData><x:row r="1"><x:c r="A1" t="s"><x:v>2</x:v></x:c>'
        '<x:c r="B1"><x:v>7</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    got = both(book(tmp_path / "prefixed.xlsx", sheet))
    assert got.cells == {"A1": "Ada", "B1": "7"}
    assert got.reader is not None and not got.reader.fast


def test_prefixed_and_foreign_rows_in_a_default_namespace_sheet(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c></row>'
        '<x:row r="2"><x:c r="A2"><x:v>2</x:v></x:c></x:row>'  # the same namespace, prefixed
        '<row r="3" xmlns="urn:other"><c r="A3"><v>3</v></c></row>'  # not a worksheet row at all
        '<row r="4"><c r="A4"><v>4</v></c></row>'
    )
    got = both(book(tmp_path / "mixed.xlsx", worksheet(rows, attrs=f' xmlns:x="{X}"')))
    assert got.cells == {"A1": "1", "A2": "2", "A4": "4"}
    # The foreign row gives lxml no row to hand back, so lxml reads on from there, in order.
    assert got.reader is not None and got.reader.fast and (got.reader.fast_rows, got.reader.odd_nodes) == (1, 2)


def test_sheet_data_in_another_namespace_holds_no_worksheet_rows(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    sheet = (
        f'{DECL}<worksheet xmlns="{X}"><sheetData xmlns="urn:other"><row r="1"><c r="A1"><v>1</v></c></row>'
        f'</sheetData><sheetData><row r="2"><c r="A2"><v>2</v></c></row></sheetData></worksheet>'
    )
    got = both(book(tmp_path / "other.xlsx", sheet))
    assert got.cells == {"A2": "2"}
    assert got.reader is not None and got.reader.fast_rows == 0


def test_header_footer_and_elements_after_sheet_data(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c></row>'
    after = (
        '<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>'
        "<headerFooter><oddHeader>&amp;LSSN 123-45-6789&amp;RPage &amp;P</oddHeader>"
        "<oddFooter>&amp;CConfidential</oddFooter></headerFooter>"
    )
    before = '<sheetPr><outlinePr summaryBelow="1"/></sheetPr><dimension ref="A1"/><cols><col min="1" max="1"/></cols>'
    got = both(book(tmp_path / "hf.xlsx", worksheet(rows, before, after)))
    texts = {(e.location.part, e.text) for e in got.events if isinstance(e, Segment)}
    assert ("header", "SSN 123-45-6789 Page") in texts and ("footer", "Confidential") in texts
    assert got.cells == {"A1": "1"}
    assert got.reader is not None and got.reader.fast_rows == 1


def test_sheet_data_after_an_unexpected_element_is_read_by_lxml(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c></row>'
    got = both(book(tmp_path / "late.xlsx", worksheet(rows, before="<extLst/>")))
    assert got.cells == {"A1": "1"}
    assert got.reader is not None and got.reader.fast_rows == 0


def _long_rows(n: int) -> str:
    return "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>lot {r} é漢</t></is></c><c r="B{r}" s="2"><v>{r}</v></c></row>'
        for r in range(1, n + 1)
    )


@pytest.mark.parametrize("keep", [0.5, 0.9, -9, -24])
def test_truncated_sheet_is_damage(tmp_path: Path, both: Callable[[Path], Read], keep: float) -> None:
    sheet = worksheet(_long_rows(3000)).encode()
    cut = int(len(sheet) * keep) if keep > 0 else len(sheet) + int(keep)
    got = both(book(tmp_path / "cut.xlsx", sheet[:cut]))
    assert len(got.problems) == 1
    assert got.problems[0].startswith("damaged or truncated XLSX (XML error in xl/worksheets/sheet1.xml: ")
    if keep > 0:
        assert 0 < len(got.cells) < 6000
    else:
        assert len(got.cells) == 6000
    assert got.reader is not None and got.reader.fast_rows > 1000


def test_truncated_right_after_a_row(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    sheet = worksheet(_long_rows(50))
    got = both(book(tmp_path / "cut.xlsx", sheet[: sheet.index("</row>", 2000) + 6]))
    assert len(got.problems) == 1 and "XML error in xl/worksheets/sheet1.xml" in got.problems[0]
    assert len(got.cells) < 100, "the part is truncated: a row after the cut cannot be read"


@pytest.mark.parametrize(
    "damage",
    [
        '<row r="3"><c r="A3"><v>3</v></c></rowx>',  # a mismatched end tag
        '<row r="3"><c r="A3"><v>3</v></c></row><!-- never closed',  # a comment open to the end
        '<row r="3"><c r="A3"><v>3</v></c></row></sheetData></worksheet><extra/>',  # content after the root
    ],
)
def test_malformed_xml_among_rows_is_damage(tmp_path: Path, both: Callable[[Path], Read], damage: str) -> None:
    sheet = worksheet('<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>' + damage)
    got = both(book(tmp_path / "bad.xlsx", sheet))
    assert got.cells.get("A1") == "1" and got.cells.get("A2") == "2"
    assert len(got.problems) == 1 and "XML error in xl/worksheets/sheet1.xml" in got.problems[0]


def test_long_rows_are_left_to_lxml(
    tmp_path: Path, both: Callable[[Path], Read], monkeypatch: pytest.MonkeyPatch
) -> None:
    """lxml limits a text node to 10 MB; a row longer than the patterns' limit goes to lxml to decide."""
    monkeypatch.setattr(sheet_xml, "_MAX_FAST_ROW", 120)
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c></row>'
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>{"x" * 200}</t></is></c></row>'
        '<row r="3"><c r="A3"><v>3</v></c></row>'
    )
    got = both(book(tmp_path / "long.xlsx", worksheet(rows)))
    assert got.cells == {"A1": "1", "A2": "x" * 200, "A3": "3"}
    assert got.reader is not None and (got.reader.fast_rows, got.reader.odd_nodes) == (2, 1)


def test_entity_declaration_is_refused(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    sheet = (
        f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY ssn "123-45-6789">]><worksheet xmlns="{X}">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&ssn;</t></is></c></row></sheetData></worksheet>'
    )
    got = both(book(tmp_path / "entity.xlsx", sheet))
    assert got.cells == {}
    assert len(got.problems) == 1 and "declares entities" in got.problems[0]
    assert got.reader is None  # refused when the part is opened, before any reader sees it


@pytest.mark.parametrize("value", [b"\xff\xfe", b"a\x01b", b"x]]>y", "\ufffe".encode(), b"\xed\xa0\x80"])
def test_bytes_xml_forbids_are_damage(tmp_path: Path, both: Callable[[Path], Read], value: bytes) -> None:
    good = _long_rows(5).encode()
    bad = b'<row r="6"><c r="A6" t="inlineStr"><is><t>' + value + b"</t></is></c></row>"
    sheet = worksheet("{rows}").encode().replace(b"{rows}", good + bad)
    got = both(book(tmp_path / "bytes.xlsx", sheet))
    assert len(got.cells) == 10
    assert len(got.problems) == 1 and "XML error in xl/worksheets/sheet1.xml" in got.problems[0]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_bom_and_utf16_parts_are_read_by_lxml(tmp_path: Path, both: Callable[[Path], Read], encoding: str) -> None:
    sheet = worksheet('<row r="1"><c r="A1" t="inlineStr"><is><t>Zoë</t></is></c></row>')
    if encoding == "utf-16":
        sheet = sheet.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    got = both(book(tmp_path / "bom.xlsx", sheet.encode(encoding)))
    assert got.cells == {"A1": "Zoë"}
    assert got.reader is not None and not got.reader.fast


@pytest.mark.parametrize(
    "row,damaged",
    [
        ('<row r="2" ht="1" ht="2"><c r="A2"><v>2</v></c></row>', True),  # a repeated attribute
        ('<row r="2" foo:bar="1"><c r="A2"><v>2</v></c></row>', True),  # an undeclared prefix
        ('<row r="2" r="3"><c r="A2"><v>2</v></c></row>', True),
        ('<row r="2" x14ac:dyDescent="0.25"><c r="A2"><v>2</v></c></row>', False),
        ('<row r="2"><c t="s" r="A2"><v>2</v></c><c r="B2" cm="1"><v>3</v></c></row>', False),  # other orders
        ("<row r='2'><c r='A2'><v>2</v></c></row>", False),  # single quotes
        ('<row r="2" xmlns:y="urn:y" y:z="1"><c r="A2"><v>2</v></c></row>', False),
    ],
)
def test_unusual_attributes_are_left_to_lxml(
    tmp_path: Path, both: Callable[[Path], Read], row: str, damaged: bool
) -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c></row>' + row + '<row r="5"><c r="A5"><v>5</v></c></row>'
    got = both(book(tmp_path / "attrs.xlsx", worksheet(rows, attrs=f' xmlns:x14ac="{X14AC}"')))
    assert got.cells["A1"] == "1"
    assert bool(got.problems) is damaged
    if not damaged:
        assert got.cells["A2"] == "Ada" if 't="s"' in row else got.cells["A2"] == "2"
        assert got.cells["A5"] == "5"


def _mixed_rows(n: int) -> str:
    """Rows the patterns take and rows they leave to lxml, with multi-byte text, in turn."""
    shapes = [
        '<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>plain {r} Zoë 漢字 \U0001f600</t></is></c>'
        '<c r="B{r}"><v>{r}</v></c></row>',
        '<row r="{r}"><c r="A{r}" t="inlineStr"><is><r><t>rich</t></r><r><t> {r}</t></r></is></c></row>',
        '<!-- comment {r} </row> --><row r="{r}"><c r="A{r}" s="1"><v>{date}.5</v></c></row>',
        '<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>R&amp;D {r}</t></is></c></row>',
        '<row r="{r}">\n  <c r="A{r}"><v>{r}</v></c>\n</row>\n',
        '<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>cr\r\n{r}</t></is></c></row>',
    ]
    return "".join(shapes[r % len(shapes)].format(r=r, date=44000 + r - 2) for r in range(1, n + 1))


@pytest.mark.parametrize("chunk", [3, 61, 1000, 32 * 1024])
def test_read_boundaries_anywhere(
    tmp_path: Path, both: Callable[[Path], Read], monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Reads that end mid-character, mid-tag or mid-comment change nothing (the sheet is past
    the 64 KiB first block, so every chunk size is exercised)."""
    monkeypatch.setattr(sheet_xml, "_CHUNK", chunk)
    monkeypatch.setattr(sheet_xml, "_BAIL_MIN_ODD", 10**9)
    after = "<headerFooter><oddFooter>Page &amp;P of &amp;N</oddFooter></headerFooter>"
    got = both(book(tmp_path / "mixed.xlsx", worksheet(_mixed_rows(1500), after=after)))
    assert len(got.cells) == 1500 + 1500 // 6
    assert any(isinstance(e, Segment) and e.location.part == "footer" for e in got.events)
    assert got.cells["A6"] == "plain 6 Zoë 漢字 \U0001f600" and got.cells["A1"] == "rich 1"
    assert got.cells["A2"] == "2020-06-18 12:00" and got.cells["A3"] == "R&D 3"
    assert got.cells["A4"] == "4" and got.cells["A5"] == "cr\n5"
    assert got.reader is not None and (got.reader.fast_rows, got.reader.odd_nodes) == (750, 1000)


def test_mostly_odd_sheet_is_handed_to_lxml(tmp_path: Path, both: Callable[[Path], Read]) -> None:
    """A writer whose rows never fit the patterns (pretty-printed here) costs no more than lxml alone."""
    rows = "".join(f'\n  <row r="{r}">\n    <c r="A{r}"><v>{r}</v></c>\n  </row>' for r in range(1, 601))
    got = both(book(tmp_path / "pretty.xlsx", worksheet(rows)))
    assert len(got.cells) == 600
    assert got.reader is not None and (got.reader.fast_rows, got.reader.odd_nodes) == (0, sheet_xml._BAIL_MIN_ODD)
