"""The one configuration file, ``clearance.toml``, read into typed frozen records.

Where it lives: ``--config FILE``, else ``clearance.toml`` in the OS's per-user config
folder (``platformdirs.user_config_dir("Clearance", "Clearance")``). No file there is
not an error: every key has a safe default (built-in policy, per-user data folder for
the audit database, the hash key and the quarantine).

Rules an admin can rely on:
- every error is a ``ConfigError`` whose text names the file, the key path and what
  was expected: ``clearance.toml: destinations.acme.folder: expected a string path, got 42``;
- unknown keys are errors (a typo must not silently switch a safeguard off);
- relative paths are resolved against the folder of the config file, ``~`` expands;
- the cross-checks that prevent loops run at load time: a release or quarantine folder
  may not be (inside) a watched folder, and every name referenced exists.

``resources/clearance.sample.toml`` documents every key; a test loads it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import regex

from scanner.config.schema import CONFIG, DEFAULT_POLL_INTERVAL, DEFAULT_STABLE_SECONDS
from scanner.decide.policy_file import builtin_policy, parse_policies
from scanner.decide.rules import Policy
from scanner.errors import ConfigError as _BaseConfigError
from scanner.labels.scheme import LabelScheme
from scanner.limits import Limits
from scanner.partners import IdentifierDef, PartnerDictionary
from scanner.record.private import make_private
from scanner.schema import require

APP_NAME = "Clearance"
CONFIG_FILE_NAME = "clearance.toml"
HASH_KEY_BYTES = 32
REGEX_CHECK_TIMEOUT_S = 1.0  # an identifier regex that needs longer to fail on "" is catastrophic


class ConfigError(_BaseConfigError, ValueError):
    """The configuration cannot be used. ``str(exc)`` names file, key path and expectation.

    A subclass of ``scanner.errors.ConfigError`` (the CLI prints it as one line, exit 2)
    and of ``ValueError``.
    """


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, APP_NAME)) / CONFIG_FILE_NAME


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, APP_NAME))


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class ScanConfig:
    pattern_dirs: tuple[Path, ...] = ()  # admin pattern sets, on top of the built-in ones
    jobs: int | None = None  # worker processes; None: the scanner decides
    policy: str | None = None  # policy for scans without a destination


@dataclass(frozen=True, slots=True)
class AuditConfig:
    database: Path
    hash_key_file: Path


@dataclass(frozen=True, slots=True)
class QuarantineConfig:
    folder: Path


@dataclass(frozen=True, slots=True)
class DestinationConfig:
    name: str
    folder: Path
    policy: str | None = None
    display_name: str | None = None
    identifiers: tuple[IdentifierDef, ...] = ()

    @property
    def title(self) -> str:
        return self.display_name or self.name


@dataclass(frozen=True, slots=True)
class WatchFolder:
    path: Path
    destination: str


@dataclass(frozen=True, slots=True)
class WatchConfig:
    folders: tuple[WatchFolder, ...] = ()
    stable_seconds: float = DEFAULT_STABLE_SECONDS
    poll_interval: float = DEFAULT_POLL_INTERVAL


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None  # None: no file, all defaults
    scan: ScanConfig
    limits: Limits
    audit: AuditConfig
    quarantine: QuarantineConfig
    destinations: Mapping[str, DestinationConfig] = field(default_factory=dict)
    watch: WatchConfig = field(default_factory=WatchConfig)
    labels: Mapping[str, Any] = field(default_factory=dict)  # raw [labels] table
    policies: Mapping[str, Policy] = field(default_factory=dict)
    sha256: str | None = None  # of the file's bytes: audit records config changes by it

    def hash_key(self) -> bytes:
        """The per-installation key for keyed hashes of findings (created on first use)."""
        return load_or_create_key(self.audit.hash_key_file)

    def policy_for(self, destination: str | None) -> Policy:
        """The policy for a destination: its own, else ``[scan] policy``, else built-in."""
        name: str | None = None
        if destination is not None and destination in self.destinations:
            name = self.destinations[destination].policy
        name = name or self.scan.policy
        if name is None and "default" in self.policies:
            name = "default"
        if name is None or name == "builtin":
            return builtin_policy()
        return self.policies[name]

    def label_scheme(self) -> LabelScheme:
        """The label levels and tenant from ``[labels]`` (checked at load time)."""
        return LabelScheme.from_mapping(dict(self.labels))

    def partner_dictionary(self) -> PartnerDictionary:
        """The destinations' identifiers, ready to find in text (an identifier claimed by two is an error)."""
        idents = {name: d.identifiers for name, d in self.destinations.items() if d.identifiers}
        titles = {name: d.title for name, d in self.destinations.items()}
        try:
            return PartnerDictionary(idents, self.hash_key() if idents else b"", titles, self.limits.regex_timeout_s)
        except ValueError as exc:
            raise ConfigError(f"{self.path or 'configuration'}: {exc}") from None

    @property
    def journal_path(self) -> Path:
        """Journaled moves live in the audit database (one transaction for both)."""
        return self.audit.database


def default_config() -> Config:
    data = default_data_dir()
    return Config(
        path=None,
        scan=ScanConfig(),
        limits=Limits(),
        audit=AuditConfig(database=data / "audit.sqlite", hash_key_file=data / "hash.key"),
        quarantine=QuarantineConfig(folder=data / "Quarantine"),
    )


# --------------------------------------------------------------------------- hash key

_key_lock = threading.Lock()
_key_cache: dict[Path, bytes] = {}


def load_or_create_key(path: Path) -> bytes:
    """Read the 32-byte key, creating it atomically (mode 0600 on POSIX) when absent.

    Created as a temp file, fsynced, then hard-linked to its final name: the link fails
    if another process won the race, and a crash never leaves a short key behind. Where
    hard links are unsupported (some network shares) the temp file is renamed instead.
    On Windows, mode bits are ignored; the per-user data folder is already private.
    """
    path = Path(path)
    with _key_lock:
        if path in _key_cache:
            return _key_cache[path]
        if not path.exists():
            _create_key(path)
        data = path.read_bytes()
        if len(data) != HASH_KEY_BYTES:
            raise ConfigError(
                f"{path}: hash key file must hold exactly {HASH_KEY_BYTES} bytes, "
                f"found {len(data)} (restore it from backup; a new key breaks correlation)"
            )
        _key_cache[path] = data
        return data


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        os.write(fd, secrets.token_bytes(HASH_KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError:
            if not path.exists():
                os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    make_private(path)  # 0600 above covers POSIX; on Windows this removes inherited access


# --------------------------------------------------------------------------- loading


def load_config(path: Path | str | None = None) -> Config:
    """Read and check the config; ``None`` uses the default location (absent: defaults)."""
    if path is None:
        default = default_config_path()
        if not default.exists():
            return default_config()
        path = default
    path = Path(path)
    label = str(path)
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{label}: configuration file not found") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read configuration file ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{label}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    try:
        return _build(data, path.resolve().parent, path, hashlib.sha256(raw_bytes).hexdigest())
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(f"{label}: {exc}") from None


def loads_config(text: str, base_dir: Path, name: str = CONFIG_FILE_NAME) -> Config:
    """Parse config text (the GUI's settings editor validates before saving)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML: {exc}") from None
    try:
        return _build(data, base_dir, None, hashlib.sha256(text.encode("utf-8")).hexdigest())
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


# [policies] are left to parse_policies, which checks them knowing the label names.
_CHECKED_HERE = CONFIG.without("policies")


def _build(data: dict[str, Any], base_dir: Path, path: Path | None, digest: str) -> Config:
    values = require(_CHECKED_HERE, data)
    defaults = default_config()
    audit, watch = values["audit"], values["watch"]
    labels = dict(values["labels"])
    config = Config(
        path=path,
        scan=_scan(values["scan"], base_dir),
        limits=Limits(**values["limits"]),
        audit=AuditConfig(
            database=_path_or(audit, "database", base_dir, defaults.audit.database),
            hash_key_file=_path_or(audit, "hash_key_file", base_dir, defaults.audit.hash_key_file),
        ),
        quarantine=QuarantineConfig(_path_or(values["quarantine"], "folder", base_dir, defaults.quarantine.folder)),
        destinations={name: _destination(name, d, base_dir) for name, d in values["destinations"].items()},
        watch=WatchConfig(
            folders=tuple(WatchFolder(_path(f["path"], base_dir), f["destination"]) for f in watch["folders"]),
            stable_seconds=watch["stable_seconds"],
            poll_interval=watch["poll_interval"],
        ),
        # Plain dicts behind read-only Mapping types: a Config must pickle (worker processes).
        labels=labels,
        policies=parse_policies(data.get("policies", {}), _label_names(labels)),
        sha256=digest,
    )
    _cross_check(config)
    return config


def _path_or(table: dict[str, Any], key: str, base_dir: Path, default: Path) -> Path:
    return _path(table[key], base_dir) if key in table else default


def _path(value: str, base_dir: Path) -> Path:
    """``~`` expands; a relative path is relative to the config file's folder, not the working directory."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else base_dir / p


def _scan(t: dict[str, Any], base_dir: Path) -> ScanConfig:
    dirs = tuple(_path(p, base_dir) for p in t["pattern_dirs"])
    for i, d in enumerate(dirs):
        if not d.is_dir():
            raise ValueError(f"scan.pattern_dirs[{i}]: expected an existing folder, {d} is not one")
    return ScanConfig(pattern_dirs=dirs, jobs=t.get("jobs"), policy=t.get("policy"))


def _destination(name: str, d: dict[str, Any], base_dir: Path) -> DestinationConfig:
    where = f"destinations.{name}"
    idents = [_identifier(item, f"{where}.identifiers[{i}]") for i, item in enumerate(d["identifiers"])]
    if "identifier_file" in d:
        idents += _identifier_file(_path(d["identifier_file"], base_dir), f"{where}.identifier_file")
    return DestinationConfig(
        name=name,
        folder=_path(d["folder"], base_dir),
        policy=d.get("policy"),
        display_name=d.get("display_name"),
        identifiers=tuple(idents),
    )


def _identifier(item: str | dict[str, Any], where: str) -> IdentifierDef:
    if isinstance(item, str):
        return IdentifierDef(item)
    if ("value" in item) == ("regex" in item):
        raise ValueError(f"{where}: expected exactly one of 'value' (literal) or 'regex'")
    if "regex" in item:
        _check_regex(item["regex"], f"{where}.regex")
        return IdentifierDef(item["regex"], item["kind"], regex=True)
    return IdentifierDef(item["value"], item["kind"])


def _identifier_file(path: Path, where: str) -> list[IdentifierDef]:
    """One identifier per line; ``re:`` marks a regex; ``kind<TAB>value`` names its kind.

    Blank lines and lines starting with ``#`` are skipped. The tab form is what a
    spreadsheet's "save as tab-separated text" produces from a two-column list.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"{where}: file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{where}: cannot read {path} as UTF-8 text ({exc})") from None
    out: list[IdentifierDef] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind = "identifier"
        if "\t" in line:
            kind, line = (s.strip() for s in line.split("\t", 1))
            kind = kind or "identifier"
        if line.startswith("re:"):
            rx = line[3:].strip()
            _check_regex(rx, f"{where} ({path.name} line {n})")
            out.append(IdentifierDef(rx, kind, regex=True))
        elif line:
            out.append(IdentifierDef(line, kind))
    return out


def _check_regex(rx: str, where: str) -> None:
    if not rx:
        raise ValueError(f"{where}: expected a non-empty regular expression")
    try:
        compiled = regex.compile(rx, regex.IGNORECASE)
    except regex.error as exc:
        raise ValueError(f"{where}: invalid regular expression: {exc}") from None
    if compiled.search("", timeout=REGEX_CHECK_TIMEOUT_S) is not None:
        raise ValueError(f"{where}: regular expression matches the empty string")


def _label_names(table: dict[str, Any]) -> tuple[str, ...]:
    """Check ``[labels]`` through the label writer's own rules; the level names, lowest first."""
    try:
        return LabelScheme.from_mapping(table).names
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith("labels") else f"labels: {msg}") from None


def _cross_check(config: Config) -> None:
    """What no single table can say: names that refer to each other exist, and no output is watched."""
    scan, destinations, watch, policies = config.scan, config.destinations, config.watch, config.policies

    def known_policy(name: str | None) -> bool:
        return name is None or name == "builtin" or name in policies

    if not known_policy(scan.policy):
        raise ValueError(
            f"scan.policy: no policy named {scan.policy!r} (defined: "
            f"{', '.join(sorted(policies)) or 'none'}; or 'builtin')"
        )
    for name, d in destinations.items():
        if not known_policy(d.policy):
            raise ValueError(
                f"destinations.{name}.policy: no policy named {d.policy!r} (defined: "
                f"{', '.join(sorted(policies)) or 'none'}; or 'builtin')"
            )
    watched = []
    for i, wf in enumerate(watch.folders):
        if wf.destination not in destinations:
            raise ValueError(
                f"watch.folders[{i}].destination: no destination named {wf.destination!r} "
                f"(defined: {', '.join(sorted(destinations)) or 'none'})"
            )
        watched.append((i, _norm(wf.path)))
    # A release or quarantine folder inside a watched folder would rescan its own output forever.
    outputs = [("quarantine.folder", _norm(config.quarantine.folder))]
    outputs += [(f"destinations.{n}.folder", _norm(d.folder)) for n, d in destinations.items()]
    for key, out in outputs:
        for i, w in watched:
            if out == w or w in out.parents or out in w.parents:
                raise ValueError(
                    f"{key}: must not be inside, equal to or above watched folder watch.folders[{i}].path ({w})"
                )


def _norm(p: Path) -> Path:
    return Path(os.path.normcase(os.path.abspath(p)))
