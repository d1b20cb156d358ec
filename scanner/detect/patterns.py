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
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias

import regex

from scanner.detect import validators
from scanner.schema import Bool, Field, Float, Int, ListOf, Problem, ProblemKind, Str, Table, check

CATEGORIES = ("phi", "formula", "ip", "secret", "finance")
SEVERITIES = ("low", "medium", "high")
_FLAG_NAMES = {
    "ignorecase": regex.IGNORECASE,
    "multiline": regex.MULTILINE,
    "dotall": regex.DOTALL,
    "verbose": regex.VERBOSE,
}

# Named at module level: inside Pattern, "regex" is the field holding the pattern's text.
CompiledRegex: TypeAlias = "regex.Pattern[str]"
SCHEMA_VERSION = 1
EMPTY_MATCH_TIMEOUT_S = 0.5  # a regex that needs longer than this to fail on "" is catastrophic


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
        flags: int = 0  # VERSION0 semantics (re-compatible): VERSION1 is never set
        for name in self.flags:
            flags |= _FLAG_NAMES[name]
        return flags

    def compile(self) -> CompiledRegex:
        return regex.compile(self.regex, self.regex_flags)

    def width(self) -> int | None:
        """Longest possible match, if bounded: the confirm window after a prefilter hit."""
        if self.max_width is not None:
            return self.max_width
        return regex_max_width(self.regex, self.flags)


_SRE_MAXREPEAT = 65535  # widths from here up count as unbounded: no useful confirm window


def regex_max_width(pattern: str, flags: Sequence[str] = ()) -> int | None:
    """Upper bound on match length using the stdlib parser (None if unbounded/unparsable)."""
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
    return None if hi >= _SRE_MAXREPEAT else int(hi)


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


_BETWEEN_0_AND_1 = "{key} must be a number between 0 and 1, got {value!r}"
_MISSING_OR_EMPTY = "missing or empty '{key}'"
_STRINGS = "'{key}' must be a list of strings"
_FLAGS = f"flags must be a list drawn from {', '.join(_FLAG_NAMES)}"
_WINDOW_MAX = 1000  # chars either side: context further away says nothing about a value
_NEEDS_EXAMPLES = "missing [patterns.examples] with must_match and must_not_match lists"


def _required_text(name: str, doc: str, choices: tuple[str, ...] = ()) -> Field:
    out_of_range = f"{name} must be one of {{choices}}, got {{value!r}}"
    kind = Str(nonempty=True, choices=choices, invalid=_MISSING_OR_EMPTY, out_of_range=out_of_range)
    return Field(name, kind, required=True, missing=_MISSING_OR_EMPTY, doc=doc)


def _strings(name: str, doc: str) -> Field:
    return Field(name, ListOf(item=Str(), invalid=_STRINGS), default=(), doc=doc)


def _score(name: str, default: float, doc: str) -> Field:
    return Field(name, Float(minimum=0.0, maximum=1.0, invalid=_BETWEEN_0_AND_1), default=default, doc=doc)


def _example_list(name: str, doc: str) -> Field:
    needs = f"examples.{name} needs at least one string"
    return Field(name, ListOf(item=Str(), min_items=1, invalid=needs), required=True, missing=needs, doc=doc)


PATTERN = Table(
    doc="One pattern ([[patterns]]).",
    unknown="unknown key '{key}'",
    fields=(
        Field("id", Str(nonempty=True), required=True, doc="Stable kebab-case identifier; never renamed."),
        _required_text("name", "Shown in findings and reasons."),
        Field("description", Str(invalid="{key} must be a string"), default=""),
        _required_text("category", "What kind of data it finds.", CATEGORIES),
        _required_text("severity", "How bad a leak of it is.", SEVERITIES),
        _required_text("regex", "The pattern (Python `regex` syntax, VERSION0)."),
        Field(
            "flags",
            ListOf(item=Str(choices=tuple(_FLAG_NAMES), out_of_range=_FLAGS), invalid=_FLAGS),
            default=(),
            doc="Regex flags.",
        ),
        Field(
            "group",
            Int(minimum=0, invalid="group must be a non-negative integer"),
            default=0,
            doc="Capture group holding the value.",
        ),
        _score("score", 0.5, "Base score before validator and context."),
        Field(
            "validator",
            Str(choices=tuple(sorted(validators.REGISTRY)), invalid="unknown validator {value!r} (known: {choices})"),
            doc="Checksum or structure check from scanner.detect.validators.",
        ),
        Field(
            "validator_mode",
            Str(choices=("hard", "soft"), invalid="validator_mode must be 'hard' or 'soft', got {value!r}"),
            default="hard",
            doc="hard: a failed check drops the hit; soft: it costs 0.2 and a pass adds 0.1.",
        ),
        _score("validated_score", 0.85, "Hard mode: score floor when the validator passes."),
        _strings("keywords", "Context words (whole word, any case)."),
        Field(
            "window",
            ListOf(
                item=Int(minimum=0, maximum=_WINDOW_MAX),
                min_items=2,
                max_items=2,
                invalid=f"window must be [chars_before, chars_after], each 0..{_WINDOW_MAX}",
            ),
            default=(60, 20),
            doc="Near context window: chars before, after.",
        ),
        Field(
            "far_window",
            Int(minimum=0, maximum=_WINDOW_MAX, invalid=f"far_window must be an integer 0..{_WINDOW_MAX}"),
            default=300,
            doc="Far context window (chars before and after).",
        ),
        _strings("negative", "Negative context words in the near window."),
        Field(
            "require_context",
            Bool(invalid="require_context must be true or false"),
            default=False,
            doc="true: without a keyword a hit is a near-miss only.",
        ),
        _score("min_score", 0.4, "Report threshold."),
        _strings("allow", "Allow-listed values (compared normalised)."),
        _strings("allow_regex", "Allow-listed value regexes."),
        Field(
            "max_width",
            Int(minimum=1, invalid="max_width must be a positive integer"),
            doc="Longest match (the confirm window after a prefilter hit).",
        ),
        Field("prefilter", Str(invalid="prefilter must be a string"), doc="Vectorscan-compatible superset regex."),
        Field(
            "column_regex",
            Str(nonempty=True, invalid="column_regex must be a non-empty string"),
            doc="A whole table cell under a column whose header holds one of column_keywords.",
        ),
        _strings("column_keywords", "Column headers for column_regex; default: keywords."),
        _strings("references", "Where the format is specified."),
        Field("enabled", Bool(invalid="enabled must be true or false"), default=True, doc="false: skipped."),
        Field(
            "examples",
            Table(
                invalid=_NEEDS_EXAMPLES,
                unknown="unknown key(s) in examples: {keys}",
                unknown_together=True,
                fields=(
                    _example_list("must_match", "Texts that must yield a finding of this pattern."),
                    _example_list("must_not_match", "Texts that must yield none."),
                ),
            ),
            required=True,
            missing=_NEEDS_EXAMPLES,
            doc="Embedded examples, run by `clearance patterns test` and the test suite.",
        ),
    ),
)
PATTERN_FILE = Table(
    unknown="unknown top-level key '{key}'",
    fields=(
        Field(
            "schema_version",
            Int(choices=(SCHEMA_VERSION,), invalid=f"schema_version must be {SCHEMA_VERSION}, got {{value!r}}"),
            required=True,
            missing=f"schema_version must be {SCHEMA_VERSION}, got None",
        ),
        Field("name", Str(), doc="The set's name."),
        Field("description", Str()),
        Field("patterns", ListOf(item=PATTERN), default=(), doc="The patterns ([[patterns]])."),
        _strings("allow", "Reserved: accepted, not used."),
    ),
)
# Patterns are checked one by one (parse_pattern), so each problem names its pattern and line.
_FILE_TOP = PATTERN_FILE.without("patterns")
# Without these four nothing else can be judged: their problems alone are reported (with unknown keys).
_CORE = ("name", "category", "severity", "regex")
_PATTERN_KEYS = frozenset(f.name for f in PATTERN.fields)


def _stops(p: Problem) -> bool:
    """An unknown key of the pattern itself, or a core key missing or not a non-empty string."""
    if p.kind is ProblemKind.UNKNOWN:
        return p.key not in _PATTERN_KEYS
    return p.key in _CORE and p.kind is not ProblemKind.OUT_OF_RANGE


def _compile_problems(values: dict[str, Any], raw: dict[str, Any], err: Callable[[str, str], None]) -> None:
    """What a schema cannot say: regexes compile, do not match nothing, and fit together."""
    flags = sum(_FLAG_NAMES[f] for f in values["flags"])
    compiled = None
    try:
        compiled = regex.compile(values["regex"], flags)
    except regex.error as exc:
        err(f"regex does not compile: {exc}", "regex")
    if compiled is not None:
        if compiled.groups < values["group"]:
            err(f"group {values['group']} does not exist (the regex has {compiled.groups} groups)", "group")
        try:
            if compiled.fullmatch("", timeout=EMPTY_MATCH_TIMEOUT_S):
                err("regex matches the empty string", "regex")
        except TimeoutError:
            err("regex timed out on the empty string", "regex")
    if isinstance(values.get("prefilter"), str):
        try:
            regex.compile(values["prefilter"])
        except regex.error as exc:
            err(f"prefilter does not compile: {exc}", "prefilter")
    if "column_regex" in values:
        try:
            if regex.compile(values["column_regex"], flags).fullmatch("", timeout=EMPTY_MATCH_TIMEOUT_S):
                err("column_regex matches the empty string", "column_regex")
        except regex.error as exc:
            err(f"column_regex does not compile: {exc}", "column_regex")
        except TimeoutError:
            err("column_regex timed out on the empty string", "column_regex")
        if not values["column_keywords"] and not values["keywords"]:
            err("column_regex needs column_keywords (or keywords) naming the column headers", "column_regex")
    elif "column_regex" not in raw and raw.get("column_keywords"):
        err("column_keywords without column_regex has no effect", "column_keywords")
    for rx in values["allow_regex"]:
        try:
            regex.compile(rx)
        except regex.error as exc:
            err(f"allow_regex {rx!r} does not compile: {exc}", "allow_regex")


def parse_pattern(
    raw: dict[str, Any], file: str, lines: list[str], index: int
) -> tuple[Pattern | None, list[PatternError]]:
    """One ``[[patterns]]`` table: the pattern, or every problem (each with its line)."""
    errors: list[PatternError] = []
    pid = raw.get("id") if isinstance(raw.get("id"), str) else None

    def err(msg: str, key: str | None = None) -> None:
        errors.append(PatternError(file, pid or f"patterns[{index}]", _line_of(lines, pid, key), msg))

    if not pid:
        err("missing 'id' (a stable kebab-case identifier)")
        return None, errors
    problems, values = check(PATTERN, raw)
    core = [p for p in problems if _stops(p)]
    for p in core or problems:
        err(p.message, p.key)
    if core:
        return None, errors
    _compile_problems(values, raw, err)
    if errors:
        return None, errors
    examples = values["examples"]
    return Pattern(
        id=pid,
        name=values["name"],
        category=values["category"],
        severity=values["severity"],
        regex=values["regex"],
        flags=tuple(values["flags"]),
        group=values["group"],
        score=values["score"],
        validator=values.get("validator"),
        validator_mode=values["validator_mode"],
        keywords=tuple(values["keywords"]),
        window=(values["window"][0], values["window"][1]),
        far_window=values["far_window"],
        negative=tuple(values["negative"]),
        require_context=values["require_context"],
        min_score=values["min_score"],
        validated_score=values["validated_score"],
        allow=tuple(values["allow"]),
        allow_regex=tuple(values["allow_regex"]),
        max_width=values.get("max_width"),
        prefilter=values.get("prefilter"),
        column_regex=values.get("column_regex"),
        column_keywords=tuple(values["column_keywords"]),
        description=values["description"],
        must_match=tuple(examples["must_match"]),
        must_not_match=tuple(examples["must_not_match"]),
        source=file,
        line=_line_of(lines, pid),
    ), []


_TOML_LINE = re.compile(r"at line (\d+)")  # tomllib's message ends with "(at line N, column M)"


def parse_set_text(text: str, file: str) -> tuple[list[Pattern], list[PatternError]]:
    lines = text.splitlines()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE.search(str(exc))
        return [], [PatternError(file, None, int(m.group(1)) if m else None, f"not valid TOML: {exc}")]
    problems, _ = check(_FILE_TOP, data)
    errors = [PatternError(file, None, _top_line(lines, p.key), p.message) for p in problems]
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
