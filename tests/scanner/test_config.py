"""Configuration: the sample loads, defaults are safe, every error names file + key."""

from __future__ import annotations

import multiprocessing
import os
import stat
import sys
from pathlib import Path

import pytest

from scanner.config import settings as cfg
from scanner.config.settings import ConfigError, load_config, load_or_create_key, loads_config
from scanner.errors import ConfigError as CliConfigError
from scanner.limits import Limits
from scanner.model import Verdict

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "resources" / "clearance.sample.toml"
_REAL_DEFAULT_PATH = cfg.default_config_path  # before the autouse fixture replaces them
_REAL_DATA_DIR = cfg.default_data_dir


def write(tmp_path: Path, text: str, name: str = "clearance.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def error_of(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> str:
    write(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as ei:
        load_config("clearance.toml")
    return str(ei.value)


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real per-user folders."""
    monkeypatch.setattr(cfg, "default_config_path", lambda: tmp_path / "userconf" / "clearance.toml")
    monkeypatch.setattr(cfg, "default_data_dir", lambda: tmp_path / "userdata")


# --------------------------------------------------------------------------- sample + defaults


def test_sample_config_loads_cleanly() -> None:
    c = load_config(SAMPLE)
    assert c.path == SAMPLE
    assert c.scan.jobs == 2 and c.scan.policy == "standard"
    assert set(c.destinations) == {"acme", "borealis"}
    acme = c.destinations["acme"]
    assert acme.folder == SAMPLE.parent / "Released" / "Acme"
    assert acme.title == "Acme Pharma"
    assert any(i.regex and i.kind == "study id" for i in acme.identifiers)
    assert [w.destination for w in c.watch.folders] == ["acme", "borealis"]
    assert c.watch.stable_seconds == 5.0 and c.watch.poll_interval == 1.0
    assert c.limits.archive_depth == 5
    assert c.audit.database == SAMPLE.parent / "data" / "clearance-audit.sqlite"
    assert c.policy_for("borealis").name == "strict"
    assert c.policy_for("acme").name == "standard"
    assert c.policy_for(None).name == "standard"
    assert c.policy_for("unknown-destination").name == "standard"
    assert c.sha256 and len(c.sha256) == 64
    # strict extends standard extends builtin: every layer's rules are present
    names = [r.name for r in c.policies["strict"].rules]
    assert "High-severity PHI" in names and "Phone list" in names and "Any PHI" in names
    assert c.policies["strict"].pages_without_text.verdict is Verdict.BLOCK


def test_no_file_means_safe_defaults(tmp_path: Path) -> None:
    c = load_config(None)
    assert c.path is None
    assert c.audit.database == tmp_path / "userdata" / "audit.sqlite"
    assert c.quarantine.folder == tmp_path / "userdata" / "Quarantine"
    assert c.limits == Limits()
    assert c.policy_for(None).name == "builtin"
    assert c.policy_for(None).unscannable.verdict is Verdict.BLOCK


def test_default_location_is_used_when_present(tmp_path: Path) -> None:
    p = tmp_path / "userconf" / "clearance.toml"
    p.parent.mkdir()
    p.write_text("[scan]\njobs = 3\n", encoding="utf-8")
    assert load_config(None).scan.jobs == 3


def test_real_default_path_uses_platformdirs() -> None:
    import platformdirs

    assert _REAL_DEFAULT_PATH() == Path(platformdirs.user_config_dir("Clearance", "Clearance")) / "clearance.toml"
    assert _REAL_DATA_DIR() == Path(platformdirs.user_data_dir("Clearance", "Clearance"))


# --------------------------------------------------------------------------- errors


def test_error_names_file_key_and_expectation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    msg = error_of(tmp_path, "[destinations.acme]\nfolder = 42\n", monkeypatch)
    assert msg == "clearance.toml: destinations.acme.folder: expected a string path, got 42"


def test_config_error_is_the_cli_config_error() -> None:
    assert issubclass(ConfigError, CliConfigError) and issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("colour = 1\n", "colour: unknown key"),
        ("[scan]\njobz = 2\n", "scan.jobz: unknown key"),
        ("[scan]\njobs = 0\n", "scan.jobs: expected a positive integer, got 0"),
        ("[scan]\njobs = true\n", "scan.jobs: expected a positive integer"),
        ("[scan]\npattern_dirs = 'x'\n", "scan.pattern_dirs: expected a list of non-empty strings"),
        ("[scan]\npattern_dirs = ['nope']\n", "scan.pattern_dirs[0]: expected an existing folder"),
        ("[scan]\npolicy = 'ghost'\n", "scan.policy: no policy named 'ghost'"),
        ("[limits]\ntimeout_s = 'soon'\n", "limits.timeout_s: expected float"),
        ("[limits]\nmax_pagez = 3\n", "limits.max_pagez: unknown limit"),
        ("[audit]\ndatabase = 5\n", "audit.database: expected a string path, got 5"),
        ("[quarantine]\nfolder = ''\n", "quarantine.folder: expected a string path"),
        ("[destinations.acme]\npolicy = 'builtin'\n", "destinations.acme.folder: missing"),
        ("[destinations.acme]\nfolder = 'a'\nfolderr = 'b'\n", "destinations.acme.folderr: unknown key"),
        ("[destinations.acme]\nfolder = 'a'\nidentifiers = 'PRJ'\n", "destinations.acme.identifiers: expected a list"),
        (
            "[destinations.acme]\nfolder = 'a'\nidentifiers = [{ regex = '(' }]\n",
            "destinations.acme.identifiers[0].regex: invalid regular expression",
        ),
        (
            "[destinations.acme]\nfolder = 'a'\nidentifiers = [{ regex = 'x*' }]\n",
            "destinations.acme.identifiers[0].regex: regular expression matches the empty string",
        ),
        (
            "[destinations.acme]\nfolder = 'a'\nidentifiers = [{ value = 'a', regex = 'b' }]\n",
            "destinations.acme.identifiers[0]: expected exactly one of 'value' (literal) or 'regex'",
        ),
        (
            "[destinations.acme]\nfolder = 'a'\nidentifier_file = 'missing.txt'\n",
            "destinations.acme.identifier_file: file",
        ),
        ("[destinations.acme]\nfolder = 'a'\npolicy = 'ghost'\n", "destinations.acme.policy: no policy named 'ghost'"),
        ("[watch]\nstable_seconds = -1\n", "watch.stable_seconds: expected a positive number of seconds"),
        (
            "[[watch.folders]]\npath = 'out'\ndestination = 'nobody'\n",
            "watch.folders[0].destination: no destination named 'nobody'",
        ),
        ("[[watch.folders]]\npath = 'out'\n", "watch.folders[0].destination: missing"),
        (
            "[destinations.acme]\nfolder = 'out/acme'\n[[watch.folders]]\npath = 'out'\ndestination = 'acme'\n",
            "destinations.acme.folder: must not be inside, equal to or above watched folder watch.folders[0].path",
        ),
        (
            "[quarantine]\nfolder = 'out'\n[destinations.acme]\nfolder = 'rel'\n"
            "[[watch.folders]]\npath = 'out'\ndestination = 'acme'\n",
            "quarantine.folder: must not be inside",
        ),
        ("[labels]\nlevelz = []\n", "labels.levelz: unknown key"),
        ("[labels]\nsite_id = 'not-a-guid'\n", "labels.site_id: not a GUID"),
        (
            "[policies.p]\nunscannable = 'maybe'\n",
            "policies.p.unscannable.verdict: expected one of allow, label, block",
        ),
        (
            "[policies.p]\n[[policies.p.rules]]\nname = 'x'\nverdict = 'block'\nmin_confidense = 'high'\n",
            "policies.p.rules[0].min_confidense: unknown key",
        ),
        ("[policies.p]\n[[policies.p.rules]]\nname = 'x'\nverdict = 'label'\n", "policies.p.rules[0].label: missing"),
        (
            "[policies.p]\n[[policies.p.rules]]\nname = 'x'\nverdict = 'label'\nlabel = 'Secret'\n",
            "policies.p.rules[0].label: expected a label name",
        ),
        ("[policies.p]\nextends = 'q'\n[policies.q]\nextends = 'p'\n", "circular"),
        ("[policies.p]\nextends = 'ghost'\n", "policies.p.extends: no policy named 'ghost'"),
        ("[policies.builtin]\n", "policies.builtin: this name is reserved"),
        ("schema_version = 2\n", "schema_version: expected 1, got 2"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, fragment: str) -> None:
    msg = error_of(tmp_path, text, monkeypatch)
    assert msg.startswith("clearance.toml: ")
    assert fragment in msg


def test_not_toml_and_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "not valid TOML" in error_of(tmp_path, "[scan\n", monkeypatch)
    with pytest.raises(ConfigError, match="nope.toml: configuration file not found"):
        load_config(tmp_path / "nope.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe[scan]")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(tmp_path / "bin.toml")


def test_custom_label_names_must_be_used_by_policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    levels = (
        "[labels]\n[[labels.levels]]\nname = 'Open'\nguid = '11111111-1111-1111-1111-111111111111'\n"
        "[[labels.levels]]\nname = 'Closed'\nguid = '22222222-2222-2222-2222-222222222222'\n"
    )
    msg = error_of(tmp_path, levels + "[policies.p]\n", monkeypatch)
    assert "policies.p.extends: the built-in policy cannot be used with these labels" in msg
    ok = write(
        tmp_path,
        levels + "[policies.p]\nextends = 'none'\nblock_label = 'Closed'\n"
        "pages_without_text = { verdict = 'label', label = 'Closed' }\n"
        "partner_material = { verdict = 'label', label = 'Closed' }\n"
        "[[policies.p.rules]]\nname = 'formula'\ncategories = ['formula']\nverdict = 'label'\nlabel = 'Open'\n",
    )
    c = load_config(ok)
    assert c.policies["p"].label_order == ("Open", "Closed")


# --------------------------------------------------------------------------- paths and identifiers


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    (conf_dir / "pats").mkdir()
    p = write(
        conf_dir, "[scan]\npattern_dirs = ['pats']\n[quarantine]\nfolder = 'q'\n[audit]\ndatabase = '~/audit.sqlite'\n"
    )
    monkeypatch.chdir(tmp_path)  # a different working directory must not matter
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))
    c = load_config(p)
    assert c.scan.pattern_dirs == (conf_dir / "pats",)
    assert c.quarantine.folder == conf_dir / "q"
    assert c.audit.database == tmp_path / "home" / "audit.sqlite"


def test_identifier_file(tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text(
        "# Acme identifiers\n\nPRJ-4711\ncompound code\tACM-2291\nre:ACM-S-\\d{3}\nstudy id\tre:ST-\\d+\n",
        encoding="utf-8",
    )
    c = load_config(
        write(
            tmp_path, "[destinations.acme]\nfolder = 'rel'\nidentifiers = ['Velantra']\nidentifier_file = 'ids.txt'\n"
        )
    )
    ids = c.destinations["acme"].identifiers
    assert [(i.value, i.kind, i.regex) for i in ids] == [
        ("Velantra", "identifier", False),
        ("PRJ-4711", "identifier", False),
        ("ACM-2291", "compound code", False),
        (r"ACM-S-\d{3}", "identifier", True),
        (r"ST-\d+", "study id", True),
    ]
    (tmp_path / "ids.txt").write_text("re:(\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"destinations\.acme\.identifier_file \(ids\.txt line 1\): invalid"):
        load_config(tmp_path / "clearance.toml")


def test_loads_config_for_editors(tmp_path: Path) -> None:
    c = loads_config("[scan]\njobs = 4\n", tmp_path)
    assert c.scan.jobs == 4 and c.path is None
    with pytest.raises(ConfigError, match="clearance.toml: scan.jobs"):
        loads_config("[scan]\njobs = 'x'\n", tmp_path)


# --------------------------------------------------------------------------- hash key


def test_hash_key_created_once_with_private_permissions(tmp_path: Path) -> None:
    c = load_config(write(tmp_path, "[audit]\nhash_key_file = 'secret/key.bin'\n"))
    k1 = c.hash_key()
    assert len(k1) == 32
    keyfile = tmp_path / "secret" / "key.bin"
    assert keyfile.read_bytes() == k1
    if os.name == "posix":
        assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    cfg._key_cache.clear()
    assert load_or_create_key(keyfile) == k1  # read back, not regenerated
    assert not [p for p in keyfile.parent.iterdir() if p.name != "key.bin"]  # no temp files left


def test_damaged_hash_key_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    keyfile = tmp_path / "key.bin"
    keyfile.write_bytes(b"short")
    with pytest.raises(ConfigError, match="exactly 32 bytes"):
        load_or_create_key(keyfile)
    assert keyfile.read_bytes() == b"short"


def _make_key(path: str, q: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    q.put(load_or_create_key(Path(path)))


def test_hash_key_race_between_processes_yields_one_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    keyfile = tmp_path / "k" / "key.bin"
    procs = [ctx.Process(target=_make_key, args=(str(keyfile), q)) for _ in range(3)]
    for p in procs:
        p.start()
    keys = [q.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
    assert len(set(keys)) == 1 and keys[0] == keyfile.read_bytes()


def test_label_scheme_from_config(tmp_path: Path) -> None:
    pytest.importorskip("scanner.labels.scheme")
    c = load_config(write(tmp_path, "[labels]\nmethod = 'Privileged'\n"))
    scheme = c.label_scheme()
    assert scheme.method == "Privileged"
    assert scheme.names == ("Public", "Internal", "Confidential", "Restricted")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX path example")
def test_tilde_in_identifier_file_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "ids.txt").write_text("PRJ-1\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    c = load_config(write(tmp_path, "[destinations.a]\nfolder = 'x'\nidentifier_file = '~/ids.txt'\n"))
    assert c.destinations["a"].identifiers[0].value == "PRJ-1"


def test_config_pickles_for_worker_processes() -> None:
    import pickle

    c = load_config(SAMPLE)
    back = pickle.loads(pickle.dumps(c))
    assert back == c and back.policy_for("borealis") == c.policy_for("borealis")
