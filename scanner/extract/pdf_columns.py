"""Reading order for multi-column PDF pages read by PDFium.

PDFium returns a page's text in content-stream order. Most producers write a column
at a time, and then that is the reading order; some write each baseline across the
whole page (left column's line 1, right column's line 1, ...), and PDFium joins those
into lines that mix columns: "the social | stearate; the blend" — a phrase, or a label
and its value, torn apart. pdfminer's layout analysis gets this right at 1/30 of the
speed, so the page stays with PDFium and only its order is fixed here.

The text rectangles PDFium reports (one per run of characters on a line) show the
columns: a *gutter* is a vertical strip, away from the page's edges, that almost no
run crosses, with runs on both sides. When runs alternate across a gutter (the
interleaved case), the page is cut into horizontal bands — a run that crosses a
gutter (a title, a full-width paragraph) is a band of its own — and each band is read
column by column with PDFium's bounded-text call. The result is used only if it holds
exactly the words of the stream-order text: reordering never loses or glues text.
"""

from __future__ import annotations

import ctypes
from collections import Counter
from collections.abc import Callable
from typing import Any

_MIN_RUNS = 8  # fewer runs: nothing to learn from
_MIN_GUTTER = 6.0  # points; a word space is ~3, a column gutter 12 or more
_CROSS_SHARE = 0.05  # share of runs that may cross a gutter (titles, full-width lines)
_MIN_SIDE = 3  # runs needed on each side of a gutter
_PROSE_FILL = 0.7  # a text column's typical line fills most of its width; a table's cells do not
_INSET = 1.0  # points a band's query stays inside its cuts: PDFium takes any character
# its box touches, and descenders reach across a tight cut
_RUNS_PER_LINE = 1.5  # below this many runs per output line, no line joins two columns
_MIN_COLUMN_SHARE = 0.25  # of the text's width: narrower "columns" are table columns or margin notes


Rect = tuple[float, float, float, float]  # left, bottom, right, top (PDF points)


def find_gutters(rects: list[Rect]) -> list[tuple[float, float]]:
    """Vertical strips between columns: [(x0, x1)], left to right; [] for a one-column page."""
    if len(rects) < _MIN_RUNS:
        return []
    left = min(r[0] for r in rects)
    right = max(r[2] for r in rects)
    width = int(right - left) + 1
    if width < 4 * _MIN_GUTTER:
        return []
    # Runs covering each point of x (a difference array: O(width + runs), not width x runs).
    delta = [0] * (width + 1)
    for l_, _, r_, _ in rects:
        delta[max(0, int(l_ - left))] += 1
        delta[min(width, int(r_ - left) + 1)] -= 1
    allowed = max(1, int(len(rects) * _CROSS_SHARE))
    gutters: list[tuple[float, float]] = []
    cover, start = 0, None
    for x in range(width):
        cover += delta[x]
        low = cover <= allowed
        if low and start is None:
            start = x
        elif not low and start is not None:
            gutters.append((left + start, left + x))
            start = None
    out = []
    for g0, g1 in gutters:
        if g1 - g0 < _MIN_GUTTER or g0 <= left + 1 or g1 >= right - 1:
            continue
        lefts = sum(1 for r in rects if r[2] <= g0 + 1)
        rights = sum(1 for r in rects if r[0] >= g1 - 1)
        if lefts >= _MIN_SIDE and rights >= _MIN_SIDE:
            out.append((g0, g1))
    return out if out and _prose_columns(rects, out, left, right) else []


def _prose_columns(rects: list[Rect], gutters: list[tuple[float, float]], left: float, right: float) -> bool:
    """Are these columns of running text, not a table?

    A table's columns also have gutters and its rows alternate across them, but reading
    it column by column would part each label from its value ("SSN" | 212-67-4431).
    Text columns are wide, and their lines fill them; table cells mostly do not.
    """
    edges = [left, *((g0 + g1) / 2 for g0, g1 in gutters), right]
    for x0, x1 in zip(edges, edges[1:], strict=False):
        runs = [r for r in rects if r[0] >= x0 - 1 and r[2] <= x1 + 1]
        if len(runs) < _MIN_SIDE:
            return False
        extent = max(r[2] for r in runs) - min(r[0] for r in runs)
        if extent < _MIN_COLUMN_SHARE * (right - left):
            return False
        widths = sorted(r[2] - r[0] for r in runs)
        if widths[len(widths) // 2] < _PROSE_FILL * extent:
            return False
    return True


def _column(rect: Rect, gutters: list[tuple[float, float]]) -> int | None:
    """Index of the column a run lies in; None when it crosses a gutter."""
    for i, (g0, g1) in enumerate(gutters):
        mid = (g0 + g1) / 2
        if rect[0] < mid < rect[2]:
            return None
        if rect[2] <= mid:
            return i
    return len(gutters)


def interleaved(rects: list[Rect], gutters: list[tuple[float, float]]) -> bool:
    """Do runs, in stream order, hop between columns more often than reading them in order would?"""
    columns = [c for c in (_column(r, gutters) for r in rects) if c is not None]
    hops = sum(1 for a, b in zip(columns, columns[1:], strict=False) if a != b)
    return hops > 2 * (len(gutters) + 1)


def bands(rects: list[Rect], gutters: list[tuple[float, float]]) -> list[tuple[float, float, bool]]:
    """Horizontal bands, top to bottom: (bottom, top, multi-column?)."""
    ordered = sorted(rects, key=lambda r: -r[3])
    out: list[list[Any]] = []
    for r in ordered:
        multi = _column(r, gutters) is not None
        if out and (out[-1][2] == multi or r[3] > out[-1][0] + 0.5):
            # Same kind, or overlapping the band above: one band. A full-width run beside
            # column text makes the band full width (read in PDFium's order), so no band
            # reaches into another and no character is read twice.
            out[-1][0] = min(out[-1][0], r[1])
            out[-1][1] = max(out[-1][1], r[3])
            out[-1][2] = out[-1][2] and multi
        else:
            out.append([r[1], r[3], multi])
    # Cut at midpoints, so a character straddling two bands' boxes is in exactly one.
    for upper, lower in zip(out, out[1:], strict=False):
        cut = (upper[0] + lower[1]) / 2
        upper[0] = lower[1] = cut
    if out:  # the outermost edges are no cut: reach past them
        out[0][1] += 2 * _INSET
        out[-1][0] -= 2 * _INSET
    return [(b, t, m) for b, t, m in out]


def _runs(textpage: Any, count: int) -> list[Rect]:
    """The boxes of the page's text runs: the raw call with four reused doubles, since
    ``PdfTextPage.get_rect`` allocates them anew for each of a page's hundreds of runs."""
    import pypdfium2.raw as pdfium_c  # deferred: start-up time (~30 ms; see pdf_text)

    get = pdfium_c.FPDFText_GetRect
    left, top, right, bottom = (ctypes.c_double() for _ in range(4))
    refs = (ctypes.byref(left), ctypes.byref(top), ctypes.byref(right), ctypes.byref(bottom))
    out: list[Rect] = []
    append = out.append
    for i in range(count):
        if get(textpage, i, *refs):
            append((left.value, bottom.value, right.value, top.value))
    return out


def column_ordered_text(textpage: Any, stream_text: str, clean: Callable[[str], str]) -> str | None:
    """The page read column by column, or None when the stream order is already right
    (one column, or columns written one after another) or reordering would change the text."""
    count = textpage.count_rects()
    # Interleaved columns put two or more runs on every line PDFium outputs; a page with
    # about one run per line cannot be interleaved, and most pages end here, before the
    # runs' boxes are fetched (a ctypes call each).
    if count < _MIN_RUNS or count < _RUNS_PER_LINE * (stream_text.count("\n") + 1):
        return None
    rects = _runs(textpage, count)
    gutters = find_gutters(rects)
    if not gutters or not interleaved(rects, gutters):
        return None
    left = min(r[0] for r in rects) - 1
    right = max(r[2] for r in rects) + 1
    edges = [left, *((g0 + g1) / 2 for g0, g1 in gutters), right]
    pieces: list[str] = []
    for bottom, top, multi in bands(rects, gutters):
        spans = zip(edges, edges[1:], strict=False) if multi else [(left, right)]
        for x0, x1 in spans:
            piece = textpage.get_text_bounded(
                left=x0, bottom=bottom + _INSET, right=x1, top=top - _INSET, errors="replace"
            )
            if piece.strip():
                pieces.append(piece)
    text = clean("\n".join(pieces))
    if Counter(text.split()) != Counter(stream_text.split()):
        return None  # a word lost, doubled or glued to another: keep the stream
    return text
