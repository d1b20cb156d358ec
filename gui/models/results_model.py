"""The scan results table: one row per verdict (a file, and each member of an archive)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush

from gui import theme
from gui.icons import verdict_icon
from gui.models.base import RowTableModel
from gui.models.sort_proxy import ROW_ROLE, SORT_ROLE
from gui.services import ScannedFile
from scanner.model import DocOutcome, FileResult, Verdict

CATEGORIES = ("phi", "formula", "ip", "secret", "finance")
_VERDICT_RANK = {Verdict.ALLOW: 1, Verdict.LABEL: 2, Verdict.BLOCK: 3}
_Index = QModelIndex | QPersistentModelIndex


@dataclass(eq=False, slots=True)
class ResultRow:
    """A row: which scanned file it belongs to and which of its verdicts it shows."""

    file: ScannedFile
    index: int
    status: str | None = None  # what the user did with it ("released to acme", ...)

    @property
    def result(self) -> FileResult:
        return self.file.results[self.index]

    @property
    def is_member(self) -> bool:
        """An archive member: acted on through its archive, never on its own."""
        return self.index > 0

    @property
    def name(self) -> str:
        path = self.result.path
        if self.is_member:
            top = self.file.display
            inner = path[len(top) + 1 :] if path.startswith(top + "!") else path.rpartition("!")[2]
            return f"{self.file.path.name}!{inner}"
        return self.file.path.name


class ResultsModel(RowTableModel):
    VERDICT, FILE, TYPE, LABEL, PHI, FORMULA, IP, SECRET, FINANCE, DESTINATION, STATUS = range(11)
    _HEADERS = (
        "Verdict",
        "File",
        "Type",
        "Label",
        "PHI",
        "Formula",
        "IP",
        "Secret",
        "Finance",
        "Destination",
        "Status",
    )
    _CATEGORY_COLUMN = {PHI: "phi", FORMULA: "formula", IP: "ip", SECRET: "secret", FINANCE: "finance"}

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._rows: list[ResultRow] = []
        self._titles: dict[str, str] = {}

    # ------------------------------------------------------------------ Qt API
    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == ROW_ROLE:
            return row
        try:
            r = row.result
        except IndexError:  # a row whose file was re-decided into fewer verdicts: never raise into Qt
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, r, col)
        if role == SORT_ROLE:
            return self._sort_key(row, r, col)
        if role == Qt.ItemDataRole.DecorationRole and col == self.VERDICT:
            return verdict_icon(r.verdict.value, bool(r.outcome.errors))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, r)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in self._CATEGORY_COLUMN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == self.STATUS and r.outcome.errors:
                return QBrush(theme.danger())
            if row.is_member:
                return QBrush(theme.muted())
        if role == Qt.ItemDataRole.AccessibleTextRole and col == self.VERDICT:
            return f"verdict {self._display(row, r, col)}"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # ------------------------------------------------------------------ cells
    def _display(self, row: ResultRow, r: FileResult, col: int) -> str | None:
        if col == self.VERDICT:
            return f"{r.verdict.value} (error)" if r.outcome.errors else r.verdict.value
        if col == self.FILE:
            return row.name
        if col == self.TYPE:
            return r.outcome.type
        if col == self.LABEL:
            return r.decision.label or ""
        if col in self._CATEGORY_COLUMN:
            n = r.counts().get(self._CATEGORY_COLUMN[col], 0)
            return str(n) if n else ""
        if col == self.DESTINATION:
            return self._titles.get(r.destination or "", r.destination or "—")
        if col == self.STATUS:
            if r.outcome.errors:
                return r.outcome.error
            return row.status or ""
        return None

    def _sort_key(self, row: ResultRow, r: FileResult, col: int) -> object:
        if col == self.VERDICT:
            return _VERDICT_RANK[r.verdict] * 2 + (1 if r.outcome.errors else 0)
        if col in self._CATEGORY_COLUMN:
            return r.counts().get(self._CATEGORY_COLUMN[col], 0)
        if col == self.FILE:
            return r.path.casefold()
        return self._display(row, r, col) or ""

    def _tooltip(self, row: ResultRow, r: FileResult) -> str:
        lines = [r.path, f"Verdict: {r.verdict.value}" + (f" — label {r.decision.label}" if r.decision.label else "")]
        lines += [f"• {reason}" for reason in r.decision.reasons[:8]]
        if len(r.decision.reasons) > 8:
            lines.append(f"… and {len(r.decision.reasons) - 8} more")
        if row.is_member:
            lines.append(f"Part of {row.file.path.name}: act on the archive.")
        return "\n".join(lines)

    # ------------------------------------------------------------------ updates
    def set_destination_titles(self, titles: dict[str, str]) -> None:
        self._titles = dict(titles)
        self._all_changed()

    def add_file(self, scanned: ScannedFile) -> None:
        """Append a scanned file's verdicts (streamed: called as each file finishes)."""
        n = len(scanned.results)
        if n == 0:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + n - 1)
        self._rows.extend(ResultRow(scanned, i) for i in range(n))
        self.endInsertRows()

    def redecide(
        self, decide: Callable[[list[DocOutcome], str | None], list[FileResult]], destination: str | None
    ) -> None:
        """New verdicts for every row for ``destination``, without scanning again."""
        files = list(dict.fromkeys(r.file for r in self._rows))
        reshaped = False
        for f in files:
            results = decide(f.outcomes, destination)
            reshaped |= len(results) != len(f.results)
            f.results, f.destination = results, destination
        if reshaped:  # cannot happen with today's policy (one verdict per outcome), but stay correct
            self.beginResetModel()
            self._rows = [ResultRow(f, i) for f in files for i in range(len(f.results))]
            self.endResetModel()
        else:
            self._all_changed()

    def set_status(self, scanned: ScannedFile, status: str) -> None:
        for i, row in enumerate(self._rows):
            if row.file is scanned:
                row.status = status
                self.dataChanged.emit(self.index(i, 0), self.index(i, self.columnCount() - 1))

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self.endResetModel()

    # ------------------------------------------------------------------ queries
    def row(self, n: int) -> ResultRow:
        return self._rows[n]

    def rows(self) -> Sequence[ResultRow]:
        return tuple(self._rows)

    def find(self, path: str) -> int:
        """Row number of the verdict for ``path`` (a display path), or -1."""
        return next((i for i, r in enumerate(self._rows) if r.result.path == path), -1)

    def _all_changed(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1))
