"""One stretch of text is one thing: where two patterns claim the same characters, one wins."""

from __future__ import annotations

import bisect

from scanner.detect.context import KeywordScope
from scanner.model import Confidence, Finding

Superseded = tuple[Finding, Finding]  # (the finding dropped, the one that took its text)


_ADJACENT_SCOPES = frozenset({KeywordScope.NEAR.value, KeywordScope.HEADER.value})


def _is_strong(f: Finding) -> bool:
    """Validated and labelled: a checksum or format check passed and the value's own keyword
    is beside it or heads its column. Such a value is never superseded by a looser pattern."""
    ex = f.explanation
    return ex is not None and ex.validator_result is True and ex.keyword_scope in _ADJACENT_SCOPES


def _claim_order(item: tuple[float, Finding]) -> tuple[int, int, float, int, int]:
    score, f = item
    strong = _is_strong(f)
    return (-strong, -f.severity.rank if strong else 0, -score, -f.severity.rank, f.end - f.start)


def resolve_overlaps(raw: list[tuple[float, Finding]]) -> tuple[list[Finding], list[Superseded]]:
    """The findings kept (in text order) and those superseded, in the order they were dropped.

    Where two patterns claim the same characters, the stronger claim wins: a validated value
    with its own keyword beside it first (the more severe of two such), then the higher score,
    the more severe, the narrower value. The loser is kept as a near-miss with the reason.
    A finding inside a larger one of another pattern reported at medium or high confidence is
    part of it (the formula inside an InChI, the digits inside an IBAN). ``raw`` holds
    (score, finding) pairs and is sorted in place.
    """
    if len(raw) == 1:
        return [raw[0][1]], []
    raw.sort(key=_claim_order)
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
