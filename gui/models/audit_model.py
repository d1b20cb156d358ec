"""Rows of the audit trail (``scanner.record.audit.AuditRow``), newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from gui.icons import verdict_icon
from gui.models.base import RowTableModel
from gui.models.sort_proxy import ROW_ROLE, SORT_ROLE
from scanner.record.events import CHANGE_KINDS, AuditKind

_Index = QModelIndex | QPersistentModelIndex


def describe_row(r: Any) -> str:
    """One line of what a row means, from its data (masked values only: the trail has no others)."""
    d = r.data or {}
    if r.kind == AuditKind.SCAN:
        counts = ", ".join(f"{f['pattern']}×{f['count']}" for f in d.get("findings", [])[:4])
        bits = [counts or "no findings"]
        if d.get("error"):
            bits.append(f"error: {d['error']}")
        return "; ".join(bits)
    if r.kind == AuditKind.OVERRIDE:
        return f"by {d.get('who', r.actor)}: {d.get('justification', '')}"
    if r.kind == AuditKind.REVEAL:
        return f"{d.get('pattern', '')} {d.get('masked', '')} at {_where(d.get('location'))}"
    if r.kind == AuditKind.ACTION:
        kept = f" ({d['source_kept']})" if d.get("source_kept") else ""
        return f"{d.get('op', 'moved')} to {d.get('to', '')}{kept}"
    if r.kind in CHANGE_KINDS:
        extra = f" pattern {d['pattern']}" if d.get("pattern") else ""
        return f"sha256 {str(r.sha256 or '')[:12]}…{extra}"
    for key in ("target", "error", "problem", "note", "where"):
        if d.get(key):
            return f"{key}: {d[key]}"
    return ""


def _where(loc: Any) -> str:
    if not isinstance(loc, dict):
        return ""
    return ", ".join(f"{k} {v}" for k, v in loc.items())


class AuditModel(RowTableModel):
    TIME, KIND, USER, SOURCE, FILE, DESTINATION, VERDICT, LABEL, DETAIL = range(9)
    _HEADERS = ("Time", "Event", "User", "Source", "File", "Destination", "Verdict", "Label", "Detail")

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._rows: list[Any] = []

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r, col = self._rows[index.row()], index.column()
        if role == ROW_ROLE:
            return r
        if role == SORT_ROLE:
            return r.seq if col == self.TIME else (self._display(r, col) or "")
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"#{r.seq}  {r.ts}\n{r.path or ''}\n{describe_row(r)}\nrow hash {r.row_hash[:16]}…"
        if role == Qt.ItemDataRole.DecorationRole and col == self.VERDICT and r.verdict:
            return verdict_icon(r.verdict)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def _display(self, r: Any, col: int) -> str | None:
        if col == self.TIME:
            try:
                return datetime.fromisoformat(r.ts).astimezone().strftime("%Y-%m-%d %H:%M:%S")
            except ValueError:
                return r.ts
        return {
            self.KIND: r.kind,
            self.USER: r.actor,
            self.SOURCE: r.source,
            self.FILE: r.path or "",
            self.DESTINATION: r.destination or "",
            self.VERDICT: r.verdict or "",
            self.LABEL: r.label or "",
            self.DETAIL: describe_row(r),
        }.get(col)

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, n: int) -> Any:
        return self._rows[n]
