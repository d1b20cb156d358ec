"""What the app needs at run time, built from ``clearance.toml`` in one place.

A ``Session`` is immutable: a settings save or a pattern save builds a new one and the
controller swaps it in (and replaces the worker pool, whose workers compiled the old
pattern set). No Qt here, so it is easy to test and to reason about.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.config.settings import Config, ConfigError, default_config, default_config_path, load_config
from scanner.detect.patterns import PatternSetError, load_pattern_set
from scanner.model import DocOutcome, FileResult
from scanner.pipeline.scan import decide_outcomes
from scanner.pipeline.worker import ScanOptions


@dataclass(frozen=True, slots=True)
class Destination:
    name: str
    title: str
    folder: Path | None


@dataclass(frozen=True, slots=True)
class Session:
    config: Config
    config_path: Path | None  # the file the settings view edits (may not exist yet)
    options: ScanOptions
    hash_key: bytes
    error: str | None = None  # the config could not be used: scanning is disabled
    _policies: dict[str | None, Any] = field(default_factory=dict, compare=False, repr=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def load(cls, config_path: Path | None = None) -> Session:
        """Read the config; a broken one gives a session that says why and cannot scan."""
        target = Path(config_path) if config_path is not None else default_config_path()
        try:
            config = load_config(config_path)
            hash_key = config.hash_key()
            options = ScanOptions(
                limits=config.limits,
                pattern_dirs=tuple(str(d) for d in config.scan.pattern_dirs),
                hash_key=hash_key,
                partners=_partners(config),
            )
        except (ConfigError, OSError, ValueError) as exc:
            config = default_config()
            return cls(config, target, ScanOptions(), b"", error=str(exc))
        try:
            # The workers load the same sets; checking here stops every scan before it starts,
            # so no file is judged on partial rules (each error names file, pattern and line).
            load_pattern_set([Path(d) for d in options.pattern_dirs])
        except PatternSetError as exc:
            return cls(config, target, options, hash_key, error=f"pattern set not loaded: {exc}")
        return cls(config, target, options, hash_key)

    @property
    def usable(self) -> bool:
        return self.error is None

    # ------------------------------------------------------------------ policy
    def policy_for(self, destination: str | None) -> Any:
        if destination not in self._policies:
            self._policies[destination] = self.config.policy_for(destination)
        return self._policies[destination]

    def decide(self, outcomes: list[DocOutcome], destination: str | None) -> list[FileResult]:
        """Verdicts for one scanned file (and its members) going to ``destination``."""
        return decide_outcomes(outcomes, self.policy_for(destination), destination)

    # ------------------------------------------------------------------ facts for views
    def destinations(self) -> list[Destination]:
        return [Destination(name, d.title, d.folder) for name, d in self.config.destinations.items()]

    def destination(self, name: str | None) -> Destination | None:
        return next((d for d in self.destinations() if d.name == name), None)

    def admin_pattern_dirs(self) -> list[Path]:
        return list(self.config.scan.pattern_dirs)

    def label_scheme(self) -> Any:
        return self.config.label_scheme()


def _partners(config: Config) -> Any:
    """The destinations' identifier dictionary (None when no destination lists any)."""
    partners = config.partner_dictionary()
    return partners if partners else None


def gui_jobs(configured: int | None) -> int:
    """Worker processes for the desktop app: the admin's number, else all cores but one.

    The CLI uses every core; the app leaves one to the window, so the event loop is not
    queued behind CPU-bound workers on a small laptop (2 cores: one worker).
    """
    if configured:
        return configured
    return max(1, (os.cpu_count() or 2) - 1)
