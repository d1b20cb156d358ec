"""The matching pipeline: one read of the text for all patterns, then small confirmations.

1. **Prefilter** — Vectorscan (the ``hyperscan`` wheel) scans the text once for every
   pattern. It never backtracks, so hostile text costs linear time. Patterns it cannot
   compile exactly are compiled in its *prefilter* mode (a superset: lookarounds and
   back-references approximated); patterns it cannot compile at all fall back to a
   ``regex`` pass over the segment.
2. **Confirm** — each hit's end offset opens a small window (the pattern's maximum
   width before it, a margin after it); the ``regex`` module confirms matches in that
   window only, always with a timeout.
3. **Column gating** — in a table row (cells joined by `` | ``, the header row in
   ``Segment.context`` or remembered from an earlier header-like row; a spreadsheet or
   Word cell with its header/row label; the cell just before in a header-less first
   row) a pattern's ``column_regex`` is tried on each cell whose *column header* names
   the entity ("Date of Birth", "Lot No.", "Employee name"): values that are only
   recognisable by their column cost nothing in prose, because no value-shaped regex
   runs there. Tables that reach us as plain text (a PDF page) are found through their
   header line — an internal Vectorscan expression over all column keywords — and
   their rows' values count as far context (the column is not known).
4. **Validate** (checksum registry), **allow-lists**, **context** (near window, far
   window, the cell's own column header, text carried over from the previous segment),
   **negative context** (also in the column header), **threshold** -> a ``Finding``
   with an ``Explanation``, or a ``NearMiss`` that says why it was not reported.
5. **Overlaps** — one stretch of text is one thing: the stronger claim wins, and a
   value inside a larger reported one (a formula inside an InChI) is part of it.

The same Vectorscan pass also reports letter-spaced digits (the text is then
normalised once more and rescanned) and table header lines. Compiled once per process
per pattern set (``Matcher.cached``); the serialized database is cached on disk keyed
by every expression and flag (``CLEARANCE_CACHE_DIR`` overrides the folder, empty
disables it).
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from scanner.detect import validators
from scanner.detect.normalize import SPACED_DIGITS_EXPR, collapse_spaced_digits, normalize
from scanner.detect.patterns import Pattern, PatternSet
from scanner.model import Confidence, Explanation, Finding, Location, NearMiss, Segment, Severity

_DEFAULT_UNBOUNDED_WIDTH = 512
_MARGIN = 64  # chars after a hit so lookaheads and \b see real text
# Per pattern and document: past it, a pattern's further matches are counted, not judged
# or listed (a 1M-row export of batch numbers must not cost a finding object per row).
# Per pattern, not per document: a document-wide cap would drop the one SSN that comes
# after two thousand batch numbers.
MAX_FINDINGS_PER_PATTERN = 1000
_TAIL = 300  # chars of the preceding text (earlier segments) kept as context
_LONG_MATCH = 1 << 16  # a match cut by its window is re-tried with this much room


class MatchTimeout(Exception):
    """A regex hit its timeout: the text could not be fully checked (never 'clean')."""

    def __init__(self, pattern_id: str):
        super().__init__(f"pattern {pattern_id} timed out (regex safety limit); text not fully checked")
        self.pattern_id = pattern_id


@dataclass(slots=True)
class MatchResult:
    findings: list[Finding] = field(default_factory=list)
    near_misses: list[NearMiss] = field(default_factory=list)


def _longest_first(word: str) -> tuple[int, str]:
    return -len(word), word


def _word_alternation(words: Sequence[str]) -> regex.Pattern[str] | None:
    if not words:
        return None
    # Longest first (a regex alternation takes the first that fits), then alphabetical:
    # the same words give the same expression in every process.
    alts = "|".join(regex.escape(w).replace(r"\ ", r"[\s_-]*") for w in sorted(set(words), key=_longest_first))
    # Whole words only, and never inside an address or file name: "example" in
    # "jane@example.com" is not negative context, "lot" in "pilot" is not a keyword.
    return regex.compile(rf"(?<![\w@./\\])(?:{alts})(?![\w@]|\.\w)", regex.IGNORECASE)


_ALNUM = regex.compile(r"[^\W_]")
_CTRL_WS = str.maketrans("\r\n\t", "   ")


def mask(value: str) -> str:
    """Keep separators and the last few alphanumerics: '123-45-6789' -> '***-**-6789'."""
    if len(value) > 64:  # long values (keys, sequences) are shown by their ends only
        head, tail = _ALNUM.sub("*", value[:12]).translate(_CTRL_WS), mask(value[-16:])
        return f"{head}…{tail} ({len(value)} chars)"
    alnum = sum(map(str.isalnum, value))
    keep = 4 if alnum >= 8 else 2 if alnum >= 6 else 1 if alnum >= 4 else 0
    hide = alnum - keep
    out = value
    if hide > 0:
        chars = list(value)
        for i, ch in enumerate(chars):
            if ch.isalnum():
                chars[i] = "*"
                hide -= 1
                if not hide:
                    break
        out = "".join(chars)
    out = out.translate(_CTRL_WS)
    if len(out) > 40:
        out = f"{out[:12]}…{out[-16:]} ({len(value)} chars)"
    return out


def value_key(value: str) -> str:
    """Normalised form for hashing and allow-lists: case and separators do not count."""
    return validators.compact(value).casefold() or value.strip().casefold()


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of the normalised value, first 128 bits in hex."""
    return hmac.digest(key, value_key(value).encode("utf-8"), "sha256").hex()[:32]


@dataclass(slots=True)
class _Compiled:
    index: int
    pattern: Pattern
    rx: regex.Pattern[str]
    keywords: regex.Pattern[str] | None
    negative: regex.Pattern[str] | None
    allow: frozenset[str]
    allow_rx: tuple[regex.Pattern[str], ...]
    validator: validators.Validator | None
    width: int
    engine: str = "regex"  # vectorscan | vectorscan-prefilter | regex
    after: int = _MARGIN  # chars after a hit end the confirmation window reaches
    col_rx: regex.Pattern[str] | None = None  # value shape for a gated table column
    col_keywords: regex.Pattern[str] | None = None  # header words that open the column
    col_ws_rx: regex.Pattern[str] | None = None  # the value shape between spaces (text tables)
    keywords_rev: regex.Pattern[str] | None = None  # keywords searched backwards: the nearest first


def _hs_flags(p: Pattern) -> int:
    r"""Vectorscan flags for a pattern: UTF-8 input, ASCII meaning of \b \w \d \s.

    Not HS_FLAG_UCP: Vectorscan rejects \b under it, and Unicode \w repeats take
    tens of seconds to compile. The text is normalised first (every Unicode digit and
    space folded to ASCII, see ``normalize``), so ASCII \d and \s see what the
    ``regex`` confirmation sees; \p{...} properties stay Unicode. Vectorscan only
    proposes candidates: the ``regex`` module, with Unicode semantics, decides.
    """
    import hyperscan as hs

    f = hs.HS_FLAG_UTF8
    if "ignorecase" in p.flags:
        f |= hs.HS_FLAG_CASELESS
    if "dotall" in p.flags:
        f |= hs.HS_FLAG_DOTALL
    if "multiline" in p.flags:
        f |= hs.HS_FLAG_MULTILINE
    return f


def _try_hs(expr: str, flags: int) -> bool:
    import hyperscan as hs

    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    try:
        db.compile(expressions=[expr.encode("utf-8")], ids=[0], elements=1, flags=[flags])
        return True
    except hs.error:
        return False


def _compile_db(plan: list[tuple[str, int]]) -> tuple[Any, list[str]]:
    """One Vectorscan database for every pattern that it can read, exactly or as a superset."""
    import hyperscan as hs

    engines: list[str] = []
    exprs, ids, flags = [], [], []
    for i, (expr, f) in enumerate(plan):
        if _try_hs(expr, f):
            engines.append("exact")
        elif _try_hs(expr, f | hs.HS_FLAG_PREFILTER):
            f |= hs.HS_FLAG_PREFILTER
            engines.append("approx")
        else:
            engines.append("regex")
            continue
        exprs.append(expr.encode("utf-8"))
        ids.append(i)
        flags.append(f)
    db = None
    if exprs:
        db = hs.Database(mode=hs.HS_MODE_BLOCK)
        db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=flags)
    return db, engines


def _engine_names(plan_engines: list[str], custom: list[bool]) -> list[str]:
    out = []
    for e, own in zip(plan_engines, custom, strict=True):
        if e == "regex":
            out.append("regex")
        elif e == "exact" and not own:
            out.append("vectorscan")
        else:
            out.append("vectorscan-prefilter")
    return out


# ------------------------------------------------------------------ compiled-database cache
# Compiling the full catalogue takes a couple of seconds per process; the serialized
# database loads in milliseconds. The cache key covers every expression and flag, the
# Vectorscan build and the platform, so a changed pattern or library compiles afresh.
_CACHE_FORMAT = 1
_CACHE_KEEP = 256


def _cache_dir() -> Path | None:
    env = os.environ.get("CLEARANCE_CACHE_DIR")
    if env == "":
        return None  # explicitly disabled
    if env:
        return Path(env) / "vectorscan"
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("clearance", appauthor=False)) / "vectorscan"
    except Exception:
        return None


def _cache_key(plan: list[tuple[str, int]]) -> str:
    import hyperscan as hs

    h = hashlib.sha256()
    h.update(
        json.dumps(
            [_CACHE_FORMAT, getattr(hs, "__version__", "?"), platform.machine(), platform.system(), sys.byteorder, plan]
        ).encode("utf-8")
    )
    return h.hexdigest()


def _load_db(plan: list[tuple[str, int]]) -> tuple[Any, list[str]] | None:
    d = _cache_dir()
    if d is None or not plan:
        return None
    path = d / f"{_cache_key(plan)}.hsdb"
    try:
        raw = path.read_bytes()
        head, _, blob = raw.partition(b"\n")
        meta = json.loads(head)
        if meta.get("format") != _CACHE_FORMAT or meta.get("sha256") != hashlib.sha256(blob).hexdigest():
            return None
        engines = list(meta["engines"])
        if len(engines) != len(plan):
            return None
        import hyperscan as hs

        db = hs.loadb(blob, hs.HS_MODE_BLOCK) if blob else None
        if db is not None:
            db.scratch = hs.Scratch(db)  # a loaded database has no scratch space yet
        return db, engines
    except Exception:
        return None


def _save_db(plan: list[tuple[str, int]], db: Any, engines: list[str]) -> None:
    d = _cache_dir()
    if d is None:
        return
    try:
        import hyperscan as hs

        blob = hs.dumpb(db)
        meta = {"format": _CACHE_FORMAT, "engines": engines, "sha256": hashlib.sha256(blob).hexdigest()}
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"{_cache_key(plan)}.hsdb"
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(json.dumps(meta).encode("utf-8") + b"\n" + blob)
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the new one
        entries = sorted(d.glob("*.hsdb"), key=lambda q: q.stat().st_mtime)
        for old in entries[:-_CACHE_KEEP]:  # edited pattern sets leave stale entries behind
            old.unlink(missing_ok=True)
    except Exception:
        return


class _Renormalised(Exception):
    """The scan found letter-spaced digits: scan the collapsed text instead."""

    def __init__(self, text: str):
        super().__init__("text renormalised")
        self.text = text


class Matcher:
    """Compiled pattern set. Not thread-safe (the Vectorscan scratch is per matcher)."""

    _cache: dict[tuple[str, bytes, float, bool], Matcher] = {}

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
        self.compiled: list[_Compiled] = []
        for i, p in enumerate(pset.patterns):
            width = p.width()
            keywords = _word_alternation(p.keywords)
            self.compiled.append(
                _Compiled(
                    index=i,
                    pattern=p,
                    rx=p.compile(),
                    keywords=keywords,
                    keywords_rev=regex.compile(keywords.pattern, keywords.flags | regex.REVERSE) if keywords else None,
                    negative=_word_alternation(p.negative),
                    allow=frozenset(value_key(v) for v in p.allow),
                    allow_rx=tuple(regex.compile(r) for r in p.allow_regex),
                    validator=validators.REGISTRY[p.validator] if p.validator else None,
                    width=width if width is not None else _DEFAULT_UNBOUNDED_WIDTH,
                    col_rx=regex.compile(p.column_regex, p.regex_flags) if p.column_regex else None,
                    col_keywords=(_word_alternation(p.column_keywords) or keywords) if p.column_regex else None,
                    col_ws_rx=(
                        regex.compile(rf"(?<!\S)(?:{p.column_regex})(?![^\s,;])", p.regex_flags)
                        if p.column_regex
                        else None
                    ),
                )
            )
        self._gated = [c for c in self.compiled if c.col_rx is not None and c.col_keywords is not None]
        # Every column keyword, as one more Vectorscan expression: its hits point at the
        # header lines of tables that reach the matcher as plain text (PDF pages).
        # Sorted without ties: a set's order changes with each process's string hashing,
        # and a different expression text misses the compiled-database cache (2 s).
        words = sorted(
            {w for c in self._gated for w in (c.pattern.column_keywords or c.pattern.keywords)}, key=_longest_first
        )
        # Only whole lines that could be a header: no digits outside brackets, no colon.
        cell = r"(?:[^\d\n:(]|\([^)\n]{0,40}\))*"
        self._header_expr = (
            "(?im)^"
            + cell
            + "(?:"
            + "|".join(regex.escape(w).replace(r"\ ", r"[ \t_-]*") for w in words)
            + ")"
            + cell
            + "$"
            if words
            else None
        )
        self._header_id: int | None = None
        self._spaced_id: int | None = None
        self._gate_cache: dict[str, tuple[_Compiled, ...]] = {}
        self._db: Any = None
        self._fallback: list[_Compiled] = list(self.compiled)
        if use_vectorscan:
            self._build_vectorscan()

    @classmethod
    def cached(cls, pset: PatternSet, hash_key: bytes, regex_timeout: float = 2.0) -> Matcher:
        key = (pset.digest or str(id(pset)), hash_key, regex_timeout, True)
        m = cls._cache.get(key)
        if m is None:
            m = cls._cache[key] = cls(pset, hash_key, regex_timeout)
        return m

    # ------------------------------------------------------------------ compile
    def _build_vectorscan(self) -> None:
        try:
            import hyperscan as hs
        except ImportError:  # pragma: no cover - the wheel is a hard dependency
            return
        plan = [(c.pattern.prefilter or c.pattern.regex, _hs_flags(c.pattern)) for c in self.compiled]
        # Two internal expressions after the patterns: letter-spaced digits (normalisation
        # needed) and table header lines.
        plan.append((SPACED_DIGITS_EXPR, hs.HS_FLAG_UTF8 | hs.HS_FLAG_SINGLEMATCH))
        if self._header_expr is not None:
            plan.append((self._header_expr, hs.HS_FLAG_UTF8 | hs.HS_FLAG_MULTILINE))
        cached = _load_db(plan)
        if cached is not None:
            db, engines = cached
        else:
            db, engines = _compile_db(plan)
            if db is not None:
                _save_db(plan, db, engines)
        if self._header_expr is not None:
            header_engine = engines.pop()
            self._header_id = len(self.compiled) + 1 if header_engine != "regex" else None
        spaced_engine = engines.pop()
        self._spaced_id = len(self.compiled) if spaced_engine != "regex" else None
        engines = _engine_names(engines, [c.pattern.prefilter is not None for c in self.compiled])
        fallback = []
        for c, engine in zip(self.compiled, engines, strict=True):
            c.engine = engine
            if engine == "regex":
                fallback.append(c)
            elif c.pattern.prefilter is not None or engine != "vectorscan":
                # A custom or approximate prefilter may report its hit before the real
                # match ends: the window must reach a whole match beyond the hit.
                c.after = c.width + _MARGIN
        self._db = db
        self._fallback = fallback

    def engines(self) -> dict[str, str]:
        """pattern id -> engine that reads the text first (shown by `patterns validate`)."""
        return {c.pattern.id: c.engine for c in self.compiled}

    def gated_for(self, header: str) -> tuple[_Compiled, ...]:
        """Patterns whose ``column_regex`` applies under this column header (cached: headers repeat)."""
        hit = self._gate_cache.get(header)
        if hit is None:
            hit = tuple(c for c in self._gated if c.col_keywords is not None and c.col_keywords.search(header))
            if len(self._gate_cache) < 4096:
                self._gate_cache[header] = hit
        return hit

    # ------------------------------------------------------------------ match
    def match_text(self, text: str, location: Location | None = None) -> MatchResult:
        return DocMatcher(self).feed(Segment(text, location or Location("body")))

    def doc(self) -> DocMatcher:
        return DocMatcher(self)

    def _candidates(self, text: str) -> list[tuple[_Compiled, regex.Match[str]]]:
        return self.scan_normalised(text)[1]

    def _scan(self, text: str) -> tuple[list[tuple[_Compiled, regex.Match[str]]], list[int]]:
        """Candidates for every pattern, and where column keywords end (text-table headers).

        ``text`` must be normalised except for letter-spaced digits: when the scan sees
        some, it collapses them and scans the result (rare: PDF letter-spacing)."""
        out: list[tuple[_Compiled, regex.Match[str]]] = []
        header_hits: list[int] = []
        if self._db is not None:
            hits: dict[int, list[int]] = {}

            def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
                lst = hits.get(pid)
                if lst is None:
                    hits[pid] = [to]
                elif lst[-1] != to:
                    lst.append(to)

            if text.isascii():
                data = text.encode("ascii")
                self._db.scan(data, match_event_handler=on_match)
                ends = hits
            else:
                data = text.encode("utf-8", "surrogatepass")
                self._db.scan(data, match_event_handler=on_match)
                ends = _byte_to_char_offsets(data, hits)
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

    def scan_normalised(self, raw: str) -> tuple[str, list[tuple[_Compiled, regex.Match[str]]], list[int]]:
        """Normalise ``raw`` and find its candidates: (text, candidates, header-line hits)."""
        text = normalize(raw, collapse_digits=False)
        try:
            cands, header_hits = self._scan(text)
        except _Renormalised as again:
            text = again.text
            cands, header_hits = self._scan(text)
        return text, cands, header_hits

    def _finditer(self, c: _Compiled, text: str, ws: int, we: int, n: int) -> list[regex.Match[str]]:
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


def _byte_to_char_offsets(data: bytes, hits: dict[int, list[int]]) -> dict[int, list[int]]:
    """Map UTF-8 byte offsets to str offsets with one incremental pass over the sorted offsets."""
    wanted = sorted({o for offs in hits.values() for o in offs})
    table: dict[int, int] = {}
    pos_b = pos_c = 0
    for o in wanted:
        pos_c += len(data[pos_b:o].decode("utf-8", "ignore"))
        pos_b = o
        table[o] = pos_c
    return {pid: [table[o] for o in offs] for pid, offs in hits.items()}


@dataclass(frozen=True, slots=True)
class _Cell:
    start: int  # stripped cell bounds in the segment text
    end: int
    header: str | None  # its column header (the whole context for a lone cell)


_CELL_SEP = " | "
_SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, "low": 1, "medium": 2, "high": 3}


def _looks_like_header(cells: list[str]) -> bool:
    """A row of labels ("Employee name | Date of Birth | SSN"), not of values."""
    filled = [c for c in cells if c]
    if len(filled) < 2 or any(len(c) > 60 or not any(ch.isalpha() for ch in c) for c in filled):
        return False
    with_digits = sum(any(ch.isdigit() for ch in c) for c in filled)
    return with_digits * 3 <= len(filled)


class DocMatcher:
    """Matches the segments of one document in order; keeps the previous text as context.

    It also remembers each table's header row (per part, sheet and column count), so a
    CSV whose first line is a title still has its real header under every row.
    """

    def __init__(self, matcher: Matcher):
        self.m = matcher
        self.tail = ""
        self.per_pattern: dict[str, int] = {}
        self.limited: dict[str, int] = {}  # pattern id -> matches past the limit, not examined
        self._headers: dict[tuple[str, str | None, int], list[str]] = {}
        self._prev_cell: tuple[Location, str] | None = None
        self._nl_text: str | None = None
        self._nl: list[int] = []
        self._contexts: dict[str, str] = {}

    def feed(self, seg: Segment) -> MatchResult:
        m = self.m
        result = MatchResult()
        if not seg.text.strip():
            return result
        text, candidates, header_hits = m.scan_normalised(seg.text)
        header = self._normalised_context(seg.context) if seg.context else None
        if header is None:
            header = self._row_label(seg)
        self._remember_cell(seg, text)
        if not candidates and not header_hits and _CELL_SEP not in text and (header is None or not m.gated_for(header)):
            # Nothing to judge: no candidate, no table header line, not a table row (whose
            # header the next rows need) and no column pattern under this header. Most
            # cells of a big sheet end here.
            self._advance_tail(text)
            return result
        cells = self._cells(text, header, seg)
        raw: list[tuple[float, Finding]] = []
        if cells:
            candidates.extend(self._column_candidates(text, cells))
        for c, mt in candidates:
            if self._within_limit(c):
                self._keep(self._judge(c, mt, text, header, seg, cells), raw, result)
        if header_hits and not cells and "\n" in text:
            taken = [(f.start, f.end) for _s, f in raw]
            for c, mt, table_header in self._text_table_candidates(text, header_hits):
                if not any(a < mt.end(1) and mt.start(1) < b for a, b in taken) and self._within_limit(c):
                    self._keep(self._judge(c, mt, text, header, seg, None, table_header), raw, result)
        result.findings = self._count(self._resolve_overlaps(raw, result)) if raw else []
        self._advance_tail(text)
        return result

    def _within_limit(self, c: _Compiled) -> bool:
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
            if len(self._contexts) < 4096:
                self._contexts[context] = done
        return done

    def _keep(self, item: Finding | NearMiss | None, raw: list[tuple[float, Finding]], result: MatchResult) -> None:
        if isinstance(item, NearMiss):
            if self.m.keep_near_misses and len(result.near_misses) < 200:
                result.near_misses.append(item)
        elif item is not None:
            raw.append((item.explanation.score, item))

    # ------------------------------------------------------------------ tables
    def _text_table_candidates(
        self, text: str, header_hits: list[int]
    ) -> list[tuple[_Compiled, regex.Match[str], str]]:
        """Rows under a header line in plain text (a PDF page's table loses its cells).

        A header line names columns and holds no values: no digits outside brackets, no
        "label: value" colon. The rows below it, up to a blank line or a "label: value"
        line, are searched for the value shapes of the columns the header names. Which
        column a value sat in is unknown here, so this evidence counts as *far* context.
        """
        out: list[tuple[_Compiled, regex.Match[str], str]] = []
        seen: set[int] = set()
        for hit in header_hits:
            start = text.rfind("\n", 0, hit) + 1
            if start in seen:
                continue
            seen.add(start)
            end = text.find("\n", hit)
            end = len(text) if end < 0 else end
            line = text[start:end]
            if not _looks_like_header_line(line):
                continue
            gated = self.m.gated_for(line)
            if not gated:
                continue
            pos = end + 1
            for _ in range(_TABLE_ROWS):
                if pos >= len(text):
                    break
                nl = text.find("\n", pos)
                row_end = len(text) if nl < 0 else nl
                row = text[pos:row_end]
                if not _looks_like_row(row):
                    break
                for c in gated:
                    assert c.col_ws_rx is not None
                    try:
                        for mt in c.col_ws_rx.finditer(text, pos, row_end, timeout=self.m.timeout):
                            # Only values with digits (lots, dates, codes): in running text a
                            # bare word shape (a name) is too easy to find without its column.
                            if any(ch.isdigit() for ch in mt.group(0)):
                                out.append((c, _GroupZero(mt), line))
                    except TimeoutError as exc:
                        raise MatchTimeout(c.pattern.id) from exc
                pos = row_end + 1
        return out

    def _row_label(self, seg: Segment) -> str | None:
        """A table cell without a header (the table's first row) is labelled by the cell
        just before it in the same row: "Compound | IXRW-089221" as two cells."""
        loc, prev = seg.location, self._prev_cell
        if loc.cell is None or prev is None:
            return None
        row = loc.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        p_loc, p_text = prev
        if (p_loc.part, p_loc.sheet, p_loc.name) != (loc.part, loc.sheet, loc.name):
            return None
        if p_loc.cell is None or p_loc.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != row:
            return None
        return p_text if len(p_text) <= 200 and "\n" not in p_text else None

    def _remember_cell(self, seg: Segment, text: str) -> None:
        self._prev_cell = (seg.location, text.strip()) if seg.location.cell is not None else None

    def _cells(self, text: str, header: str | None, seg: Segment) -> list[_Cell] | None:
        """The cells of a table row and each one's column header (None: not a table row)."""
        if _CELL_SEP not in text:
            if header is None or "\n" in text.strip():
                return None
            s, e = _strip_span(text, 0, len(text))
            return [_Cell(s, e, header)] if e > s else None
        if "\n" in text.strip():
            return None  # a block of text with pipes in it, not one table row
        spans: list[tuple[int, int]] = []
        pos = 0
        for part in text.split(_CELL_SEP):
            spans.append((pos, pos + len(part)))
            pos += len(part) + len(_CELL_SEP)
        n = len(spans)
        texts = [text[a:b].strip() for a, b in spans]
        key = (seg.location.part, seg.location.sheet, n)
        heads: list[str] | None = None
        if header is not None and header.count(_CELL_SEP) + 1 == n:
            heads = [h.strip() for h in header.split(_CELL_SEP)]
        elif key in self._headers:
            heads = self._headers[key]
        if _looks_like_header(texts):
            self._headers[key] = texts  # the latest header row heads the rows below it
        if heads is None:
            return None
        out = []
        label = texts[0]
        for i, ((a, b), h) in enumerate(zip(spans, heads, strict=True)):
            s, e = _strip_span(text, a, b)
            if e > s:
                # A cell is labelled by its column header and by its row's first cell
                # ("IBAN | NL09 ..." in a key/value table), as the DOCX extractor does.
                bits = [x for x in (h, label if i else None) if x]
                out.append(_Cell(s, e, _CELL_SEP.join(bits) or None))
        return out

    def _column_candidates(self, text: str, cells: list[_Cell]) -> list[tuple[_Compiled, regex.Match[str]]]:
        out: list[tuple[_Compiled, regex.Match[str]]] = []
        for cell in cells:
            if not cell.header:
                continue
            for c in self.m.gated_for(cell.header):
                assert c.col_rx is not None
                try:
                    mt = c.col_rx.fullmatch(text, cell.start, cell.end, timeout=self.m.timeout)
                except TimeoutError as exc:
                    raise MatchTimeout(c.pattern.id) from exc
                if mt is not None:
                    out.append((c, mt))
        return out

    # ------------------------------------------------------------------ overlaps
    def _resolve_overlaps(self, raw: list[tuple[float, Finding]], result: MatchResult) -> list[Finding]:
        """Where two patterns claim the same characters, the stronger claim wins.

        A finding inside a larger one of another pattern reported at medium or high
        confidence is part of it (the formula inside an InChI, the digits inside an IBAN).
        """
        if len(raw) == 1:
            return [raw[0][1]]
        raw.sort(key=lambda t: (-t[0], -_SEVERITY_RANK[t[1].severity], t[1].end - t[1].start))
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
                self._supersede(f, clash, result)
        kept.sort(key=lambda f: (f.start, -f.end))
        if len(kept) < 2:
            return kept
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
                self._supersede(f, outer, result)
                continue
            out.append(f)
            if f.confidence is not Confidence.LOW and (outer is None or f.end > outer.end):
                outer = f
        return out

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

    def _supersede(self, f: Finding, by: Finding, result: MatchResult) -> None:
        if self.m.keep_near_misses and len(result.near_misses) < 200:
            result.near_misses.append(
                NearMiss(
                    f.pattern,
                    f.location,
                    f.masked,
                    _with_note(f.explanation, f"superseded by {by.pattern} on the same text", reported=False),
                )
            )

    # ------------------------------------------------------------------ judging
    def _judge(
        self,
        c: _Compiled,
        mt: regex.Match[str] | _GroupZero,
        text: str,
        header: str | None,
        seg: Segment,
        cells: list[_Cell] | None = None,
        table_header: str | None = None,
    ) -> Finding | NearMiss | None:
        p = c.pattern
        grp = 1 if isinstance(mt, _GroupZero) else p.group if p.group <= (mt.re.groups or 0) else 0
        value = mt.group(grp)
        if value is None or not value.strip():
            return None
        start, end = mt.span(grp)
        notes: list[str] = []
        location = seg.location
        if location.line is not None:
            location = Location(
                location.part,
                location.page,
                location.sheet,
                location.cell,
                location.paragraph,
                location.name,
                location.line + self._line_offset(text, start),
            )
        score = p.score
        vres: bool | None = None
        if c.validator is not None:
            try:
                vres = c.validator(value)
            except Exception:
                vres = None
                notes.append("validator error")
            if vres is True:
                score = max(score, p.validated_score) if p.validator_mode == "hard" else score + 0.1
            elif vres is False:
                if p.validator_mode == "hard":
                    return self._near(
                        p, location, value, score, vres, None, None, None, None, 0.0, ("checksum/format check failed",)
                    )
                score -= 0.2
        if (c.allow and value_key(value) in c.allow) or any(r.fullmatch(value) for r in c.allow_rx):
            return self._near(p, location, value, score, vres, None, None, None, None, 0.0, ("allow-listed value",))
        col_header = _header_for(cells, start, header)
        kw, dist, scope = self._context(c, text, start, end, col_header)
        if kw is None and table_header is not None and c.col_keywords is not None:
            km = c.col_keywords.search(table_header)
            if km is not None:  # the header line of a text table: a column, but which one is unknown
                kw, dist, scope = km.group(0), text.rfind(table_header, 0, start), "far"
                dist = start - dist if dist >= 0 else None
        if kw is not None:
            if scope in ("near", "header"):
                score = max(score + 0.35, 0.4)
            else:
                score += 0.15
        neg = None
        if c.negative is not None:
            try:
                # Negative context belongs to the value's own line, before as after it: in a
                # log, "batch-sim run ok" on the line above must not excuse "SSN: 212-67-4431"
                # (found by the 300 MB adversarial case), and in a text table the header line
                # names other columns.
                lo = max(0, start - p.window[0], text.rfind("\n", 0, start) + 1)
                nm = (
                    c.negative.search(text, lo, start)
                    or c.negative.search(text, end, _line_end(text, end, p.window[1]))
                    or (c.negative.search(col_header) if col_header else None)
                )
            except TimeoutError as exc:
                raise MatchTimeout(p.id) from exc
            if nm is not None:
                neg = nm.group(0)
                score -= 0.3
        score = max(0.0, min(1.0, score))
        if p.require_context and kw is None:
            return self._near(
                p, location, value, score, vres, None, None, None, neg, score, ("no context keyword (required)",)
            )
        conf = Confidence.from_score(score)
        if conf is None or score < p.min_score:
            return self._near(p, location, value, score, vres, kw, dist, scope, neg, score, ("below threshold",))
        expl = Explanation(
            p.id, p.name, p.score, p.validator, vres, kw, dist, scope, neg, score, conf.value, tuple(notes)
        )
        return Finding(
            p.id,
            p.name,
            p.category,
            Severity(p.severity),
            conf,
            location,
            start,
            end,
            mask(value),
            keyed_hash(self.m.hash_key, value),
            expl,
            value,
        )

    def _near(
        self,
        p: Pattern,
        location: Location,
        value: str,
        base: float,
        vres: bool | None,
        kw: str | None,
        dist: int | None,
        scope: str | None,
        neg: str | None,
        score: float,
        notes: tuple[str, ...],
    ) -> NearMiss | None:
        if not self.m.keep_near_misses:
            return None
        expl = Explanation(p.id, p.name, p.score, p.validator, vres, kw, dist, scope, neg, score, None, notes)
        return NearMiss(p.id, location, mask(value), expl)

    def _context(
        self, c: _Compiled, text: str, start: int, end: int, header: str | None
    ) -> tuple[str | None, int | None, str | None]:
        """The supporting keyword nearest the match: near window, column header, far window.

        Windows are searched in place (``pos``/``endpos``), never sliced out, so a word
        cut by the window edge ("...VER" of "SERVER") is not mistaken for a keyword.
        """
        rx, back = c.keywords, c.keywords_rev
        if rx is None or back is None:
            return None, None, None
        p = c.pattern
        nb, na = p.window
        n = len(text)
        # Keyword and negative alternations are built from escaped words (no nested
        # quantifiers): linear in the window, so they run without the timeout's overhead.
        try:
            km = _last(back, text, max(0, start - nb), start)
            if km is not None:
                return km.group(0), start - km.end(), "near"
            if start < nb and self.tail:  # the window reaches back into earlier segments
                tl = len(self.tail)
                km = _last(back, self.tail, max(0, tl - (nb - start)), tl)
                if km is not None:
                    return km.group(0), start + 1 + tl - km.end(), "near"
            km = rx.search(text, end, min(n, end + na))
            if km is not None:
                return km.group(0), km.start() - end, "near"
            if header:
                km = rx.search(header)
                if km is not None:
                    return km.group(0), 0, "header"
            far = p.far_window
            if far > nb:
                km = _last(back, text, max(0, start - far), max(0, start - nb))
                if km is not None:
                    return km.group(0), start - km.end(), "far"
                if self.tail and start < far:
                    tl = len(self.tail)
                    km = _last(back, self.tail, max(0, tl - (far - start)), tl)
                    if km is not None:
                        return km.group(0), start + 1 + tl - km.end(), "far"
            if far > na:
                km = rx.search(text, min(n, end + na), min(n, end + far))
                if km is not None:
                    return km.group(0), km.start() - end, "far"
        except TimeoutError as exc:
            raise MatchTimeout(p.id) from exc
        return None, None, None


def _line_end(text: str, pos: int, width: int) -> int:
    """End of the after-window for negative context: it does not run into the next line."""
    stop = min(len(text), pos + width)
    nl = text.find("\n", pos, stop)
    return stop if nl < 0 else nl


def _last(back: regex.Pattern[str], text: str, pos: int, endpos: int) -> regex.Match[str] | None:
    """The last (closest to ``endpos``) match in ``text[pos:endpos]``, searched in place with
    the REVERSE-compiled pattern ``back``: it stops at the nearest keyword."""
    return back.search(text, pos, endpos) if endpos > pos else None


class _GroupZero:
    """A column-value match seen as a pattern match whose value is group 1 (the whole match)."""

    __slots__ = ("_m",)

    def __init__(self, m: regex.Match[str]):
        self._m = m

    def group(self, _n: int = 0) -> str:
        return self._m.group(0)

    def span(self, _n: int = 0) -> tuple[int, int]:
        return self._m.span(0)

    def start(self, _n: int = 0) -> int:
        return self._m.start(0)

    def end(self, _n: int = 0) -> int:
        return self._m.end(0)


_TABLE_ROWS = 500
_BRACKETED = regex.compile(r"\([^()\n]{0,40}\)|\[[^\[\]\n]{0,40}\]")


def _looks_like_header_line(line: str) -> bool:
    """'Item Lot No. NDC Units', 'Subject Date of Birth Diagnosis (ICD-10) Term': labels only."""
    bare = _BRACKETED.sub(" ", line).strip()
    if not bare or len(bare) > 200 or ":" in bare or bare.endswith((".", ",", ";")) or any(ch.isdigit() for ch in bare):
        return False
    words = bare.split()
    if not 3 <= len(words) <= 15:
        return False
    # Column labels are capitalised ("Lot No.", "Date of Birth"); prose is mostly lower case.
    return sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _looks_like_row(line: str) -> bool:
    """A data row under a text-table header: values (two or more with digits), not a sentence
    or a "label: value" line."""
    bare = line.strip()
    if not bare or ": " in bare or bare.endswith((".", ";", ":")) or _looks_like_header_line(bare):
        return False
    return sum(any(ch.isdigit() for ch in tok) for tok in bare.split()) >= 2


def _strip_span(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _header_for(cells: list[_Cell] | None, pos: int, header: str | None) -> str | None:
    """The header of the column holding ``pos``; the whole context when the row has no columns."""
    if not cells:
        return header
    for cell in cells:
        if cell.start <= pos < cell.end:
            return cell.header
    return None


def _with_note(e: Explanation, note: str, reported: bool) -> Explanation:
    return Explanation(
        e.pattern,
        e.pattern_name,
        e.base_score,
        e.validator,
        e.validator_result,
        e.keyword,
        e.keyword_distance,
        e.keyword_scope,
        e.negative,
        e.score,
        e.confidence if reported else None,
        (*e.notes, note),
    )
