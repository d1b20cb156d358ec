"""What a command needs at run time, built from the config file and flags in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scanner.config.settings import Config, load_config
from scanner.decide.rules import Policy
from scanner.detect.patterns import PatternSetError, load_pattern_set
from scanner.errors import ConfigError, PatternLoadError
from scanner.limits import Limits
from scanner.partners import PartnerDictionary
from scanner.pipeline.worker import ScanOptions
from scanner.record.audit import AuditLog


@dataclass(slots=True)
class Runtime:
    config: Config
    pattern_dirs: tuple[str, ...]
    _partners: PartnerDictionary | None = None
    _partners_built: bool = False
    _audit: AuditLog | None = None

    @classmethod
    def from_args(cls, config_path: Path | None, extra_patterns: list[Path] | tuple[Path, ...] = ()) -> Runtime:
        cfg = load_config(config_path)
        dirs = tuple(str(p) for p in (*cfg.scan.pattern_dirs, *extra_patterns))
        for d in dirs:
            if not Path(d).exists():
                raise ConfigError(f"pattern folder or file not found: {d}")
        check_patterns(dirs)
        return cls(cfg, dirs)

    @property
    def limits(self) -> Limits:
        return self.config.limits

    @property
    def jobs(self) -> int | None:
        return self.config.scan.jobs

    def partners(self) -> PartnerDictionary | None:
        """The destinations' identifiers (None: no destination declares any), built once."""
        if not self._partners_built:
            pd = self.config.partner_dictionary()
            self._partners = pd if pd else None
            self._partners_built = True
        return self._partners

    def options(self, keep_near_misses: bool = False) -> ScanOptions:
        return ScanOptions(
            limits=self.config.limits,
            pattern_dirs=self.pattern_dirs,
            hash_key=self.config.hash_key(),
            keep_near_misses=keep_near_misses,
            partners=self.partners(),
        )

    def policy_for(self, destination: str | None) -> Policy:
        return self.config.policy_for(destination)

    def check_destination(self, name: str) -> None:
        if name not in self.config.destinations:
            known = ", ".join(sorted(self.config.destinations)) or "none configured"
            where = self.config.path or "the configuration"
            raise ConfigError(f"{where}: unknown destination {name!r} (known: {known})")

    def audit(self) -> AuditLog:
        if self._audit is None:
            self._audit = AuditLog(self.config.audit.database, source="cli")
        return self._audit


def check_patterns(pattern_dirs: tuple[str, ...] | list[str]) -> None:
    """Load the built-in and admin pattern sets once, here, before any file is scanned.

    The workers load the same sets; without this check a broken admin set turns every file
    into "block (error)" one by one and the cause is lost among the results. Raising here
    stops the command (exit 2) or the watcher (it does not start) with every problem named by
    file, line and pattern id, so no scan ever runs on a partial set.
    """
    try:
        load_pattern_set([Path(d) for d in pattern_dirs])
    except PatternSetError as exc:
        problems = "\n".join(f"  {e}" for e in exc.errors)
        raise PatternLoadError(
            f"pattern sets could not be loaded ({len(exc.errors)} problem(s)); nothing was scanned:\n{problems}"
        ) from None


def scan_options(config: Config) -> ScanOptions:
    """Worker options from the configuration alone (the watcher's): its pattern folders, no near-misses.

    Raises ``PatternLoadError`` when the pattern sets do not load: the watcher must not start."""
    dirs = tuple(str(p) for p in config.scan.pattern_dirs)
    check_patterns(dirs)
    return Runtime(config, dirs).options()
