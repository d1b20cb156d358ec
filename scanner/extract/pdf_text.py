"""PDF page text: PDFium first, pdfminer.six for the pages PDFium misreads.

PDFium (pypdfium2, ~300-1000 pages/s) reads every page. pdfminer.six (10-20 pages/s)
reads only the pages PDFium misreads: a page whose text objects yield few characters
or, on CJK pages, many objects no text at all (fonts PDFium cannot map to Unicode, e.g.
vertical CJK gazettes), text that is raw glyph codes or letter-doubled words (fake
bold), vertical CJK that PDFium returns one character per line, a page PDFium cannot
load, or every page when PDFium cannot open the file at all; the engine that reads more
of the page wins (``page_text``). A page whose columns PDFium reads across (line 1 of
both columns, then line 2) is put back in reading order from PDFium's own text boxes
(``pdf_columns``). Each engine sits behind one small function (``_pdfium_page_text``,
``pdfminer_page_text``) so either can be measured or swapped.

pypdfium2 and pdfminer are imported inside the functions that use them: together they
cost ~90 ms to import, which a worker that never meets a PDF should not pay.
"""

from __future__ import annotations

import contextlib
import enum
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, NamedTuple, cast

from scanner.extract.base import Source, Unscannable
from scanner.extract.pdf_columns import column_ordered_text


class PdfEngine(enum.StrEnum):
    """Which parser read a page; the value is the ``engine`` of its segments and notes."""

    PDFIUM = "pdfium"
    PDFMINER = "pdfminer"


# --- text clean-up shared by both page engines ---------------------------------------

# PDFium marks a hyphen it thinks is a line-end soft hyphen with U+FFFE (get_text_range)
# or U+0002 (bounded text) and drops the line break: "212-67-\n4431" comes out as
# "212-67\ufffe4431". The glyph was visible on the page, so it becomes a hyphen again.
_CLEAN = str.maketrans(
    {
        "\ufffe": "-",
        "\u0002": "-",
        "\u00ad": "-",
        "\u0000": None,
        "\ufeff": None,
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
_PDFMINER_CID = re.compile(r"\(cid:\d+\)")


def clean_text(text: str) -> str:
    """Normalise line ends, hyphen markers and ligatures; keep everything else as is."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CLEAN)


def _visible(text: str) -> int:
    """Characters other than whitespace (split() and isspace() agree on what that is)."""
    return len("".join(text.split()))


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x3000 <= o <= 0x30FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF
        or 0xAC00 <= o <= 0xD7AF
    )


_VERTICAL_MIN_LINES = 8  # fewer lines say nothing about the writing direction
_VERTICAL_SINGLE_SHARE = 0.6  # lines holding one CJK character, of all lines


def looks_like_vertical_cjk(text: str) -> bool:
    """Vertical writing read as horizontal lines: mostly one CJK character per line."""
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    if len(lines) < _VERTICAL_MIN_LINES:
        return False
    single = sum(1 for line in lines if len(line) == 1 and _is_cjk(line))
    return single >= _VERTICAL_SINGLE_SHARE * len(lines)


# --- the page text engines -----------------------------------------------------------


def _pdfium_page_text(textpage: Any) -> str:
    """All characters PDFium found on the page, in its reading order.

    ``get_text_range`` rather than ``get_text_bounded``: the bounded call keeps only
    text inside the page box, and text placed off the page is exactly what hides data.
    """
    return str(textpage.get_text_range(errors="replace"))


_UTF16_NUL = 2  # bytes of an empty UTF-16 string with its terminator
_MAX_FORM_DEPTH = 16  # form XObjects nested deeper are not counted (a hostile file can loop)


def _pdfium_objects(page: Any, textpage: Any = None) -> tuple[int, int, int]:
    """(text objects, image objects, text objects PDFium maps to no text) on the page,
    inside form XObjects too. The last is counted only when ``textpage`` is given."""
    import pypdfium2.raw as pdfium_c  # deferred: start-up time (see the module's docstring)

    texts = images = empty = 0
    stack: list[tuple[Any, bool, int]] = [(page.raw, True, 0)]
    while stack:
        parent, is_page, depth = stack.pop()
        count = pdfium_c.FPDFPage_CountObjects(parent) if is_page else pdfium_c.FPDFFormObj_CountObjects(parent)
        for i in range(max(count, 0)):
            obj = pdfium_c.FPDFPage_GetObject(parent, i) if is_page else pdfium_c.FPDFFormObj_GetObject(parent, i)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                texts += 1
                # the length in bytes of UTF-16 text plus its terminator: 2 means none
                if textpage is not None and pdfium_c.FPDFTextObj_GetText(obj, textpage.raw, None, 0) <= _UTF16_NUL:
                    empty += 1
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                images += 1
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < _MAX_FORM_DEPTH:
                stack.append((obj, False, depth + 1))
    return texts, images, empty


# Characters a font without a Unicode map comes out as: PDFium hands over the raw glyph
# codes (control characters) or private-use code points instead of the text.
_GLYPH_CODES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd\ue000-\uf8ff]")
# A word whose every letter is doubled ("MMuunniicciippaalliittéé"): text overprinted a
# hair to one side for a bold look, which PDFium merges letter by letter.
_DOUBLED_WORD = re.compile(r"(?<!\w)(?:(\w)\1){3,}(?!\w)")
_SHORT_OBJECTS = 4.0  # characters per text object below which a page may be fake bold
# Garbled: at least this many glyph codes, making up this share of the visible characters;
# or at least this many letter-doubled words, making up this share of the words.
_MIN_GLYPH_CODES, _GLYPH_CODE_SHARE = 8, 0.3
_MIN_DOUBLED_WORDS, _DOUBLED_WORD_SHARE = 3, 0.05
_CJK_CHAR = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\uac00-\ud7af]")


# A word holding this many characters no font maps to text (private use, control codes,
# U+FFFD): a Unicode map that turns the page's glyphs into codes, e.g. a value's digits
# mapped to private-use points so that "212-67-4431" reads as nothing a pattern can match.
# A symbol font's bullets and check boxes come one to a word, so they do not count;
# U+F8E0-F8FF are Adobe Symbol's bracket pieces, stacked in a formula, so they never do.
_CODE = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd\ue000-\uf8df]"
_CODE_WORD = re.compile(rf"{_CODE}\S*?{_CODE}\S*?{_CODE}")


def unreadable_words(text: str) -> bool:
    """Does the page's text hold words whose characters are glyph codes, not letters?"""
    return _GLYPH_CODES.search(text) is not None and _CODE_WORD.search(text) is not None


def garbled(text: str, chars_per_object: float = 0.0) -> bool:
    """Does PDFium's text for a page show signs that its letters are not the page's words?

    Letter-doubled words are looked for only where text objects are short (a few
    characters each, as on a map or a fake-bold title): the pattern needs a
    back-reference at every position, a cost a page of running text need not pay.
    """
    codes = len(_GLYPH_CODES.findall(text))
    if codes >= _MIN_GLYPH_CODES and codes >= _GLYPH_CODE_SHARE * _visible(text):
        return True
    if chars_per_object >= _SHORT_OBJECTS:
        return False
    doubled = sum(1 for _ in _DOUBLED_WORD.finditer(text))
    return doubled >= _MIN_DOUBLED_WORDS and doubled >= _DOUBLED_WORD_SHARE * len(text.split())


def pdfminer_page_text(page: Any, resources: Any) -> tuple[str, int]:
    """(text, image count) of one pdfminer page (or a lone content stream dressed as
    one: ``pdf_objects``), with layout analysis.

    ``detect_vertical`` reads vertical CJK columns as lines; ``all_texts`` includes text
    drawn inside form XObjects (figures), which the default layout analysis skips.
    """
    # Deferred: start-up time (see the module's docstring).
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTChar, LTContainer, LTImage, LTTextBox, LTTextLine
    from pdfminer.pdfinterp import PDFPageInterpreter

    device = PDFPageAggregator(resources, laparams=LAParams(detect_vertical=True, all_texts=True))
    PDFPageInterpreter(resources, device).process_page(page)
    parts: list[str] = []
    images = 0
    stack: list[Any] = [device.get_result()]
    while stack:
        item = stack.pop()
        if isinstance(item, LTTextBox):
            parts.append(item.get_text())
            parts.append("\n")
        elif isinstance(item, LTTextLine | LTChar):
            parts.append(item.get_text())
        elif isinstance(item, LTImage):
            images += 1
        elif isinstance(item, LTContainer):
            stack.extend(reversed(list(item)))
    return _PDFMINER_CID.sub("\ufffd", "".join(parts)), images


class PdfminerPages:
    """pdfminer.six opened on first use and walked forward (it is 20-50x slower than PDFium)."""

    def __init__(self, src: Source) -> None:
        self._src = src
        self._stack: contextlib.ExitStack | None = None
        self._pages: Iterator[Any] | None = None
        self._resources: Any = None
        self._current: Any = None
        self._next = 0

    def text(self, index: int) -> tuple[str, int]:
        """(text, images) of the 0-based page ``index``; raises if pdfminer cannot read it."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # complaints about a malformed file, not news
            return pdfminer_page_text(self._page(index), self._resources)

    def _page(self, index: int) -> Any:
        if self._pages is None or index < self._next - 1:
            self._open()
        assert self._pages is not None
        while self._next <= index:
            try:
                self._current = next(self._pages)
            except StopIteration:
                raise LookupError(f"pdfminer finds only {self._next} pages") from None
            self._next += 1
        return self._current

    def page_count(self) -> int:
        """Walk to the end (used only when PDFium could not open the file)."""
        count = self._next
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            while True:
                try:
                    self._page(count)
                except LookupError:
                    return count
                count += 1

    def _open(self) -> None:
        # Deferred: start-up time (see the module's docstring).
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfinterp import PDFResourceManager
        from pdfminer.pdfpage import PDFPage
        from pdfminer.pdfparser import PDFParser

        self.close()
        self._stack = contextlib.ExitStack()
        fh = self._stack.enter_context(self._src.open())
        document = PDFDocument(PDFParser(cast(BinaryIO, fh)), password="")
        self._pages = iter(PDFPage.create_pages(document))
        self._resources = PDFResourceManager(caching=True)
        self._current, self._next = None, 0

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None
        self._pages = None


def open_pdfium(fh: IO[bytes]) -> tuple[Any, str | None]:
    """(PdfDocument, None) or (None, why PDFium could not open it). Passwords raise."""
    # Deferred: start-up time (see the module's docstring).
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        return pdfium.PdfDocument(fh), None
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise Unscannable("encrypted PDF (password required)") from exc
        if exc.err_code == pdfium_c.FPDF_ERR_SECURITY:
            raise Unscannable("encrypted PDF (unsupported security handler)") from exc
        return None, str(exc)


@dataclass(slots=True)
class PageReport:
    """What reading a run of pages found: the ``engines`` and ``pages_without_text`` notes."""

    engines: dict[str, int] = field(default_factory=lambda: {engine.value: 0 for engine in PdfEngine})
    without_text: int = 0  # pages with images or undecodable glyphs and no readable text
    unreadable: list[int] = field(default_factory=list)  # 1-based pages no engine could read
    unmapped: list[int] = field(default_factory=list)  # 1-based pages with words of glyph codes
    last_engine: PdfEngine | None = None


class PdfiumPage(NamedTuple):
    """What PDFium made of one page."""

    text: str
    chars: int  # characters PDFium recognised
    text_objects: int
    images: int
    empty_objects: int  # text objects PDFium maps to no text (counted on CJK pages only)


# A page is misread when its text objects outnumber twice its characters, or when at least
# this many (and this share) of its text objects yield no text at all.
_MIN_EMPTY_OBJECTS, _EMPTY_OBJECT_SHARE = 4, 0.25
# For vertical CJK pdfminer wins unless it read less than this share of PDFium's characters.
_VERTICAL_KEEP_SHARE = 0.8


def page_text(pdf: Any, miner: PdfminerPages, index: int, report: PageReport) -> str | None:
    """One page's text from PDFium, or from pdfminer where PDFium misreads it.

    Updates ``report``: which engine answered, pages with nothing readable but images
    (or glyphs no engine can decode) on them, pages no engine could read at all.
    """
    first = _read_pdfium_page(pdf, index) if pdf is not None else None
    text, misread, vertical, images = "", False, False, 0
    if first is not None:
        text, images, objects = first.text, first.images, first.text_objects
        # PDFium drops text objects whose font it cannot map to Unicode: many text
        # objects and few characters, or many objects with no text at all (CJK fonts,
        # counted on CJK pages only), means the page's text is there and PDFium missed
        # it; so does text that is raw glyph codes or letter-doubled words.
        misread = objects > 0 and (
            first.chars < objects / 2 or first.empty_objects >= max(_MIN_EMPTY_OBJECTS, objects * _EMPTY_OBJECT_SHARE)
        )
        misread = misread or garbled(text, first.chars / objects if objects else 0.0)
        vertical = looks_like_vertical_cjk(text)
        if not misread and not vertical:
            return _settle(report, index, PdfEngine.PDFIUM, text, hidden=images > 0)
    try:
        alt, alt_images = miner.text(index)
        alt = clean_text(alt)
    except Exception:
        if first is None:
            report.unreadable.append(index + 1)
            return None
        # Undecodable glyphs hide text as surely as pixels do.
        return _settle(report, index, PdfEngine.PDFIUM, text, hidden=images > 0 or misread, force=misread)
    # pdfminer's layout analysis rebuilds vertical columns, so for vertical CJK it wins
    # unless it lost characters on the way; otherwise the engine that read more wins.
    if (
        first is None
        or _visible(alt) > _visible(text)
        or (vertical and _visible(alt) >= _VERTICAL_KEEP_SHARE * _visible(text))
    ):
        return _settle(report, index, PdfEngine.PDFMINER, alt, hidden=alt_images > 0 or images > 0 or misread)
    return _settle(report, index, PdfEngine.PDFIUM, text, hidden=images > 0 or misread)


def pdfium_text(pdf: Any, index: int) -> str:
    """PDFium's text of the 0-based page ``index``, "" if it cannot read it (no fallback)."""
    page = _read_pdfium_page(pdf, index)
    return page.text if page is not None else ""


def _read_pdfium_page(pdf: Any, index: int) -> PdfiumPage | None:
    """PDFium's reading of the 0-based page ``index``; None if it fails."""
    try:
        page = pdf[index]
    except Exception:
        return None
    try:
        textpage = page.get_textpage()
        try:
            text = clean_text(_pdfium_page_text(textpage))
            chars = int(textpage.count_chars())
            text = column_ordered_text(textpage, text, clean_text) or text
            # Objects without text are counted on CJK pages only: a call per object, and
            # CJK fonts are where PDFium's Unicode maps fail while others on the page work.
            text_objects, images, empty = _pdfium_objects(page, textpage if _CJK_CHAR.search(text) else None)
        finally:
            textpage.close()
    except Exception:
        return None
    finally:
        page.close()
    return PdfiumPage(text, chars, text_objects, images, empty)


def _settle(report: PageReport, index: int, engine: PdfEngine, text: str, hidden: bool, force: bool = False) -> str:
    """Count the page for ``engine``; a page with no text but images counts as without text,
    and so does one whose words are glyph codes (its text layer does not say what it shows)."""
    report.engines[engine.value] += 1
    report.last_engine = engine
    if unreadable_words(text):
        report.unmapped.append(index + 1)
        force = True
    if force or (hidden and not text.strip()):
        report.without_text += 1
    return text
