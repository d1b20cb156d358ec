"""H1: the core never imports Qt; the GUI is a client of it, never the reverse."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import scanner

ROOT = Path(__file__).resolve().parents[2]


def _all_core_modules() -> list[str]:
    names = ["scanner"]
    for info in pkgutil.walk_packages(scanner.__path__, "scanner."):
        if ".data." in info.name or info.name.endswith(".data"):
            continue
        names.append(info.name)
    return names


def test_no_core_module_imports_qt() -> None:
    modules = _all_core_modules()
    assert "scanner.detect.match" in modules and "scanner.extract.registry" in modules
    code = (
        "import importlib, sys\n"
        f"mods = {modules!r}\n"
        "for m in mods:\n"
        "    if m.endswith('__main__'): continue\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(k for k in sys.modules if k.startswith(('PySide6', 'shiboken6', 'gui')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"core modules pulled in Qt/gui: {out.stdout.strip()}"
