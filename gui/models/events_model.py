"""The watcher's recent events (newest first)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from gui.icons import verdict_icon
from gui.models.base import RowTableModel
from gui.models.sort_proxy import ROW_ROLE, SORT_ROLE
from scanner.watch.status import WatchEvent

_Index = QModelIndex | QPersistentModelIndex


class WatchEventsModel(RowTableModel):
    TIME, EVENT, FILE, DESTINATION, VERDICT, DETAIL = range(6)
    _HEADERS = ("Time", "Event", "File", "Destination", "Verdict", "Detail")

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._rows: list[WatchEvent] = []
        self._titles: dict[str, str] = {}

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        e, col = self._rows[index.row()], index.column()
        if role == ROW_ROLE:
            return e
        if role == SORT_ROLE and col == self.TIME:
            return e.time
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE, Qt.ItemDataRole.ToolTipRole):
            return (
                _local(e.time)
                if col == self.TIME
                else e.kind
                if col == self.EVENT
                else (_name(e.path) if role == Qt.ItemDataRole.DisplayRole else e.path)
                if col == self.FILE
                else self._titles.get(e.destination or "", e.destination or "")
                if col == self.DESTINATION
                else (e.verdict or "")
                if col == self.VERDICT
                else e.detail
                if col == self.DETAIL
                else None
            )
        if role == Qt.ItemDataRole.DecorationRole and col == self.VERDICT and e.verdict:
            return verdict_icon(e.verdict)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def set_titles(self, titles: dict[str, str]) -> None:
        """Show destinations by their display names."""
        if titles != self._titles:
            self._titles = dict(titles)
            if self._rows:
                last = len(self._rows) - 1
                self.dataChanged.emit(self.index(0, self.DESTINATION), self.index(last, self.DESTINATION))

    def set_events(self, events: Sequence[WatchEvent]) -> None:
        """``events`` oldest first (as the watcher keeps them); shown newest first."""
        self.beginResetModel()
        self._rows = list(reversed(events))
        self.endResetModel()


def _name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else ""


def _local(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso
