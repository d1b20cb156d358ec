"""Records that cross module boundaries (and process boundaries: all are picklable).

Nothing here holds behaviour beyond (de)serialisation. Raw matched text lives only in
``Finding.value`` in memory; ``to_dict`` leaves it out unless the caller asks to reveal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Verdict(enum.StrEnum):
    ALLOW = "allow"
    LABEL = "label"
    BLOCK = "block"


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RANK[self.value]


class Confidence(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RANK[self.value]

    @classmethod
    def from_score(cls, score: float) -> Confidence | None:
        """Purview-style ladder: >=0.85 high, >=0.65 medium, >=0.40 low, else not reported."""
        if score >= 0.85:
            return cls.HIGH
        if score >= 0.65:
            return cls.MEDIUM
        if score >= 0.40:
            return cls.LOW
        return None


_RANK = {"low": 1, "medium": 2, "high": 3}

# Location parts the extractors emit. Kept as plain strings in Location (they are the
# JSON contract), listed here so tests and the GUI can check and translate them.
PARTS = (
    "body",
    "table",
    "header",
    "footer",
    "footnote",
    "endnote",
    "comment",
    "tracked_change",
    "textbox",
    "property",
    "sheet",
    "hidden_sheet",
    "cell_comment",
    "defined_name",
    "annotation",
    "form_field",
    "metadata",
    "attachment",
    "notes",
    "slide",
    "hidden_slide",
    "slide_master",
    "slide_layout",
    "notes_master",
    "handout_master",
    "hyperlink",
    "chart",
    "sheet_name",
    "data_validation",
    "conditional_format",
    "filter",
    "scenario",
    "unreferenced_string",
    "macro",  # VBA modules, Excel 4 macro sheets, PDF JavaScript
    "package",  # text a dedicated reader did not yield, found by the package sweep (named by part)
    "filename",
)


class Location(NamedTuple):
    """Where a piece of text came from inside one document (not which document).

    A NamedTuple rather than a frozen dataclass: a spreadsheet yields one per cell, and
    building one costs ~0.2 µs this way against ~0.5 µs for a slotted dataclass. It is
    immutable, hashable and picklable all the same; compare it only with other Locations.
    """

    part: str
    page: int | None = None  # 1-based PDF page or slide number
    sheet: str | None = None
    cell: str | None = None  # "B7"
    paragraph: int | None = None  # 0-based paragraph index within the part
    name: str | None = None  # property name, form-field name, XML part name, ...
    line: int | None = None  # 1-based line for text files (first line of the chunk)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"part": self.part}
        for key in ("page", "sheet", "cell", "paragraph", "name", "line"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Location:
        return cls(
            data.get("part", ""),
            data.get("page"),
            data.get("sheet"),
            data.get("cell"),
            data.get("paragraph"),
            data.get("name"),
            data.get("line"),
        )

    def describe(self) -> str:
        """Short human text: 'page 3', 'Sheet1!B7 (hidden_sheet)', 'table 2, cell B3', 'header'."""
        bits = []
        if self.sheet is not None:
            bits.append(f"{self.sheet}!{self.cell}" if self.cell else self.sheet)
        if self.page is not None:
            bits.append(f"page {self.page}")
        if self.name:
            bits.append(self.name)
        if self.cell and self.sheet is None:
            # A DOCX/PPTX table cell: "table (table 2, cell B3)" says which cell to look at.
            bits.append(f"cell {self.cell}")
        if self.line is not None:
            bits.append(f"line {self.line}")
        where = ", ".join(bits)
        return f"{self.part} ({where})" if where else self.part


class Segment(NamedTuple):
    """A run of text the matcher reads, with where it came from.

    ``doc`` is the member path inside the scanned file ("" for the file itself,
    "inner/a.docx" for a ZIP member, "b.zip!c.txt" for a nested one).
    ``context`` carries text that labels this segment without being part of it (a
    table column header for a cell), so a keyword there counts as near context.
    A NamedTuple for the same reason as ``Location``: one per spreadsheet cell.
    """

    text: str
    location: Location
    doc: str = ""
    context: str | None = None
    engine: str | None = None  # which parser produced it, where a format has several (PDF)


@dataclass(frozen=True, slots=True)
class DocStart:
    """A (nested) document begins: extractors of containers emit one per member."""

    doc: str
    type: str
    sha256: str
    bytes: int


@dataclass(frozen=True, slots=True)
class DocProblem:
    """The document could not be read completely; ``reason`` is user-facing words."""

    doc: str
    reason: str


@dataclass(frozen=True, slots=True)
class DocNote:
    """A fact about the document that policy may weigh (e.g. pages without text)."""

    doc: str
    key: str
    value: Any


Event = Segment | DocStart | DocProblem | DocNote


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    pattern: str
    pattern_name: str
    base_score: float
    score: float
    confidence: Confidence | None  # None for a near-miss (not reported)
    # The evidence: absent unless found (keyword-only, so the order here is free).
    validator: str | None = None
    validator_result: bool | None = None  # None: no validator (or it had no opinion)
    keyword: str | None = None  # the supporting context word found, if any
    keyword_distance: int | None = None  # characters between keyword and match
    keyword_scope: str | None = None  # "near" | "far" | "header"
    negative: str | None = None  # negative context word found, if any
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "pattern_name": self.pattern_name,
            "base_score": self.base_score,
            "validator": self.validator,
            "validator_result": self.validator_result,
            "keyword": self.keyword,
            "keyword_distance": self.keyword_distance,
            "keyword_scope": self.keyword_scope,
            "negative": self.negative,
            "score": round(self.score, 3),
            "confidence": self.confidence.value if self.confidence is not None else None,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Explanation:
        return cls(
            pattern=d["pattern"],
            pattern_name=d["pattern_name"],
            base_score=d["base_score"],
            validator=d["validator"],
            validator_result=d["validator_result"],
            keyword=d["keyword"],
            keyword_distance=d["keyword_distance"],
            keyword_scope=d["keyword_scope"],
            negative=d["negative"],
            score=d["score"],
            confidence=Confidence(d["confidence"]) if d["confidence"] is not None else None,
            notes=tuple(d.get("notes", ())),
        )

    def summary(self) -> str:
        """One line for people: 'checksum valid, keyword "SSN" 6 chars before (near) -> high'."""
        bits = []
        if self.validator:
            if self.validator_result is True:
                bits.append(f"{self.validator} valid")
            elif self.validator_result is False:
                bits.append(f"{self.validator} failed")
        if self.keyword:
            bits.append(f'keyword "{self.keyword}" {self.keyword_distance} chars away ({self.keyword_scope})')
        else:
            bits.append("no context keyword")
        if self.negative:
            bits.append(f'negative context "{self.negative}"')
        bits.extend(self.notes)
        return f"{', '.join(bits)} -> {self.confidence or 'not reported'} ({self.score:.2f})"


@dataclass(frozen=True, slots=True)
class Finding:
    pattern: str
    name: str
    category: str
    severity: Severity
    confidence: Confidence
    location: Location
    start: int  # char offsets in the segment
    end: int
    masked: str
    hash: str  # keyed hash of the normalised value: count and correlate, never reverse
    explanation: Explanation
    value: str = field(default="", repr=False)  # raw text: memory only, shown on --reveal

    def to_dict(self, reveal: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pattern": self.pattern,
            "name": self.name,
            "category": self.category,
            "severity": self.severity.value,
            "confidence": self.confidence.value,
            "location": self.location.to_dict(),
            "masked": self.masked,
            "hash": self.hash,
            "explanation": self.explanation.to_dict(),
        }
        if reveal:
            out["text"] = self.value
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(
            d["pattern"],
            d["name"],
            d["category"],
            Severity(d["severity"]),
            Confidence(d["confidence"]),
            Location.from_dict(d["location"]),
            d.get("start", 0),
            d.get("end", 0),
            d["masked"],
            d["hash"],
            Explanation.from_dict(d["explanation"]),
            d.get("text", ""),
        )


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A shape that matched but was not reported: answers 'why was this not flagged?'."""

    pattern: str
    location: Location
    masked: str
    explanation: Explanation

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "location": self.location.to_dict(),
            "masked": self.masked,
            "explanation": self.explanation.to_dict(),
        }


# DocOutcome.notes key: {pattern id: matches not examined} for patterns that reached the
# matcher's per-document limit (``match.MAX_FINDINGS_PER_PATTERN``); policy counts over
# them are unbounded.
FINDINGS_LIMIT_NOTE = "findings_limit_reached"


@dataclass(slots=True)
class DocOutcome:
    """What extraction + matching learned about one document (file or member).

    Produced in a worker; the policy turns it into a verdict in the caller, so that a
    change of destination re-decides without re-scanning.
    """

    path: str  # display path: "dir/a.zip!inner/b.docx"
    type: str
    sha256: str
    bytes: int
    findings: list[Finding] = field(default_factory=list)
    near_misses: list[NearMiss] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # non-empty: not scanned completely
    notes: dict[str, Any] = field(default_factory=dict)
    segments: int = 0
    chars: int = 0
    seconds: float = 0.0
    container: bool = False  # an archive whose members have their own outcomes
    existing_label: dict[str, Any] | None = None

    @property
    def error(self) -> str | None:
        return "; ".join(dict.fromkeys(self.errors)) if self.errors else None


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    label: str | None
    reasons: tuple[str, ...]
    overridable: bool = True


@dataclass(slots=True)
class FileResult:
    """One JSON line of `clearance scan --format jsonl`."""

    outcome: DocOutcome
    decision: Decision
    destination: str | None = None

    @property
    def path(self) -> str:
        return self.outcome.path

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.outcome.findings:
            out[f.category] = out.get(f.category, 0) + 1
        return out

    def to_dict(self, reveal: bool = False, explain: bool = False) -> dict[str, Any]:
        o = self.outcome
        out: dict[str, Any] = {
            "path": o.path,
            "type": o.type,
            "verdict": self.decision.verdict.value,
            "label": self.decision.label,
            "reasons": list(self.decision.reasons),
            "sha256": o.sha256,
            "bytes": o.bytes,
            "destination": self.destination,
            "findings": [f.to_dict(reveal) for f in o.findings],
            "counts": self.counts(),
            "error": o.error,
            "existing_label": o.existing_label,
            "seconds": o.seconds,
        }
        if o.notes:
            out.update({k: v for k, v in o.notes.items() if k not in out})
        if explain:
            out["near_misses"] = [n.to_dict() for n in o.near_misses]
        return out
