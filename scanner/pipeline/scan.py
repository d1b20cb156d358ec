"""The public scanning API: paths in, one ``FileResult`` per file and per archive member out.

    from scanner.pipeline.scan import scan_paths
    for result in scan_paths(["outgoing/"]):
        print(result.path, result.verdict, result.decision.reasons)

Extraction and matching run in worker processes (``scanner.pipeline.pool``); the policy decides
here, in the caller, so the same outcomes can be re-decided for another destination.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from scanner.decide.policy import apply_unlabelable, decide
from scanner.decide.rules import Policy
from scanner.model import Decision, DocOutcome, FileResult, Verdict
from scanner.pipeline.pool import PRIORITY_INTERACTIVE, WorkerPool
from scanner.pipeline.worker import ScanOptions, analyse_file

_RANK = {Verdict.ALLOW: 0, Verdict.LABEL: 1, Verdict.BLOCK: 2}


def iter_files(paths: Iterable[Path | str]) -> Iterator[tuple[Path, str]]:
    """Expand folders recursively (sorted, symlinked folders not followed); keep the user's spelling."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p, followlinks=False):
                dirs.sort()
                for name in sorted(files):
                    fp = Path(root) / name
                    yield fp, str(fp)
        else:
            yield p, str(raw)


def decide_outcomes(
    outcomes: Sequence[DocOutcome], policy: Policy | None = None, destination: str | None = None
) -> list[FileResult]:
    """Decide each document, then let a container carry its worst member's verdict.

    An archive cannot be sent without its members, so ``a.zip`` is blocked when
    ``a.zip!secret.txt`` is, with the member named in the reasons.
    """
    results = [FileResult(o, decide(o, policy, destination), destination) for o in outcomes]
    by_path = {r.path: r for r in results}
    # deepest first, so a verdict climbs through every level of nesting
    for r in sorted(results, key=lambda r: r.path.count("!"), reverse=True):
        if "!" not in r.path:
            continue
        parent = by_path.get(r.path.rpartition("!")[0])
        if parent is None:
            continue
        child, mine = r.decision, parent.decision
        if _RANK[child.verdict] > _RANK[mine.verdict] or (
            child.verdict is mine.verdict and child.verdict is not Verdict.ALLOW and mine.label is None
        ):
            member = r.path.rpartition("!")[2]
            reasons = tuple(dict.fromkeys((*mine.reasons, *(f"member {member}: {x}" for x in child.reasons[:5]))))
            decision = Decision(
                child.verdict, child.label or mine.label, reasons[:30], mine.overridable and child.overridable
            )
            # a ZIP that inherits "label" cannot carry one: the policy's unlabelable choice applies
            parent.decision = apply_unlabelable(decision, parent.outcome.type, policy)
    return results


def scan_paths(
    paths: Iterable[Path | str],
    opts: ScanOptions | None = None,
    *,
    policy: Policy | None = None,
    destination: str | None = None,
    pool: WorkerPool | None = None,
    jobs: int | None = None,
    cancel: threading.Event | None = None,
    priority: int = PRIORITY_INTERACTIVE,
) -> Iterator[FileResult]:
    """Scan files and folders; yields results file by file in input order (members after their file)."""
    opts = opts or ScanOptions()
    own_pool = pool is None
    files = list(iter_files(paths))
    if pool is None:
        pool = WorkerPool(opts, jobs=min(jobs or os.cpu_count() or 1, max(1, len(files))))
    try:
        futures = [pool.submit(p, display, priority) for p, display in files]
        for fut in futures:
            if cancel is not None and cancel.is_set():
                for f in futures:
                    f.cancel()
                return
            if fut.cancelled():
                continue
            yield from decide_outcomes(fut.result(), policy, destination)
    finally:
        if own_pool:
            pool.close()


def scan_file_inline(
    path: Path | str, opts: ScanOptions | None = None, *, policy: Policy | None = None, destination: str | None = None
) -> list[FileResult]:
    """Scan in this process (no time/memory isolation): for trusted input, tests and tools."""
    return decide_outcomes(analyse_file(Path(path), str(path), opts or ScanOptions()), policy, destination)
