"""Small real PDFs for the PDF extractor tests, written with reportlab and finished with pypdf.

Every value below is synthetic. Each builder writes to a path the test owns (``tmp_path``)
and returns it, so a test reads back the bytes a real producer wrote.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.annotations import FreeText
from pypdf.generic import NameObject, TextStringObject
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

WIDTH, HEIGHT = A4


def text_pdf(
    path: Path,
    pages: Sequence[Sequence[str]],
    header: str | None = None,
    footer: str | None = None,
    extra: Callable[[canvas.Canvas, int], None] | None = None,
    **info: str,
) -> Path:
    """One page per entry of ``pages`` (lines of body text), optional header/footer lines.

    ``info`` sets document information (title, author, subject, keywords, creator);
    ``extra(c, page_number)`` may draw more on each page before it is finished.
    """
    c = canvas.Canvas(str(path), pagesize=A4)
    for key, value in info.items():
        getattr(c, f"set{key.capitalize()}")(value)
    for number, lines in enumerate(pages, start=1):
        if header:
            c.setFont("Helvetica", 8)
            c.drawString(40, HEIGHT - 30, header)
        if footer:
            c.setFont("Helvetica", 8)
            c.drawString(40, 25, f"{footer} - page {number}")
        c.setFont("Helvetica", 11)
        y = HEIGHT - 80
        for line in lines:
            c.drawString(72, y, line)
            y -= 16
        if extra:
            extra(c, number)
        c.showPage()
    c.save()
    return path


def gray_image(size: int = 64) -> object:
    """A PIL image with a pattern, standing in for a scanned page."""
    from PIL import Image

    img = Image.new("L", (size, size), 255)
    for x in range(size):
        img.putpixel((x, x), 0)
    return img


def image_only_pdf(path: Path, pages: int = 1) -> Path:
    """Pages that hold only a picture: text, if any, exists only as pixels."""
    from reportlab.lib.utils import ImageReader

    c = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(pages):
        c.drawImage(ImageReader(gray_image()), 72, 400, width=300, height=300)
        c.showPage()
    c.save()
    return path


def rewrite(src: Path, dst: Path, change: Callable[[PdfWriter], None]) -> Path:
    """Copy ``src`` through pypdf, letting ``change`` add structure, and save to ``dst``."""
    writer = PdfWriter(clone_from=PdfReader(src))
    change(writer)
    with dst.open("wb") as fh:
        writer.write(fh)
    return dst


def add_free_text(writer: PdfWriter, page: int, text: str, rich: str | None = None) -> None:
    """A FreeText comment on ``page`` (0-based); ``rich`` becomes its XHTML /RC twin."""
    annotation = FreeText(text=text, rect=(300, 700, 500, 760))
    if rich is not None:
        annotation[NameObject("/RC")] = TextStringObject(rich)
    writer.add_annotation(page_number=page, annotation=annotation)


XMP_TEMPLATE = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Test Toolkit">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
      xmlns:pdf="http://ns.adobe.com/pdf/1.3/" pdf:Keywords="{keywords}">
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{description}</rdf:li></rdf:Alt></dc:description>
   <dc:creator><rdf:Seq><rdf:li>Dr. Test &amp; Partner</rdf:li></rdf:Seq></dc:creator>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def xmp(description: str, keywords: str) -> bytes:
    return XMP_TEMPLATE.format(description=description, keywords=keywords).encode("utf-8")


def pdf_bytes(pages: Sequence[Sequence[str]]) -> bytes:
    """A text PDF in memory (for PDFs embedded in PDFs)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for lines in pages:
        y = HEIGHT - 80
        for line in lines:
            c.drawString(72, y, line)
            y -= 16
        c.showPage()
    c.save()
    return buf.getvalue()


def add_signature_field(writer: PdfWriter, signer: str, reason: str, location: str) -> None:
    """A signed signature field: its value dictionary names the signer (no real signature bytes)."""
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject

    value = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Sig"),
                NameObject("/Name"): TextStringObject(signer),
                NameObject("/Reason"): TextStringObject(reason),
                NameObject("/Location"): TextStringObject(location),
            }
        )
    )
    widget = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/FT"): NameObject("/Sig"),
                NameObject("/T"): TextStringObject("Approval"),
                NameObject("/V"): value,
                NameObject("/Rect"): ArrayObject([FloatObject(0)] * 4),
            }
        )
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([widget])
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject({NameObject("/Fields"): ArrayObject([widget])})
