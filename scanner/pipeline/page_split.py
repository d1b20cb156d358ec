"""One big PDF read by several workers at once: how its pages are cut, how parts rejoin.

A 5,000-page PDF is one file, so spreading files over the pool leaves every worker but
one idle while it is read. The worker that opens such a file (the *first part*) learns
its page count, keeps the first range and hands the others back to the pool, which
queues them ahead of later files; any free worker takes the next one. The first part
also walks the document structure (metadata, annotations, form fields, attachments),
which costs about as much as the page text, so it keeps only one range of pages.

Ranges are small enough (several per worker) that a slow page, e.g. one pdfminer must
lay out, does not leave the other workers waiting, and large enough that opening the
file again (milliseconds) is noise. Each later part also reads the page before its
range, only so the matcher sees the same preceding text as in one pass; its findings
there are dropped. The parts' outcomes are merged in page order, so a split scan
reports what a single worker would, with the failures of any part kept (fail closed).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from scanner.model import FINDINGS_LIMIT_NOTE, DocOutcome, Finding
from scanner.pipeline.worker import MAX_NEAR_MISSES

MIN_PAGES_PER_PART = 100  # ~0.1-0.3 s of PDFium text: reopening the file is noise beside it
PARTS_PER_WORKER = 4  # slack for uneven pages, without a flood of tiny tasks


PageRange = tuple[int, int]  # [start, stop), 0-based page indexes


def plan(pages: int, workers: int) -> list[PageRange]:
    """Page ranges for ``pages`` pages over ``workers`` processes; one range means no split."""
    if workers < 2 or pages < 2 * MIN_PAGES_PER_PART:
        return [(0, pages)]
    parts = min(workers * PARTS_PER_WORKER, pages // MIN_PAGES_PER_PART)
    bounds = [pages * i // parts for i in range(parts + 1)]
    return list(pairwise(bounds))


def describe(rng: PageRange) -> str:
    """'pages 626-1250' (1-based, as a reader counts them)."""
    return f"pages {rng[0] + 1}-{rng[1]}"


def merge(
    first: list[DocOutcome], parts: Sequence[tuple[PageRange, list[DocOutcome]]], max_per_pattern: int
) -> list[DocOutcome]:
    """The first part's outcomes with every later part's page results folded into the file's.

    ``first[0]`` is the file itself (members, e.g. PDF attachments, follow it and come
    only from the first part). A part that failed carries only errors; they are kept,
    prefixed with its pages, so the file is unscannable and the policy blocks it.
    """
    if not first:
        return first
    top = first[0]
    for rng, outcomes in parts:
        part = next((o for o in outcomes if o.path == top.path), outcomes[0] if outcomes else None)
        if part is None:
            top.errors.append(f"{describe(rng)}: no result from the scanner worker")
            continue
        _add_findings(top, part.findings, max_per_pattern)
        top.near_misses.extend(part.near_misses[: max(0, MAX_NEAR_MISSES - len(top.near_misses))])
        top.errors.extend(e if e.startswith("damaged PDF") else f"{describe(rng)}: {e}" for e in part.errors)
        top.segments += part.segments
        top.chars += part.chars
        top.seconds = max(top.seconds, part.seconds)
        _merge_notes(top.notes, part.notes)
    top.errors[:] = list(dict.fromkeys(top.errors))
    top.notes["page_parts"] = 1 + len(parts)
    return first


def _add_findings(top: DocOutcome, more: list[Finding], max_per_pattern: int) -> None:
    """Append a part's findings under the matcher's per-pattern limit, counting the rest."""
    per_pattern: dict[str, int] = {}
    for f in top.findings:
        per_pattern[f.pattern] = per_pattern.get(f.pattern, 0) + 1
    for f in more:
        n = per_pattern.get(f.pattern, 0)
        if n < max_per_pattern:
            per_pattern[f.pattern] = n + 1
            top.findings.append(f)
        else:
            limited = top.notes.setdefault(FINDINGS_LIMIT_NOTE, {})
            limited[f.pattern] = limited.get(f.pattern, 0) + 1


def _merge_notes(into: dict[str, Any], more: dict[str, Any]) -> None:
    """Counts add up (engines per page, pages without text); anything else: the first part's."""
    for key, value in more.items():
        mine = into.get(key)
        if isinstance(value, dict) and isinstance(mine, dict):
            for k, v in value.items():
                mine[k] = mine.get(k, 0) + v if isinstance(v, int | float) else mine.get(k, v)
        elif isinstance(value, int | float) and not isinstance(value, bool) and isinstance(mine, int | float):
            into[key] = mine + value
        else:
            into.setdefault(key, value)
