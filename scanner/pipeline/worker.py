"""Extraction + matching of one file: what runs inside a worker process.

Turns the extractor's event stream into one ``DocOutcome`` per document (the file and
each archive member / embedded package). No policy here: the caller decides, so a
change of destination does not need a re-scan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.detect.compiled import MatchTimeout
from scanner.detect.match import DocMatcher, Matcher
from scanner.detect.patterns import PatternSet, load_pattern_set
from scanner.extract.base import Splitter
from scanner.extract.registry import extract_file
from scanner.labels.existing import label_from_properties
from scanner.limits import Limits
from scanner.model import FINDINGS_LIMIT_NOTE, DocNote, DocOutcome, DocProblem, DocStart, Location, Segment
from scanner.partners import PartnerDictionary

# Texts this long are matched once per document even when the extractor hands out the same
# str many times (a spreadsheet's shared string); shorter ones are cheaper to match than to track.
LARGE_TEXT_CHARS = 4096
MAX_NEAR_MISSES = 500  # per document: enough to explain a "why not flagged?"


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """Everything a worker needs to scan; picklable, sent once per worker."""

    limits: Limits = field(default_factory=Limits)
    pattern_dirs: tuple[str, ...] = ()
    include_builtin: bool = True
    hash_key: bytes = b"clearance-default-key"
    keep_near_misses: bool = False
    partners: PartnerDictionary | None = None


_matchers: dict[tuple[tuple[str, ...], bool, bytes, float, bool], Matcher] = {}
_psets: dict[tuple[tuple[str, ...], bool], PatternSet] = {}


def pattern_set_for(opts: ScanOptions) -> PatternSet:
    key = (opts.pattern_dirs, opts.include_builtin)
    ps = _psets.get(key)
    if ps is None:
        ps = _psets[key] = load_pattern_set([Path(d) for d in opts.pattern_dirs], include_builtin=opts.include_builtin)
    return ps


def matcher_for(opts: ScanOptions) -> Matcher:
    """Compiled once per process per pattern set (Vectorscan compile is the costly part)."""
    # Near-misses cost an explanation and a mask per rejected candidate: only build them
    # when the caller asked (--explain, the GUI's "why not flagged?").
    key = (opts.pattern_dirs, opts.include_builtin, opts.hash_key, opts.limits.regex_timeout_s, opts.keep_near_misses)
    m = _matchers.get(key)
    if m is None:
        m = _matchers[key] = Matcher(
            pattern_set_for(opts), opts.hash_key, opts.limits.regex_timeout_s, keep_near_misses=opts.keep_near_misses
        )
    return m


def analyse_file(
    path: Path, display: str, opts: ScanOptions, *, pages: tuple[int, int] | None = None, split: Splitter | None = None
) -> list[DocOutcome]:
    """Extract and match one file; ``pages``/``split``: one part of a big PDF (``scanner.pipeline.page_split``)."""
    matcher = matcher_for(opts)
    # A later part reads the page before its range first, as context: its findings belong
    # to the part before, so they are dropped here (1-based page number = start index).
    lead_in_page = pages[0] if pages is not None and pages[0] > 0 else None
    outcomes: dict[str, DocOutcome] = {}
    doc_matchers: dict[str, DocMatcher] = {}
    started: dict[str, float] = {}
    partners = opts.partners
    # Large texts already matched in a document, by identity: a spreadsheet whose 12,000
    # cells all point at one 1 MB shared string must cost one match, not 12 GB of them.
    # Identity (the extractor hands out the same str object) is exact and O(1).
    seen_large: dict[tuple[str, int], str] = {}
    label_props: dict[str, dict[str, str]] = {}

    def outcome(doc: str) -> DocOutcome:
        found = outcomes.get(doc)
        if found is None:  # an event for a document that never started: should not happen, but never lose it
            found = outcomes[doc] = DocOutcome(_display(display, doc), "unsupported", "", 0)
        return found

    for ev in extract_file(path, opts.limits, pages=pages, split=split):
        if isinstance(ev, Segment):
            if lead_in_page is not None and ev.location.page == lead_in_page and not ev.doc:
                lead_in_page = None
                _context_only(doc_matchers, matcher, ev)
                continue
            o = outcome(ev.doc)
            o.segments += 1
            o.chars += len(ev.text)
            if _is_label_property(ev):
                # A sensitivity label is metadata about the file, not its content.
                label_props.setdefault(ev.doc, {})[ev.location.name or ""] = ev.text
                continue
            if o.errors and any(e.startswith("pattern ") for e in o.errors):
                continue  # matching already failed for this document; it is unscannable anyway
            if len(ev.text) >= LARGE_TEXT_CHARS:
                key = (ev.doc, id(ev.text))
                if seen_large.get(key) is ev.text:
                    o.notes["repeated_texts_skipped"] = o.notes.get("repeated_texts_skipped", 0) + 1
                    continue
                seen_large[key] = ev.text
            dm = doc_matchers.get(ev.doc)
            if dm is None:
                dm = doc_matchers[ev.doc] = matcher.doc()
            try:
                res = dm.feed(ev)
            except MatchTimeout as exc:
                o.errors.append(str(exc))
                continue
            except TimeoutError:
                o.errors.append("text normalisation timed out (regex safety limit); text not fully checked")
                continue
            o.findings.extend(res.findings)
            if res.near_misses:
                o.near_misses.extend(res.near_misses[: max(0, MAX_NEAR_MISSES - len(o.near_misses))])
            if partners is not None:
                partners.scan_into(o.notes, ev.text, ev.location, ev.doc)
        elif isinstance(ev, DocStart):
            outcomes[ev.doc] = DocOutcome(_display(display, ev.doc), ev.type, ev.sha256, ev.bytes)
            if partners is not None:
                # a sponsor's project code in a file name leaks as surely as in the text
                name = ev.doc.rpartition("!")[2] or Path(display).name
                partners.scan_into(outcomes[ev.doc].notes, name, Location("filename"), ev.doc)
            started[ev.doc] = time.monotonic()
            parent = ev.doc.rpartition("!")[0] if "!" in ev.doc else ("" if ev.doc else None)
            if parent is not None and parent in outcomes:
                outcomes[parent].container = True
        elif isinstance(ev, DocProblem):
            outcome(ev.doc).errors.append(ev.reason)
        elif isinstance(ev, DocNote):
            _apply_note(outcome(ev.doc), ev)
    for doc, dm in doc_matchers.items():
        if dm.limited and doc in outcomes:
            outcomes[doc].notes[FINDINGS_LIMIT_NOTE] = dict(dm.limited)
    for doc, props in label_props.items():
        labelled = outcomes.get(doc)
        if labelled is not None and labelled.existing_label is None:
            labelled.existing_label = _label_from(props)
    now = time.monotonic()
    for doc, o in outcomes.items():
        o.seconds = round(now - started.get(doc, now), 3)
    return list(outcomes.values())


def _context_only(doc_matchers: dict[str, DocMatcher], matcher: Matcher, seg: Segment) -> None:
    dm = doc_matchers.get(seg.doc)
    if dm is None:
        dm = doc_matchers[seg.doc] = matcher.doc()
    try:
        dm.feed(seg)
    except (MatchTimeout, TimeoutError):
        pass  # the part before reports this page; here it was only context


def _is_label_property(seg: Segment) -> bool:
    name = seg.location.name
    return (
        seg.location.part in ("property", "metadata")
        and name is not None
        and (name.startswith("MSIP_Label_") or name.startswith("Clearance_"))
    )


def _label_from(props: dict[str, str]) -> dict[str, Any] | None:
    found = label_from_properties(props)
    return found.to_dict() if found is not None else None


def _display(display: str, doc: str) -> str:
    return f"{display}!{doc}" if doc else display


def _apply_note(o: DocOutcome, ev: DocNote) -> None:
    if ev.key == "existing_label":
        o.existing_label = ev.value
    elif isinstance(ev.value, int | float) and not isinstance(ev.value, bool):
        o.notes[ev.key] = o.notes.get(ev.key, 0) + ev.value
    elif ev.key.endswith("_members"):
        o.notes.setdefault(ev.key, []).append(ev.value)
    else:
        o.notes[ev.key] = ev.value
