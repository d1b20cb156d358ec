"""Hand-built legacy Office files for tests: Python has no writer for them.

``cfb`` writes an OLE2 compound file (MS-CFB, version 3, 512-byte sectors). Every
stream is padded to the 4096-byte mini-stream cutoff so it lives in regular sectors and
no mini FAT is needed. ``biff8_xls``, ``word97_doc`` and ``ppt97`` build the smallest
streams xlrd / the scanner's readers accept, "as a sponsor's old tool might";
``summary_information`` a SummaryInformation property set.
"""

from __future__ import annotations

import struct
import uuid

SECTOR = 512
_FREE, _END, _FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
_NOSTREAM = 0xFFFFFFFF
_CUTOFF = 4096


def cfb(streams: dict[str, bytes]) -> bytes:
    """A compound file whose root storage holds ``streams`` (flat names only)."""
    names = sorted(streams, key=lambda n: (len(n), n.upper()))
    data = [streams[n].ljust(_CUTOFF, b"\x00") for n in names]
    sectors: list[bytes] = []
    fat: list[int] = []
    starts: list[int] = []
    for blob in data:
        blob = blob.ljust(-(-len(blob) // SECTOR) * SECTOR, b"\x00")
        first = len(sectors)
        starts.append(first)
        count = len(blob) // SECTOR
        for i in range(count):
            sectors.append(blob[i * SECTOR : (i + 1) * SECTOR])
            fat.append(first + i + 1 if i < count - 1 else _END)
    # Directory: the root, then each stream; the root's child is the first stream and
    # each stream's right sibling the next (a valid, if lopsided, red-black tree).
    entries = [_dir_entry("Root Entry", 5, _NOSTREAM, 1 if names else _NOSTREAM, _END, 0)]
    for i, name in enumerate(names):
        right = i + 2 if i + 1 < len(names) else _NOSTREAM
        entries.append(_dir_entry(name, 2, right, _NOSTREAM, starts[i], len(streams[name].ljust(_CUTOFF, b"\x00"))))
    directory = b"".join(entries)
    directory = directory.ljust(-(-len(directory) // SECTOR) * SECTOR, b"\x00")
    dir_start = len(sectors)
    dir_count = len(directory) // SECTOR
    for i in range(dir_count):
        sectors.append(directory[i * SECTOR : (i + 1) * SECTOR])
        fat.append(dir_start + i + 1 if i < dir_count - 1 else _END)
    # FAT sectors describe themselves too: grow until every sector has an entry.
    n_fat = 1
    while (len(sectors) + n_fat) > n_fat * (SECTOR // 4):
        n_fat += 1
    fat_start = len(sectors)
    fat += [_FATSECT] * n_fat
    fat += [_FREE] * (n_fat * (SECTOR // 4) - len(fat))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    for i in range(n_fat):
        sectors.append(fat_bytes[i * SECTOR : (i + 1) * SECTOR])
    assert n_fat <= 109
    difat = [fat_start + i for i in range(n_fat)] + [_FREE] * (109 - n_fat)
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, n_fat, dir_start, 0, _CUTOFF, _END, 0, _END, 0)
        + struct.pack("<109I", *difat)
    )
    assert len(header) == SECTOR
    return header + b"".join(sectors)


def _dir_entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    return (
        encoded.ljust(64, b"\x00")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", _NOSTREAM, right, child)
        + b"\x00" * 16
        + b"\x00" * 4
        + b"\x00" * 16
        + struct.pack("<IQ", start, size)
    )


# --- property sets ------------------------------------------------------------------------

_FMTID_SUMMARY = uuid.UUID("F29F85E0-4FF9-1068-AB91-08002B27B3D9").bytes_le
SUMMARY_PIDS = {"title": 2, "subject": 3, "author": 4, "keywords": 5, "comments": 6}


def summary_information(**values: str) -> bytes:
    """A SummaryInformation stream with code page 1252 and the given string properties."""
    props: list[tuple[int, bytes]] = [(1, struct.pack("<Ihh", 0x02, 1252, 0))]
    for key, text in values.items():
        raw = text.encode("cp1252") + b"\x00"
        raw = raw.ljust(-(-len(raw) // 4) * 4, b"\x00")
        props.append((SUMMARY_PIDS[key], struct.pack("<II", 0x1E, len(text) + 1) + raw))
    table_len = 8 + 8 * len(props)
    offsets, body, off = [], b"", table_len
    for pid, blob in props:
        offsets.append(struct.pack("<II", pid, off))
        body += blob
        off += len(blob)
    section = struct.pack("<II", table_len + len(body), len(props)) + b"".join(offsets) + body
    header = struct.pack("<HHI", 0xFFFE, 0, 0x00020006) + b"\x00" * 16 + struct.pack("<I", 1)
    return header + _FMTID_SUMMARY + struct.pack("<I", 48) + section


# --- .xls (BIFF8) -------------------------------------------------------------------------


def _rec(rtype: int, data: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


def _bof(dt: int) -> bytes:
    return _rec(0x0809, struct.pack("<HHHHII", 0x0600, dt, 0x0DBB, 0x07CC, 0x41, 0x06))


SSN_XF = 16  # the cell XF whose number format is 000-00-0000 (an SSN stored as a number)


def _styles() -> bytes:
    """FONT, FORMAT and XF records: xlrd maps every cell's XF index to a cell type."""
    font = struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + struct.pack("<BB", 5, 0) + b"Arial"
    out = b"".join(_rec(0x0031, font) for _ in range(5))
    code = "000-00-0000"
    out += _rec(0x041E, struct.pack("<HHB", 164, len(code), 0) + code.encode("latin-1"))
    style = struct.pack("<HHH", 0, 0, 0xFFF5) + b"\x20\x00" + b"\x00" * 12
    cell = struct.pack("<HHH", 0, 0, 0x0001) + b"\x20\x00" + b"\x00" * 12
    ssn = struct.pack("<HHH", 0, 164, 0x0001) + b"\x20\x04" + b"\x00" * 12
    return out + b"".join(_rec(0x00E0, style) for _ in range(15)) + _rec(0x00E0, cell) + _rec(0x00E0, ssn)


def biff8_xls(sheets: list[tuple[str, bool, dict[tuple[int, int], str | float]]]) -> bytes:
    """A BIFF8 workbook: (name, hidden, {(row, col): text or number}) per sheet."""
    strings: list[str] = []
    for _, _, cells in sheets:
        for value in cells.values():
            if isinstance(value, str) and value not in strings:
                strings.append(value)
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings
    )
    substreams = []
    for _, _, cells in sheets:
        body = _bof(0x0010)
        rows = max((r for r, _ in cells), default=0) + 1
        cols = max((c for _, c in cells), default=0) + 1
        body += _rec(0x0200, struct.pack("<IIHHH", 0, rows, 0, cols, 0))
        for (r, c), value in sorted(cells.items()):
            if isinstance(value, str):
                body += _rec(0x00FD, struct.pack("<HHHI", r, c, 15, strings.index(value)))
            else:
                body += _rec(0x0203, struct.pack("<HHHd", r, c, SSN_XF if value >= 1e8 else 15, value))
        substreams.append(body + _rec(0x000A, b""))

    def globals_(offsets: list[int]) -> bytes:
        out = _bof(0x0005) + _rec(0x0042, struct.pack("<H", 1200)) + _styles()
        for (name, hidden, _), off in zip(sheets, offsets, strict=True):
            out += _rec(
                0x0085, struct.pack("<IBBBB", off, 1 if hidden else 0, 0, len(name), 1) + name.encode("utf-16-le")
            )
        return out + _rec(0x00FC, sst) + _rec(0x000A, b"")

    size = len(globals_([0] * len(sheets)))
    offsets = []
    for sub in substreams:
        offsets.append(size)
        size += len(sub)
    return globals_(offsets) + b"".join(substreams)


# --- .doc (Word 97) -----------------------------------------------------------------------

_TEXT_AT = 0x800  # where the text pieces start in the WordDocument stream


def word97_doc(body: str, header: str = "", *, encrypted: bool = False) -> dict[str, bytes]:
    """The streams of a Word 97 document: ``body`` as an 8-bit (compressed) piece and
    ``header`` (the header/footer story) as a UTF-16 piece."""
    body_raw = body.encode("cp1252")
    header_raw = header.encode("utf-16-le")
    header_at = _TEXT_AT + len(body_raw) + (len(body_raw) % 2)
    flags = 0x0200 | (0x0100 if encrypted else 0)
    fib = struct.pack("<HHHHHH", 0xA5EC, 0x00C1, 0, 0x0409, 0, flags) + b"\x00" * 20
    fib += struct.pack("<H", 14) + b"\x00" * 28
    lw = [0] * 22
    lw[3], lw[5] = len(body), len(header)
    fib += struct.pack("<H", 22) + struct.pack("<22i", *lw)
    pairs = [(0, 0)] * 93
    cps = [0, len(body)] + ([len(body) + len(header)] if header else [])
    pcds = [struct.pack("<HIH", 0, (_TEXT_AT * 2) | 0x40000000, 0)]
    if header:
        pcds.append(struct.pack("<HIH", 0, header_at, 0))
    plc = struct.pack(f"<{len(cps)}I", *cps) + b"".join(pcds)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    pairs[33] = (0, len(clx))
    fib += struct.pack("<H", 93) + b"".join(struct.pack("<II", *p) for p in pairs)
    word = fib.ljust(_TEXT_AT, b"\x00") + body_raw
    word = word.ljust(header_at, b"\x00") + header_raw
    return {"WordDocument": word, "1Table": clx}


# --- .ppt (PowerPoint 97) -----------------------------------------------------------------


def _prec(ver_inst: int, rtype: int, body: bytes) -> bytes:
    return struct.pack("<HHI", ver_inst, rtype, len(body)) + body


def ppt97(slide_texts: list[str], notes_text: str = "") -> bytes:
    """A PowerPoint Document stream: a SlideListWithText with one TextCharsAtom per slide,
    and a NotesContainer holding a TextBytesAtom."""
    slwt = b""
    for i, text in enumerate(slide_texts):
        slwt += _prec(0x0000, 0x03F3, struct.pack("<IIiII", i + 1, 0, len(slide_texts), 256 + i, 0))
        slwt += _prec(0x0000, 0x0F9F, struct.pack("<I", 0))
        slwt += _prec(0x0000, 0x0FA0, text.encode("utf-16-le"))
    doc = _prec(0x000F, 0x0FF0, slwt)
    if notes_text:
        doc += _prec(0x000F, 0x03F0, _prec(0x0000, 0x0FA8, notes_text.encode("latin-1")))
    return _prec(0x000F, 0x03E8, doc)
