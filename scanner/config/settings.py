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
from typing import TYPE_CHECKING, Any

import platformdirs
import regex

from scanner.errors import ConfigError as _BaseConfigError
from scanner.limits import Limits

if TYPE_CHECKING:  # pragma: no cover - typing only
    from scanner.decide.policy import Policy

APP_NAME = "Clearance"
CONFIG_FILE_NAME = "clearance.toml"
SCHEMA_VERSION = 1
HASH_KEY_BYTES = 32


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
class IdentifierDef:
    """One partner identifier: a literal string (matched as a whole word) or a regex."""

    value: str
    kind: str = "identifier"  # "project code", "compound code", ...: shown in reasons
    regex: bool = False


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
    stable_seconds: float = 5.0  # size+mtime unchanged this long before a file is scanned
    poll_interval: float = 1.0  # seconds between stability polls (and polling-observer fallback)


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
        from scanner.decide.policy import builtin_policy

        name: str | None = None
        if destination is not None and destination in self.destinations:
            name = self.destinations[destination].policy
        name = name or self.scan.policy
        if name is None and "default" in self.policies:
            name = "default"
        if name is None or name == "builtin":
            return builtin_policy()
        return self.policies[name]

    def label_scheme(self) -> Any:
        """``labels.LabelScheme`` built from ``[labels]`` (None when labels is unavailable)."""
        scheme_cls = _label_scheme_class()
        if scheme_cls is None:
            return None
        return scheme_cls.from_mapping(dict(self.labels))

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


# --------------------------------------------------------------------------- loading


class _Reader:
    """Typed getters that raise ``ValueError("key.path: expected ..., got ...")``."""

    def __init__(self, base_dir: Path):
        self.base_dir = base_dir

    @staticmethod
    def describe(value: object) -> str:
        return f"{type(value).__name__} {value!r}" if not isinstance(value, int | float | str) else repr(value)

    def table(self, value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a table, got {self.describe(value)}")
        return value

    def check_keys(self, tbl: Mapping[str, Any], where: str, known: set[str]) -> None:
        for key in tbl:
            if key not in known:
                raise ValueError(
                    f"{where}.{key}: unknown key (expected one of: {', '.join(sorted(known))})"
                    if where
                    else f"{key}: unknown key (expected one of: {', '.join(sorted(known))})"
                )

    def string(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where}: expected a non-empty string, got {self.describe(value)}")
        return value

    def path(self, value: object, where: str) -> Path:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where}: expected a string path, got {self.describe(value)}")
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def positive_int(self, value: object, where: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{where}: expected a positive integer, got {self.describe(value)}")
        return value

    def positive_float(self, value: object, where: str) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{where}: expected a positive number of seconds, got {self.describe(value)}")
        return float(value)

    def string_list(self, value: object, where: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError(f"{where}: expected a list of non-empty strings, got {self.describe(value)}")
        return value


_TOP_KEYS = {"schema_version", "scan", "limits", "audit", "quarantine", "destinations", "watch", "labels", "policies"}
_NAME_RX = regex.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


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


def _build(data: dict[str, Any], base_dir: Path, path: Path | None, digest: str) -> Config:
    r = _Reader(base_dir)
    r.check_keys(data, "", _TOP_KEYS)
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise ValueError(f"schema_version: expected {SCHEMA_VERSION}, got {_Reader.describe(version)}")
    defaults = default_config()

    scan = _scan(r, r.table(data.get("scan", {}), "scan"))
    limits = Limits.from_mapping(r.table(data.get("limits", {}), "limits"), "limits")
    audit = _audit(r, r.table(data.get("audit", {}), "audit"), defaults.audit)
    quarantine = _quarantine(r, r.table(data.get("quarantine", {}), "quarantine"), defaults.quarantine)
    labels = r.table(data.get("labels", {}), "labels")
    label_names = _check_labels(labels)
    destinations = _destinations(r, r.table(data.get("destinations", {}), "destinations"))
    watch = _watch(r, r.table(data.get("watch", {}), "watch"))
    from scanner.decide.policy import parse_policies

    policies = parse_policies(r.table(data.get("policies", {}), "policies"), label_names)

    _cross_check(scan, destinations, watch, quarantine, policies)
    # Plain dicts behind read-only Mapping types: a Config must pickle (worker processes).
    return Config(
        path=path,
        scan=scan,
        limits=limits,
        audit=audit,
        quarantine=quarantine,
        destinations=destinations,
        watch=watch,
        labels=labels,
        policies=policies,
        sha256=digest,
    )


def _scan(r: _Reader, t: dict[str, Any]) -> ScanConfig:
    r.check_keys(t, "scan", {"pattern_dirs", "jobs", "policy"})
    dirs = tuple(
        r.path(p, f"scan.pattern_dirs[{i}]")
        for i, p in enumerate(r.string_list(t.get("pattern_dirs", []), "scan.pattern_dirs"))
    )
    for i, d in enumerate(dirs):
        if not d.is_dir():
            raise ValueError(f"scan.pattern_dirs[{i}]: expected an existing folder, {d} is not one")
    jobs = r.positive_int(t["jobs"], "scan.jobs") if "jobs" in t else None
    policy = r.string(t["policy"], "scan.policy") if "policy" in t else None
    return ScanConfig(pattern_dirs=dirs, jobs=jobs, policy=policy)


def _audit(r: _Reader, t: dict[str, Any], default: AuditConfig) -> AuditConfig:
    r.check_keys(t, "audit", {"database", "hash_key_file"})
    db = r.path(t["database"], "audit.database") if "database" in t else default.database
    key = r.path(t["hash_key_file"], "audit.hash_key_file") if "hash_key_file" in t else default.hash_key_file
    return AuditConfig(database=db, hash_key_file=key)


def _quarantine(r: _Reader, t: dict[str, Any], default: QuarantineConfig) -> QuarantineConfig:
    r.check_keys(t, "quarantine", {"folder"})
    return QuarantineConfig(folder=r.path(t["folder"], "quarantine.folder") if "folder" in t else default.folder)


def _destinations(r: _Reader, t: dict[str, Any]) -> dict[str, DestinationConfig]:
    out: dict[str, DestinationConfig] = {}
    for name, value in t.items():
        where = f"destinations.{name}"
        if not _NAME_RX.match(name):
            raise ValueError(f"{where}: destination names use letters, digits, '_', '-' and '.' only")
        d = r.table(value, where)
        r.check_keys(d, where, {"folder", "policy", "display_name", "identifiers", "identifier_file"})
        if "folder" not in d:
            raise ValueError(f"{where}.folder: missing (expected the release folder for this destination)")
        folder = r.path(d["folder"], f"{where}.folder")
        policy = r.string(d["policy"], f"{where}.policy") if "policy" in d else None
        display = r.string(d["display_name"], f"{where}.display_name") if "display_name" in d else None
        idents = _identifiers(r, d.get("identifiers", []), f"{where}.identifiers")
        if "identifier_file" in d:
            idents += _identifier_file(
                r.path(d["identifier_file"], f"{where}.identifier_file"), f"{where}.identifier_file"
            )
        out[name] = DestinationConfig(
            name=name, folder=folder, policy=policy, display_name=display, identifiers=tuple(idents)
        )
    return out


_IDENT_KEYS = {"value", "regex", "kind"}


def _identifiers(r: _Reader, value: object, where: str) -> list[IdentifierDef]:
    if not isinstance(value, list):
        raise ValueError(
            f"{where}: expected a list of strings or {{ value = ..., kind = ... }} tables, "
            f"got {_Reader.describe(value)}"
        )
    out: list[IdentifierDef] = []
    for i, item in enumerate(value):
        w = f"{where}[{i}]"
        if isinstance(item, str):
            out.append(IdentifierDef(r.string(item, w)))
            continue
        t = r.table(item, w)
        r.check_keys(t, w, _IDENT_KEYS)
        if ("value" in t) == ("regex" in t):
            raise ValueError(f"{w}: expected exactly one of 'value' (literal) or 'regex'")
        kind = r.string(t["kind"], f"{w}.kind") if "kind" in t else "identifier"
        if "regex" in t:
            rx = r.string(t["regex"], f"{w}.regex")
            _check_regex(rx, f"{w}.regex")
            out.append(IdentifierDef(rx, kind, regex=True))
        else:
            out.append(IdentifierDef(r.string(t["value"], f"{w}.value"), kind))
    return out


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
    if compiled.search("", timeout=1.0) is not None:
        raise ValueError(f"{where}: regular expression matches the empty string")


def _watch(r: _Reader, t: dict[str, Any]) -> WatchConfig:
    r.check_keys(t, "watch", {"folders", "stable_seconds", "poll_interval"})
    folders: list[WatchFolder] = []
    raw = t.get("folders", [])
    if not isinstance(raw, list):
        raise ValueError(f"watch.folders: expected an array of tables ([[watch.folders]]), got {r.describe(raw)}")
    for i, item in enumerate(raw):
        w = f"watch.folders[{i}]"
        f = r.table(item, w)
        r.check_keys(f, w, {"path", "destination"})
        for key in ("path", "destination"):
            if key not in f:
                raise ValueError(f"{w}.{key}: missing")
        folders.append(
            WatchFolder(path=r.path(f["path"], f"{w}.path"), destination=r.string(f["destination"], f"{w}.destination"))
        )
    stable = r.positive_float(t["stable_seconds"], "watch.stable_seconds") if "stable_seconds" in t else 5.0
    poll = r.positive_float(t["poll_interval"], "watch.poll_interval") if "poll_interval" in t else 1.0
    return WatchConfig(folders=tuple(folders), stable_seconds=stable, poll_interval=poll)


def _label_scheme_class() -> Any:
    try:
        from scanner.act import labels
    except ImportError:
        return None
    return getattr(labels, "LabelScheme", None)


DEFAULT_LABEL_LEVELS = ("Public", "Internal", "Confidential", "Restricted")


def _check_labels(table: dict[str, Any]) -> tuple[str, ...]:
    """Validate ``[labels]`` through the label writer; return level names, lowest first."""
    scheme_cls = _label_scheme_class()
    if scheme_cls is None:
        levels = table.get("levels")
        if levels is None:
            return DEFAULT_LABEL_LEVELS
        if not isinstance(levels, list) or not levels:
            raise ValueError("labels.levels: expected a non-empty list of label names")
        return tuple(str(x["name"]) if isinstance(x, dict) and "name" in x else str(x) for x in levels)
    try:
        scheme = scheme_cls.from_mapping(dict(table))
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith("labels") else f"labels: {msg}") from None
    return label_level_names(scheme)


def label_level_names(scheme: Any) -> tuple[str, ...]:
    """Level names of a LabelScheme, lowest sensitivity first (duck-typed, see labels.py)."""
    levels = getattr(scheme, "levels", None)
    if levels is None:
        return DEFAULT_LABEL_LEVELS
    if isinstance(levels, Mapping):
        levels = list(levels.values())
    names = []
    for lv in levels:
        names.append(lv if isinstance(lv, str) else str(getattr(lv, "name", lv)))
    return tuple(names) or DEFAULT_LABEL_LEVELS


def _cross_check(
    scan: ScanConfig,
    destinations: Mapping[str, DestinationConfig],
    watch: WatchConfig,
    quarantine: QuarantineConfig,
    policies: Mapping[str, Any],
) -> None:
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
    outputs = [("quarantine.folder", _norm(quarantine.folder))]
    outputs += [(f"destinations.{n}.folder", _norm(d.folder)) for n, d in destinations.items()]
    for key, out in outputs:
        for i, w in watched:
            if out == w or w in out.parents or out in w.parents:
                raise ValueError(
                    f"{key}: must not be inside, equal to or above watched folder watch.folders[{i}].path ({w})"
                )


def _norm(p: Path) -> Path:
    return Path(os.path.normcase(os.path.abspath(p)))
