"""Findings of the selected file, and its near-misses ("why was this not flagged?")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from gui.models.base import RowTableModel
from gui.models.sort_proxy import ROW_ROLE, SORT_ROLE
from scanner.model import Finding, NearMiss

_Index = QModelIndex | QPersistentModelIndex
_RANK = {"low": 1, "medium": 2, "high": 3}


@dataclass(frozen=True, slots=True)
class FindingRow:
    doc: str  # the document (file or archive member) the finding is in
    finding: Finding


class FindingsModel(RowTableModel):
    FINDING, CATEGORY, SEVERITY, CONFIDENCE, LOCATION, VALUE, WHY = range(7)
    _HEADERS = ("Finding", "Category", "Severity", "Confidence", "Location", "Value", "Why")

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._rows: list[FindingRow] = []
        self._revealed = False
        self._show_doc = False

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        f, col = row.finding, index.column()
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == SORT_ROLE:
            if col == self.SEVERITY:
                return f.severity.rank
            if col == self.CONFIDENCE:
                return f.explanation.score
            if col == self.LOCATION:
                loc = f.location
                # document order: doc, part, page, sheet, line, offset (zero-padded: compares as text)
                return (
                    f"{row.doc}\0{loc.part}\0{loc.page or 0:06d}\0{loc.sheet or ''}\0{loc.line or 0:09d}\0{f.start:09d}"
                )
            return self._display(row, col) or ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.WHY:
                return f.explanation.summary()
            if col == self.LOCATION and self._show_doc:
                return f"{row.doc}: {f.location.describe()}"
            return f"{f.pattern} — {f.name}"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def _display(self, row: FindingRow, col: int) -> str | None:
        f = row.finding
        if col == self.FINDING:
            return f.name
        if col == self.CATEGORY:
            return f.category
        if col == self.SEVERITY:
            return f.severity.value
        if col == self.CONFIDENCE:
            return f.confidence.value
        if col == self.LOCATION:
            where = f.location.describe()
            if self._show_doc and "!" in row.doc:
                return f"{row.doc.rpartition('!')[2]}: {where}"
            return where
        if col == self.VALUE:
            return (f.value or "(not available)") if self._revealed else f.masked
        if col == self.WHY:
            return f.explanation.summary()
        return None

    # ------------------------------------------------------------------ updates
    def set_findings(self, rows: Sequence[FindingRow], revealed: bool = False) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._revealed = revealed
        self._show_doc = len({r.doc for r in rows}) > 1
        self.endResetModel()

    def set_revealed(self, revealed: bool) -> None:
        if revealed == self._revealed:
            return
        self._revealed = revealed
        if self._rows:
            self.dataChanged.emit(self.index(0, self.VALUE), self.index(len(self._rows) - 1, self.VALUE))

    @property
    def revealed(self) -> bool:
        return self._revealed

    def row(self, n: int) -> FindingRow:
        return self._rows[n]

    def rows(self) -> Sequence[FindingRow]:
        return tuple(self._rows)


class NearMissModel(RowTableModel):
    PATTERN, LOCATION, VALUE, WHY_NOT = range(4)
    _HEADERS = ("Pattern", "Location", "Value", "Why not flagged")

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._rows: list[NearMiss] = []

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        n, col = self._rows[index.row()], index.column()
        if role == ROW_ROLE:
            return n
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, SORT_ROLE):
            if col == self.PATTERN:
                return n.explanation.pattern_name if role == Qt.ItemDataRole.DisplayRole else n.pattern
            if col == self.LOCATION:
                return n.location.describe()
            if col == self.VALUE:
                return n.masked
            if col == self.WHY_NOT:
                return n.explanation.summary() if role != SORT_ROLE else n.explanation.score
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def set_near_misses(self, rows: Sequence[NearMiss]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()
