"""Vectorscan (the ``hyperscan`` wheel): one compiled database for every pattern, cached on disk.

Vectorscan never backtracks, so hostile text costs linear time. A pattern it cannot compile
exactly is compiled in its *prefilter* mode (a superset: lookarounds and back-references
approximated); one it cannot compile at all is left to a ``regex`` pass over each segment.
It only proposes candidates: the ``regex`` module, with Unicode semantics, decides.

Compiling the full catalogue takes a couple of seconds per process; the serialized database
loads in milliseconds. The cache key covers every expression and flag, the Vectorscan build
and the platform, so a changed pattern or library compiles afresh. ``CLEARANCE_CACHE_DIR``
overrides the folder; set empty, it disables the cache.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import hyperscan as hs
import platformdirs

from scanner.detect.patterns import Pattern

# The internal expressions the matcher adds behind its patterns. Letter-spaced digits: the
# first hit is enough (the text is then collapsed and scanned again). Table header lines:
# anchored per line.
SPACED_DIGITS_FLAGS = hs.HS_FLAG_UTF8 | hs.HS_FLAG_SINGLEMATCH
HEADER_LINE_FLAGS = hs.HS_FLAG_UTF8 | hs.HS_FLAG_MULTILINE

_CACHE_FORMAT = 1  # bump when the file layout below changes: old files are then ignored
_CACHE_KEEP = 256  # edited pattern sets leave stale entries behind; keep the newest this many


class Engine(enum.StrEnum):
    """What reads the text first for a pattern (``clearance patterns validate`` lists them)."""

    VECTORSCAN = "vectorscan"  # exact: a hit is a match end the regex only re-reads
    PREFILTER = "vectorscan-prefilter"  # a superset (approximate, or the pattern's own prefilter)
    REGEX = "regex"  # Vectorscan cannot read it: a regex pass over each segment (slower)


class Fit(enum.StrEnum):
    """How Vectorscan took an expression. The values are stored in the cache files."""

    EXACT = "exact"
    APPROX = "approx"  # compiled with HS_FLAG_PREFILTER
    NONE = "regex"  # not compiled at all


Plan = list[tuple[str, int]]  # (expression, Vectorscan flags), in expression-id order


def pattern_flags(p: Pattern) -> int:
    r"""Vectorscan flags for a pattern: UTF-8 input, ASCII meaning of \b \w \d \s.

    Not HS_FLAG_UCP: Vectorscan rejects \b under it, and Unicode \w repeats take
    tens of seconds to compile. The text is normalised first (every Unicode digit and
    space folded to ASCII, see ``normalize``), so ASCII \d and \s see what the
    ``regex`` confirmation sees; \p{...} properties stay Unicode.
    """
    f = hs.HS_FLAG_UTF8
    if "ignorecase" in p.flags:
        f |= hs.HS_FLAG_CASELESS
    if "dotall" in p.flags:
        f |= hs.HS_FLAG_DOTALL
    if "multiline" in p.flags:
        f |= hs.HS_FLAG_MULTILINE
    return f


def engine_for(fit: Fit, own_prefilter: bool) -> Engine:
    """A pattern's engine: an exact compile of the pattern's own prefilter is still a superset."""
    if fit is Fit.NONE:
        return Engine.REGEX
    if fit is Fit.EXACT and not own_prefilter:
        return Engine.VECTORSCAN
    return Engine.PREFILTER


def load_or_compile(plan: Plan) -> tuple[Any, list[Fit]]:
    """The database for ``plan`` (None when nothing compiled) and how each expression fit."""
    cached = _load_db(plan)
    if cached is not None:
        return cached
    db, fits = _compile_db(plan)
    if db is not None:
        _save_db(plan, db, fits)
    return db, fits


def scan_ends(db: Any, text: str) -> dict[int, list[int]]:
    """Where hits end, as offsets into ``text``, per expression id (each end once, in order)."""
    hits: dict[int, list[int]] = {}

    def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
        lst = hits.get(pid)
        if lst is None:
            hits[pid] = [to]
        elif lst[-1] != to:
            lst.append(to)

    if text.isascii():  # byte offsets are character offsets
        db.scan(text.encode("ascii"), match_event_handler=on_match)
        return hits
    data = text.encode("utf-8", "surrogatepass")
    db.scan(data, match_event_handler=on_match)
    return _byte_to_char_offsets(data, hits)


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


# ------------------------------------------------------------------ compile
def _compiles(expr: str, flags: int) -> bool:
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    try:
        db.compile(expressions=[expr.encode("utf-8")], ids=[0], elements=1, flags=[flags])
        return True
    except hs.error:
        return False


def _compile_db(plan: Plan) -> tuple[Any, list[Fit]]:
    """One Vectorscan database for every expression that it can read, exactly or as a superset."""
    fits: list[Fit] = []
    exprs, ids, flags = [], [], []
    for i, (expr, f) in enumerate(plan):
        if _compiles(expr, f):
            fits.append(Fit.EXACT)
        elif _compiles(expr, f | hs.HS_FLAG_PREFILTER):
            f |= hs.HS_FLAG_PREFILTER
            fits.append(Fit.APPROX)
        else:
            fits.append(Fit.NONE)
            continue
        exprs.append(expr.encode("utf-8"))
        ids.append(i)
        flags.append(f)
    db = None
    if exprs:
        db = hs.Database(mode=hs.HS_MODE_BLOCK)
        db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=flags)
    return db, fits


# ------------------------------------------------------------------ on-disk cache
def _cache_dir() -> Path | None:
    env = os.environ.get("CLEARANCE_CACHE_DIR")
    if env == "":
        return None  # explicitly disabled
    if env:
        return Path(env) / "vectorscan"
    try:
        return Path(platformdirs.user_cache_dir("clearance", appauthor=False)) / "vectorscan"
    except Exception:  # no usable home folder (a service account): compile every time
        return None


def _cache_key(plan: Plan) -> str:
    h = hashlib.sha256()
    h.update(
        json.dumps(
            [_CACHE_FORMAT, getattr(hs, "__version__", "?"), platform.machine(), platform.system(), sys.byteorder, plan]
        ).encode("utf-8")
    )
    return h.hexdigest()


def _load_db(plan: Plan) -> tuple[Any, list[Fit]] | None:
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
        fits = [Fit(e) for e in meta["engines"]]
        if len(fits) != len(plan):
            return None
        db = hs.loadb(blob, hs.HS_MODE_BLOCK) if blob else None
        if db is not None:
            db.scratch = hs.Scratch(db)  # a loaded database has no scratch space yet
        return db, fits
    except Exception:  # missing, damaged or from another build: compile afresh
        return None


def _save_db(plan: Plan, db: Any, fits: list[Fit]) -> None:
    d = _cache_dir()
    if d is None:
        return
    try:
        blob = hs.dumpb(db)
        meta = {"format": _CACHE_FORMAT, "engines": fits, "sha256": hashlib.sha256(blob).hexdigest()}
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"{_cache_key(plan)}.hsdb"
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(json.dumps(meta).encode("utf-8") + b"\n" + blob)
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the new one
        entries = sorted(d.glob("*.hsdb"), key=lambda q: q.stat().st_mtime)
        for old in entries[:-_CACHE_KEEP]:
            old.unlink(missing_ok=True)
    except Exception:  # a read-only or full disk: the cache is an optimisation, never a failure
        return
