"""The planted entities of ../shared/corpus/dev, checked in-process for one file type.

Each extractor's tests call ``check_planted_entities`` with the places that type has and
how its text compares (alphanumerics only for Office cells and runs; whitespace-blind for
PDF pages, whose lines wrap long values). ``tests/corpus/test_dev_coverage.py`` checks the
same truth through the CLI for every file and member at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from scanner.extract.registry import extract_file
from scanner.model import DocProblem, Segment


def check_planted_entities(
    dev: Path, suffix: str, where_parts: Mapping[str, set[str]], same: Callable[[str, str], bool]
) -> int:
    """Every entity of the top-level ``suffix`` files is in the text, in its place; returns
    how many were checked. A file must extract without any problem, members included.

    ``where_parts``: truth ``where`` -> the location parts that count; a ``where`` not
    listed may be anywhere in the file's own text. ``same(value, segment_text)``.
    """
    missing: list[tuple[str, str, str]] = []
    checked = 0
    for line in (dev / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        name = entry["file"]
        if "!" in name or not name.lower().endswith(suffix):
            continue
        events = list(extract_file(dev / name))
        problems = [e.reason for e in events if isinstance(e, DocProblem)]
        assert not problems, (name, problems)
        segs = [e for e in events if isinstance(e, Segment) and e.doc == ""]
        for entity in entry["entities"]:
            parts = where_parts.get(entity["where"])
            pool = [s.text for s in segs if parts is None or s.location.part in parts]
            values = [entity["value"], *entity.get("alts", [])]
            checked += 1
            if not any(same(v, t) for v in values for t in pool):
                missing.append((name, entity["type"], entity["where"]))
    assert missing == [], f"{len(missing)} planted entities not extracted in their place: {missing[:10]}"
    return checked
