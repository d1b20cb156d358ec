"""Tables: which column a value sits in, and the patterns its column header opens.

A pattern's ``column_regex`` is tried only on cells whose *column header* names the entity
("Date of Birth", "Lot No.", "Employee name"): values that are only recognisable by their
column cost nothing in prose, because no value-shaped regex runs there. A row reaches the
matcher as cells joined by `` | `` (header row in ``Segment.context``, or remembered from an
earlier header-like row), as one spreadsheet or Word cell with its header/row label, or as
the cell just before it in a header-less first row.

Tables that reach us as plain text (a PDF page) are found through their header line - an
internal Vectorscan expression over all column keywords - and their rows' values count as
far context (the column is not known).
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from scanner.detect.compiled import CompiledPattern, MatchTimeout, longest_first
from scanner.model import Location, Segment

CELL_SEP = " | "  # how extractors join the cells of one table row
_ROW_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # a cell reference's column part ("AB" of "AB12")

# Headers repeat on every row of a sheet; past this many distinct ones, stop remembering.
_GATE_CACHE_SIZE = 4096
# A row label longer than this, or spanning lines, is content, not a label.
_LABEL_MAX = 200
# A header cell longer than this is a sentence, not a column label.
_HEADER_CELL_MAX = 60
# Rows read under one text-table header line; a real table ends at a blank line long before.
_TABLE_ROWS = 500
# A text header line: 3-15 words, at most 200 characters, mostly capitalised (60 %).
_HEADER_LINE_MAX = 200
_HEADER_WORDS = (3, 15)
_HEADER_CAPITALISED = 0.6
_BRACKETED = regex.compile(r"\([^()\n]{0,40}\)|\[[^\[\]\n]{0,40}\]")
# Only whole lines that could be a header: no digits outside brackets, no colon.
_HEADER_CELL_EXPR = r"(?:[^\d\n:(]|\([^)\n]{0,40}\))*"


@dataclass(frozen=True, slots=True)
class Cell:
    start: int  # stripped cell bounds in the segment text
    end: int
    header: str | None  # its column header (the whole context for a lone cell)


class GroupZero:
    """A column-value match seen as a pattern match whose value is group 1 (the whole match)."""

    __slots__ = ("_m",)

    def __init__(self, m: regex.Match[str]):
        self._m = m

    def group(self, _n: int = 0) -> str:
        value: str = self._m.group(0)
        return value

    def span(self, _n: int = 0) -> tuple[int, int]:
        span: tuple[int, int] = self._m.span(0)
        return span

    def start(self, _n: int = 0) -> int:
        start: int = self._m.start(0)
        return start

    def end(self, _n: int = 0) -> int:
        end: int = self._m.end(0)
        return end


Candidate = tuple[CompiledPattern, "regex.Match[str] | GroupZero"]
TextTableCandidate = tuple[CompiledPattern, GroupZero, str]  # ..., the table's header line


class ColumnGates:
    """The patterns with a ``column_regex``, and which of them a column header opens."""

    def __init__(self, compiled: list[CompiledPattern], timeout: float):
        self.timeout = timeout
        self._gated = [c for c in compiled if c.col_rx is not None and c.col_keywords is not None]
        self._cache: dict[str, tuple[CompiledPattern, ...]] = {}

    def header_line_expr(self) -> str | None:
        """Every column keyword, as one more Vectorscan expression: its hits point at the
        header lines of tables that reach the matcher as plain text (PDF pages).

        Sorted without ties: a set's order changes with each process's string hashing, and a
        different expression text misses the compiled-database cache (2 s)."""
        words = sorted(
            {w for c in self._gated for w in (c.pattern.column_keywords or c.pattern.keywords)}, key=longest_first
        )
        if not words:
            return None
        alts = "|".join(regex.escape(w).replace(r"\ ", r"[ \t_-]*") for w in words)
        return f"(?im)^{_HEADER_CELL_EXPR}(?:{alts}){_HEADER_CELL_EXPR}$"

    def gated_for(self, header: str) -> tuple[CompiledPattern, ...]:
        """Patterns whose ``column_regex`` applies under this column header (cached: headers repeat)."""
        hit = self._cache.get(header)
        if hit is None:
            hit = tuple(c for c in self._gated if c.col_keywords is not None and c.col_keywords.search(header))
            if len(self._cache) < _GATE_CACHE_SIZE:
                self._cache[header] = hit
        return hit

    def column_candidates(self, text: str, cells: list[Cell]) -> list[Candidate]:
        """Each cell whose whole text has the value shape of a column its header opens."""
        out: list[Candidate] = []
        for cell in cells:
            if not cell.header:
                continue
            for c in self.gated_for(cell.header):
                assert c.col_rx is not None
                try:
                    mt = c.col_rx.fullmatch(text, cell.start, cell.end, timeout=self.timeout)
                except TimeoutError as exc:
                    raise MatchTimeout(c.pattern.id) from exc
                if mt is not None:
                    out.append((c, mt))
        return out

    def text_table_candidates(self, text: str, header_hits: list[int]) -> list[TextTableCandidate]:
        """Rows under a header line in plain text (a PDF page's table loses its cells).

        A header line names columns and holds no values: no digits outside brackets, no
        "label: value" colon. The rows below it, up to a blank line or a "label: value"
        line, are searched for the value shapes of the columns the header names. Which
        column a value sat in is unknown here, so this evidence counts as *far* context.
        """
        out: list[TextTableCandidate] = []
        seen: set[int] = set()
        for hit in header_hits:
            start = text.rfind("\n", 0, hit) + 1
            if start in seen:
                continue
            seen.add(start)
            end = text.find("\n", hit)
            end = len(text) if end < 0 else end
            line = text[start:end]
            if not _looks_like_header_line(line):
                continue
            gated = self.gated_for(line)
            if not gated:
                continue
            pos = end + 1
            for _ in range(_TABLE_ROWS):
                if pos >= len(text):
                    break
                nl = text.find("\n", pos)
                row_end = len(text) if nl < 0 else nl
                if not _looks_like_row(text[pos:row_end]):
                    break
                for c in gated:
                    assert c.col_ws_rx is not None
                    try:
                        for mt in c.col_ws_rx.finditer(text, pos, row_end, timeout=self.timeout):
                            # Only values with digits (lots, dates, codes): in running text a
                            # bare word shape (a name) is too easy to find without its column.
                            if any(ch.isdigit() for ch in mt.group(0)):
                                out.append((c, GroupZero(mt), line))
                    except TimeoutError as exc:
                        raise MatchTimeout(c.pattern.id) from exc
                pos = row_end + 1
        return out


class TableRows:
    """One document's table state: each table's header row (per part, sheet and column
    count, so a CSV whose first line is a title still has its real header under every row)
    and the cell just before the current one."""

    def __init__(self) -> None:
        self._headers: dict[tuple[str, str | None, int], list[str]] = {}
        self._prev_cell: tuple[Location, str] | None = None

    def row_label(self, seg: Segment) -> str | None:
        """A table cell without a header (the table's first row) is labelled by the cell
        just before it in the same row: "Compound | IXRW-089221" as two cells."""
        loc, prev = seg.location, self._prev_cell
        if loc.cell is None or prev is None:
            return None
        row = loc.cell.lstrip(_ROW_LETTERS)
        p_loc, p_text = prev
        if (p_loc.part, p_loc.sheet, p_loc.name) != (loc.part, loc.sheet, loc.name):
            return None
        if p_loc.cell is None or p_loc.cell.lstrip(_ROW_LETTERS) != row:
            return None
        return p_text if len(p_text) <= _LABEL_MAX and "\n" not in p_text else None

    def remember_cell(self, seg: Segment, text: str) -> None:
        self._prev_cell = (seg.location, text.strip()) if seg.location.cell is not None else None

    def cells(self, text: str, header: str | None, seg: Segment) -> list[Cell] | None:
        """The cells of a table row and each one's column header (None: not a table row)."""
        if CELL_SEP not in text:
            if header is None or "\n" in text.strip():
                return None
            s, e = _strip_span(text, 0, len(text))
            return [Cell(s, e, header)] if e > s else None
        if "\n" in text.strip():
            return None  # a block of text with pipes in it, not one table row
        spans: list[tuple[int, int]] = []
        pos = 0
        for part in text.split(CELL_SEP):
            spans.append((pos, pos + len(part)))
            pos += len(part) + len(CELL_SEP)
        n = len(spans)
        texts = [text[a:b].strip() for a, b in spans]
        key = (seg.location.part, seg.location.sheet, n)
        heads: list[str] | None = None
        if header is not None and header.count(CELL_SEP) + 1 == n:
            heads = [h.strip() for h in header.split(CELL_SEP)]
        elif key in self._headers:
            heads = self._headers[key]
        if _looks_like_header(texts):
            self._headers[key] = texts  # the latest header row heads the rows below it
        if heads is None:
            return None
        out = []
        label = texts[0]
        for i, ((a, b), h) in enumerate(zip(spans, heads, strict=True)):
            s, e = _strip_span(text, a, b)
            if e > s:
                # A cell is labelled by its column header and by its row's first cell
                # ("IBAN | NL09 ..." in a key/value table), as the DOCX extractor does.
                bits = [x for x in (h, label if i else None) if x]
                out.append(Cell(s, e, CELL_SEP.join(bits) or None))
        return out


def header_for(cells: list[Cell] | None, pos: int, header: str | None) -> str | None:
    """The header of the column holding ``pos``; the whole context when the row has no columns."""
    if not cells:
        return header
    for cell in cells:
        if cell.start <= pos < cell.end:
            return cell.header
    return None


def _looks_like_header(cells: list[str]) -> bool:
    """A row of labels ("Employee name | Date of Birth | SSN"), not of values: short cells
    with letters, at most a third of them holding a digit."""
    filled = [c for c in cells if c]
    if len(filled) < 2 or any(len(c) > _HEADER_CELL_MAX or not any(ch.isalpha() for ch in c) for c in filled):
        return False
    with_digits = sum(any(ch.isdigit() for ch in c) for c in filled)
    return with_digits * 3 <= len(filled)


def _looks_like_header_line(line: str) -> bool:
    """'Item Lot No. NDC Units', 'Subject Date of Birth Diagnosis (ICD-10) Term': labels only."""
    bare: str = _BRACKETED.sub(" ", line).strip()
    if (
        not bare
        or len(bare) > _HEADER_LINE_MAX
        or ":" in bare
        or bare.endswith((".", ",", ";"))
        or any(ch.isdigit() for ch in bare)
    ):
        return False
    words = bare.split()
    if not _HEADER_WORDS[0] <= len(words) <= _HEADER_WORDS[1]:
        return False
    # Column labels are capitalised ("Lot No.", "Date of Birth"); prose is mostly lower case.
    return sum(w[0].isupper() for w in words) >= _HEADER_CAPITALISED * len(words)


def _looks_like_row(line: str) -> bool:
    """A data row under a text-table header: values (two or more with digits), not a sentence
    or a "label: value" line."""
    bare = line.strip()
    if not bare or ": " in bare or bare.endswith((".", ";", ":")) or _looks_like_header_line(bare):
        return False
    return sum(any(ch.isdigit() for ch in tok) for tok in bare.split()) >= 2


def _strip_span(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
