"""The matching pipeline: one read of the text for all patterns, then small confirmations.

1. **Prefilter** - Vectorscan scans the text once for every pattern (``engine``); patterns
   it cannot read get a ``regex`` pass over the segment.
2. **Confirm** - each hit's end offset opens a small window (the pattern's maximum width
   before it, a margin after it); the ``regex`` module confirms matches in that window
   only, always with a timeout.
3. **Column gating** - in a table row, a pattern's ``column_regex`` is tried on each cell
   whose column header names the entity; tables in plain text are found through their
   header line (``tables``).
4. **Judge** - validator (checksum registry), allow-lists, context and negative context
   (``context``), score (``scoring``) and threshold -> a ``Finding`` with an
   ``Explanation``, or a ``NearMiss`` that says why it was not reported.
5. **Overlaps** - one stretch of text is one thing (``overlaps``).

The same Vectorscan pass also reports letter-spaced digits (the text is then normalised
once more and rescanned) and table header lines.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field
from typing import Any

import regex

from scanner.detect import context, engine, scoring
from scanner.detect.compiled import MARGIN, CompiledPattern, MatchTimeout
from scanner.detect.context import Keyword
from scanner.detect.engine import Engine
from scanner.detect.normalize import SPACED_DIGITS_EXPR, collapse_spaced_digits, normalize
from scanner.detect.overlaps import resolve_overlaps
from scanner.detect.patterns import Pattern, PatternSet
from scanner.detect.redact import keyed_hash, mask, value_key
from scanner.detect.tables import CELL_SEP, Candidate, Cell, ColumnGates, GroupZero, TableRows, header_for
from scanner.model import Confidence, Explanation, Finding, Location, NearMiss, Segment, Severity

# Per pattern and document: past it, a pattern's further matches are counted, not judged
# or listed (a 1M-row export of batch numbers must not cost a finding object per row).
# Per pattern, not per document: a document-wide cap would drop the one SSN that comes
# after two thousand batch numbers.
MAX_FINDINGS_PER_PATTERN = 1000
_TAIL = 300  # chars of the preceding text (earlier segments) kept as context
_LONG_MATCH = 1 << 16  # a match cut by its window is re-tried with this much room
_MAX_NEAR_MISSES = 200  # per segment: enough to answer "why not?", bounded on hostile text
_CONTEXT_CACHE_SIZE = 4096  # distinct column headers normalised once per document


@dataclass(slots=True)
class MatchResult:
    findings: list[Finding] = field(default_factory=list)
    near_misses: list[NearMiss] = field(default_factory=list)


class _Renormalised(Exception):
    """The scan found letter-spaced digits: scan the collapsed text instead."""

    def __init__(self, text: str):
        super().__init__("text renormalised")
        self.text = text


class Matcher:
    """Compiled pattern set. Not thread-safe (the Vectorscan scratch is per matcher)."""

    def __init__(
        self,
        pset: PatternSet,
        hash_key: bytes,
        regex_timeout: float = 2.0,
        use_vectorscan: bool = True,
        keep_near_misses: bool = True,
    ):
        self.pset = pset
        self.hash_key = hash_key
        self.timeout = regex_timeout
        self.keep_near_misses = keep_near_misses
        self.compiled = [CompiledPattern.build(i, p) for i, p in enumerate(pset.patterns)]
        self.gates = ColumnGates(self.compiled, regex_timeout)
        self._header_id: int | None = None
        self._spaced_id: int | None = None
        self._db: Any = None  # the Vectorscan database (untyped library)
        self._fallback: list[CompiledPattern] = list(self.compiled)
        if use_vectorscan:
            self._build_vectorscan()

    def _build_vectorscan(self) -> None:
        plan: engine.Plan = [
            (c.pattern.prefilter or c.pattern.regex, engine.pattern_flags(c.pattern)) for c in self.compiled
        ]
        # Two internal expressions after the patterns: letter-spaced digits (normalisation
        # needed) and table header lines.
        plan.append((SPACED_DIGITS_EXPR, engine.SPACED_DIGITS_FLAGS))
        header_expr = self.gates.header_line_expr()
        if header_expr is not None:
            plan.append((header_expr, engine.HEADER_LINE_FLAGS))
        db, fits = engine.load_or_compile(plan)
        if header_expr is not None:
            self._header_id = len(self.compiled) + 1 if fits.pop() is not engine.Fit.NONE else None
        self._spaced_id = len(self.compiled) if fits.pop() is not engine.Fit.NONE else None
        fallback = []
        for c, fit in zip(self.compiled, fits, strict=True):
            c.engine = engine.engine_for(fit, c.pattern.prefilter is not None)
            if c.engine is Engine.REGEX:
                fallback.append(c)
            elif c.pattern.prefilter is not None or c.engine is not Engine.VECTORSCAN:
                # A custom or approximate prefilter may report its hit before the real
                # match ends: the window must reach a whole match beyond the hit.
                c.after = c.width + MARGIN
        self._db = db
        self._fallback = fallback

    def engines(self) -> dict[str, Engine]:
        """pattern id -> engine that reads the text first (shown by `patterns validate`)."""
        return {c.pattern.id: c.engine for c in self.compiled}

    def match_text(self, text: str, location: Location | None = None) -> MatchResult:
        return DocMatcher(self).feed(Segment(text, location or Location("body")))

    def doc(self) -> DocMatcher:
        return DocMatcher(self)

    def scan_normalised(self, raw: str) -> tuple[str, list[Candidate], list[int]]:
        """Normalise ``raw`` and find its candidates: (the normalised text, which the candidates'
        offsets point into; the candidates; where column keywords end on possible text-table
        header lines). A plain tuple: it runs once per segment, and a spreadsheet feeds ~300,000
        cells a second, where building a NamedTuple here was a measurable cost."""
        text = normalize(raw, collapse_digits=False)
        try:
            cands, header_hits = self._scan(text)
        except _Renormalised as again:
            text = again.text
            cands, header_hits = self._scan(text)
        return text, cands, header_hits

    def _scan(self, text: str) -> tuple[list[Candidate], list[int]]:
        """Candidates for every pattern, and where column keywords end (text-table headers).

        ``text`` must be normalised except for letter-spaced digits: when the scan sees
        some, it collapses them and scans the result (rare: PDF letter-spacing)."""
        out: list[Candidate] = []
        header_hits: list[int] = []
        if self._db is not None:
            ends = engine.scan_ends(self._db, text)
            if self._spaced_id is not None and self._spaced_id in ends:
                del ends[self._spaced_id]
                collapsed = collapse_spaced_digits(text)
                if collapsed != text:
                    raise _Renormalised(collapsed)
            n = len(text)
            if self._header_id is not None:
                header_hits = ends.pop(self._header_id, [])
            for pid, offs in ends.items():
                c = self.compiled[pid]
                last_end = -1
                for ws, we in _windows(offs, c.width, c.after, n):
                    for m in self._finditer(c, text, ws, we, n):
                        if m.start() >= last_end:  # windows may overlap: one match once
                            out.append((c, m))
                            last_end = max(last_end, m.end())
        elif " " in text:  # no Vectorscan: the regex module does the whole normalisation
            collapsed = collapse_spaced_digits(text)
            if collapsed != text:
                raise _Renormalised(collapsed)
        for c in self._fallback:
            out.extend((c, m) for m in self._finditer(c, text, 0, len(text), len(text)))
        return out, header_hits

    def _finditer(self, c: CompiledPattern, text: str, ws: int, we: int, n: int) -> list[regex.Match[str]]:
        try:
            found = list(c.rx.finditer(text, ws, we, timeout=self.timeout))
            if we < n and found and found[-1].end() >= we:
                # The last match touches the window's end and may be cut short (a long
                # sequence or key block): match it again from its start with room to grow.
                last = found.pop()
                longer = c.rx.match(text, last.start(), min(n, last.start() + _LONG_MATCH), timeout=self.timeout)
                if longer is not None:
                    found.append(longer)
        except TimeoutError as exc:
            raise MatchTimeout(c.pattern.id) from exc
        return found


def _windows(ends: list[int], width: int, after: int, n: int) -> list[tuple[int, int]]:
    """Confirmation windows around hit ends: ``width`` before, ``after`` behind, merged."""
    out: list[tuple[int, int]] = []
    for e in sorted(ends):
        ws, we = max(0, e - width - 1), min(n, e + after)
        if out and ws <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], we))
        else:
            out.append((ws, we))
    return out


class DocMatcher:
    """Matches the segments of one document in order; keeps the previous text as context
    and the document's table state (``TableRows``)."""

    def __init__(self, matcher: Matcher):
        self.m = matcher
        self.tail = ""
        self.per_pattern: dict[str, int] = {}
        self.limited: dict[str, int] = {}  # pattern id -> matches past the limit, not examined
        self._tables = TableRows()
        self._nl_text: str | None = None
        self._nl: list[int] = []
        self._contexts: dict[str, str] = {}
        self._header_is_row_label = False

    def feed(self, seg: Segment) -> MatchResult:
        m = self.m
        result = MatchResult()
        if not seg.text.strip():
            return result
        text, candidates, header_hits = m.scan_normalised(seg.text)
        header = self._normalised_context(seg.context) if seg.context else None
        self._header_is_row_label = header is None
        if header is None:
            header = self._tables.row_label(seg)
        self._tables.remember_cell(seg, text)
        if (
            not candidates
            and not header_hits
            and CELL_SEP not in text
            and (header is None or not m.gates.gated_for(header))
        ):
            # Nothing to judge: no candidate, no table header line, not a table row (whose
            # header the next rows need) and no column pattern under this header. Most
            # cells of a big sheet end here.
            self._advance_tail(text)
            return result
        cells = self._tables.cells(text, header, seg)
        raw: list[tuple[float, Finding]] = []
        if cells:
            candidates.extend(m.gates.column_candidates(text, cells))
        for c, mt in candidates:
            if self._within_limit(c):
                self._keep(self._judge(c, mt, text, header, seg, cells), raw, result)
        if header_hits and not cells and "\n" in text:
            taken = [(f.start, f.end) for _s, f in raw]
            for c, gz, table_header in m.gates.text_table_candidates(text, header_hits):
                if not any(a < gz.end(1) and gz.start(1) < b for a, b in taken) and self._within_limit(c):
                    self._keep(self._judge(c, gz, text, header, seg, None, table_header), raw, result)
        if raw:
            kept, superseded = resolve_overlaps(raw)
            for f, by in superseded:
                self._supersede(f, by, result)
            result.findings = self._count(kept)
        self._advance_tail(text)
        return result

    def _within_limit(self, c: CompiledPattern) -> bool:
        """False (and counted) once the pattern has its limit of findings in this document."""
        pid = c.pattern.id
        if self.per_pattern.get(pid, 0) < MAX_FINDINGS_PER_PATTERN:
            return True
        self.limited[pid] = self.limited.get(pid, 0) + 1
        return False

    def _count(self, findings: list[Finding]) -> list[Finding]:
        """Count the segment's findings per pattern; those past the limit become counts only."""
        kept: list[Finding] = []
        for f in findings:
            n = self.per_pattern.get(f.pattern, 0)
            if n < MAX_FINDINGS_PER_PATTERN:
                self.per_pattern[f.pattern] = n + 1
                kept.append(f)
            else:
                self.limited[f.pattern] = self.limited.get(f.pattern, 0) + 1
        return kept

    def _advance_tail(self, text: str) -> None:
        # Context carries over short segments (a label paragraph, then the value's own).
        self.tail = (self.tail + "\n" + text)[-_TAIL:] if len(text) < _TAIL else text[-_TAIL:]

    def _normalised_context(self, context: str) -> str:
        """Column headers repeat on every row of a sheet: normalise each once."""
        done = self._contexts.get(context)
        if done is None:
            done = normalize(context)
            if len(self._contexts) < _CONTEXT_CACHE_SIZE:
                self._contexts[context] = done
        return done

    def _keep(self, item: Finding | NearMiss | None, raw: list[tuple[float, Finding]], result: MatchResult) -> None:
        if isinstance(item, NearMiss):
            if self.m.keep_near_misses and len(result.near_misses) < _MAX_NEAR_MISSES:
                result.near_misses.append(item)
        elif item is not None:
            raw.append((item.explanation.score, item))

    def _supersede(self, f: Finding, by: Finding, result: MatchResult) -> None:
        if self.m.keep_near_misses and len(result.near_misses) < _MAX_NEAR_MISSES:
            note = f"superseded by {by.pattern} on the same text"
            expl = dataclasses.replace(f.explanation, confidence=None, notes=(*f.explanation.notes, note))
            result.near_misses.append(NearMiss(f.pattern, f.location, f.masked, expl))

    def _line_offset(self, text: str, pos: int) -> int:
        """Newlines before ``pos``, by bisecting the segment's newline offsets (built once)."""
        if self._nl_text is not text:
            self._nl_text = text
            nl: list[int] = []
            i = text.find("\n")
            while i >= 0:
                nl.append(i)
                i = text.find("\n", i + 1)
            self._nl = nl
        return bisect.bisect_left(self._nl, pos)

    # ------------------------------------------------------------------ judging
    def _judge(
        self,
        c: CompiledPattern,
        mt: regex.Match[str] | GroupZero,
        text: str,
        header: str | None,
        seg: Segment,
        cells: list[Cell] | None = None,
        table_header: str | None = None,
    ) -> Finding | NearMiss | None:
        p = c.pattern
        grp = 1 if isinstance(mt, GroupZero) else p.group if p.group <= (mt.re.groups or 0) else 0
        value: str | None = mt.group(grp)
        if value is None or not value.strip():
            return None
        start, end = mt.span(grp)
        notes: list[str] = []
        location = seg.location
        if location.line is not None:
            location = location._replace(line=location.line + self._line_offset(text, start))
        score = p.score
        vres: bool | None = None
        if c.validator is not None:
            try:
                vres = c.validator(value)
            except Exception:  # a validator bug must not lose the candidate: judged without it
                vres = None
                notes.append("validator error")
            if vres is False and p.validator_mode == "hard":
                return self._near(p, location, value, vres, None, None, 0.0, "checksum/format check failed")
            if isinstance(vres, bool):  # None: no opinion, the score stays
                score = scoring.after_validator(p, score, vres)
        if (c.allow and value_key(value) in c.allow) or any(r.fullmatch(value) for r in c.allow_rx):
            return self._near(p, location, value, vres, None, None, 0.0, "allow-listed value")
        col_header = header_for(cells, start, header)
        kw = context.find_keyword(c, text, start, end, col_header, self.tail)
        if kw is None and table_header is not None:
            kw = context.table_header_keyword(c, text, start, table_header)
        if kw is not None:
            score = scoring.after_keyword(score, kw.scope)
        negative = context.find_negative(c, text, start, end, col_header)
        neg: str | None = None
        if negative is not None:
            own = kw
            if cells or not self._header_is_row_label:
                own = context.header_keyword(c, col_header) or kw  # a column header is the value's own label
            elif negative.in_header:
                # The row's label ("Batch 24-0117") describes the row, not this cell's value.
                negative = context.Negative(negative.word, context.ROW_LABEL_DISTANCE, in_header=False)
            if vres is True and context.keyword_outweighs(own, negative, text, start):
                # A checksum-valid value with its own label closer than the negative word keeps
                # its score: the negative word belongs to a neighbour (issue 14: an SSN under an
                # "SSN" column must not lose to the row's "Batch" label).
                notes.append(f'negative context "{negative.word}" outweighed by the closer keyword')
            else:
                neg = negative.word
                score = scoring.after_negative(score)
        score = scoring.clamp(score)
        if p.require_context and kw is None:
            return self._near(p, location, value, vres, None, neg, score, "no context keyword (required)")
        conf = Confidence.from_score(score)
        if conf is None or score < p.min_score:
            return self._near(p, location, value, vres, kw, neg, score, "below threshold")
        return Finding(
            pattern=p.id,
            name=p.name,
            category=p.category,
            severity=Severity(p.severity),
            confidence=conf,
            location=location,
            start=start,
            end=end,
            masked=mask(value),
            hash=keyed_hash(self.m.hash_key, value),
            explanation=_explain(p, vres, kw, neg, score, conf, *notes),
            value=value,
        )

    def _near(
        self,
        p: Pattern,
        location: Location,
        value: str,
        vres: bool | None,
        kw: Keyword | None,
        neg: str | None,
        score: float,
        reason: str,
    ) -> NearMiss | None:
        """A candidate not reported, with the reason in its explanation (kept for --explain).

        Built only when near-misses are kept (``--explain``, the GUI's detail view)."""
        if not self.m.keep_near_misses:
            return None
        return NearMiss(p.id, location, mask(value), _explain(p, vres, kw, neg, score, None, reason))


def _explain(
    p: Pattern,
    vres: bool | None,
    kw: Keyword | None,
    negative: str | None,
    score: float,
    confidence: Confidence | None,
    *notes: str,
) -> Explanation:
    return Explanation(
        pattern=p.id,
        pattern_name=p.name,
        base_score=p.score,
        validator=p.validator,
        validator_result=vres,
        keyword=kw.word if kw is not None else None,
        keyword_distance=kw.distance if kw is not None else None,
        keyword_scope=kw.scope.value if kw is not None else None,
        negative=negative,
        score=score,
        confidence=confidence,
        notes=notes,
    )
