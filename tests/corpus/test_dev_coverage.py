"""Issue #2: `clearance extract` reaches every planted entity of the dev corpus, in the right place.

For each entity in ../shared/corpus/dev/truth.jsonl, its value (or one of its alts),
compared as lower-case alphanumerics, must appear in the extracted text of that file
(archive members included) in a segment whose location.part matches the entity's
`where`. Prints the coverage per `where`; the target is 100 %.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

# truth `where` -> location parts that count as that place (body may be anywhere in the text).
WHERE_PARTS: dict[str, set[str] | None] = {
    "body": None,
    "header_footer": {"header", "footer"},
    "comment": {"comment"},
    "cell_comment": {"cell_comment"},
    "core_property": {"property"},
    "hidden_sheet": {"hidden_sheet"},
    "pdf_annotation": {"annotation"},
    "pdf_metadata": {"metadata"},
}


def nrm(s: str) -> str:
    return re.sub(r"[^0-9a-z]", "", s.lower())


@pytest.fixture(scope="module")
def extracted(corpus: Path) -> dict[str, list[tuple[str, str]]]:
    dev = corpus / "dev"
    r = subprocess.run(
        [sys.executable, "-m", "scanner", "extract", "--format", "jsonl", str(dev)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    by_file: dict[str, list[tuple[str, str]]] = defaultdict(list)
    prefix = str(dev) + "/"
    for line in r.stdout.splitlines():
        o = json.loads(line)
        path = o["path"].replace("\\", "/")
        path = path[len(prefix) :] if path.startswith(prefix) else path
        if "text" in o:
            by_file[path].append((o["location"]["part"], nrm(o["text"])))
    return by_file


def test_every_planted_entity_is_extracted_in_its_place(corpus: Path, extracted: dict) -> None:
    total: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    missing = []
    for line in (corpus / "dev" / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        segs = extracted.get(t["file"], [])
        kind = t["file"].rsplit(".", 1)[-1]
        for e in t["entities"]:
            where = e["where"]
            parts = WHERE_PARTS.get(where)
            if where == "header_footer" and kind == "pdf":
                parts = None  # a PDF's running header is page text
            text = "".join(s for p, s in segs if parts is None or p in parts)
            values = [nrm(v) for v in [e["value"], *e.get("alts", [])]]
            total[where] += 1
            if any(v and v in text for v in values):
                hit[where] += 1
            else:
                missing.append((t["file"], where, e["type"]))
    report = ", ".join(f"{w} {hit[w]}/{total[w]} ({100 * hit[w] / total[w]:.0f} %)" for w in sorted(total))
    print(f"\ndev-corpus extraction coverage by place: {report}")
    assert sum(total.values()) > 700
    assert not missing, f"{len(missing)} entities not extracted, e.g. {missing[:10]}"
