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
   ``Segment.context`` or remembered from an earlier header-like row) a pattern's
   ``column_regex`` is tried on each cell whose *column header* names the entity
   ("Date of Birth", "Lot No.", "Employee name"): values that are only recognisable by
   their column cost nothing in prose, because no value-shaped regex runs there.
4. **Validate** (checksum registry), **allow-lists**, **context** (near window, far
   window, the cell's own column header, text carried over from the previous segment),
   **negative context** (also in the column header), **threshold** -> a ``Finding``
   with an ``Explanation``, or a ``NearMiss`` that says why it was not reported.
5. **Overlaps** — one stretch of text is one thing: the stronger claim wins, and a
   value inside a larger reported one (a formula inside an InChI) is part of it.

Compiled once per process per pattern set (``Matcher.cached``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import regex

from . import validators
from .model import Confidence, Explanation, Finding, Location, NearMiss, Segment, Severity
from .normalize import normalize
from .patterns import Pattern, PatternSet

_DEFAULT_UNBOUNDED_WIDTH = 512
_MARGIN = 64          # chars after a hit so lookaheads and \b see real text
_MAX_FINDINGS_PER_DOC = 2000
_TAIL = 300           # chars of the previous segment kept as context


class MatchTimeout(Exception):
    """A regex hit its timeout: the text could not be fully checked (never 'clean')."""

    def __init__(self, pattern_id: str):
        super().__init__(f"pattern {pattern_id} timed out (regex safety limit); text not fully checked")
        self.pattern_id = pattern_id


@dataclass(slots=True)
class MatchResult:
    findings: list[Finding] = field(default_factory=list)
    near_misses: list[NearMiss] = field(default_factory=list)


def _word_alternation(words: Sequence[str]) -> regex.Pattern[str] | None:
    if not words:
        return None
    alts = "|".join(regex.escape(w).replace(r"\ ", r"[\s_-]*") for w in sorted(set(words), key=len, reverse=True))
    # Whole words only, and never inside an address or file name: "example" in
    # "jane@example.com" is not negative context, "lot" in "pilot" is not a keyword.
    return regex.compile(rf"(?<![\w@./\\])(?:{alts})(?![\w@]|\.\w)", regex.IGNORECASE)


def mask(value: str) -> str:
    """Keep separators and the last few alphanumerics: '123-45-6789' -> '***-**-6789'."""
    alnum = sum(c.isalnum() for c in value)
    keep = 4 if alnum >= 8 else 2 if alnum >= 6 else 1 if alnum >= 4 else 0
    out = []
    seen = 0
    for c in value:
        if c.isalnum():
            seen += 1
            out.append(c if seen > alnum - keep else "*")
        elif c in "\r\n\t":
            out.append(" ")
        else:
            out.append(c)
    s = "".join(out)
    if len(s) > 40:
        s = f"{s[:12]}…{s[-16:]} ({len(value)} chars)"
    return s


def value_key(value: str) -> str:
    """Normalised form for hashing and allow-lists: case and separators do not count."""
    return validators.compact(value).casefold() or value.strip().casefold()


def keyed_hash(key: bytes, value: str) -> str:
    return hmac.new(key, value_key(value).encode("utf-8"), hashlib.sha256).hexdigest()[:32]


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
    engine: str = "regex"   # vectorscan | vectorscan-prefilter | regex
    col_rx: regex.Pattern[str] | None = None      # value shape for a gated table column
    col_keywords: regex.Pattern[str] | None = None  # header words that open the column


def _hs_flags(p: Pattern) -> int:
    import hyperscan as hs

    f = hs.HS_FLAG_UTF8 | hs.HS_FLAG_UCP
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


class Matcher:
    """Compiled pattern set. Not thread-safe (the Vectorscan scratch is per matcher)."""

    _cache: dict[tuple[str, bytes, float, bool], Matcher] = {}

    def __init__(self, pset: PatternSet, hash_key: bytes, regex_timeout: float = 2.0,
                 use_vectorscan: bool = True, keep_near_misses: bool = True):
        self.pset = pset
        self.hash_key = hash_key
        self.timeout = regex_timeout
        self.keep_near_misses = keep_near_misses
        self.compiled: list[_Compiled] = []
        for i, p in enumerate(pset.patterns):
            width = p.width()
            keywords = _word_alternation(p.keywords)
            self.compiled.append(_Compiled(
                index=i, pattern=p, rx=p.compile(), keywords=keywords,
                negative=_word_alternation(p.negative), allow=frozenset(value_key(v) for v in p.allow),
                allow_rx=tuple(regex.compile(r) for r in p.allow_regex),
                validator=validators.REGISTRY[p.validator] if p.validator else None,
                width=width if width is not None else _DEFAULT_UNBOUNDED_WIDTH,
                col_rx=regex.compile(p.column_regex, p.regex_flags) if p.column_regex else None,
                col_keywords=(_word_alternation(p.column_keywords) or keywords) if p.column_regex else None))
        self._gated = [c for c in self.compiled if c.col_rx is not None and c.col_keywords is not None]
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
        exprs, ids, flags = [], [], []
        fallback = []
        for c in self.compiled:
            expr = c.pattern.prefilter or c.pattern.regex
            f = _hs_flags(c.pattern)
            if c.pattern.prefilter is None and _try_hs(expr, f):
                c.engine = "vectorscan"
            elif _try_hs(expr, f | hs.HS_FLAG_PREFILTER):
                f |= hs.HS_FLAG_PREFILTER
                c.engine = "vectorscan-prefilter"
            else:
                c.engine = "regex"
                fallback.append(c)
                continue
            exprs.append(expr.encode("utf-8"))
            ids.append(c.index)
            flags.append(f)
        if exprs:
            db = hs.Database(mode=hs.HS_MODE_BLOCK)
            db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=flags)
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
        out: list[tuple[_Compiled, regex.Match[str]]] = []
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
            n = len(text)
            for pid, offs in ends.items():
                c = self.compiled[pid]
                w = c.width
                for ws, we in _windows(offs, w, n):
                    out.extend((c, m) for m in self._finditer(c, text, ws, we, n))
        for c in self._fallback:
            out.extend((c, m) for m in self._finditer(c, text, 0, len(text), len(text)))
        return out

    def _finditer(self, c: _Compiled, text: str, ws: int, we: int, n: int) -> list[regex.Match[str]]:
        try:
            found = list(c.rx.finditer(text, ws, we, timeout=self.timeout))
        except TimeoutError as exc:
            raise MatchTimeout(c.pattern.id) from exc
        if we < n:  # a match touching the window's end may be cut short: its own window has it whole
            found = [m for m in found if m.end() < we]
        return found


def _windows(ends: list[int], width: int, n: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for e in sorted(ends):
        ws, we = max(0, e - width - 1), min(n, e + _MARGIN)
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
    start: int           # stripped cell bounds in the segment text
    end: int
    header: str | None   # its column header (the whole context for a lone cell)


_CELL_SEP = " | "


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
        self.count = 0
        self._headers: dict[tuple[str, str | None, int], list[str]] = {}

    def feed(self, seg: Segment) -> MatchResult:
        m = self.m
        text = normalize(seg.text)
        result = MatchResult()
        if not text.strip():
            return result
        header = normalize(seg.context) if seg.context else None
        cells = self._cells(text, header, seg)
        raw: list[tuple[float, Finding]] = []
        candidates = m._candidates(text)
        if cells:
            candidates.extend(self._column_candidates(text, cells))
        for c, mt in candidates:
            item = self._judge(c, mt, text, header, seg, cells)
            if isinstance(item, NearMiss):
                if m.keep_near_misses and len(result.near_misses) < 200:
                    result.near_misses.append(item)
            elif item is not None:
                raw.append((item.explanation.score, item))
        result.findings = self._resolve_overlaps(raw, result)
        room = _MAX_FINDINGS_PER_DOC - self.count
        if len(result.findings) > room:
            result.findings = result.findings[:max(room, 0)]
        self.count += len(result.findings)
        self.tail = text[-_TAIL:]
        return result

    # ------------------------------------------------------------------ tables
    def _cells(self, text: str, header: str | None, seg: Segment) -> list[_Cell] | None:
        """The cells of a table row and each one's column header (None: not a table row)."""
        if _CELL_SEP not in text:
            if header is None or "\n" in text.strip():
                return None
            s, e = _strip_span(text, 0, len(text))
            return [_Cell(s, e, header)] if e > s else None
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
            self._headers[key] = texts   # the latest header row heads the rows below it
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
        raw.sort(key=lambda t: (-t[0], -Severity(t[1].severity).rank, t[1].end - t[1].start))
        kept: list[Finding] = []
        for _score, f in raw:
            clash = next((k for k in kept if k.pattern != f.pattern and k.start <= f.start and f.end <= k.end), None)
            if clash is None:
                if any(k.pattern == f.pattern and k.start == f.start and k.end == f.end for k in kept):
                    continue  # the same hit twice (overlapping windows, or inline and column paths)
                kept.append(f)
            else:
                self._supersede(f, clash, result)
        inside = [f for f in kept if any(
            k is not f and k.pattern != f.pattern and k.confidence.rank >= 2 and k.start <= f.start
            and f.end <= k.end and (k.end - k.start) > (f.end - f.start) for k in kept)]
        for f in inside:
            outer = next(k for k in kept if k is not f and k.start <= f.start and f.end <= k.end
                         and (k.end - k.start) > (f.end - f.start))
            self._supersede(f, outer, result)
        kept = [f for f in kept if f not in inside] if inside else kept
        kept.sort(key=lambda f: f.start)
        return kept

    def _supersede(self, f: Finding, by: Finding, result: MatchResult) -> None:
        if self.m.keep_near_misses and len(result.near_misses) < 200:
            result.near_misses.append(NearMiss(f.pattern, f.location, f.masked, _with_note(
                f.explanation, f"superseded by {by.pattern} on the same text", reported=False)))

    # ------------------------------------------------------------------ judging
    def _judge(self, c: _Compiled, mt: regex.Match[str], text: str, header: str | None,
               seg: Segment, cells: list[_Cell] | None = None) -> Finding | NearMiss | None:
        p = c.pattern
        grp = p.group if p.group <= (mt.re.groups or 0) else 0
        value = mt.group(grp)
        if value is None or not value.strip():
            return None
        start, end = mt.span(grp)
        notes: list[str] = []
        location = seg.location
        if location.line is not None:
            location = Location(location.part, location.page, location.sheet, location.cell, location.paragraph,
                                location.name, location.line + text.count("\n", 0, start))
        score = p.score
        vres: bool | None = None
        if c.validator is not None:
            try:
                vres = c.validator(value)
            except Exception:  # noqa: BLE001 - a validator bug must not stop the scan
                vres = None
                notes.append("validator error")
            if vres is True:
                score = max(score, p.validated_score) if p.validator_mode == "hard" else score + 0.1
            elif vres is False:
                if p.validator_mode == "hard":
                    return self._near(p, location, value, score, vres, None, None, None, None, 0.0,
                                      ("checksum/format check failed",))
                score -= 0.2
        key = value_key(value)
        if key in c.allow or any(r.fullmatch(value) for r in c.allow_rx):
            return self._near(p, location, value, score, vres, None, None, None, None, 0.0, ("allow-listed value",))
        col_header = _header_for(cells, start, header)
        kw, dist, scope = self._context(c, text, start, end, col_header)
        if kw is not None:
            if scope in ("near", "header"):
                score = max(score + 0.35, 0.4)
            else:
                score += 0.15
        neg = None
        if c.negative is not None:
            before = text[max(0, start - p.window[0]):start]
            after = text[end:end + p.window[1]]
            nm = c.negative.search(before) or c.negative.search(after)
            if nm is None and col_header:
                nm = c.negative.search(col_header)
            if nm is not None:
                neg = nm.group(0)
                score -= 0.3
        score = max(0.0, min(1.0, score))
        if p.require_context and kw is None:
            return self._near(p, location, value, score, vres, None, None, None, neg, score,
                              ("no context keyword (required)",))
        conf = Confidence.from_score(score)
        if conf is None or score < p.min_score:
            return self._near(p, location, value, score, vres, kw, dist, scope, neg, score, ("below threshold",))
        expl = Explanation(p.id, p.name, p.score, p.validator, vres, kw, dist, scope, neg, score, conf.value,
                           tuple(notes))
        return Finding(p.id, p.name, p.category, Severity(p.severity), conf, location, start, end, mask(value),
                       keyed_hash(self.m.hash_key, value), expl, value)

    def _near(self, p: Pattern, location: Location, value: str, base: float, vres: bool | None, kw: str | None,
              dist: int | None, scope: str | None, neg: str | None, score: float,
              notes: tuple[str, ...]) -> NearMiss | None:
        if not self.m.keep_near_misses:
            return None
        expl = Explanation(p.id, p.name, p.score, p.validator, vres, kw, dist, scope, neg, score, None, notes)
        return NearMiss(p.id, location, mask(value), expl)

    def _context(self, c: _Compiled, text: str, start: int, end: int,
                 header: str | None) -> tuple[str | None, int | None, str | None]:
        rx = c.keywords
        if rx is None:
            return None, None, None
        p = c.pattern
        nb, na = p.window
        # near, before: the closest keyword ending before the match (previous segment counts)
        before = text[max(0, start - nb):start]
        if start < nb and self.tail:
            carried = min(len(self.tail), nb - start)
            before = self.tail[-carried:] + "\n" + before
        best: tuple[str, int] | None = None
        try:
            for km in rx.finditer(before, timeout=self.m.timeout):
                best = (km.group(0), len(before) - km.end())
            if best is not None:
                return best[0], best[1], "near"
            km = rx.search(text, end, min(len(text), end + na), timeout=self.m.timeout)
            if km is not None:
                return km.group(0), km.start() - end, "near"
            if header:
                km = rx.search(header, timeout=self.m.timeout)
                if km is not None:
                    return km.group(0), 0, "header"
            far = p.far_window
            if far > nb:
                fb = text[max(0, start - far):max(0, start - nb)]
                last = None
                for km in rx.finditer(fb, timeout=self.m.timeout):
                    last = km
                if last is not None:
                    return last.group(0), len(fb) - last.end() + nb, "far"
                if self.tail and start < far:
                    for km in rx.finditer(self.tail[-(far - start):], timeout=self.m.timeout):
                        last = km
                    if last is not None:
                        return last.group(0), far, "far"
            if far > na:
                km = rx.search(text, min(len(text), end + na), min(len(text), end + far), timeout=self.m.timeout)
                if km is not None:
                    return km.group(0), km.start() - end, "far"
        except TimeoutError as exc:
            raise MatchTimeout(p.id) from exc
        return None, None, None


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
    return Explanation(e.pattern, e.pattern_name, e.base_score, e.validator, e.validator_result, e.keyword,
                       e.keyword_distance, e.keyword_scope, e.negative, e.score,
                       e.confidence if reported else None, (*e.notes, note))
