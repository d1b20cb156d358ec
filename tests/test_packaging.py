"""pyproject.toml names every folder that ships, so the wheel cannot silently lose one."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_code_and_data_folder_is_a_declared_package() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    declared = set(setuptools["packages"])
    code = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("scanner", "gui")
        for init in (ROOT / top).rglob("__init__.py")
    }
    mapped = setuptools["package-dir"]
    data = {
        f"{package}.{'.'.join(sub.relative_to(ROOT / folder).parts)}".rstrip(".")
        for package, folder in mapped.items()
        for sub in [ROOT / folder, *(p for p in (ROOT / folder).rglob("*") if p.is_dir())]
        if "__pycache__" not in sub.parts
    }
    assert declared == code | data
