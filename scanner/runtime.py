"""What a command needs at run time, built from the config file and flags in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analyse import ScanOptions
from .limits import Limits


@dataclass(slots=True)
class Runtime:
    limits: Limits = field(default_factory=Limits)
    pattern_dirs: tuple[str, ...] = ()
    hash_key: bytes = b"clearance-default-key"
    policy: Any = None
    jobs: int | None = None
    config: Any = None

    @classmethod
    def from_args(cls, config_path: Path | None, extra_patterns: list[Path]) -> Runtime:
        rt = cls(pattern_dirs=tuple(str(p) for p in extra_patterns))
        return rt

    def options(self, keep_near_misses: bool = False) -> ScanOptions:
        return ScanOptions(limits=self.limits, pattern_dirs=self.pattern_dirs, hash_key=self.hash_key,
                           keep_near_misses=keep_near_misses)

    def check_destination(self, name: str) -> None:
        return None

    def audit(self) -> Any:
        return None
