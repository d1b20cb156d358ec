"""Refuse to run on a Qt binding that corrupts Python's reference counts.

PySide6 6.12.0 (shiboken6 6.12.0) on Python 3.11 returns ``None`` from every void
method, and ``True`` from ``Signal.emit``, without taking a reference (Python 3.12+
makes those objects immortal, which hides the bug there). Each call lowers the
count by one; after a few thousand calls, roughly one second of a busy GUI, the
interpreter aborts with "deallocating None". Measured here: 1,000 ``setObjectName``
calls lowered ``sys.getrefcount(None)`` by exactly 1,000 on 6.12.0 and by 0 on 6.11.3.

We probe the behaviour rather than the version number, so a fixed 6.12.x passes and
a future regression is caught.
"""

from __future__ import annotations

import sys

PROBE_CALLS = 200


def binding_problem() -> str | None:
    """None if PySide6 keeps reference counts intact, else a message for the user."""
    if sys.version_info >= (3, 12):
        return None  # None/True are immortal: the bug cannot hurt
    # Deferred: nothing of Qt loads on Python 3.12+, where the check has nothing to do.
    import PySide6
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(PROBE_CALLS):
        probe.setObjectName("probe")
    lost = before - sys.getrefcount(None)
    if lost < PROBE_CALLS // 2:
        return None
    # Put back what the probe took, so the check itself does no harm (ctypes: only on this rare path).
    import ctypes

    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    for _ in range(lost):
        incref(None)
    return (
        f"PySide6 {PySide6.__version__} on Python {sys.version_info.major}.{sys.version_info.minor} corrupts "
        "reference counts and would crash the app; install another version, e.g. "
        "pip install 'PySide6-Essentials==6.11.3'"
    )
