"""The move journal: a table in the audit database recording each move's intent and progress.

Finishing a move and recording it in the audit trail commit in one transaction, never one
without the other; ``scanner.act.transfer`` explains the states a move goes through.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.record.audit import AuditLog, now_utc
from scanner.record.events import AuditKind

# States a move is still in when a crash interrupts it (``recover`` finishes or rolls them back).
PENDING = ("copying", "copied", "placed", "source_removed")


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: int
    op: str
    state: str
    source: Path
    source_sha256: str
    bytes: int
    target: Path
    temp: Path
    target_sha256: str | None
    keep_source: bool
    record_path: Path | None
    record: dict[str, Any] | None
    audit_fields: dict[str, Any]
    created: str
    updated: str
    note: str | None

    @property
    def staging(self) -> Path:
        return self.temp.parent


_J_COLS = (
    "id, op, state, source, source_sha256, bytes, target, temp, target_sha256, keep_source, record_path, "
    "record_json, audit_json, created, updated, note"
)


def _entry(r: Sequence[Any]) -> JournalEntry:
    return JournalEntry(
        r[0],
        r[1],
        r[2],
        Path(r[3]),
        r[4],
        r[5],
        Path(r[6]),
        Path(r[7]),
        r[8],
        bool(r[9]),
        Path(r[10]) if r[10] else None,
        json.loads(r[11]) if r[11] else None,
        json.loads(r[12]),
        r[13],
        r[14],
        r[15],
    )


class Journal:
    """The move journal: a table in the audit database, so that finishing a move and
    recording it in the audit trail commit in one transaction (never one without the other)."""

    def __init__(self, audit: AuditLog):
        self.audit = audit

    def begin(
        self,
        op: str,
        source: Path,
        source_sha256: str,
        size: int,
        target: Path,
        temp: Path,
        keep_source: bool,
        record_path: Path | None,
        record: dict[str, Any] | None,
        audit_fields: dict[str, Any],
    ) -> int:
        now = now_utc()
        with self.audit.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO journal(op, state, source, source_sha256, bytes, target, temp, keep_source, "
                "record_path, record_json, audit_json, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    op,
                    "copying",
                    str(source),
                    source_sha256,
                    size,
                    str(target),
                    str(temp),
                    int(keep_source),
                    str(record_path) if record_path else None,
                    json.dumps(record) if record is not None else None,
                    json.dumps(audit_fields),
                    now,
                    now,
                ),
            )
            return int(cur.lastrowid or 0)

    def update(self, entry_id: int, **cols: Any) -> None:
        cols["updated"] = now_utc()
        sets = ", ".join(f"{k} = ?" for k in cols)
        vals = [str(v) if isinstance(v, Path) else v for v in cols.values()]
        with self.audit.transaction() as tx:
            tx.execute(f"UPDATE journal SET {sets} WHERE id = ?", (*vals, entry_id))

    def finish(
        self, entry_id: int, state: str, audit_kind: AuditKind, audit_fields: dict[str, Any], note: str | None = None
    ) -> int:
        """Close the entry and write its audit row in one transaction; returns the audit seq."""
        with self.audit.transaction() as tx:
            tx.execute(
                "UPDATE journal SET state = ?, note = ?, updated = ? WHERE id = ?", (state, note, now_utc(), entry_id)
            )
            return tx.record(audit_kind, **audit_fields)

    def get(self, entry_id: int) -> JournalEntry:
        with self.audit.transaction() as tx:
            r = tx.execute(f"SELECT {_J_COLS} FROM journal WHERE id = ?", (entry_id,)).fetchone()
        if r is None:
            raise KeyError(entry_id)
        return _entry(r)

    def pending(self) -> list[JournalEntry]:
        with self.audit.transaction() as tx:
            rows = tx.execute(
                f"SELECT {_J_COLS} FROM journal WHERE state IN ({','.join('?' * len(PENDING))}) ORDER BY id", PENDING
            ).fetchall()
        return [_entry(r) for r in rows]

    def entries(self) -> list[JournalEntry]:
        with self.audit.transaction() as tx:
            rows = tx.execute(f"SELECT {_J_COLS} FROM journal ORDER BY id").fetchall()
        return [_entry(r) for r in rows]
