"""A proxy that sorts on raw values (``SORT_ROLE``) and filters on text and a row predicate.

Sorting on display strings would put "10" before "9" and "block" before "label"; the
models put a comparable key (a number, a tuple rendered as a string, an ISO time) in
``SORT_ROLE`` instead (vorta's ``sort_proxy.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt

SORT_ROLE = Qt.ItemDataRole.UserRole
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the record behind a row (any column)

_Index = QModelIndex | QPersistentModelIndex


class SortFilterProxyModel(QSortFilterProxyModel):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)  # the text filter looks at every column
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)
        self._predicate: Callable[[object], bool] | None = None

    def set_row_predicate(self, predicate: Callable[[object], bool] | None) -> None:
        """Keep only rows whose record (``ROW_ROLE``) satisfies ``predicate``."""
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9
            self.beginFilterChange()
            self._predicate = predicate
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            self._predicate = predicate
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        if self._predicate is not None:
            record = self.sourceModel().index(source_row, 0, source_parent).data(ROW_ROLE)
            if record is not None and not self._predicate(record):
                return False
        return super().filterAcceptsRow(source_row, source_parent)

    def lessThan(self, left: _Index, right: _Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a is None or b is None or type(a) is not type(b):
            return str(a if a is not None else "") < str(b if b is not None else "")
        return bool(a < b)
