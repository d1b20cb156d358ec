"""Clearance desktop app (PySide6): a thin client of the ``scanner`` core."""
