"""The audit trail as files: CSV or JSON lines for a SIEM, a spreadsheet or an auditor."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import IO, Any

from scanner.record.audit import AuditLog, canonical_json


def export(
    log: AuditLog,
    fmt: str,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    out: Path | str | IO[str] | None = None,
) -> int:
    """Write rows as CSV or JSON lines to ``out`` (a path or a text stream); returns the count.

    CSV cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``
    first) get a leading apostrophe: file names are attacker-controlled.
    """
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"export format must be csv or jsonl, got {fmt!r}")
    rows = log.query(since=since, until=until)
    with open_out(out) as fh:
        if fmt == "jsonl":
            for r in rows:
                fh.write(json.dumps(r.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
        else:
            cols = [
                "seq",
                "ts",
                "kind",
                "actor",
                "host",
                "source",
                "path",
                "destination",
                "verdict",
                "label",
                "sha256",
                "data",
                "prev_hash",
                "row_hash",
            ]
            w = csv.writer(fh)
            w.writerow(cols)
            for r in rows:
                d = r.to_dict()
                d["data"] = canonical_json(r.data)
                w.writerow([csv_safe(d[c]) for c in cols])
    return len(rows)


def csv_safe(v: Any) -> Any:
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return "" if v is None else v


@contextmanager
def open_out(out: Path | str | IO[str] | None) -> Iterator[IO[str]]:
    if out is None:
        yield sys.stdout
    elif isinstance(out, str | PurePath):
        p = Path(out)
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "w", encoding="utf-8", newline="") as fh:
            yield fh
    else:
        yield out
