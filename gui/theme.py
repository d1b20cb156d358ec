"""Colours that follow the OS light/dark scheme.

Qt 6 picks the platform palette (and follows the OS switching between light and dark
on Windows 11, macOS and GNOME/KDE). We never set a palette of our own; the few colours
we add (verdicts, highlights) are chosen from the current palette's lightness, so they
stay readable in both schemes and change with it.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette


def is_dark() -> bool:
    return QGuiApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128


def danger() -> QColor:
    return QColor("#ff8a80") if is_dark() else QColor("#b71c1c")


def warning() -> QColor:
    return QColor("#ffd180") if is_dark() else QColor("#8a5a00")


def ok() -> QColor:
    return QColor("#a5d6a7") if is_dark() else QColor("#1b5e20")


def muted() -> QColor:
    return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)


def match_background() -> QColor:
    """Behind a highlighted finding in text."""
    return QColor("#7a5c00") if is_dark() else QColor("#ffe082")


def near_miss_background() -> QColor:
    return QColor("#37474f") if is_dark() else QColor("#e0e0e0")


def hex_(color: QColor) -> str:
    return color.name(QColor.NameFormat.HexRgb)
