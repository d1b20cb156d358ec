"""Run every pattern's embedded examples through the real matcher (``clearance patterns test``).

Its own module because it needs both halves of detection: the pattern sets (``patterns``) and the
``Matcher`` that compiles them (``match``), which itself imports ``patterns``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scanner.detect.match import Matcher, MatchResult
from scanner.detect.patterns import PatternSet
from scanner.model import Location, Segment

EXAMPLE_HEADER_SEP = " || "
EXAMPLES_HASH_KEY = b"examples"  # examples are not secrets: any fixed key will do


@dataclass(slots=True)
class ExampleResult:
    pattern: str
    kind: str  # must_match | must_not_match
    index: int
    text: str
    passed: bool
    detail: str = ""


@dataclass(slots=True)
class ExampleReport:
    results: list[ExampleResult] = field(default_factory=list)

    @property
    def failures(self) -> list[ExampleResult]:
        return [r for r in self.results if not r.passed]


def run_examples(pset: PatternSet, only: Sequence[str] | None = None) -> ExampleReport:
    """Each pattern alone in its own matcher, so no other pattern interferes with its examples."""
    report = ExampleReport()
    for p in pset.patterns:
        if only and p.id not in only:
            continue
        matcher = Matcher(PatternSet((p,)), hash_key=EXAMPLES_HASH_KEY)
        for kind, texts in (("must_match", p.must_match), ("must_not_match", p.must_not_match)):
            for i, text in enumerate(texts):
                try:
                    hits = match_example(matcher, text)
                except Exception as exc:  # a crash in one example is that example's failure, not the run's
                    report.results.append(ExampleResult(p.id, kind, i, text, False, f"error: {exc}"))
                    continue
                found = [h for h in hits.findings if h.pattern == p.id]
                ok = bool(found) if kind == "must_match" else not found
                detail = ""
                if not ok and kind == "must_match":
                    near = [n.explanation.summary() for n in hits.near_misses if n.pattern == p.id]
                    detail = "no finding" + (f"; near-miss: {near[0]}" if near else "")
                elif not ok:
                    detail = f"unexpected finding: {found[0].explanation.summary()}"
                report.results.append(ExampleResult(p.id, kind, i, text, ok, detail))
    return report


def match_example(matcher: Matcher, text: str) -> MatchResult:
    """Match one embedded example; ``header || row`` is a table row under that header
    (how CSV and spreadsheet rows reach the matcher)."""
    if EXAMPLE_HEADER_SEP in text:
        header, _, row = text.partition(EXAMPLE_HEADER_SEP)
        return matcher.doc().feed(Segment(row, Location("table"), context=header))
    return matcher.match_text(text)
