"""The PDF extractor: every place a PDF keeps text, and every way it fails closed.

Fixtures are real PDFs written by reportlab/pypdf into ``tmp_path`` and read back through
``extract_file``; the corpus tests use ../shared/corpus and skip when it is absent.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from dev_truth import check_planted_entities
from pdf_fixtures import (
    add_free_text,
    add_signature_field,
    gray_image,
    image_only_pdf,
    pdf_bytes,
    rewrite,
    text_pdf,
    xmp,
)
from pypdf import PdfWriter
from reportlab.pdfgen import canvas

from scanner.extract import pdf_text
from scanner.extract.pdf_structure import markup_text
from scanner.extract.pdf_text import clean_text, looks_like_vertical_cjk
from scanner.extract.registry import extract_file
from scanner.limits import Limits
from scanner.model import DocNote, DocProblem, DocStart, Event, Segment

SSN = "212-67-4431"


def _events(path: Path, limits: Limits | None = None) -> list[Event]:
    return list(extract_file(path, limits or Limits()))


def _segments(events: list[Event], part: str | None = None, doc: str = "") -> list[Segment]:
    return [e for e in events if isinstance(e, Segment) and e.doc == doc and (part is None or e.location.part == part)]


def _text(events: list[Event], part: str | None = None, doc: str = "") -> str:
    return "\n".join(s.text for s in _segments(events, part, doc))


def _problems(events: list[Event], doc: str = "") -> list[str]:
    return [e.reason for e in events if isinstance(e, DocProblem) and e.doc == doc]


def _notes(events: list[Event], doc: str = "") -> dict[str, Any]:
    return {e.key: e.value for e in events if isinstance(e, DocNote) and e.doc == doc}


# --- page text ---------------------------------------------------------------------------


def test_pages_are_segments_with_page_numbers_headers_and_footers(tmp_path: Path) -> None:
    path = text_pdf(
        tmp_path / "batch.pdf",
        [["Batch record BR-1001", "Operator: A. Jones"], [f"Employee SSN: {SSN}"], ["Sign-off"]],
        header="CONFIDENTIAL - Internal Use Only",
        footer="Proprietary and Confidential",
    )
    events = _events(path)
    assert _problems(events) == []
    body = _segments(events, "body")
    assert [s.location.page for s in body] == [1, 2, 3]
    assert SSN in body[1].text and SSN not in body[0].text
    # Headers and footers are page text in a PDF: every page carries them.
    assert all("CONFIDENTIAL - Internal Use Only" in s.text for s in body)
    assert all("Proprietary and Confidential" in s.text for s in body)
    assert "\r" not in body[0].text
    assert _notes(events)["engines"] == {"pdfium": 3, "pdfminer": 0}


def test_invisible_and_off_page_text_is_read(tmp_path: Path) -> None:
    """An OCR layer (render mode 3), white text and text placed off the page all hide data."""

    def hidden(c: canvas.Canvas, _page: int) -> None:
        t = c.beginText(72, 600)
        t.setTextRenderMode(3)
        t.textLine("OCR layer: 111-22-3333")
        c.drawText(t)
        c.setFillColorRGB(1, 1, 1)
        c.drawString(72, 560, "white on white: 222-33-4444")
        c.setFillColorRGB(0, 0, 0)
        c.drawString(-400, 520, "off the page: 333-44-5555")

    text = _text(_events(text_pdf(tmp_path / "hidden.pdf", [["Visible line"]], extra=hidden)), "body")
    for value in ("111-22-3333", "222-33-4444", "333-44-5555"):
        assert value in text


def test_clean_text_restores_hyphens_ligatures_and_line_ends() -> None:
    assert clean_text("212-67\ufffe4431") == "212-67-4431"
    assert clean_text("exam\x02ple\r\nnext\rline") == "exam-ple\nnext\nline"
    assert clean_text("\ufb01le \ufb02ow e\ufb03cient\x00") == "file flow efficient"


def test_vertical_cjk_heuristic() -> None:
    vertical = "\n".join("道路交通法施行令の一部を改正する")
    assert looks_like_vertical_cjk(vertical)
    assert not looks_like_vertical_cjk("道路交通法施行令の一部を改正する政令\n内閣は、道路交通法の一部を改正")
    assert not looks_like_vertical_cjk("\n".join("ABCDEFGHIJ"))


def test_pdfminer_reads_a_page_pdfium_returns_nothing_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback decision: text objects on the page but no characters from PDFium."""
    path = text_pdf(tmp_path / "f.pdf", [["Page one text"], [f"Page two SSN {SSN}"]])
    real = pdf_text._pdfium_page_text
    calls = {"n": 0}

    def blind_on_page_two(textpage: Any) -> str:
        calls["n"] += 1
        return "" if calls["n"] == 2 else real(textpage)

    monkeypatch.setattr(pdf_text, "_pdfium_page_text", blind_on_page_two)
    monkeypatch.setattr(pdf_text, "_read_pdfium_page", _zero_chars_when_empty(pdf_text._read_pdfium_page))
    events = _events(path)
    body = _segments(events, "body")
    assert [s.location.page for s in body] == [1, 2]
    assert SSN in body[1].text
    assert _notes(events)["engines"] == {"pdfium": 1, "pdfminer": 1}
    assert _problems(events) == []


def _zero_chars_when_empty(read: Any) -> Any:
    """PDFium's character count follows the (patched) text: empty text, zero characters."""

    def wrapped(pdf: Any, index: int) -> Any:
        result = read(pdf, index)
        if result is not None and not result.text:
            return result._replace(chars=0)
        return result

    return wrapped


def test_a_page_neither_engine_reads_is_unscannable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = text_pdf(tmp_path / "f.pdf", [["one"], ["two"], ["three"]])
    real_read = pdf_text._read_pdfium_page
    monkeypatch.setattr(pdf_text, "_read_pdfium_page", lambda pdf, i: None if i == 1 else real_read(pdf, i))

    def broken(self: Any, index: int) -> tuple[str, int]:
        raise ValueError("bad content stream")

    monkeypatch.setattr(pdf_text.PdfminerPages, "text", broken)
    events = _events(path)
    assert [s.location.page for s in _segments(events, "body")] == [1, 3]
    assert _problems(events) == ["damaged PDF: the text of page(s) 2 cannot be read"]


def test_pdfium_page_failure_falls_back_to_pdfminer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = text_pdf(tmp_path / "f.pdf", [["one"], [f"two {SSN}"]])
    real_read = pdf_text._read_pdfium_page
    monkeypatch.setattr(pdf_text, "_read_pdfium_page", lambda pdf, i: None if i == 1 else real_read(pdf, i))
    events = _events(path)
    assert SSN in _text(events, "body")
    assert _notes(events)["engines"] == {"pdfium": 1, "pdfminer": 1}
    assert _problems(events) == []


def test_image_only_pages_are_counted(tmp_path: Path) -> None:
    events = _events(image_only_pdf(tmp_path / "scan.pdf", pages=2))
    assert _segments(events, "body") == []
    assert _notes(events)["pages_without_text"] == 2
    assert _problems(events) == []


def test_page_with_text_and_image_is_not_counted(tmp_path: Path) -> None:
    from reportlab.lib.utils import ImageReader

    def picture(c: canvas.Canvas, _page: int) -> None:
        c.drawImage(ImageReader(gray_image()), 72, 300, width=100, height=100)

    events = _events(text_pdf(tmp_path / "fig.pdf", [["Figure 1: chromatogram"]], extra=picture))
    assert "pages_without_text" not in _notes(events)


def test_page_limit_reads_the_allowed_pages_then_fails(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "long.pdf", [[f"page {n}"] for n in range(1, 6)])
    events = _events(path, Limits(max_pages=3))
    assert [s.location.page for s in _segments(events, "body")] == [1, 2, 3]
    assert _problems(events) == ["PDF has more than 3 pages"]


# --- annotations, forms, metadata, bookmarks ----------------------------------------------


def test_annotations_with_rich_text_and_author(tmp_path: Path) -> None:
    base = text_pdf(tmp_path / "base.pdf", [["Page one"], ["Page two"]])

    def comment(c: canvas.Canvas, page: int) -> None:
        if page == 1:
            c.textAnnotation(f"Reviewer: patient SSN {SSN} must be removed", Rect=(400, 700, 420, 720))

    with_note = text_pdf(tmp_path / "note.pdf", [["Page one"], ["Page two"]], extra=comment)
    events = _events(with_note)
    annots = _segments(events, "annotation")
    assert len(annots) == 1 and annots[0].location.page == 1 and annots[0].location.name == "Text"
    assert SSN in annots[0].text

    path = rewrite(
        base,
        tmp_path / "freetext.pdf",
        lambda w: add_free_text(
            w, 1, "Call the site", rich="<body><p>Call <b>Dr. Rivera</b> at 555-0100 &amp; ask for MRN-88231</p></body>"
        ),
    )
    annots = _segments(_events(path), "annotation")
    assert [(a.location.page, a.location.name) for a in annots] == [(2, "FreeText")]
    assert "Call the site" in annots[0].text
    assert "Dr. Rivera at 555-0100 & ask for MRN-88231" in " ".join(annots[0].text.split())
    assert "<b>" not in annots[0].text


def test_form_field_values_with_tooltip_as_context(tmp_path: Path) -> None:
    def form(c: canvas.Canvas, _page: int) -> None:
        c.acroForm.textfield(
            name="patient_ssn", tooltip="Social Security Number", value=SSN, x=72, y=500, width=200, height=20
        )
        c.acroForm.textfield(name="empty_field", tooltip="Left empty", x=72, y=460, width=200, height=20)

    events = _events(text_pdf(tmp_path / "form.pdf", [["Enrollment form"]], extra=form))
    fields = _segments(events, "form_field")
    assert [(f.location.name, f.text) for f in fields] == [("patient_ssn", SSN)]
    assert fields[0].context == "patient_ssn Social Security Number"
    assert _segments(events, "annotation") == [], "widget names are not comments"


def test_signature_field_names_the_signer(tmp_path: Path) -> None:
    base = text_pdf(tmp_path / "base.pdf", [["Batch release certificate"]])
    path = rewrite(
        base, tmp_path / "signed.pdf", lambda w: add_signature_field(w, "Dr. Jane Roe", "QP batch release", "Basel")
    )
    fields = _segments(_events(path), "form_field")
    assert [(f.location.name, f.text.splitlines()) for f in fields] == [
        ("Approval (signature)", ["Dr. Jane Roe", "QP batch release", "Basel"])
    ]


def test_document_info_custom_keys_and_xmp(tmp_path: Path) -> None:
    base = text_pdf(
        tmp_path / "base.pdf",
        [["Formulation report"]],
        title="Report on BPB-0058-B",
        author="Käte Schäfer",
        subject="Formulation of compound BPB-0058-B",
        keywords="tablet, coating",
    )

    def structure(writer: PdfWriter) -> None:
        writer.add_metadata({"/ProjectCode": "PRJ-7781", "/Reviewer": "Jane Roe"})
        writer.xmp_metadata = xmp(description=f"Contains SSN {SSN}", keywords="NCT01592323")

    events = _events(rewrite(base, tmp_path / "meta.pdf", structure))
    meta = {s.location.name: s.text for s in _segments(events, "metadata")}
    assert meta["Title"] == "Report on BPB-0058-B"
    assert meta["Author"] == "Käte Schäfer"
    assert meta["Subject"] == "Formulation of compound BPB-0058-B"
    assert meta["Keywords"] == "tablet, coating"
    assert meta["ProjectCode"] == "PRJ-7781" and meta["Reviewer"] == "Jane Roe"
    xmp_text = meta["xmp"]
    assert f"Contains SSN {SSN}" in xmp_text  # element text
    assert "NCT01592323" in xmp_text  # abbreviated form: an attribute value
    assert "Dr. Test & Partner" in xmp_text  # entities decoded
    assert "purl.org" not in xmp_text and "<" not in xmp_text


def test_markup_text_never_expands_entities() -> None:
    hostile = (
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd"><!ENTITY l "lol">]>'
        "<x:xmpmeta><rdf:li>&e;&l;A&amp;B</rdf:li><![CDATA[raw <text>]]></x:xmpmeta>"
    )
    text = markup_text(hostile)
    assert "root:" not in text and "lol" not in text.replace("&l;", "")
    assert "A&B" in text and "raw <text>" in text


def test_bookmarks_are_read(tmp_path: Path) -> None:
    def outline(c: canvas.Canvas, page: int) -> None:
        c.bookmarkPage(f"p{page}")
        c.addOutlineEntry(f"Patient Jane Roe, SSN {SSN}" if page == 2 else "Summary", f"p{page}", level=0)

    events = _events(text_pdf(tmp_path / "outline.pdf", [["one"], ["two"]], extra=outline))
    [bookmarks] = [s for s in _segments(events, "metadata") if s.location.name == "bookmarks"]
    assert bookmarks.text.splitlines() == ["Summary", f"Patient Jane Roe, SSN {SSN}"]


# --- embedded files -------------------------------------------------------------------------


def test_embedded_files_are_scanned_as_members(tmp_path: Path) -> None:
    base = text_pdf(tmp_path / "base.pdf", [["Cover letter: see attachments"]])
    inner_pdf = pdf_bytes([["Inner PDF page", f"Inner SSN {SSN}"]])

    def attach(writer: PdfWriter) -> None:
        writer.add_attachment("roster.txt", f"name;ssn\nA. Jones;{SSN}\n".encode())
        writer.add_attachment("nested.pdf", inner_pdf)

    events = _events(rewrite(base, tmp_path / "attach.pdf", attach))
    starts = {e.doc: e.type for e in events if isinstance(e, DocStart)}
    assert starts == {"": "pdf", "roster.txt": "text", "nested.pdf": "pdf"}
    assert SSN in _text(events, doc="roster.txt")
    assert SSN in _text(events, "body", doc="nested.pdf")
    assert _problems(events) == [] and _problems(events, "roster.txt") == []


def test_embedded_file_over_the_member_limit_is_a_member_problem(tmp_path: Path) -> None:
    base = text_pdf(tmp_path / "base.pdf", [["Cover"]])
    path = rewrite(base, tmp_path / "big.pdf", lambda w: w.add_attachment("dump.txt", b"x" * 50_000))
    events = _events(path, Limits(archive_member_bytes=10_000))
    assert _problems(events, "dump.txt") == ["embedded file larger than 10,000 bytes"]
    assert _problems(events) == []


def test_embedded_files_count_against_the_expansion_budget(tmp_path: Path) -> None:
    base = text_pdf(tmp_path / "base.pdf", [["Cover"]])
    path = rewrite(base, tmp_path / "budget.pdf", lambda w: w.add_attachment("dump.txt", b"y" * 50_000))
    events = _events(path, Limits(archive_total_bytes=10_000))
    assert any("expands to more than" in p for p in _problems(events))


# --- fail closed --------------------------------------------------------------------------


def test_user_password_is_unscannable(tmp_path: Path) -> None:
    base = text_pdf(tmp_path / "base.pdf", [[f"Payroll {SSN}"]])
    path = rewrite(base, tmp_path / "locked.pdf", lambda w: w.encrypt(user_password="s3cret", owner_password="own"))
    events = _events(path)
    assert _problems(events) == ["encrypted PDF (password required)"]
    assert _segments(events) == []


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_owner_password_only_is_scanned_and_noted(tmp_path: Path, algorithm: str) -> None:
    base = text_pdf(tmp_path / "base.pdf", [[f"Payroll {SSN}"]], author="HR Department")
    path = rewrite(
        base,
        tmp_path / "owner.pdf",
        lambda w: w.encrypt(user_password="", owner_password="owner-only", algorithm=algorithm),
    )
    events = _events(path)
    assert _problems(events) == []
    assert _notes(events)["encrypted"] == "owner password only"
    assert SSN in _text(events, "body")
    assert "HR Department" in _text(events, "metadata")


def test_truncated_pdf_is_unscannable(tmp_path: Path) -> None:
    full = text_pdf(tmp_path / "full.pdf", [[f"Roster {SSN}"], ["more"]]).read_bytes()
    for keep in (0.6, 0.9, 0.99):
        cut = tmp_path / f"cut{keep}.pdf"
        cut.write_bytes(full[: int(len(full) * keep)])
        problems = _problems(_events(cut))
        assert len(problems) == 1 and problems[0].startswith("truncated PDF"), (keep, problems)


def test_cut_incremental_update_is_unscannable(tmp_path: Path) -> None:
    full = text_pdf(tmp_path / "full.pdf", [["Roster"]]).read_bytes()
    cut = tmp_path / "update.pdf"
    cut.write_bytes(full + b"\n9 0 obj\n<< /Type /Annot /Subtype /Text /Contents (Call 212-67-")
    [problem] = _problems(_events(cut))
    assert problem.startswith("truncated PDF") and "update was cut off" in problem


def test_trailing_junk_after_eof_is_fine(tmp_path: Path) -> None:
    full = text_pdf(tmp_path / "full.pdf", [[f"Roster {SSN}"]]).read_bytes()
    padded = tmp_path / "padded.pdf"
    padded.write_bytes(full + b"\x00" * 5000 + b"\r\n-- sent from my phone --\r\n")
    events = _events(padded)
    assert _problems(events) == [] and SSN in _text(events, "body")


def test_garbage_after_header_is_damaged(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n")
    [problem] = _problems(_events(bad))
    assert problem.startswith("damaged or truncated PDF")


def test_missing_page_objects_are_reported(tmp_path: Path) -> None:
    """A page tree that promises more pages than exist must not pass as complete."""
    data = text_pdf(tmp_path / "full.pdf", [["one"], ["two"]]).read_bytes()
    marker = b"/Count 2"
    assert marker in data
    lying = tmp_path / "lying.pdf"
    lying.write_bytes(data.replace(marker, b"/Count 5"))
    events = _events(lying)
    # PDFium trusts /Count and cannot load pages 3-5; pdfminer cannot either.
    assert [s.location.page for s in _segments(events, "body")] == [1, 2]
    assert _problems(events) == ["damaged PDF: the text of page(s) 3, 4, 5 cannot be read"]


# --- the shared corpus --------------------------------------------------------------------


def _norm(s: str) -> str:
    return " ".join(s.split()).casefold()


def _squash(s: str) -> str:
    return "".join(s.split()).casefold()


@pytest.mark.corpus
def test_dev_corpus_pdf_entities_are_all_extracted(corpus: Path) -> None:
    """Every planted value of every top-level dev PDF is in the text, in the right part."""
    where_parts = {"pdf_annotation": {"annotation"}, "pdf_metadata": {"metadata"}}

    def same(value: str, text: str) -> bool:
        # A long sequence wraps across lines on the page: compare without whitespace too.
        return _norm(value) in _norm(text) or _squash(value) in _squash(text)

    assert check_planted_entities(corpus / "dev", ".pdf", where_parts, same) > 100


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("pdf_encrypted/payroll.pdf", "encrypted PDF (password required)"),
        ("truncated_pdf/roster.pdf", "truncated PDF"),
    ],
)
def test_adversarial_pdfs_fail_closed(corpus: Path, case: str, words: str) -> None:
    events = _events(corpus / "adversarial" / "cases" / case)
    problems = _problems(events)
    assert len(problems) == 1 and problems[0].startswith(words)
    assert "212-67-4431" not in _text(events)


@pytest.mark.corpus
def test_adversarial_image_only_pdf_is_noted(corpus: Path) -> None:
    events = _events(corpus / "adversarial" / "cases" / "pdf_image_only" / "scan.pdf")
    assert _notes(events)["pages_without_text"] == 1
    assert _segments(events, "body") == []


@pytest.mark.corpus
def test_adversarial_5000_pages_are_read_completely_and_fast(corpus: Path) -> None:
    path = corpus / "adversarial" / "cases" / "pdf_5000_pages" / "log.pdf"
    started = time.monotonic()
    pages_with_ssn = []
    count = 0
    for event in extract_file(path):  # streamed: no list of 5,000 pages held here
        if isinstance(event, Segment) and event.location.part == "body":
            count += 1
            if "212-67-4431" in event.text:
                pages_with_ssn.append(event.location.page)
        assert not isinstance(event, DocProblem), event
    elapsed = time.monotonic() - started
    assert count == 5000
    assert pages_with_ssn == [4999]
    assert elapsed < 60, f"5,000 pages took {elapsed:.1f} s"


@pytest.mark.corpus
def test_pdf_named_docx_is_read_as_pdf(corpus: Path) -> None:
    events = _events(corpus / "adversarial" / "cases" / "pdf_named_docx" / "memo.docx")
    assert [e.type for e in events if isinstance(e, DocStart)] == ["pdf"]
    assert "212-67-4431" in _text(events, "body")


@pytest.mark.corpus
def test_vertical_japanese_gazette_is_read_by_pdfminer(corpus: Path) -> None:
    """PDFium maps 28 of the gazette's ~2,600 vertical-CMap glyphs; pdfminer reads them all."""
    path = corpus / "realworld" / "pdf" / "pdfminer__kampo.pdf"
    if not path.exists():
        pytest.skip("kampo.pdf not in this corpus")
    events = _events(path)
    assert _notes(events)["engines"]["pdfminer"] == 1
    body = _text(events, "body")
    assert "道路交通法施行令の一部を改正する政令" in body
    assert _problems(events) == []


@pytest.mark.corpus
def test_realworld_attachments_and_forms(corpus: Path) -> None:
    folder = corpus / "realworld" / "pdf"
    in_annotation = folder / "tika__testPDFFileEmbInAnnotation.pdf"
    xfa = folder / "tika__testPDF_XFA_govdocs1_258578.pdf"
    if not (in_annotation.exists() and xfa.exists()):
        pytest.skip("realworld PDFs not in this corpus")
    events = _events(in_annotation)
    assert [e.doc for e in events if isinstance(e, DocStart)] == ["", "Excel.xlsx"]
    assert "This is a Excel" in _text(events, doc="Excel.xlsx")
    events = _events(xfa)
    names = {s.location.name for s in _segments(events, "form_field")}
    assert "xfa:datasets" in names
    assert "my_teacher_name1" in _text(events, "form_field")


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name",
    [
        "pypdf__r2-user-password.pdf",
        "pdfminer__aes-256-r6.pdf",
        "pdfjs__issue3371.pdf",
    ],
)
def test_realworld_user_password_pdfs_fail_closed(corpus: Path, name: str) -> None:
    path = corpus / "realworld" / "pdf" / name
    if not path.exists():
        pytest.skip(f"{name} not in this corpus")
    assert _problems(_events(path)) == ["encrypted PDF (password required)"]


@pytest.mark.corpus
def test_realworld_linearized_file_missing_pages_is_reported(corpus: Path) -> None:
    """PDFium cannot open it and pdfminer finds 1 page; the linearization header says 4."""
    path = corpus / "realworld" / "pdf" / "pdfsamples__unreadablemetadata.pdf"
    if not path.exists():
        pytest.skip("file not in this corpus")
    events = _events(path)
    assert _problems(events) == ["damaged PDF: only 1 of its 4 pages can be read"]
    assert _notes(events)["engines"] == {"pdfium": 0, "pdfminer": 1}


def test_garbled_pdfium_text_sends_the_page_to_pdfminer() -> None:
    """Raw glyph codes or letter-doubled words from PDFium: the page is compared with pdfminer."""
    assert pdf_text.garbled("\x01\x04\x05\x06\x07\n\x08\x04\t\x06\n\n\x0b\x08\x06\x0c\n\x04\x0e\t\x0f")
    assert pdf_text.garbled(
        "Lac Breton\nMMuunniicciippaalliittéé ddeeSSaaiinntt--SSaauuvveeuurr\n"
        "MMuunniicciippaalliittéé ddee MMoorriinn--HHeeiigghhttss\nLAC-BRETON"
    )
    # ordinary text, a bullet or two from a symbol font, a number with repeated digits
    assert not pdf_text.garbled(
        "Batch 23A0147 \uf0b7 released; lot 112233 weighed 1,1 kg.\nOperator JK, verifier LM, bookkeeper AA."
    )
    assert not pdf_text.garbled("")


@pytest.mark.corpus
def test_realworld_gaps_closed_by_the_misread_checks(corpus: Path) -> None:
    """Three realworld pages PDFium misreads, each in a different way, now read by pdfminer."""
    cases = {
        "pdfjs__bug1001080.pdf": "glyph codes",
        "pdfminer__jo.pdf": "CJK objects without text",
        "pdfminer__issue-1008-inline-ascii85.pdf": "letter-doubled words",
    }
    for name, why in cases.items():
        path = corpus / "realworld" / "pdf" / name
        if not path.is_file():
            pytest.skip(f"{name} not in the corpus")
        events = list(extract_file(path))
        assert _notes(events)["engines"]["pdfminer"] >= 1, f"{name}: {why}"
    body = " ".join(
        s.text
        for s in _segments(
            list(extract_file(corpus / "realworld" / "pdf" / "pdfminer__issue-1008-inline-ascii85.pdf")), "body"
        )
    )
    assert "Municipalité" in body
