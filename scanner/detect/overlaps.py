"""One stretch of text is one thing: where two patterns claim the same characters, one wins."""

from __future__ import annotations

import bisect

from scanner.model import Confidence, Finding

Superseded = tuple[Finding, Finding]  # (the finding dropped, the one that took its text)


def resolve_overlaps(raw: list[tuple[float, Finding]]) -> tuple[list[Finding], list[Superseded]]:
    """The findings kept (in text order) and those superseded, in the order they were dropped.

    Where two patterns claim the same characters, the stronger claim (score, then severity,
    then the narrower value) wins. A finding inside a larger one of another pattern reported
    at medium or high confidence is part of it (the formula inside an InChI, the digits inside
    an IBAN). ``raw`` holds (score, finding) pairs and is sorted in place.
    """
    if len(raw) == 1:
        return [raw[0][1]], []
    raw.sort(key=lambda t: (-t[0], -t[1].severity.rank, t[1].end - t[1].start))
    dropped: list[Superseded] = []
    kept: list[Finding] = []
    spans: set[tuple[str, int, int]] = set()
    # Kept findings indexed by start (sorted), so each new one is compared only with
    # those starting up to the longest kept width before it: O(n log n), not O(n^2)
    # (a 1 MB log chunk can hold tens of thousands of findings).
    starts: list[int] = []
    by_start: list[Finding] = []
    widest = 0
    for _score, f in raw:
        if (f.pattern, f.start, f.end) in spans:
            continue  # the same hit twice (overlapping windows, or inline and column paths)
        i = bisect.bisect_right(starts, f.start)
        clash = None
        j = i - 1
        while j >= 0 and f.start - starts[j] <= widest:
            k = by_start[j]
            if f.end <= k.end and k.pattern != f.pattern:
                clash = k
                break
            j -= 1
        if clash is None:
            kept.append(f)
            spans.add((f.pattern, f.start, f.end))
            starts.insert(i, f.start)
            by_start.insert(i, f)
            widest = max(widest, f.end - f.start)
        else:
            dropped.append((f, clash))
    kept.sort(key=lambda f: (f.start, -f.end))
    if len(kept) < 2:
        return kept, dropped
    # Sweep in start order: the widest finding so far that is reported at medium or
    # high confidence swallows what lies strictly inside it.
    out: list[Finding] = []
    outer: Finding | None = None
    for f in kept:
        if (
            outer is not None
            and f.end <= outer.end
            and f.pattern != outer.pattern
            and (outer.end - outer.start) > (f.end - f.start)
        ):
            dropped.append((f, outer))
            continue
        out.append(f)
        if f.confidence is not Confidence.LOW and (outer is None or f.end > outer.end):
            outer = f
    return out, dropped
