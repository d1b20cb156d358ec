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


def find_negative(c: CompiledPattern, text: str, start: int, end: int, col_header: str | None) -> str | None:
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
        nm = (
            c.negative.search(text, lo, start)
            or c.negative.search(text, end, _line_end(text, end, p.window[1]))
            or (c.negative.search(col_header) if col_header else None)
        )
    except TimeoutError as exc:
        raise MatchTimeout(p.id) from exc
    if nm is None:
        return None
    word: str = nm.group(0)
    return word


def _line_end(text: str, pos: int, width: int) -> int:
    """End of the after-window for negative context: it does not run into the next line."""
    stop = min(len(text), pos + width)
    nl = text.find("\n", pos, stop)
    return stop if nl < 0 else nl


def _last(back: regex.Pattern[str], text: str, pos: int, endpos: int) -> regex.Match[str] | None:
    """The last (closest to ``endpos``) match in ``text[pos:endpos]``, searched in place with
    the REVERSE-compiled pattern ``back``: it stops at the nearest keyword."""
    return back.search(text, pos, endpos) if endpos > pos else None
