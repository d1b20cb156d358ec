"""Issue 14: every place in a PDF a recipient sees is read, at a location that says where.

Each fixture is written by reportlab and finished with pypdf (or given bytes a tool would
append), plants an SSN in one place, and checks (a) the value is extracted at the right
location and (b) the file is not allowed when scanned.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import reportlab
from pdf_fixtures import text_pdf
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from scanner.extract.registry import extract_file
from scanner.model import DocNote, DocProblem, Segment, Verdict
from scanner.pipeline.scan import scan_paths
from scanner.pipeline.worker import ScanOptions

SSN = "212-67-4431"
PLANTED = f"Patient SSN: {SSN}"


def _segments(path: Path) -> list[Segment]:
    events = list(extract_file(path))
    problems = [e.reason for e in events if isinstance(e, DocProblem)]
    assert problems == [], problems
    return [e for e in events if isinstance(e, Segment)]


def _found(path: Path, part: str, name: str | None = None, page: int | None = None, doc: str = "") -> Segment:
    """The segment holding the planted SSN at that place (name: a prefix of the location's)."""
    for s in _segments(path):
        loc = s.location
        if (
            SSN in s.text
            and s.doc == doc
            and loc.part == part
            and (page is None or loc.page == page)
            and (name is None or (loc.name or "").startswith(name))
        ):
            return s
    raise AssertionError(f"{SSN} not found at {part}/{name}/{page}: {[(s.location, s.text) for s in _segments(path)]}")


def _verdict(path: Path) -> Verdict:
    """The file's verdict (a container's first result; its members follow)."""
    return next(iter(scan_paths([path], ScanOptions(), jobs=1))).verdict


def _blocked(path: Path) -> None:
    assert _verdict(path) is Verdict.BLOCK


def _base(tmp_path: Path, name: str = "base.pdf") -> Path:
    return text_pdf(tmp_path / name, [["Batch record 44-B: cleaning verified."]])


def _helvetica(writer: PdfWriter) -> DictionaryObject:
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    return DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/Hv"): font})})


def _rect(*xs: float) -> ArrayObject:
    return ArrayObject(FloatObject(x) for x in xs)


def _form(writer: PdfWriter, text: str, **extra: object) -> object:
    """A form XObject that draws ``text`` in Helvetica (an appearance or a pattern cell)."""
    stream = StreamObject()
    stream.set_data(f"BT /Hv 9 Tf 2 6 Td ({text}) Tj ET".encode("latin-1"))
    stream.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): _rect(0, 0, 200, 20),
            NameObject("/Resources"): _helvetica(writer),
        }
    )
    stream.update({NameObject(f"/{k}"): v for k, v in extra.items()})  # type: ignore[misc]
    return writer._add_object(stream)


def _save(writer: PdfWriter, path: Path) -> Path:
    with path.open("wb") as fh:
        writer.write(fh)
    return path


# --- appearance streams -----------------------------------------------------------------------


def test_annotation_appearance_streams_are_read(tmp_path: Path) -> None:
    """A stamp that shows the value only in its appearance, and one that shows it on hover."""
    writer = PdfWriter(clone_from=PdfReader(_base(tmp_path)))
    stamp = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Stamp"),
            NameObject("/Rect"): _rect(300, 700, 500, 720),
            NameObject("/AP"): DictionaryObject({NameObject("/N"): _form(writer, PLANTED)}),
        }
    )
    hover = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Square"),
            NameObject("/Rect"): _rect(300, 600, 500, 620),
            NameObject("/Contents"): TextStringObject("checked"),
            NameObject("/AP"): DictionaryObject(
                {NameObject("/N"): _form(writer, "checked"), NameObject("/R"): _form(writer, f"MRN {SSN}")}
            ),
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(stamp), writer._add_object(hover)])
    path = _save(writer, tmp_path / "stamp.pdf")
    _found(path, "annotation", "Stamp (appearance)", page=1)
    _found(path, "annotation", "Square (rollover appearance)", page=1)
    _blocked(path)


def test_widget_appearance_that_differs_from_its_value_is_read(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(_base(tmp_path)))
    widget = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/FT"): NameObject("/Tx"),
                NameObject("/T"): TextStringObject("ssn"),
                NameObject("/V"): TextStringObject("[redacted]"),
                NameObject("/Rect"): _rect(72, 600, 272, 620),
                NameObject("/AP"): DictionaryObject({NameObject("/N"): _form(writer, PLANTED)}),
            }
        )
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([widget])
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({NameObject("/Fields"): ArrayObject([widget])})
    path = _save(writer, tmp_path / "widget.pdf")
    assert _found(path, "form_field", "ssn (appearance)", page=1)
    _blocked(path)


# --- form XObjects and tiling patterns ---------------------------------------------------------


def test_text_only_inside_a_form_xobject_is_page_text(tmp_path: Path) -> None:
    path = tmp_path / "xobject.pdf"
    c = canvas.Canvas(str(path))
    c.drawString(72, 760, "Figure 3")
    c.beginForm("figure")
    c.drawString(72, 600, PLANTED)
    c.endForm()
    c.doForm("figure")
    c.showPage()
    c.save()
    _found(path, "body", page=1)
    _blocked(path)


def test_text_in_a_tiling_pattern_cell_is_read(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(_base(tmp_path)))
    pattern = _form(
        writer,
        PLANTED,
        Type=NameObject("/Pattern"),
        PatternType=NumberObject(1),
        PaintType=NumberObject(1),
        TilingType=NumberObject(1),
        XStep=NumberObject(200),
        YStep=NumberObject(20),
    )
    page = writer.pages[0]
    page["/Resources"].get_object()[NameObject("/Pattern")] = DictionaryObject({NameObject("/P0"): pattern})
    fill = StreamObject()
    fill.set_data(b"q /Pattern cs /P0 scn 50 50 400 300 re f Q")
    page[NameObject("/Contents")] = ArrayObject([page.raw_get("/Contents"), writer._add_object(fill)])
    path = _save(writer, tmp_path / "pattern.pdf")
    _found(path, "body", "pattern P0", page=1)
    _blocked(path)


# --- JavaScript and bookmarks ------------------------------------------------------------------


def _js(script: str) -> DictionaryObject:
    return DictionaryObject({NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(script)})


def test_javascript_of_the_document_annotations_and_fields_is_read(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(_base(tmp_path)))
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(_js(f"app.alert('{PLANTED}');"))
    scripts = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("init"), writer._add_object(_js(f"var mrn = '{SSN}';"))])}
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): scripts})
    link = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): _rect(72, 700, 200, 720),
            NameObject("/A"): _js(f"app.alert('SSN {SSN}')"),
        }
    )
    field = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/FT"): NameObject("/Tx"),
                NameObject("/T"): TextStringObject("dose"),
                NameObject("/Rect"): _rect(72, 600, 272, 620),
                NameObject("/AA"): DictionaryObject({NameObject("/F"): _js(f"event.value = '{SSN}';")}),
            }
        )
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link), field])
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({NameObject("/Fields"): ArrayObject([field])})
    path = _save(writer, tmp_path / "js.pdf")
    _found(path, "macro", "javascript: document open")
    _found(path, "macro", "javascript: init")  # the /JavaScript name tree
    _found(path, "macro", "javascript: Link annotation", page=1)
    _found(path, "macro", "javascript: field dose, format")
    _blocked(path)


def test_outline_titles_are_read(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(_base(tmp_path)))
    parent = writer.add_outline_item(title="Appendix", page_number=0)
    writer.add_outline_item(title=PLANTED, page_number=0, parent=parent)
    path = _save(writer, tmp_path / "outline.pdf")
    _found(path, "metadata", "bookmarks")
    _blocked(path)


# --- earlier revisions and bytes after the end -------------------------------------------------


def test_text_an_incremental_update_replaced_is_read_as_an_earlier_revision(tmp_path: Path) -> None:
    original = text_pdf(tmp_path / "original.pdf", [["Batch record 44-B", PLANTED]], title=f"Case {SSN}")
    writer = PdfWriter(PdfReader(original), incremental=True)
    redacted = StreamObject()
    redacted.set_data(b"BT /F1 11 Tf 72 760 Td (Batch record 44-B) Tj 0 -16 Td (Patient SSN: [redacted]) Tj ET")
    writer.pages[0][NameObject("/Contents")] = writer._add_object(redacted)
    writer.add_metadata({"/Title": "Case [redacted]"})
    path = _save(writer, tmp_path / "updated.pdf")
    assert path.read_bytes().count(b"%%EOF") == 2
    final = [s for s in _segments(path) if not (s.location.name or "").startswith("revision")]
    assert not any(SSN in s.text for s in final)  # the update did hide it from the final revision
    page = _found(path, "body", "revision 1", page=1)
    assert "Batch record" not in page.text  # lines the final revision still shows are not repeated
    _found(path, "metadata", "revision 1: Title")
    _blocked(path)


def test_a_zip_appended_after_the_end_of_file_is_read_as_a_member(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("roster.txt", f"Roster\n{PLANTED}\n")
    path = tmp_path / "polyglot.pdf"
    path.write_bytes(_base(tmp_path).read_bytes() + buf.getvalue())
    assert zipfile.is_zipfile(path)
    _found(path, "body", doc="appended.zip!roster.txt")
    _blocked(path)


def test_other_bytes_after_the_end_of_file_are_swept(tmp_path: Path) -> None:
    path = tmp_path / "trailing.pdf"
    path.write_bytes(_base(tmp_path).read_bytes() + b"\x00\x01\x02" + PLANTED.encode() + b"\r\n\x00")
    _found(path, "package", "after the end of file")
    _blocked(path)


# --- a Unicode map that hides what the glyphs show -----------------------------------------------

_MAPPING = re.compile(rb"<([0-9A-Fa-f]{2,4})>\s*<([0-9A-Fa-f]{4})>")


def test_digits_mapped_to_private_use_code_points_fail_closed(tmp_path: Path) -> None:
    """The page shows "212-67-4431"; its ToUnicode map says private-use characters."""
    font = os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf")
    pdfmetrics.registerFont(TTFont("VeraPlaces", font))
    plain = tmp_path / "plain.pdf"
    c = canvas.Canvas(str(plain))
    c.setFont("VeraPlaces", 12)
    c.drawString(72, 700, f"{PLANTED} recorded at intake")
    c.showPage()
    c.save()

    def to_private_use(m: re.Match[bytes]) -> bytes:
        code = int(m.group(2), 16)
        if 0x30 <= code <= 0x39:
            return b"<%s> <%04X>" % (m.group(1), 0xE000 + code)
        return m.group(0)

    writer = PdfWriter(clone_from=PdfReader(plain))
    for ref in writer.pages[0]["/Resources"]["/Font"].values():
        cmap = ref.get_object().get("/ToUnicode")
        if cmap is not None:
            cmap = cmap.get_object()
            cmap.set_data(_MAPPING.sub(to_private_use, cmap.get_data()))
    path = _save(writer, tmp_path / "pua.pdf")
    events = list(extract_file(path))
    text = "".join(e.text for e in events if isinstance(e, Segment))
    assert SSN not in text and "\ue032\ue031\ue032" in text  # the fixture does hide the digits
    notes = {e.key: e.value for e in events if isinstance(e, DocNote)}
    assert notes["pages_with_unmapped_glyphs"] == [1] and notes["pages_without_text"] == 1
    problems = [e.reason for e in events if isinstance(e, DocProblem)]
    assert problems and "page(s) 1 map their glyphs to no characters" in problems[0]
    _blocked(path)  # not readable: the unscannable rule applies (block by default)


def test_a_symbol_font_bullet_is_not_unmapped_text() -> None:
    from scanner.extract.pdf_text import unreadable_words

    assert not unreadable_words("\uf0b7 First item\n\uf0b7 Second item \uf06f \uf06f")
    assert unreadable_words("SSN: \ue032\ue031\ue032-\ue036\ue037")
