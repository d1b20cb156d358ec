"""The words around a value that speak for it (keywords) or against it (negative context).

Windows are searched in place (``pos``/``endpos``), never sliced out, so a word cut by the
window edge ("...VER" of "SERVER") is not mistaken for a keyword. Keyword and negative
alternations are built from escaped words (no nested quantifiers): linear in the window, so
they run without the timeout's overhead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import regex

from scanner.detect.compiled import CompiledPattern, MatchTimeout
from scanner.detect.tables import CELL_SEP


class KeywordScope(enum.StrEnum):
    """Where the supporting keyword was found (``Explanation.keyword_scope``)."""

    NEAR = "near"  # in the pattern's window around the value (or the previous segment's tail)
    HEADER = "header"  # in the column header of the value's cell
    FAR = "far"  # in the far window, or the header line of a table in plain text


@dataclass(frozen=True, slots=True)
class Keyword:
    word: str  # as written in the text
    distance: int | None  # characters between keyword and value (None: not measurable)
    scope: KeywordScope


def find_keyword(c: CompiledPattern, text: str, start: int, end: int, header: str | None, tail: str) -> Keyword | None:
    """The supporting keyword nearest the value ``text[start:end]``: near window (reaching back
    into ``tail``, the end of earlier segments), column header, far window."""
    rx, back = c.keywords, c.keywords_rev
    if rx is None or back is None:
        return None
    p = c.pattern
    nb, na = p.window
    n = len(text)
    try:
        km = _last(back, text, max(0, start - nb), start)
        if km is not None:
            return Keyword(km.group(0), start - km.end(), KeywordScope.NEAR)
        if start < nb and tail:  # the window reaches back into earlier segments
            tl = len(tail)
            km = _last(back, tail, max(0, tl - (nb - start)), tl)
            if km is not None:
                return Keyword(km.group(0), start + 1 + tl - km.end(), KeywordScope.NEAR)
        km = rx.search(text, end, min(n, end + na))
        if km is not None:
            return Keyword(km.group(0), km.start() - end, KeywordScope.NEAR)
        if header:
            km = rx.search(header)
            if km is not None:
                return Keyword(km.group(0), 0, KeywordScope.HEADER)
        far = p.far_window
        if far > nb:
            km = _last(back, text, max(0, start - far), max(0, start - nb))
            if km is not None:
                return Keyword(km.group(0), start - km.end(), KeywordScope.FAR)
            if tail and start < far:
                tl = len(tail)
                km = _last(back, tail, max(0, tl - (far - start)), tl)
                if km is not None:
                    return Keyword(km.group(0), start + 1 + tl - km.end(), KeywordScope.FAR)
        if far > na:
            km = rx.search(text, min(n, end + na), min(n, end + far))
            if km is not None:
                return Keyword(km.group(0), km.start() - end, KeywordScope.FAR)
    except TimeoutError as exc:
        raise MatchTimeout(p.id) from exc
    return None


def table_header_keyword(c: CompiledPattern, text: str, start: int, table_header: str) -> Keyword | None:
    """A column keyword in the header line of a text table the value sits under: a column,
    but which one is unknown, so it counts as far context."""
    if c.col_keywords is None:
        return None
    km = c.col_keywords.search(table_header)
    if km is None:
        return None
    at = text.rfind(table_header, 0, start)
    return Keyword(km.group(0), start - at if at >= 0 else None, KeywordScope.FAR)


# A negative word in a row label has no measurable distance to the value: any keyword of the
# value's own is closer.
ROW_LABEL_DISTANCE = 1 << 30


@dataclass(frozen=True, slots=True)
class Negative:
    word: str  # as written in the text
    distance: int  # characters between the word and the value (0 in the column header)
    in_header: bool  # found in the value's column header rather than on its line


def find_negative(c: CompiledPattern, text: str, start: int, end: int, col_header: str | None) -> Negative | None:
    """A negative word around the value ``text[start:end]`` or in its column header.

    Negative context belongs to the value's own line, before as after it: in a log, "batch-sim
    run ok" on the line above must not excuse "SSN: 212-67-4431" (found by the 300 MB
    adversarial case), and in a text table the header line names other columns.
    """
    if c.negative is None:
        return None
    p = c.pattern
    try:
        lo = max(0, start - p.window[0], text.rfind("\n", 0, start) + 1)
        before = c.negative.search(text, lo, start)
        if before is not None:
            return Negative(before.group(0), start - before.end(), False)
        after = c.negative.search(text, end, _line_end(text, end, p.window[1]))
        if after is not None:
            return Negative(after.group(0), after.start() - end, False)
        if not col_header:
            return None
        # Extractors give a cell's context as "column header | row label": a negative word in
        # the column header speaks of this value; one in the row label speaks of the row.
        column, _, row = col_header.partition(CELL_SEP)
        header = c.negative.search(column)
        if header is not None:
            return Negative(header.group(0), 0, True)
        label = c.negative.search(row) if row else None
    except TimeoutError as exc:
        raise MatchTimeout(p.id) from exc
    return Negative(label.group(0), ROW_LABEL_DISTANCE, False) if label is not None else None


def header_keyword(c: CompiledPattern, header: str | None) -> Keyword | None:
    """The pattern's keyword in the value's column header (the part before any row label)."""
    if not header or c.keywords is None:
        return None
    try:
        km = c.keywords.search(header.partition(CELL_SEP)[0])
    except TimeoutError as exc:
        raise MatchTimeout(c.pattern.id) from exc
    return Keyword(km.group(0), 0, KeywordScope.HEADER) if km is not None else None


def keyword_outweighs(kw: Keyword | None, neg: Negative, text: str, start: int) -> bool:
    """The value's own keyword is closer than the negative word, so the negative speaks of
    something else on the line ("Batch 24-0117 ... SSN 212-67-4431", or a row label beside
    a cell under an "SSN" header). A column header is the value's own label: closest of all,
    unless the negative word is in that same header. A negative word that directly governs the
    keyword ("Example SSN: ...", nothing but spaces or punctuation between them) still counts."""
    if kw is None or neg.in_header or kw.scope is KeywordScope.FAR:
        return False
    if kw.scope is KeywordScope.HEADER:
        return True
    if kw.distance is None or kw.distance >= neg.distance:
        return False
    neg_end = start - neg.distance
    kw_start = start - kw.distance - len(kw.word)
    if 0 <= neg_end <= kw_start <= start:  # both before the value, the negative first
        return any(ch.isalnum() for ch in text[neg_end:kw_start])
    return True


def _line_end(text: str, pos: int, width: int) -> int:
    """End of the after-window for negative context: it does not run into the next line."""
    stop = min(len(text), pos + width)
    nl = text.find("\n", pos, stop)
    return stop if nl < 0 else nl


def _last(back: regex.Pattern[str], text: str, pos: int, endpos: int) -> regex.Match[str] | None:
    """The last (closest to ``endpos``) match in ``text[pos:endpos]``, searched in place with
    the REVERSE-compiled pattern ``back``: it stops at the nearest keyword."""
    return back.search(text, pos, endpos) if endpos > pos else None
