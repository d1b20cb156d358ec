"""The public scanning API: paths in, one ``FileResult`` per file and per archive member out.

    from scanner.pipeline.scan import scan_paths
    for result in scan_paths(["outgoing/"]):
        print(result.path, result.verdict, result.decision.reasons)

Extraction and matching run in worker processes (``scanner.pipeline.pool``); the policy decides
here, in the caller, so the same outcomes can be re-decided for another destination.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path

from scanner.decide.policy import apply_unlabelable, decide
from scanner.decide.rules import Policy
from scanner.model import Decision, DocOutcome, FileResult, Verdict
from scanner.pipeline.pool import PRIORITY_INTERACTIVE, WorkerPool
from scanner.pipeline.worker import ScanOptions, analyse_file
from scanner.sniff import DocType

_RANK = {Verdict.ALLOW: 0, Verdict.LABEL: 1, Verdict.BLOCK: 2}


def iter_inputs(paths: Iterable[Path | str]) -> Iterator[tuple[Path, str] | DocOutcome]:
    """What scanning ``paths`` means, in order: a ``(path, display)`` per file to scan, and an
    outcome, already complete, for what is not scanned.

    Folders are expanded recursively, sorted, a folder's files before its sub-folders; the user's
    spelling is kept. Nothing is passed over in silence:

    * a folder that cannot be listed (permission denied, vanished) is an outcome with an error,
      so the policy's unscannable verdict applies to it;
    * a FIFO, socket or device is never opened (a FIFO would block the reader) and is an outcome
      noted ``skipped``;
    * inside a folder a symbolic link to a file is scanned (its target's content is what a copy
      sends), a link to a folder is not followed (no loops, no walking out of the folder) and is
      noted ``skipped``. A path named by the caller is followed, whatever it is.
    """
    for raw in paths:
        p = Path(raw)
        try:
            st = p.stat()
        except OSError:
            yield p, str(raw)  # missing or unreadable: the worker says why, as for any file
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(p)
            continue
        kind = _special_kind(st.st_mode)
        yield (p, str(raw)) if kind is None else skipped_outcome(str(raw), f"{kind} (special file)")


def iter_files(paths: Iterable[Path | str]) -> Iterator[tuple[Path, str]]:
    """The files of ``iter_inputs``, for callers that list before scanning (``clearance extract``).

    Callers that report results should use ``iter_inputs``: this drops unreadable folders
    and skipped entries."""
    for item in iter_inputs(paths):
        if not isinstance(item, DocOutcome):
            yield item


def folder_outcome(display: str, exc: OSError) -> DocOutcome:
    """A folder that could not be listed: an error, so the policy's unscannable verdict applies."""
    if isinstance(exc, PermissionError):
        why = "permission denied"
    elif isinstance(exc, FileNotFoundError):
        why = "it no longer exists"
    elif isinstance(exc, NotADirectoryError):
        why = "it is no longer a folder"
    else:
        why = (exc.strerror or type(exc).__name__).lower()
    return DocOutcome(display, DocType.UNSUPPORTED.value, "", 0, errors=[f"folder cannot be read: {why}"])


def skipped_outcome(display: str, reason: str) -> DocOutcome:
    """An entry that holds no file content to send (a FIFO, a device, a link to a folder)."""
    return DocOutcome(display, DocType.UNSUPPORTED.value, "", 0, notes={SKIPPED_NOTE: reason})


SKIPPED_NOTE = "skipped"  # the outcome's note (and JSON key) for an entry that was not opened


def _special_kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return "special file"


def _walk(top: Path) -> Iterator[tuple[Path, str] | DocOutcome]:
    # An explicit stack, not recursion: a deep tree must not hit the recursion limit.
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield folder_outcome(str(folder), exc)
            continue
        subfolders: list[Path] = []
        for entry in entries:
            path = folder / entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(path)
                    continue
                st = entry.stat()  # follows a link: its target is what a copy would send
            except OSError:
                yield path, str(path)  # a broken link, or gone: the worker reports why
                continue
            if stat.S_ISDIR(st.st_mode):
                yield skipped_outcome(str(path), "link to a folder (not followed)")
                continue
            kind = _special_kind(st.st_mode)
            if kind is not None:
                yield skipped_outcome(str(path), f"{kind} (special file)")
                continue
            yield path, str(path)
        stack.extend(reversed(subfolders))


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
) -> Generator[FileResult, None, None]:
    """Scan files and folders; yields results file by file in input order (members after their file).

    A folder that cannot be listed and an entry that is not opened (``iter_inputs``) have their
    line too, in order. If the caller stops early (``close()``, an exception, Ctrl-C), files in
    progress are abandoned: workers of a pool made here are killed, not waited for.
    """
    opts = opts or ScanOptions()
    own_pool = pool is None
    items = list(iter_inputs(paths))
    if pool is None:
        to_scan = sum(1 for x in items if not isinstance(x, DocOutcome))
        pool = WorkerPool(opts, jobs=min(jobs or os.cpu_count() or 1, max(1, to_scan)))
    finished = False
    try:
        pending: list[Future[list[DocOutcome]] | DocOutcome] = [
            x if isinstance(x, DocOutcome) else pool.submit(x[0], x[1], priority) for x in items
        ]
        futures = [x for x in pending if isinstance(x, Future)]
        for item in pending:
            if cancel is not None and cancel.is_set():
                for f in futures:
                    f.cancel()
                finished = True
                return
            if isinstance(item, DocOutcome):
                yield from decide_outcomes([item], policy, destination)
                continue
            if item.cancelled():
                continue
            yield from decide_outcomes(item.result(), policy, destination)
        finished = True
    finally:
        if own_pool:
            pool.close(abandon=not finished)


def scan_file_inline(
    path: Path | str, opts: ScanOptions | None = None, *, policy: Policy | None = None, destination: str | None = None
) -> list[FileResult]:
    """Scan in this process (no time/memory isolation): for trusted input, tests and tools."""
    return decide_outcomes(analyse_file(Path(path), str(path), opts or ScanOptions()), policy, destination)
