"""Excel binary workbooks (.xlsb): BIFF12 records in an OPC package, read with pyxlsb.

The package is opened like any OOXML one (``open_package``: the same ZIP limits, every
part read through them, in memory); pyxlsb's BIFF12 record reader then walks
``workbook.bin`` (sheet names and their hidden state), ``sharedStrings.bin`` and each
worksheet's cell records. Cells are located like XLSX cells; numbers show in General
(the .bin styles are not read, so a date shows as its serial number). Properties, the
parts nothing read (XML ones) and embedded objects are read as for XLSX. Binary parts
other than the sheets and strings (comments, pivot caches) are not read: a workbook that
has them gets a DocProblem saying so.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import Any

from scanner.extract.base import Context, Source, Unscannable
from scanner.extract.legacy_xls import RowCells, grid_segments
from scanner.extract.numfmt import general
from scanner.extract.ooxml import has_macros, iter_embedded, iter_properties, iter_unread_parts, open_package
from scanner.model import Event

_KIND = "XLSB"
_MAIN = "xl/workbook.bin"
# BIFF12 record ids, as pyxlsb numbers them (the id's bytes read little-endian).
_SHEET = 0x019C  # BrtBundleSh: hsState, iTabID, strRelID, strName
_ROW = 0x0000
_CELL_FIRST, _CELL_LAST = 0x0001, 0x000B
_CELL_ISST = 0x0007
_CELL_ST = 0x0006  # BrtCellSt: an inline string (pyxlsb has no handler for it)
_CELL_RSTRING = 0x003E  # BrtCellRString: an inline rich string
_SHEETDATA_END = 0x0192
_SHEET_KINDS = ("worksheet", "xlmacrosheet", "xlintlmacrosheet", "dialogsheet")
# Binary parts that hold text this reader does not decode.
_UNREAD_BINARY = ("comments", "pivotcache", "externallink", "queryTable".lower(), "table")
_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!", 0x2A: "#N/A"}


def extract_xlsb(src: Source, ctx: Context) -> Iterator[Event]:
    with open_package(src, ctx, _KIND) as pkg:
        main = pkg.main_part(_MAIN)
        if not pkg.has(main):
            raise Unscannable(f"damaged or truncated {_KIND} (no workbook part)")
        rels = pkg.rel_map(main)
        strings: list[str] = []
        for rel in rels.values():
            if rel.kind == "sharedstrings" and pkg.has(rel.target):
                strings = _shared_strings(pkg.read(rel.target))
        if has_macros(pkg):
            yield ctx.note("macros", True)
        sheets = list(_sheets(pkg.read(main)))
        if not sheets:
            raise Unscannable(f"damaged {_KIND} (the workbook lists no sheets)")
        for name, hidden, rid in sheets:
            sheet_rel = rels.get(rid)
            if sheet_rel is None or sheet_rel.external or sheet_rel.kind not in _SHEET_KINDS:
                continue
            if not pkg.has(sheet_rel.target):
                raise Unscannable(f"damaged or truncated {_KIND} (the part of sheet {name!r} is missing)")
            part = "hidden_sheet" if hidden else "sheet"
            yield from grid_segments(ctx, name, part, _rows(pkg.read(sheet_rel.target), strings, name))
        unread = sorted(
            n for n in pkg.names if n.lower().endswith(".bin") and any(k in n.lower() for k in _UNREAD_BINARY)
        )
        if unread:
            yield ctx.problem(f"{_KIND} binary parts not read: {', '.join(unread[:5])}")
        yield from iter_properties(pkg, ctx)
        yield from iter_unread_parts(pkg, ctx)
        yield from iter_embedded(pkg, ctx, ("xl/embeddings/",))


def _reader(data: bytes) -> Any:
    from pyxlsb.reader import BIFF12Reader  # type: ignore[import-untyped]  # deferred with this module (see registry)

    return BIFF12Reader(fp=io.BytesIO(data))


def _records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(record id, body) of each BIFF12 record: a varint id (pyxlsb's numbering) and length."""
    pos, end = 0, len(data)
    while pos < end:
        rec_id = 0
        for i in range(4):
            if pos >= end:
                return
            b = data[pos]
            pos += 1
            rec_id |= b << (8 * i)
            if not b & 0x80:
                break
        length = 0
        for i in range(4):
            if pos >= end:
                return
            b = data[pos]
            pos += 1
            length |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                break
        if pos + length > end:
            raise Unscannable(f"damaged {_KIND} (a record runs past its part)")
        yield rec_id, data[pos : pos + length]
        pos += length


def _wide_string(body: bytes, pos: int) -> tuple[str, int]:
    """An XLWideString at ``pos``: a 32-bit character count, then UTF-16LE."""
    if pos + 4 > len(body):
        raise Unscannable(f"damaged {_KIND} (a string runs past its record)")
    (count,) = struct.unpack_from("<I", body, pos)
    if count == 0xFFFFFFFF:  # an XLNullableWideString that is null
        return "", pos + 4
    end = pos + 4 + 2 * count
    if end > len(body):
        raise Unscannable(f"damaged {_KIND} (a string runs past its record)")
    return body[pos + 4 : end].decode("utf-16-le", "replace"), end


def _sheets(workbook: bytes) -> Iterator[tuple[str, bool, str]]:
    """(name, hidden, relationship id) per BrtBundleSh: pyxlsb skips the hidden state."""
    for rec_id, body in _records(workbook):
        if rec_id != _SHEET or len(body) < 8:
            continue
        (state,) = struct.unpack_from("<I", body, 0)
        rid, pos = _wide_string(body, 8)
        name, _ = _wide_string(body, pos)
        yield name, state != 0, rid


def _shared_strings(data: bytes) -> list[str]:
    from pyxlsb.stringtable import StringTable  # type: ignore[import-untyped]  # deferred with this module (see registry)

    return list(StringTable(fp=io.BytesIO(data))._strings)


def _rows(data: bytes, strings: list[str], sheet: str) -> Iterator[tuple[int, RowCells]]:
    reader = _reader(data)
    reader.register_handler(_CELL_ST, _InlineString())
    reader.register_handler(_CELL_RSTRING, _InlineString(rich=True))
    row = -1
    cells: RowCells = []
    for rec_id, item in reader:
        if rec_id == _ROW:
            if cells:
                yield row, cells
            row, cells = item.r, []
        elif _CELL_FIRST <= rec_id <= _CELL_LAST or rec_id in (_CELL_ST, _CELL_RSTRING):
            text, is_text = _shown(rec_id, item.v, strings, sheet)
            if text:
                cells.append((item.c, text, is_text))
        elif rec_id == _SHEETDATA_END:
            break
    if cells:
        yield row, cells


def _shown(rec_id: int, value: object, strings: list[str], sheet: str) -> tuple[str, bool]:
    if rec_id == _CELL_ISST:
        if not isinstance(value, int) or not 0 <= value < len(strings):
            raise Unscannable(f"damaged {_KIND} (a cell of sheet {sheet!r} refers to a missing shared string)")
        return strings[value], True
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, int | float):
        return general(float(value)), False
    if isinstance(value, str):
        if value.startswith("0x") and rec_id in (0x0003, 0x000B):  # BrtCellError: an error code
            return _ERRORS.get(int(value, 16), "#ERROR"), False
        return value, True
    return "", False


class _InlineString:
    """pyxlsb handler for BrtCellSt / BrtCellRString: column, style, (flags,) string."""

    def __init__(self, rich: bool = False) -> None:
        self.rich = rich

    def read(self, reader: Any, recid: int, reclen: int) -> Any:
        from pyxlsb.handlers import CellHandler  # type: ignore[import-untyped]  # deferred with this module (see registry)

        col = reader.read_int()
        style = reader.read_int()
        if self.rich:
            reader.read_byte()
        return CellHandler.cls._make([col, reader.read_string() or "", None, style])
