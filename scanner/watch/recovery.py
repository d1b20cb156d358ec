"""After a crash: finish or roll back interrupted moves, then close the journal items they leave open.

Order matters for "nothing lost, nothing twice": first ``transfer.recover`` finishes or rolls
back moves a crash interrupted; then unfinished journal items are reconciled with the move
journal, which is the truth (done -> closed with its receipt written again, source gone ->
closed, else left for the catch-up walk to take again as the same item).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from scanner.act import transfer
from scanner.act.journal import Journal, JournalEntry
from scanner.config.settings import Config
from scanner.model import Verdict
from scanner.record.audit import AuditLog
from scanner.watch.journal import Item, WatchJournal, stat_columns
from scanner.watch.logs import log_event
from scanner.watch.receipts import Outcome, destination_title, receipt_text, write_receipt
from scanner.watch.reporting import Reporter

_HASH_BLOCK = 1 << 20


def recover(config: Config, journal: WatchJournal, audit: AuditLog, reporter: Reporter) -> None:
    """Run once at start, before any file is taken."""
    for r in transfer.recover(Journal(audit)):
        reporter.emit("recovered", str(r.source), detail=r.message)
        log_event(logging.WARNING, "move_recovered", op=r.op, outcome=r.outcome, path=str(r.source), where=str(r.where))
    for p in transfer.sweep_stale_temp_files([config.quarantine.folder]):
        log_event(logging.INFO, "stale_temp_removed", path=str(p))
    _reconcile(config, journal, audit, reporter)


def _reconcile(config: Config, journal: WatchJournal, audit: AuditLog, reporter: Reporter) -> None:
    """Close journal items that a crash left open, using the move journal as the truth."""
    items = journal.unfinished()
    if not items:
        return
    since = min(i.created for i in items)
    moves: dict[str, list[JournalEntry]] = {}
    for e in Journal(audit).entries():
        if e.created >= since and e.op in ("release", "quarantine") and e.state == "done":
            moves.setdefault(str(e.source), []).append(e)
    for item in items:
        done = [e for e in moves.get(item.path, []) if e.created >= item.created]
        path = Path(item.path)
        if done:
            e = done[-1]
            kept = same_content(path, e.source_sha256)
            outcome = Outcome.RELEASED if e.op == "release" else Outcome.QUARANTINED
            journal.advance(
                item.id,
                "done",
                outcome=outcome.value,
                target=str(e.target),
                sha256=e.source_sha256,
                source_kept=kept,
                **stat_columns(path if kept else None),
            )
            reporter.emit(
                "recovered",
                item.path,
                item.destination,
                _verdict(e.audit_fields.get("verdict")),
                f"{outcome} before the interruption: {e.target.name}",
            )
            _receipt_after_recovery(config, path, item, e, outcome)
            log_event(logging.INFO, "item_reconciled", path=item.path, outcome=outcome)
        elif not path.exists():
            journal.advance(item.id, "gone", error="removed from the folder before it was processed")
        # else: still there and not moved: the catch-up walk takes it again (same item)


def _receipt_after_recovery(config: Config, path: Path, item: Item, e: JournalEntry, outcome: Outcome) -> None:
    f = e.audit_fields
    if not path.parent.is_dir():
        return
    write_receipt(
        path,
        receipt_text(
            path.name,
            outcome,
            destination_title(config, item.destination),
            verdict=_verdict(f.get("verdict")),
            label=f.get("label"),
            reasons=tuple(f.get("reasons") or ()),
            sha256=e.source_sha256,
            released_as=e.target.name if outcome is Outcome.RELEASED else None,
            note="completed after the watcher was interrupted",
        ),
    )


def _verdict(value: object) -> Verdict | None:
    """A verdict as the move journal recorded it (text)."""
    try:
        return Verdict(str(value)) if value else None
    except ValueError:
        return None


def same_content(path: Path, sha: str | None) -> bool:
    """Whether the file at ``path`` still holds the content with this SHA-256."""
    if not sha:
        return False
    try:
        return _sha256(path) == sha
    except OSError:
        return False


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_HASH_BLOCK), b""):
            h.update(block)
    return h.hexdigest()
