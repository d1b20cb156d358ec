"""What a command needs at run time, built from the config file and flags in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.config.settings import Config, load_config
from scanner.errors import ConfigError
from scanner.limits import Limits
from scanner.pipeline.worker import ScanOptions


@dataclass(slots=True)
class Runtime:
    config: Config
    pattern_dirs: tuple[str, ...]
    _partners: Any = None
    _audit: Any = None

    @classmethod
    def from_args(cls, config_path: Path | None, extra_patterns: list[Path] | tuple[Path, ...] = ()) -> Runtime:
        cfg = load_config(config_path)
        dirs = tuple(str(p) for p in (*cfg.scan.pattern_dirs, *extra_patterns))
        for d in dirs:
            if not Path(d).exists():
                raise ConfigError(f"pattern folder or file not found: {d}")
        return cls(cfg, dirs)

    @property
    def limits(self) -> Limits:
        return self.config.limits

    @property
    def jobs(self) -> int | None:
        return self.config.scan.jobs

    def partners(self) -> Any:
        if self._partners is None:
            from scanner.decide.policy import PartnerDictionary

            pd = PartnerDictionary.from_config(self.config)
            self._partners = pd if pd else False
        return self._partners or None

    def options(self, keep_near_misses: bool = False) -> ScanOptions:
        return ScanOptions(
            limits=self.config.limits,
            pattern_dirs=self.pattern_dirs,
            hash_key=self.config.hash_key(),
            keep_near_misses=keep_near_misses,
            partners=self.partners(),
        )

    def policy_for(self, destination: str | None) -> Any:
        return self.config.policy_for(destination)

    def check_destination(self, name: str) -> None:
        if name not in self.config.destinations:
            known = ", ".join(sorted(self.config.destinations)) or "none configured"
            where = self.config.path or "the configuration"
            raise ConfigError(f"{where}: unknown destination {name!r} (known: {known})")

    def audit(self) -> Any:
        if self._audit is None:
            from scanner.record.audit import AuditLog

            self._audit = AuditLog(self.config.audit.database, source="cli")
        return self._audit
