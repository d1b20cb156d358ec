"""The actor stage: a scanned file is decided, recorded, released or quarantined, and told about.

For each result: decide (``scan.decide_outcomes``, the same as the CLI and the GUI), record the
scan in the audit trail, release to the folder's destination or quarantine (``actions``), write
the receipt, and journal progress. A file that cannot be acted on now is left where it is and
tried again later with a growing delay; after ``MAX_ATTEMPTS`` counted failures it is left until
it changes. Fail closed: a file that should leave but cannot is quarantined, with the reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from scanner.act import actions, transfer
from scanner.config.settings import Config
from scanner.decide.rules import Policy
from scanner.model import Decision, DocOutcome, FileResult, Verdict
from scanner.pipeline.scan import decide_outcomes
from scanner.record.audit import AuditLog
from scanner.record.events import AuditKind, scan_fields
from scanner.sniff import DocType
from scanner.watch.folders import ReleaseFolders, WatchedFolder
from scanner.watch.journal import Item, WatchJournal, stat_columns
from scanner.watch.logs import log_event
from scanner.watch.receipts import Outcome, destination_title, receipt_text, write_receipt
from scanner.watch.recovery import same_content
from scanner.watch.reporting import Reporter

MAX_ATTEMPTS = 5  # scan/act failures before a file is left until it changes
MAX_RETRY_DELAY_S = 600.0  # the retry delay doubles up to this
_REASONS_IN_EVENT = 3


@dataclass(slots=True)
class Job:
    """A complete file on its way through the pool and the actors."""

    path: Path
    folder: WatchedFolder
    item: Item
    future: Future[list[DocOutcome]] | None = None
    rescanned: bool = False  # scanned a second time after its worker died


class Actor:
    """Acts on scanned files; safe to use from several actor threads at once.

    ``retry_later(job, delay)``: put the file back to wait for ``delay`` seconds.
    ``look_again(path)``: the file changed under us: look at it again once it is let go.
    """

    def __init__(
        self,
        config: Config,
        policies: dict[str, Policy],
        journal: WatchJournal,
        audit: AuditLog,
        reporter: Reporter,
        release_folders: ReleaseFolders,
        retry_delay: float,
        retry_later: Callable[[Job, float], None],
        look_again: Callable[[str], None],
    ):
        self.config = config
        self._policies = policies  # by destination
        self._journal = journal
        self._audit = audit
        self._reporter = reporter
        self._release_folders = release_folders
        self._retry_delay = retry_delay  # first back-off after a failure; doubles
        self._retry_later = retry_later
        self._look_again = look_again
        self._lock = threading.Lock()
        self._backoff: dict[str, int] = {}  # uncounted retries per file (growing delay)

    def process(self, job: Job, outcomes: list[DocOutcome]) -> None:
        """Decide, record, then release or quarantine one scanned file."""
        key, dest = str(job.path), job.folder.destination
        if not outcomes:  # fail closed: nothing came back means nothing was checked
            outcomes = [DocOutcome(key, DocType.UNSUPPORTED.value, "", 0, errors=["the scanner returned no result"])]
        results = decide_outcomes(outcomes, self._policies[dest], dest)
        top = next((r for r in results if r.path == key), results[0])
        # One transaction for the file and its archive members: one fsync, not one per member.
        with self._audit.transaction() as tx:
            for r in results:
                tx.record(AuditKind.SCAN, **scan_fields(r, dest), source="watcher")
        self._journal.advance(job.item.id, "decided", sha256=top.outcome.sha256, verdict=top.verdict.value)
        self._reporter.decided(top.verdict)
        prev = self._previous_kept(key, job.item.id)
        if prev is not None and prev.sha256 == top.outcome.sha256:
            # The same content we already released/quarantined (its source could not be removed).
            self._journal.advance(
                job.item.id,
                "done",
                outcome="unchanged",
                target=prev.target,
                source_kept=True,
                **stat_columns(job.path),
            )
            self._reporter.count("skipped")
            return
        if not job.path.exists():
            self._journal.advance(job.item.id, "gone", error="removed from the folder before it was moved")
            return
        self._journal.advance(job.item.id, "acting")
        self._act(job, top)

    def _previous_kept(self, key: str, current_id: int) -> Item | None:
        for it in reversed(self._journal.items(key)):
            if it.id != current_id and it.state == "done":
                return it if it.source_kept else None
        return None

    def _act(self, job: Job, top: FileResult) -> None:
        dest = job.folder.destination
        if top.verdict is Verdict.BLOCK:
            self._quarantine(job, top)
            return
        unavailable = self._release_folders.problem(dest)
        if unavailable:
            self._release_folders.forget(dest)  # went away since the file was taken
            self.retry(job, unavailable, count=False, result=top)
            return
        try:
            moved = actions.release(job.path, top, dest, self.config, self._audit, decision=top.decision)
        except transfer.ActionError as exc:
            if not job.path.exists():
                self._gone(job)
            elif not same_content(job.path, top.outcome.sha256):
                self._again(job, "changed while it was being scanned")
            elif (unavailable := self._release_folders.problem(dest)) is not None:
                self.retry(job, unavailable, count=False, result=top)
            else:
                # Fail closed: a file that should leave but cannot (e.g. its label cannot be
                # written) is held in quarantine with the reason, not left in limbo.
                why = f"could not be released to {self._title(dest)}: {exc}"
                held = FileResult(
                    top.outcome,
                    Decision(Verdict.BLOCK, top.decision.label, (*top.decision.reasons, why), top.decision.overridable),
                    dest,
                )
                log_event(logging.WARNING, "release_failed", path=str(job.path), error=str(exc))
                self._quarantine(job, held)
            return
        self._finished(job, top, Outcome.RELEASED, moved)

    def _quarantine(self, job: Job, result: FileResult) -> None:
        try:
            moved = actions.quarantine(job.path, result, self.config, self._audit, job.folder.destination)
        except transfer.ActionError as exc:
            if not job.path.exists():
                self._gone(job)
            else:
                self.retry(job, f"could not be quarantined: {exc}", result=result)
            return
        self._finished(job, result, Outcome.QUARANTINED, moved)

    def _finished(self, job: Job, result: FileResult, outcome: Outcome, moved: transfer.Moved) -> None:
        key, dest = str(job.path), job.folder.destination
        title = self._title(dest)
        released = outcome is Outcome.RELEASED
        # The receipt before the journal says "done": a crash in between is reconciled at
        # the next start, which writes the receipt again; never a done file without one.
        write_receipt(
            job.path,
            receipt_text(
                job.path.name,
                outcome,
                title,
                verdict=result.verdict,
                label=result.decision.label,
                reasons=result.decision.reasons,
                reference=moved.audit_seq,
                sha256=result.outcome.sha256,
                released_as=moved.target.name if released else None,
                note=moved.source_kept,
            ),
        )
        with self._lock:
            self._backoff.pop(key, None)
        kept = moved.source_kept is not None and job.path.exists()
        self._journal.advance(
            job.item.id,
            "done",
            outcome=outcome.value,
            target=str(moved.target),
            source_kept=kept,
            error=moved.source_kept,
            **stat_columns(job.path if kept else None),
        )
        self._reporter.count(outcome.value, done=True)
        if released:
            label = f", labelled {result.decision.label}" if result.verdict is Verdict.LABEL else ""
            detail = f"released to {title} as {moved.target.name}{label}"
        else:
            detail = "quarantined: " + ("; ".join(result.decision.reasons[:_REASONS_IN_EVENT]) or "blocked by policy")
        if moved.source_kept:
            detail += f" ({moved.source_kept})"
        self._reporter.emit(outcome.value, key, dest, result.verdict, detail)
        log_event(
            logging.INFO,
            "file_" + outcome.value,
            path=key,
            destination=dest,
            verdict=result.verdict,
            label=result.decision.label,
            target=str(moved.target),
            audit=moved.audit_seq,
            source_kept=moved.source_kept,
        )

    def _gone(self, job: Job) -> None:
        self._journal.advance(job.item.id, "gone", error="removed from the folder before it was moved")
        log_event(logging.INFO, "file_gone", path=str(job.path))

    def _again(self, job: Job, why: str) -> None:
        """The file changed under us: look at it again from the start (no attempt counted)."""
        self._journal.advance(job.item.id, "seen", attempts=max(0, job.item.attempts - 1), error=why)
        log_event(logging.INFO, "file_changed", path=str(job.path), reason=why)
        self._look_again(str(job.path))

    def retry(self, job: Job, why: str, *, count: bool = True, result: FileResult | None = None) -> None:
        """Leave the file where it is and try again later; after MAX_ATTEMPTS (when counted), until it changes."""
        key, dest = str(job.path), job.folder.destination
        attempts = job.item.attempts if count else max(0, job.item.attempts - 1)
        gave_up = count and attempts >= MAX_ATTEMPTS
        verdict = result.verdict if result else None
        self._journal.advance(
            job.item.id,
            "failed",
            error=why,
            attempts=attempts,
            **stat_columns(job.path if job.path.exists() else None),
        )
        if gave_up:
            self._reporter.count("failed")
            self._reporter.emit(
                "failed",
                key,
                dest,
                verdict,
                f"{why}; gave up after {attempts} attempts — the file stays in the folder "
                f"(save or copy it again to retry)",
                error=True,
            )
            log_event(logging.ERROR, "file_failed", path=key, reason=why, attempts=attempts)
        else:
            with self._lock:
                n = self._backoff[key] = self._backoff.get(key, 0) + 1
            delay = min(MAX_RETRY_DELAY_S, self._retry_delay * (2 ** (n - 1)))
            self._reporter.emit("retrying", key, dest, verdict, f"{why}; will retry in {delay:.0f} s", error=True)
            log_event(logging.WARNING, "file_retry", path=key, reason=why, attempts=attempts, delay_s=round(delay, 1))
            self._retry_later(job, delay)
        if job.path.exists():
            write_receipt(
                job.path,
                receipt_text(
                    job.path.name,
                    Outcome.FAILED if gave_up else Outcome.WAITING,
                    self._title(dest),
                    verdict=verdict,
                    label=result.decision.label if result else None,
                    reasons=result.decision.reasons if result else (),
                    sha256=result.outcome.sha256 if result else None,
                    note=why,
                ),
            )

    def _title(self, destination: str) -> str:
        return destination_title(self.config, destination)
