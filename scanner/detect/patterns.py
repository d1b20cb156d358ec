"""Load, validate and compile pattern sets (TOML files an admin can read and edit).

A set is one ``*.toml`` file::

    schema_version = 1
    name = "phi"
    description = "..."

    [[patterns]]
    id = "phi-us-ssn"                 # stable; never renamed (see house style H16)
    name = "US Social Security number"
    category = "phi"                  # phi | formula | ip | secret | finance
    severity = "high"                 # low | medium | high
    regex = '''\\b\\d{3}-\\d{2}-\\d{4}\\b'''
    flags = ["ignorecase"]            # optional: ignorecase, multiline, dotall, verbose
    group = 0                         # optional: capture group holding the value
    score = 0.5                       # base score 0..1 before validator and context
    validator = "us_ssn"              # optional, from scanner.detect.validators.REGISTRY
    validator_mode = "hard"           # hard: fail drops the hit; soft: fail costs 0.2, pass adds 0.1
    validated_score = 0.85            # hard mode: score floor when the validator passes (a real
                                      # checksum earns 0.85; a mere range check should earn less)
    keywords = ["ssn", "social security"]   # context words (whole word, any case)
    window = [60, 20]                 # near window: chars before, after
    far_window = 300                  # far window (chars before/after)
    negative = ["sample", "example"]  # negative context in the near window
    require_context = false           # true: no keyword -> near-miss only
    min_score = 0.4                   # report threshold (default 0.4 = "low")
    allow = ["078-05-1120"]           # allow-listed values (compared normalised)
    allow_regex = []                  # allow-listed value regexes
    max_width = 64                    # optional: max match length (for the prefilter)
    prefilter = '''\\d{3}-\\d{2}-\\d{4}'''  # optional Vectorscan-compatible superset
    column_regex = '''\\d{9}'''        # optional: a whole table cell under a column whose
                                      # header (or row label) holds one of column_keywords
    column_keywords = ["ssn"]         # optional; defaults to keywords

    [patterns.examples]
    must_match = ["SSN: 123-45-6789", "Name | SSN || Jane Roe | 212674431"]
    must_not_match = ["SSN: 000-12-3456"]

An example written ``header row || data row`` is matched as a table row whose column
headers are the part before ``||`` (how CSV and spreadsheet rows reach the matcher).

Loading checks everything and reports every problem at once, each naming the file,
the pattern id and the line (``PatternError``). Admin sets extend or override built-in
patterns by id (later sets win).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import regex

from scanner.detect import validators

if TYPE_CHECKING:  # match imports this module: only the type checker sees the reverse import
    from scanner.detect.match import Matcher, MatchResult

CATEGORIES = ("phi", "formula", "ip", "secret", "finance")
SEVERITIES = ("low", "medium", "high")
_FLAG_NAMES = {
    "ignorecase": regex.IGNORECASE,
    "multiline": regex.MULTILINE,
    "dotall": regex.DOTALL,
    "verbose": regex.VERBOSE,
}

_KNOWN_KEYS = {
    "id",
    "name",
    "description",
    "category",
    "severity",
    "regex",
    "flags",
    "group",
    "score",
    "validator",
    "validator_mode",
    "keywords",
    "window",
    "far_window",
    "negative",
    "require_context",
    "min_score",
    "allow",
    "allow_regex",
    "max_width",
    "prefilter",
    "examples",
    "enabled",
    "references",
    "validated_score",
    "column_regex",
    "column_keywords",
}
_TOP_KEYS = {"schema_version", "name", "description", "patterns", "allow"}
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class PatternError:
    file: str
    pattern: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        who = f" [{self.pattern}]" if self.pattern else ""
        return f"{where}{who}: {self.message}"


class PatternSetError(Exception):
    """One or more pattern files are invalid; ``errors`` lists every problem."""

    def __init__(self, errors: Sequence[PatternError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True, slots=True)
class Pattern:
    id: str
    name: str
    category: str
    severity: str
    regex: str
    flags: tuple[str, ...] = ()
    group: int = 0
    score: float = 0.5
    validator: str | None = None
    validator_mode: str = "hard"
    keywords: tuple[str, ...] = ()
    window: tuple[int, int] = (60, 20)
    far_window: int = 300
    negative: tuple[str, ...] = ()
    require_context: bool = False
    min_score: float = 0.4
    validated_score: float = 0.85
    allow: tuple[str, ...] = ()
    allow_regex: tuple[str, ...] = ()
    max_width: int | None = None
    prefilter: str | None = None
    column_regex: str | None = None
    column_keywords: tuple[str, ...] = ()
    description: str = ""
    must_match: tuple[str, ...] = ()
    must_not_match: tuple[str, ...] = ()
    source: str = ""  # file it came from
    line: int | None = None  # line of its `id` in that file

    @property
    def regex_flags(self) -> int:
        f = regex.VERSION1 * 0  # keep VERSION0 semantics (re-compatible)
        for name in self.flags:
            f |= _FLAG_NAMES[name]
        return f

    def compile(self) -> regex.Pattern[str]:
        return regex.compile(self.regex, self.regex_flags)

    def width(self) -> int | None:
        """Longest possible match, if bounded: the confirm window after a prefilter hit."""
        if self.max_width is not None:
            return self.max_width
        return regex_max_width(self.regex, self.flags)


def regex_max_width(pattern: str, flags: Sequence[str] = ()) -> int | None:
    """Upper bound on match length using the stdlib parser (None if unbounded/unparsable)."""
    import re

    try:
        re_flags = 0
        for name in flags:
            re_flags |= {"ignorecase": re.I, "multiline": re.M, "dotall": re.S, "verbose": re.X}[name]
        parser = getattr(re, "_parser", None)  # the stdlib regex parser (sre_parse is deprecated)
        if parser is None:
            return None
        parsed = parser.parse(pattern, re_flags)
        hi = parsed.getwidth()[1]
    except Exception:  # regex-only syntax the stdlib parser does not know
        return None
    return None if hi >= 65535 else int(hi)


@dataclass(frozen=True, slots=True)
class PatternSet:
    patterns: tuple[Pattern, ...]
    sources: tuple[str, ...] = ()
    digest: str = ""  # sha256 over the files' bytes: audit records which set judged

    def by_id(self, pattern_id: str) -> Pattern | None:
        for p in self.patterns:
            if p.id == pattern_id:
                return p
        return None

    def __len__(self) -> int:
        return len(self.patterns)


def builtin_pattern_dir() -> Path:
    """The installed copy of ``patterns/`` (inside the wheel), or the checkout's."""
    packaged = resources.files("scanner") / "data" / "patterns"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "patterns"  # scanner/detect/ -> checkout


def _line_of(lines: list[str], pattern_id: str | None, key: str | None = None) -> int | None:
    """Best-effort line number: the pattern's ``id =`` line, then ``key =`` after it."""
    if pattern_id is None:
        return None
    start = None
    for i, line in enumerate(lines):
        stripped = line.strip().replace(" ", "")
        if stripped in (f'id="{pattern_id}"', f"id='{pattern_id}'"):
            start = i
            break
    if start is None:
        return None
    if key:
        for j in range(start, len(lines)):
            if j > start and lines[j].strip().startswith("[[patterns]]"):
                break
            if lines[j].strip().split("=", 1)[0].strip() == key:
                return j + 1
    return start + 1


def _top_line(lines: list[str], key: str) -> int | None:
    """Line of a top-level ``key = ...`` (before the first table header)."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            return None
        if stripped.split("=", 1)[0].strip() == key:
            return i + 1
    return None


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def parse_pattern(raw: dict, file: str, lines: list[str], index: int) -> tuple[Pattern | None, list[PatternError]]:
    errors: list[PatternError] = []
    pid = raw.get("id") if isinstance(raw.get("id"), str) else None

    def err(msg: str, key: str | None = None) -> None:
        errors.append(PatternError(file, pid or f"patterns[{index}]", _line_of(lines, pid, key), msg))

    if not pid:
        err("missing 'id' (a stable kebab-case identifier)")
        return None, errors
    for key in raw:
        if key not in _KNOWN_KEYS:
            err(f"unknown key '{key}'", key)
    for key in ("name", "category", "severity", "regex"):
        if not isinstance(raw.get(key), str) or not raw.get(key):
            err(f"missing or empty '{key}'", key)
    if errors:
        return None, errors
    if raw["category"] not in CATEGORIES:
        err(f"category must be one of {', '.join(CATEGORIES)}, got {raw['category']!r}", "category")
    if raw["severity"] not in SEVERITIES:
        err(f"severity must be one of {', '.join(SEVERITIES)}, got {raw['severity']!r}", "severity")
    flags = raw.get("flags", [])
    if not _str_list(flags) or any(f not in _FLAG_NAMES for f in flags):
        err(f"flags must be a list drawn from {', '.join(_FLAG_NAMES)}", "flags")
        flags = []
    score = raw.get("score", 0.5)
    if not isinstance(score, int | float) or not 0 <= score <= 1:
        err(f"score must be a number between 0 and 1, got {score!r}", "score")
        score = 0.5
    min_score = raw.get("min_score", 0.4)
    if not isinstance(min_score, int | float) or not 0 <= min_score <= 1:
        err(f"min_score must be a number between 0 and 1, got {min_score!r}", "min_score")
        min_score = 0.4
    validated = raw.get("validated_score", 0.85)
    if not isinstance(validated, int | float) or not 0 <= validated <= 1:
        err(f"validated_score must be a number between 0 and 1, got {validated!r}", "validated_score")
        validated = 0.85
    validator = raw.get("validator")
    if validator is not None and validator not in validators.REGISTRY:
        err(f"unknown validator {validator!r} (known: {', '.join(sorted(validators.REGISTRY))})", "validator")
    mode = raw.get("validator_mode", "hard")
    if mode not in ("hard", "soft"):
        err(f"validator_mode must be 'hard' or 'soft', got {mode!r}", "validator_mode")
    for key in ("keywords", "negative", "allow", "allow_regex", "column_keywords", "references"):
        if key in raw and not _str_list(raw[key]):
            err(f"'{key}' must be a list of strings", key)
    window = raw.get("window", [60, 20])
    if not (
        isinstance(window, list) and len(window) == 2 and all(isinstance(w, int) and 0 <= w <= 1000 for w in window)
    ):
        err("window must be [chars_before, chars_after], each 0..1000", "window")
        window = [60, 20]
    far = raw.get("far_window", 300)
    if not isinstance(far, int) or not 0 <= far <= 1000:
        err("far_window must be an integer 0..1000", "far_window")
        far = 300
    group = raw.get("group", 0)
    if not isinstance(group, int) or group < 0:
        err("group must be a non-negative integer", "group")
        group = 0
    max_width = raw.get("max_width")
    if max_width is not None and (not isinstance(max_width, int) or max_width <= 0):
        err("max_width must be a positive integer", "max_width")
        max_width = None
    compiled = None
    try:
        compiled = regex.compile(raw["regex"], sum(_FLAG_NAMES[f] for f in flags))
    except regex.error as exc:
        err(f"regex does not compile: {exc}", "regex")
    if compiled is not None:
        if compiled.groups < group:
            err(f"group {group} does not exist (the regex has {compiled.groups} groups)", "group")
        try:
            if compiled.fullmatch("", timeout=0.5):
                err("regex matches the empty string", "regex")
        except TimeoutError:
            err("regex timed out on the empty string", "regex")
    if raw.get("prefilter") is not None:
        if not isinstance(raw["prefilter"], str):
            err("prefilter must be a string", "prefilter")
        else:
            try:
                regex.compile(raw["prefilter"])
            except regex.error as exc:
                err(f"prefilter does not compile: {exc}", "prefilter")
    column = raw.get("column_regex")
    if column is not None:
        if not isinstance(column, str) or not column:
            err("column_regex must be a non-empty string", "column_regex")
        else:
            try:
                col_rx = regex.compile(column, sum(_FLAG_NAMES[f] for f in flags))
                if col_rx.fullmatch("", timeout=0.5):
                    err("column_regex matches the empty string", "column_regex")
            except regex.error as exc:
                err(f"column_regex does not compile: {exc}", "column_regex")
            except TimeoutError:
                err("column_regex timed out on the empty string", "column_regex")
            if not raw.get("column_keywords") and not raw.get("keywords"):
                err("column_regex needs column_keywords (or keywords) naming the column headers", "column_regex")
    elif raw.get("column_keywords"):
        err("column_keywords without column_regex has no effect", "column_keywords")
    for rx in raw.get("allow_regex", []) if _str_list(raw.get("allow_regex", [])) else []:
        try:
            regex.compile(rx)
        except regex.error as exc:
            err(f"allow_regex {rx!r} does not compile: {exc}", "allow_regex")
    examples = raw.get("examples")
    must, must_not = [], []
    if not isinstance(examples, dict):
        err("missing [patterns.examples] with must_match and must_not_match lists", "examples")
    else:
        must, must_not = examples.get("must_match", []), examples.get("must_not_match", [])
        unknown = set(examples) - {"must_match", "must_not_match"}
        if unknown:
            err(f"unknown key(s) in examples: {', '.join(sorted(unknown))}", "examples")
        if not _str_list(must) or not must:
            err("examples.must_match needs at least one string", "must_match")
            must = []
        if not _str_list(must_not) or not must_not:
            err("examples.must_not_match needs at least one string", "must_not_match")
            must_not = []
    if errors:
        return None, errors
    return Pattern(
        id=pid,
        name=raw["name"],
        category=raw["category"],
        severity=raw["severity"],
        regex=raw["regex"],
        flags=tuple(flags),
        group=group,
        score=float(score),
        validator=validator,
        validator_mode=mode,
        keywords=tuple(raw.get("keywords", ())),
        window=(window[0], window[1]),
        far_window=far,
        negative=tuple(raw.get("negative", ())),
        require_context=bool(raw.get("require_context", False)),
        min_score=float(min_score),
        validated_score=float(validated),
        allow=tuple(raw.get("allow", ())),
        allow_regex=tuple(raw.get("allow_regex", ())),
        max_width=max_width,
        prefilter=raw.get("prefilter"),
        column_regex=raw.get("column_regex"),
        column_keywords=tuple(raw.get("column_keywords", ())),
        description=raw.get("description", ""),
        must_match=tuple(must),
        must_not_match=tuple(must_not),
        source=file,
        line=_line_of(lines, pid),
    ), []


def parse_set_text(text: str, file: str) -> tuple[list[Pattern], list[PatternError]]:
    lines = text.splitlines()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line N, column M)"
        import re

        m = re.search(r"at line (\d+)", str(exc))
        return [], [PatternError(file, None, int(m.group(1)) if m else None, f"not valid TOML: {exc}")]
    errors: list[PatternError] = []
    for key in data:
        if key not in _TOP_KEYS:
            errors.append(PatternError(file, None, _top_line(lines, key), f"unknown top-level key '{key}'"))
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        errors.append(
            PatternError(
                file,
                None,
                _top_line(lines, "schema_version"),
                f"schema_version must be {SCHEMA_VERSION}, got {version!r}",
            )
        )
    raw_patterns = data.get("patterns", [])
    if not isinstance(raw_patterns, list):
        errors.append(PatternError(file, None, None, "'patterns' must be an array of tables ([[patterns]])"))
        raw_patterns = []
    out: list[Pattern] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_patterns):
        if not isinstance(raw, dict):
            errors.append(PatternError(file, f"patterns[{i}]", None, "each pattern must be a table"))
            continue
        if raw.get("enabled") is False:
            continue
        pattern, errs = parse_pattern(raw, file, lines, i)
        errors.extend(errs)
        if pattern is not None:
            if pattern.id in seen:
                errors.append(PatternError(file, pattern.id, pattern.line, "duplicate pattern id in this file"))
                continue
            seen.add(pattern.id)
            out.append(pattern)
    return out, errors


def pattern_files(dirs: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for d in dirs:
        d = Path(d)
        if d.is_file():
            files.append(d)
        elif d.is_dir():
            files.extend(sorted(d.glob("*.toml")))
        else:
            raise PatternSetError([PatternError(str(d), None, None, "pattern folder does not exist")])
    return files


def load_pattern_set(dirs: Sequence[Path] | None = None, *, include_builtin: bool = True) -> PatternSet:
    """Built-in sets first, then each admin folder in order; later ids override earlier ones."""
    folders: list[Path] = ([builtin_pattern_dir()] if include_builtin else []) + [Path(d) for d in dirs or ()]
    files = pattern_files(folders)
    by_id: dict[str, Pattern] = {}
    errors: list[PatternError] = []
    digest = hashlib.sha256()
    for f in files:
        raw = f.read_bytes()
        digest.update(f.name.encode() + b"\0" + raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            errors.append(PatternError(str(f), None, None, "file is not UTF-8 text"))
            continue
        pats, errs = parse_set_text(text, str(f))
        errors.extend(errs)
        for p in pats:
            by_id[p.id] = p
    if errors:
        raise PatternSetError(errors)
    return PatternSet(tuple(by_id.values()), tuple(str(f) for f in files), digest.hexdigest())


@dataclass(slots=True)
class ExampleResult:
    pattern: str
    kind: str  # must_match | must_not_match
    index: int
    text: str
    passed: bool
    detail: str = ""


@dataclass(slots=True)
class ExampleReport:
    results: list[ExampleResult] = field(default_factory=list)

    @property
    def failures(self) -> list[ExampleResult]:
        return [r for r in self.results if not r.passed]


def run_examples(pset: PatternSet, only: Sequence[str] | None = None) -> ExampleReport:
    """Run every pattern's embedded examples through the real matcher, one pattern at a time."""
    from scanner.detect.match import Matcher

    report = ExampleReport()
    for p in pset.patterns:
        if only and p.id not in only:
            continue
        matcher = Matcher(PatternSet((p,)), hash_key=b"examples")
        for kind, texts in (("must_match", p.must_match), ("must_not_match", p.must_not_match)):
            for i, text in enumerate(texts):
                try:
                    hits = match_example(matcher, text)
                except Exception as exc:
                    report.results.append(ExampleResult(p.id, kind, i, text, False, f"error: {exc}"))
                    continue
                found = [h for h in hits.findings if h.pattern == p.id]
                ok = bool(found) if kind == "must_match" else not found
                detail = ""
                if not ok and kind == "must_match":
                    near = [n.explanation.summary() for n in hits.near_misses if n.pattern == p.id]
                    detail = "no finding" + (f"; near-miss: {near[0]}" if near else "")
                elif not ok:
                    detail = f"unexpected finding: {found[0].explanation.summary()}"
                report.results.append(ExampleResult(p.id, kind, i, text, ok, detail))
    return report


EXAMPLE_HEADER_SEP = " || "


def match_example(matcher: Matcher, text: str) -> MatchResult:
    """Match one embedded example; ``header || row`` is a table row under that header."""
    from scanner.model import Location, Segment

    if EXAMPLE_HEADER_SEP in text:
        header, _, row = text.partition(EXAMPLE_HEADER_SEP)
        return matcher.doc().feed(Segment(row, Location("table"), context=header))
    return matcher.match_text(text)
