"""Hard limits for scanning untrusted files. Safe defaults; the config file overrides them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

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

    @classmethod
    def from_mapping(cls, data: dict[str, Any], where: str = "limits") -> Limits:
        """Build from a config table; unknown or mistyped keys raise ValueError naming the key."""
        known = {f.name: f for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"{where}.{key}: unknown limit (known: {', '.join(sorted(known))})")
            want = known[key].type
            if want == "float" and isinstance(value, int | float) and not isinstance(value, bool):
                value = float(value)
            elif want == "int" and isinstance(value, int) and not isinstance(value, bool):
                pass
            else:
                raise ValueError(f"{where}.{key}: expected {want}, got {type(value).__name__} {value!r}")
            if value <= 0:
                raise ValueError(f"{where}.{key}: must be positive, got {value!r}")
            kwargs[key] = value
        return cls(**kwargs)
