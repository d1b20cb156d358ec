"""The audit trail as a self-contained HTML page: inline SVG charts, no scripts, no external files."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from scanner.record.audit import AuditLog, AuditRow, VerifyReport
from scanner.record.events import CHANGE_KINDS, AuditKind
from scanner.record.export import open_out

_VERDICT_COLOURS = {"allow": "#2e7d32", "label": "#f9a825", "block": "#c62828"}
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:60em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #ddd;padding:.3em .5em;
text-align:left;vertical-align:top}th{background:#f5f5f5}.ok{color:#2e7d32}.bad{color:#c62828;font-weight:bold}
.muted{color:#666}.num{text-align:right}svg text{font:12px system-ui,sans-serif}
"""


def _bar_chart(items: Sequence[tuple[str, int]], colour: str | Mapping[str, str] = "#1565c0", width: int = 560) -> str:
    """Horizontal bars as inline SVG (no scripts, no external files)."""
    if not items:
        return '<p class="muted">nothing in this period</p>'
    bar_h, gap, label_w, num_w = 18, 6, 200, 60
    top = max(v for _, v in items) or 1
    height = len(items) * (bar_h + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for i, (label, value) in enumerate(items):
        y = i * (bar_h + gap)
        w = max(1, int((width - label_w - num_w) * value / top)) if value else 0
        fill = colour.get(label, "#1565c0") if isinstance(colour, Mapping) else colour
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{html.escape(short)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{fill}">'
            f"<title>{html.escape(label)}: {value}</title></rect>"
            f'<text x="{label_w + w + 6}" y="{y + 13}">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return '<p class="muted">none in this period</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_report(rows: Sequence[AuditRow], report: VerifyReport, since: Any, until: Any, db: str) -> str:
    scans = [r for r in rows if r.kind == AuditKind.SCAN]
    verdicts = Counter(r.verdict or "?" for r in scans)
    by_dest: dict[str, Counter[str]] = {}
    for r in scans:
        by_dest.setdefault(r.destination or "(none)", Counter())[r.verdict or "?"] += 1
    files_per_pattern: Counter[str] = Counter()
    findings_per_pattern: Counter[str] = Counter()
    for r in scans:
        for f in r.data.get("findings") or []:
            files_per_pattern[str(f.get("pattern"))] += 1
            findings_per_pattern[str(f.get("pattern"))] += int(f.get("count") or 0)
    overrides = [r for r in rows if r.kind == AuditKind.OVERRIDE]
    actions = Counter(str(r.data.get("op", r.kind)) for r in rows if r.kind == AuditKind.ACTION)
    reveals = [r for r in rows if r.kind == AuditKind.REVEAL]
    changes = [r for r in rows if r.kind in CHANGE_KINDS]
    period = f"{since or 'beginning'} — {until or 'now'}"
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    status = (
        f'<p class="ok">Audit trail intact ({report.rows} rows; head {report.head_seq} '
        f"<code>{html.escape(report.head_hash or '')}</code>).</p>"
        if report.ok
        else '<p class="bad">Audit trail BROKEN:</p><ul>'
        + "".join(f"<li>{html.escape(p)}</li>" for p in report.problems[:50])
        + "</ul>"
    )
    dest_rows = [
        (d, c.get("allow", 0), c.get("label", 0), c.get("block", 0), sum(c.values()))
        for d, c in sorted(by_dest.items())
    ]
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        "<title>Clearance audit report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Clearance audit report</h1>",
        f'<p class="muted">Period: {html.escape(period)} · generated {html.escape(generated)} · '
        f"database {html.escape(db)}</p>",
        status,
        f"<h2>Files by verdict ({len(scans)} scanned)</h2>",
        _bar_chart([(v, verdicts.get(v, 0)) for v in ("allow", "label", "block")], _VERDICT_COLOURS),
        "<h2>Files by destination</h2>",
        _bar_chart([(d, c[-1]) for d, *c in dest_rows]),
        _table(["Destination", "Allowed", "Labelled", "Blocked", "Total"], dest_rows),
        "<h2>Top patterns (files containing them)</h2>",
        _bar_chart(files_per_pattern.most_common(15)),
        _table(
            ["Pattern", "Files", "Findings"],
            [(p, n, findings_per_pattern[p]) for p, n in files_per_pattern.most_common(15)],
        ),
        f"<h2>Blocked files ({verdicts.get('block', 0)}; latest 100)</h2>",
        _table(
            ["Time (UTC)", "File", "Destination", "Reason"],
            [
                (r.ts[:19].replace("T", " "), r.path, r.destination, (r.data.get("reasons") or [""])[0])
                for r in [r for r in scans if r.verdict == "block"][-100:]
            ],
        ),
        f"<h2>Overrides ({len(overrides)})</h2>",
        _table(
            ["Time (UTC)", "Who", "File", "Destination", "Justification", "Reasons overridden"],
            [
                (
                    r.ts[:19].replace("T", " "),
                    r.data.get("who") or r.actor,
                    r.path,
                    r.destination,
                    r.data.get("justification"),
                    "; ".join(r.data.get("reasons") or []),
                )
                for r in overrides
            ],
        ),
        "<h2>Actions</h2>",
        _table(["Action", "Count"], sorted(actions.items())),
        f"<h2>Revealed values ({len(reveals)})</h2>",
        _table(
            ["Time (UTC)", "Who", "File", "Pattern", "Masked"],
            [
                (r.ts[:19].replace("T", " "), r.actor, r.path, r.data.get("pattern"), r.data.get("masked"))
                for r in reveals
            ],
        ),
        f"<h2>Configuration and pattern-set changes ({len(changes)})</h2>",
        _table(
            ["Time (UTC)", "Who", "Kind", "File", "SHA-256"],
            [(r.ts[:19].replace("T", " "), r.actor, r.kind, r.path, r.sha256) for r in changes],
        ),
        "</body></html>",
    ]
    return "\n".join(out)


def write_report(
    log: AuditLog,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    out: Path | str | IO[str] | None = None,
) -> str:
    """The report for rows in ``[since, until)``, verified first; written to ``out`` if given."""
    doc = render_report(log.query(since=since, until=until), log.verify(), since, until, str(log.path))
    if out is not None:
        with open_out(out) as fh:
            fh.write(doc)
    return doc
