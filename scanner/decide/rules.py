"""What a policy is: rules of conditions over findings, and the outcomes of the document-level checks.

A rule is a list of conditions that must all hold (co-occurrence). A condition selects findings by
pattern id (globs), category, minimum severity and confidence, and counts them (``count = "unique"``
values by keyed hash, or ``"all"`` occurrences) against ``min_count``/``max_count``. How a policy
turns these into a verdict is ``scanner.decide.policy``; how TOML becomes one is ``policy_file``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from scanner.model import Confidence, Finding, Severity, Verdict

DEFAULT_LABEL_ORDER = ("Public", "Internal", "Confidential", "Restricted")
_UNBOUNDED = 1 << 62  # the count of a pattern past the matcher's limit: unknown, so "any"


class CountMode(StrEnum):
    UNIQUE = "unique"  # distinct values (by keyed hash)
    ALL = "all"  # every occurrence


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a document-level check yields: verdict, label, may a user override it."""

    verdict: Verdict
    label: str | None = None
    allow_override: bool = True


@dataclass(frozen=True, slots=True)
class Condition:
    patterns: tuple[str, ...] = ()  # globs over pattern ids; empty: any
    categories: frozenset[str] = frozenset()
    min_severity: Severity | None = None
    min_confidence: Confidence | None = None
    min_count: int = 1
    max_count: int | None = None
    count: CountMode = CountMode.UNIQUE

    def selects(self, f: Finding) -> bool:
        if self.categories and f.category not in self.categories:
            return False
        if self.min_severity is not None and Severity(f.severity).rank < self.min_severity.rank:
            return False
        if self.min_confidence is not None and Confidence(f.confidence).rank < self.min_confidence.rank:
            return False
        return not self.patterns or any(fnmatch.fnmatchcase(f.pattern, g) for g in self.patterns)

    def evaluate(self, findings: Sequence[Finding], limited: Collection[str] = ()) -> list[Finding] | None:
        """The findings this condition selects if its count holds, else None.

        ``limited``: patterns that reached the matcher's per-document limit, whose true
        count is unknown beyond it; a count over them is taken as unbounded, so a "more
        than N" rule still fires and an "at most N" allowance does not (fail closed).
        """
        picked = [f for f in findings if self.selects(f)]
        n = len({f.hash or f.masked for f in picked}) if self.count is CountMode.UNIQUE else len(picked)
        if limited and any(f.pattern in limited for f in picked):
            n = max(n, _UNBOUNDED)
        if n < self.min_count or (self.max_count is not None and n > self.max_count):
            return None
        return picked


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    conditions: tuple[Condition, ...]
    verdict: Verdict
    label: str | None = None
    allow_override: bool = True
    reason: str | None = None

    def evaluate(self, findings: Sequence[Finding], limited: Collection[str] = ()) -> list[Finding] | None:
        matched: dict[int, Finding] = {}
        for cond in self.conditions:
            picked = cond.evaluate(findings, limited)
            if picked is None:
                return None
            matched.update((id(f), f) for f in picked)
        return list(matched.values())


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    rules: tuple[Rule, ...]
    description: str = ""
    ignore_patterns: tuple[str, ...] = ()
    block_label: str = "Restricted"
    unscannable: Outcome = Outcome(Verdict.BLOCK, None, False)
    pages_without_text: Outcome = Outcome(Verdict.LABEL, "Confidential", True)
    unlabelable: Outcome = Outcome(Verdict.BLOCK, None, True)
    cross_partner: Outcome = Outcome(Verdict.BLOCK, None, False)
    partner_material: Outcome = Outcome(Verdict.LABEL, "Confidential", True)
    label_order: tuple[str, ...] = DEFAULT_LABEL_ORDER
    labelable_types: frozenset[str] | None = None  # None: what the label writer can mark (LABELABLE_TYPES)

    def labels_used(self) -> set[str]:
        out = {self.block_label}
        out.update(r.label for r in self.rules if r.label)
        for o in (self.unscannable, self.pages_without_text, self.cross_partner, self.partner_material):
            if o.label:
                out.add(o.label)
        return out
