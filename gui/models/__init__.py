"""Qt item models: read-only tables over the core's records, sort keys in ``SORT_ROLE``."""

from gui.models.sort_proxy import SORT_ROLE, SortFilterProxyModel

__all__ = ["SORT_ROLE", "SortFilterProxyModel"]
