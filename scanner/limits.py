"""Hard limits for scanning untrusted files. Safe defaults; ``[limits]`` in clearance.toml overrides them.

Every field is a ``[limits]`` key of the same name (scanner.config.schema derives the table from them).
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int = 2048 * MiB  # larger files are not opened at all
    archive_depth: int = 5  # nesting of containers (zip in zip, xlsx in docx)
    archive_members: int = 10_000  # members per archive
    archive_total_bytes: int = 512 * MiB  # expanded bytes summed over one top-level file
    archive_member_bytes: int = 256 * MiB  # one member, expanded
    archive_ratio: float = 200.0  # expanded/compressed per member (after the first MiB)
    xml_part_bytes: int = 256 * MiB  # one OOXML part, expanded
    max_pages: int = 20_000  # PDF pages read
    max_cells: int = 5_000_000  # spreadsheet cells read (non-empty)
    timeout_s: float = 120.0  # wall clock per top-level file (worker killed after)
    memory_mb: int = 768  # resident memory per worker process
    regex_timeout_s: float = 2.0  # per regex call on one window
    text_chunk_chars: int = 1 << 20  # text/CSV read in chunks of this many chars
    text_overlap_chars: int = 512  # so a value across a chunk boundary is still whole
