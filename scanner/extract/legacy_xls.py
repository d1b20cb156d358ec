"""Legacy Excel (.xls, BIFF5/BIFF8) via xlrd: every non-empty cell as shown, every sheet.

Cells are located like XLSX cells (``sheet``/``hidden_sheet``, sheet name, "B7"); a
number shows under its number format (``scanner.extract.numfmt``: an SSN stored as
212674431 under ``000-00-0000`` is matched as the SSN on screen), dates by the
workbook's date mode. Cell notes, defined names and the OLE document properties are
read too. Rows get their column headers and row label as context (``grid_segments``,
shared with the .xlsb reader).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

from scanner.extract.base import Context, Source, Unscannable
from scanner.extract.legacy_office import ole_properties, open_ole, other_streams
from scanner.extract.numfmt import NumberFormat, display, general
from scanner.extract.ooxml import column_letters
from scanner.model import Event, Location, Segment

_XLS = "legacy Excel .xls"
_MAX_LABEL_CHARS = 200
_HEADER_SEARCH_ROWS = 20
_GENERAL = "General"
# xlrd cell types (xlrd.XL_CELL_*), named here so the module loads without xlrd.
_TEXT, _NUMBER, _DATE, _BOOLEAN, _ERROR = 1, 2, 3, 4, 5
_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!", 0x2A: "#N/A"}

# One shown cell of a row: (0-based column, text, whether it is text rather than a number).
RowCells = list[tuple[int, str, bool]]


def grid_segments(ctx: Context, sheet: str, part: str, rows: Iterable[tuple[int, RowCells]]) -> Iterator[Segment]:
    """Cell segments of one sheet, each with its column header and row label as context.

    The header is the first row with two or more text cells among the first rows (as in
    the XLSX reader); a row's first text cell labels the others ("SSN" | 212-67-4431).
    """
    header: dict[int, str] = {}
    seen = 0
    budget, max_cells = ctx.budget, ctx.limits.max_cells
    for row, cells in rows:
        if not cells:
            continue
        seen += 1
        budget.cells += len(cells)
        if budget.cells > max_cells:
            raise Unscannable(f"workbook has more than {max_cells:,} non-empty cells (limit)")
        texts = [(c, t.strip()[:_MAX_LABEL_CHARS]) for c, t, is_text in cells if is_text]
        is_header = len(texts) >= 2 and seen <= _HEADER_SEARCH_ROWS and not header
        label_col: int | None = None
        label: str | None = None
        if texts and texts[0][0] == cells[0][0]:
            label_col, label = texts[0]
        for col, text, _ in cells:
            context: str | None = None
            if not is_header:
                context = header.get(col)
                if label and col != label_col:
                    context = f"{context} | {label}" if context else label
            ref = f"{column_letters(col)}{row + 1}"
            yield ctx.segment(text, Location(part, sheet=sheet, cell=ref), context=context or None)
        if is_header:
            header = dict(texts)


def extract_xls(src: Source, ctx: Context) -> Iterator[Event]:
    import xlrd  # type: ignore[import-untyped]  # deferred: start-up time (xlrd is only needed for .xls files)

    data = src.read()
    try:
        try:
            book = _open(xlrd, data, formatting=True)
            yield from _workbook(book, ctx)
        except (KeyError, IndexError, AssertionError, NotImplementedError):
            # Number formats need the XF and FORMAT records as xlrd expects them; a file a
            # minimal writer made without them is still read, numbers shown in General.
            book = _open(xlrd, data, formatting=False)
            yield from _workbook(book, ctx)
    except xlrd.XLRDError as exc:
        msg = str(exc)
        if "encrypt" in msg.lower():
            raise Unscannable(f"encrypted {_XLS} (password-protected)") from exc
        raise Unscannable(f"unsupported or damaged {_XLS} ({msg[:200]})") from exc
    ole = open_ole(src, _XLS)
    try:
        yield from ole_properties(ole, ctx)
        yield from other_streams(ole, ctx)
    finally:
        ole.close()


def _open(xlrd: Any, data: bytes, *, formatting: bool) -> Any:
    return xlrd.open_workbook(
        file_contents=data, formatting_info=formatting, on_demand=True, logfile=io.StringIO(), verbosity=0
    )


def _workbook(book: Any, ctx: Context) -> Iterator[Event]:
    try:
        formats = _Formats(book)
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            part = "hidden_sheet" if sheet.visibility else "sheet"
            yield from grid_segments(ctx, sheet.name, part, _rows(sheet, formats, book.datemode))
            for (row, col), note in sorted(getattr(sheet, "cell_note_map", {}).items()):
                text = (note.text or "").strip()
                if text:
                    loc = Location("cell_comment", sheet=sheet.name, cell=f"{column_letters(col)}{row + 1}")
                    yield ctx.segment(text, loc)
            book.unload_sheet(index)
        for name in book.name_obj_list:
            value = _name_text(name)
            if value:
                yield ctx.segment(value, Location("defined_name", name=name.name), context=name.name)
    finally:
        book.release_resources()


class _Formats:
    """A cell's number format from its XF record, compiled once per format code."""

    def __init__(self, book: object) -> None:
        self._xfs = getattr(book, "xf_list", [])
        self._map = getattr(book, "format_map", {})
        self._compiled: dict[int, NumberFormat | None] = {}

    def of(self, xf_index: int) -> NumberFormat | None:
        if not 0 <= xf_index < len(self._xfs):
            return None
        key = self._xfs[xf_index].format_key
        if key not in self._compiled:
            fmt = self._map.get(key)
            code = fmt.format_str if fmt is not None else _GENERAL
            self._compiled[key] = None if code == _GENERAL else NumberFormat(code)
        return self._compiled[key]


def _rows(sheet: object, formats: _Formats, datemode: int) -> Iterator[tuple[int, RowCells]]:
    for r in range(getattr(sheet, "nrows", 0)):
        cells: RowCells = []
        for c, cell in enumerate(sheet.row(r)):  # type: ignore[attr-defined]
            text = _shown(cell, formats, datemode)
            if text:
                cells.append((c, text, cell.ctype == _TEXT))
        yield r, cells


def _shown(cell: object, formats: _Formats, datemode: int) -> str:
    ctype, value = getattr(cell, "ctype", 0), getattr(cell, "value", "")
    if ctype == _TEXT:
        return str(value)
    if ctype in (_NUMBER, _DATE):
        fmt = formats.of(getattr(cell, "xf_index", -1) or 0)
        raw = _raw_number(float(value))
        if fmt is None:
            return general(float(value))
        return display(raw, fmt, datemode == 1)
    if ctype == _BOOLEAN:
        return "TRUE" if value else "FALSE"
    if ctype == _ERROR:
        return _ERRORS.get(int(value), "#ERROR")
    return ""


def _raw_number(v: float) -> str:
    """The number as XLSX would store it, which is what ``display`` expects."""
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _name_text(name: object) -> str:
    """A defined name's formula or constant text (what Name Manager shows)."""
    text = getattr(name, "formula_text", None)
    if isinstance(text, str) and text.strip():
        return text.strip()
    return ""
