"""Every part name an extractor writes into a Location is one of ``scanner.model.PARTS``.

The part is what the JSON line, the scorer and the GUI group findings by; a misspelt or
undocumented part silently forms a group of its own. Read from the source with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from scanner.model import PARTS

ROOT = Path(__file__).resolve().parents[2] / "scanner"


def _literal_parts() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            values: list[ast.expr] = []
            if name == "Location" and node.args:
                values.append(node.args[0])
            if name in ("Location", "_replace"):
                values += [k.value for k in node.keywords if k.arg == "part"]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.add((value.value, f"{path.relative_to(ROOT.parent)}:{node.lineno}"))
    return found


def test_every_literal_location_part_is_documented() -> None:
    used = _literal_parts()
    assert len({part for part, _ in used}) > 20, "the scan must see the extractors' locations"
    assert sorted(where for part, where in used if part not in PARTS) == []
