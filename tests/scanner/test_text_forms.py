"""Text as people write it: HTML, XML, JSON escapes, encodings, CSV dialects.

Each fixture plants "SSN: 212-67-4431" (or its digits spelled some other way) and asserts
(a) the extracted text holds the value at the right line/part and (b) the file is blocked.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from scanner.extract.base import Source
from scanner.extract.markup import html_to_text, xml_to_text
from scanner.extract.registry import extract_file
from scanner.extract.text import csv_dialect, detect_encoding, unescape_json
from scanner.limits import Limits
from scanner.model import Finding, Segment, Verdict
from scanner.pipeline.scan import scan_file_inline
from scanner.sniff import DocType, sniff

SSN = "212-67-4431"


def _segments(path: Path, limits: Limits | None = None) -> list[Segment]:
    return [e for e in extract_file(path, limits or Limits()) if isinstance(e, Segment)]


def _holding(path: Path, value: str = SSN) -> list[Segment]:
    segs = [s for s in _segments(path) if value in s.text]
    assert segs, f"{value!r} not extracted from {path.name}: {[s.text for s in _segments(path)]}"
    return segs


def _ssn_findings(path: Path) -> tuple[Verdict, list[Finding]]:
    result = scan_file_inline(path)[0]
    return result.verdict, [f for f in result.outcome.findings if f.pattern == "phi-us-ssn"]


def _blocked_at(path: Path, line: int | None = None, part: str | None = None) -> None:
    verdict, found = _ssn_findings(path)
    assert verdict is not Verdict.ALLOW, path.name
    assert found, f"no SSN finding in {path.name}"
    if line is not None:
        assert line in [f.location.line for f in found], [f.location for f in found]
    if part is not None:
        assert part in [f.location.part for f in found], [f.location for f in found]


# --- markup.py ---------------------------------------------------------------------------


def test_html_to_text_joins_inline_and_breaks_blocks() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>var a = 1;</script></head><body>"
        "<p>SSN: <span>212</span>-<span>67</span>-<b>4431</b></p><div>next&nbsp;&amp;&#32;line</div>"
        "<!-- reviewer: SSN 987-65-4329 --><img alt='photo of Jane' src='x.png'></body></html>"
    )
    lines = html_to_text(html).splitlines()
    assert "SSN: 212-67-4431" in lines
    assert "next\xa0& line" in lines
    assert "reviewer: SSN 987-65-4329" in lines  # comments count
    assert "photo of Jane" in lines  # hover text counts
    assert not any("color" in x or "var a" in x for x in lines)


def test_html_table_rows_become_cells() -> None:
    text = html_to_text("<table><tr><th>Name</th><th>SSN</th></tr><tr><td>Doe</td><td>212-67-4431</td></tr></table>")
    assert text.splitlines() == ["Name | SSN", "Doe | 212-67-4431"]


def test_xml_to_text_is_safe_and_keeps_labels(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("LEAKED", encoding="utf-8")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY id "212-67-4431"><!ENTITY x SYSTEM "file://{secret}">'
        '<!ENTITY a "&id;&id;&id;&id;">]>'
        '<r note="hover me"><ssn>&#50;12-67-4431</ssn><p>SSN <b>212-67-</b>4431</p><q>&x;&a;</q><!-- c --></r>'
    )
    lines = xml_to_text(xml).splitlines()
    assert "ssn: 212-67-4431" in lines  # a leaf's tag labels its value, character refs decoded
    assert "SSN 212-67-4431" in lines  # mixed content joined without spaces
    assert "note: hover me" in lines and "c" in lines
    assert "LEAKED" not in "\n".join(lines)  # no external entity read
    assert "id: 212-67-4431" in lines  # an internal entity's value is text someone wrote
    assert "212-67-4431" * 4 not in "".join(lines)  # ...expanded one level at most


# --- HTML and XML files ------------------------------------------------------------------


def test_html_file_value_split_by_spans(tmp_path: Path) -> None:
    p = tmp_path / "letter.html"
    p.write_text(
        "<!DOCTYPE html>\n<html>\n<body>\n<h1>Letter</h1>\n"
        "<p>Employee SSN: <span>212</span>-<span>67</span>-<span>4431</span></p>\n</body>\n</html>\n",
        encoding="utf-8",
    )
    seg = _holding(p)[0]
    assert seg.location.part == "body"
    _blocked_at(p, line=5)


def test_html_in_a_txt_file_and_entities(tmp_path: Path) -> None:
    p = tmp_path / "export.txt"
    p.write_text("<html><body><p>SSN: &#50;&#49;&#50;-&#x36;&#x37;-4431</p></body></html>", encoding="utf-8")
    _holding(p)
    _blocked_at(p)


def test_html_comment_and_attribute(tmp_path: Path) -> None:
    p = tmp_path / "page.htm"
    p.write_text(
        "<html><body>\n<p>Nothing to see</p>\n<!-- SSN: 212-67-4431 -->\n"
        '<a href="#" title="SSN: 212-67-4431">hover</a>\n</body></html>\n',
        encoding="utf-8",
    )
    parts = {s.location.part for s in _holding(p)}
    assert parts == {"comment", "metadata"}
    _blocked_at(p, line=3, part="comment")
    _blocked_at(p, line=4, part="metadata")


def test_html_table_header_applies_to_column(tmp_path: Path) -> None:
    p = tmp_path / "roster.html"
    p.write_text(
        "<table>\n<tr><th>Employee</th><th>SSN</th></tr>\n<tr><td>A. Jones</td><td>212-67-4431</td></tr>\n</table>\n",
        encoding="utf-8",
    )
    assert "A. Jones | 212-67-4431" in [s.text for s in _holding(p)]
    _blocked_at(p, line=3)


def test_html_script_text_is_still_read(tmp_path: Path) -> None:
    p = tmp_path / "app.html"
    p.write_text('<html><script>var rec = {ssn: "SSN: 212-67-4431"};</script><p>hi</p></html>', encoding="utf-8")
    assert _holding(p)[0].location.part == "metadata"
    _blocked_at(p)


def test_xml_file_mixed_content_and_line(tmp_path: Path) -> None:
    p = tmp_path / "record.xml"
    p.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<records>\n  <record id="1">\n'
        "    <note>Employee SSN: <b>212-67-</b>4431</note>\n  </record>\n</records>\n",
        encoding="utf-8",
    )
    _holding(p)
    _blocked_at(p, line=4)


def test_xml_attribute_comment_and_utf16(tmp_path: Path) -> None:
    p = tmp_path / "export.xml"
    body = (
        '<?xml version="1.0" encoding="UTF-16"?>\n<r>\n<e label="SSN: 212-67-4431"/>\n<!-- SSN: 212-67-4431 -->\n</r>\n'
    )
    p.write_bytes(body.encode("utf-16"))
    assert {s.location.part for s in _holding(p)} == {"metadata", "comment"}
    _blocked_at(p, line=3, part="metadata")


def test_broken_xml_is_still_read(tmp_path: Path) -> None:
    p = tmp_path / "broken.xml"
    p.write_text("<?xml version='1.0'?>\n<<<< not xml at all\nEmployee SSN: 212-67-4431\n", encoding="utf-8")
    _holding(p)
    _blocked_at(p)


# --- JSON ---------------------------------------------------------------------------------


def test_unescape_json_keeps_lines() -> None:
    raw = '{"a": "\\u0032\\u0031\\u0032", "b": "x\\ny", "c": "\\\\u0032", "d": "\\ud83d\\ude00"}\n'
    assert unescape_json(raw) == '{"a": "212", "b": "x y", "c": "\\u0032", "d": "\U0001f600"}\n'


def test_json_escapes_and_key_label(tmp_path: Path) -> None:
    p = tmp_path / "patients.json"
    p.write_text(
        '{\n  "patients": [\n    {"name": "Jane",\n     "ssn": "\\u0032\\u0031\\u0032-\\u0036\\u0037-4431"}\n  ]\n}\n',
        encoding="utf-8",
    )
    assert '"ssn": "212-67-4431"' in _holding(p)[0].text  # the key stays beside the value
    _blocked_at(p, line=4)


def test_invalid_json_lines_still_unescaped(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    p.write_text('{"event": "x"}\n{"note": "SSN: \\u0032\\u0031\\u0032-67-4431", broken\n', encoding="utf-8")
    _holding(p)
    _blocked_at(p, line=2)


# --- encodings ---------------------------------------------------------------------------

_LETTER = "Patient “Müller” paid €40 — Employee SSN: 212-67-4431\nsecond line\n"


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-32-le", b""),
        ("utf-32-be", b""),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-32-be", codecs.BOM_UTF32_BE),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-8", codecs.BOM_UTF8),
        ("cp1252", b""),
    ],
)
def test_encodings(tmp_path: Path, codec: str, bom: bytes) -> None:
    p = tmp_path / f"{codec}{'-bom' if bom else ''}.txt"
    p.write_bytes(bom + _LETTER.encode(codec))
    assert sniff(Source(p.name, path=p)).type is DocType.TEXT
    seg = _holding(p)[0]
    assert "“Müller” paid €40 —" in seg.text
    assert seg.text.lstrip("\ufeff").startswith("Patient")
    _blocked_at(p, line=1)


def test_cp1252_is_not_mistaken_for_another_codepage() -> None:
    assert detect_encoding("Price “€5” – café".encode("cp1252")) == "cp1252"
    assert detect_encoding(b"plain ascii") == "utf-8"


# --- CSV / TSV -----------------------------------------------------------------------------


def test_semicolon_csv_with_commas_in_fields(tmp_path: Path) -> None:
    """The issue's bug: a European CSV whose fields hold commas was split on the commas."""
    p = tmp_path / "roster.csv"
    p.write_text(
        "Name;Address;Dose;SSN\nDoe, Jane;Main St 5, Basel;1,5 mg;212-67-4431\n",
        encoding="utf-8",
    )
    segs = _holding(p)
    assert segs[0].text == "Doe, Jane | Main St 5, Basel | 1,5 mg | 212-67-4431"
    assert segs[0].context == "Name | Address | Dose | SSN"
    assert segs[0].location.part == "table" and segs[0].location.line == 2
    _blocked_at(p, line=2)


def test_comma_csv_with_quoted_semicolons_and_multiline_cell(tmp_path: Path) -> None:
    p = tmp_path / "export.csv"
    p.write_text(
        'Name,Comment,SSN\n"Roe; R.","line one\nline two, still the cell",212-67-4431\n"Doe; J.",ok,000-00-0000\n',
        encoding="utf-8",
    )
    segs = _holding(p)
    assert segs[0].text == "Roe; R. | line one line two, still the cell | 212-67-4431"
    assert segs[0].location.line == 2
    texts = [s.text for s in _segments(p)]
    assert texts[-1].startswith("Doe; J.") and [s.location.line for s in _segments(p)][-1] == 4
    _blocked_at(p, line=2)


@pytest.mark.parametrize(("name", "delim"), [("t.tsv", "\t"), ("p.csv", "|"), ("s.csv", ";"), ("c.csv", ",")])
def test_delimiters(tmp_path: Path, name: str, delim: str) -> None:
    p = tmp_path / name
    p.write_text(
        delim.join(["Name", "Site", "SSN"]) + "\n" + delim.join(["Doe", "Basel", SSN]) + "\n", encoding="utf-8"
    )
    assert csv_dialect(p.read_text(), name).delimiter == delim
    assert _holding(p)[0].text == "Doe | Basel | 212-67-4431"
    _blocked_at(p, line=2)


def test_csv_column_header_alone_labels_the_value(tmp_path: Path) -> None:
    """No keyword in the row: the value is an SSN because its column says so."""
    p = tmp_path / "export.csv"
    rows = ["Employee;Site;SSN"] + [f"Person {i};Basel;212-67-{4431 + i}" for i in range(3)]
    p.write_bytes(("\r\n".join(rows) + "\r\n").encode("utf-16"))
    assert _holding(p)[0].context == "Employee | Site | SSN"
    verdict, found = _ssn_findings(p)
    assert verdict is not Verdict.ALLOW and found
    assert found[0].location.line == 2


def test_text_that_only_starts_like_a_tag(tmp_path: Path) -> None:
    p = tmp_path / "reply.txt"
    p.write_text("<jane@example.com> wrote:\nEmployee SSN: 212-67-4431\n", encoding="utf-8")
    _holding(p)
    _blocked_at(p, line=2)
