"""Icons drawn as SVG (``resources/icons/*.svg``): sharp at every scale factor.

The SVG files ship inside the wheel with the other resources (``scanner/data/resources/
icons``); a source checkout reads them from ``resources/icons``. ``QIcon`` renders an SVG
at the exact device-pixel size asked for, so one file serves 100 % to 300 % displays.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from PySide6.QtGui import QIcon


@cache
def icon_dir() -> Path:
    packaged = resources.files("scanner") / "data" / "resources" / "icons"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "resources" / "icons"


@cache
def icon(name: str) -> QIcon:
    """``icon("block")`` -> the QIcon for ``block.svg`` (an empty icon if it is missing)."""
    path = icon_dir() / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def verdict_icon(verdict: str | None, error: bool = False) -> QIcon:
    if error:
        return icon("error")
    return icon({"allow": "allow", "label": "label", "block": "block"}.get(verdict or "", "pending"))
