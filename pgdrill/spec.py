"""Exercise specs: load ``exercises/<id>/exercise.yaml``, validate it, return frozen records.

The format is defined by ``pgdrill/schema/exercise.schema.json`` (JSON Schema 2020-12); the
schema's ``default`` values are applied here, so the schema is the one place a default lives.
The choices of ``incident.fixture`` and ``contrasts[].variant`` are not in the file: they are the
kinds the fixture registry holds (``pgdrill.fixtures.kinds``), filled in by ``load_schema``.
Every problem is reported as ``SpecError`` whose lines read ``<file>:<line>: <key.path>: <message>``
— YAML syntax, schema violations, duplicate check ids, an id that is not the folder name,
missing referenced files and, given the check catalogue, unknown checks and arguments that do
not fit a check's signature.
"""

from __future__ import annotations

import copy
import difflib
import functools
import inspect
import json
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import jsonschema
import yaml

from pgdrill.checks.arguments import argument_problems
from pgdrill.fixtures import kinds
from pgdrill.checks.arguments import short as _short
from pgdrill.checks.arguments import type_name as _type_name

if TYPE_CHECKING:  # pragma: no cover
    from pgdrill.checks.base import CheckDef

SCHEMA_PATH = Path(__file__).parent / "schema" / "exercise.schema.json"
SPEC_FILENAME = "exercise.yaml"

# Key path shown for problems that do not belong to one key.
ROOT_KEY = "(root)"
SYNTAX_KEY = "(yaml)"


# --------------------------------------------------------------------------------------------
# Errors


@dataclass(frozen=True)
class SpecProblem:
    """One thing wrong with one spec file, located by line and key path."""

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key}: {self.message}"


class SpecError(Exception):
    """A spec (or several) is invalid. ``str()`` is one ``file:line: key: message`` per line.

    ``problems`` lists them all; ``file``, ``line``, ``key`` and ``message`` are the first one's.
    """

    def __init__(self, problems: Iterable[SpecProblem]):
        self.problems: tuple[SpecProblem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("SpecError needs at least one problem")
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def file(self) -> str:
        return self.problems[0].file

    @property
    def line(self) -> int:
        return self.problems[0].line

    @property
    def key(self) -> str:
        return self.problems[0].key

    @property
    def message(self) -> str:
        return self.problems[0].message


# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, kw_only=True)
class IncidentSpec:
    fixture: str = kinds.DEFAULT_FIXTURE
    scale: float = 1
    seed: str | int = "learner"          # "learner" | "grading" | an integer
    setup: Path | None = None            # resolved: exercise dir / setup
    activity: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class FileSpec:
    path: str                            # relative to the submission dir (POSIX separators)
    run: str = "sql"                     # "sql" | "none"
    required: bool = True
    starter: Path | None = None          # resolved: exercise dir / starter


@dataclass(frozen=True, kw_only=True)
class TimeoutSpec:
    statement: float = 10
    file: float = 120


@dataclass(frozen=True, kw_only=True)
class CheckSpec:
    id: str
    check: str
    description: str
    readme: str = ""                     # label in the README's points table (docgen); "" = description
    # The spec's ``with:`` mapping (``with`` is a Python keyword), read-only.
    args: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    points: float = 1
    feedback: str = ""
    hint: str = ""
    visibility: str = "visible"          # "visible" | "hidden" | "after_due_date"
    line: int = 0                        # line of the check's entry in exercise.yaml
    # Gated points (``requires:``): ids of checks of which one must earn something / all must pass.
    requires_any: tuple[str, ...] = ()
    requires_all: tuple[str, ...] = ()
    # False: graded on the graded database only, even where the exercise declares contrasts.
    contrast: bool = True


@dataclass(frozen=True)
class PlantedRows:
    """``contrasts[].planted[]``: rows of ``table`` a contrast's setup planted as part of ``fault``."""

    fault: str
    table: str
    query: str


@dataclass(frozen=True, kw_only=True)
class ContrastSpec:
    """A contrast starting state (``contrasts:``): the learner's files run again there."""

    id: str
    variant: str | None = None           # a TechShop variant (fixtures/incident/variants/)
    seed: int | None = None              # None: the graded seed
    setup: Path | None = None            # resolved: exercise dir / setup
    files: tuple[str, ...] = ()          # the learner's files run there; () = all
    replay: bool = False                 # TechShop: the application's traffic replayed on its clones
    feedback: str = ""
    # Rows its setup planted that a fix must change: (fault id, table, SQL returning their keys).
    planted: tuple[PlantedRows, ...] = ()
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class ExerciseSpec:
    id: str
    title: str
    summary: str = ""
    order: int | None = None
    incident: IncidentSpec = IncidentSpec()
    files: tuple[FileSpec, ...] = ()
    timeouts: TimeoutSpec = TimeoutSpec()
    checks: tuple[CheckSpec, ...]
    path: Path                           # the exercise.yaml file; ``dir`` is its folder
    contrasts: tuple[ContrastSpec, ...] = ()
    # Only in a student template's self-check copy: {"withheld_checks": n, "withheld_points": p}.
    self_check: Mapping[str, Any] | None = None

    @property
    def dir(self) -> Path:
        return self.path.parent

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.checks)

    def get_check(self, check_id: str) -> CheckSpec:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    @property
    def sort_key(self) -> tuple:
        return (self.order is None, self.order or 0, self.id)


# --------------------------------------------------------------------------------------------
# YAML with line numbers

JsonPath = tuple  # of str | int


class LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the line of every key and list item.

    After ``load()``, ``lines`` maps a JSON path (a tuple of keys and indexes) to the 1-based
    line where that key (or item) starts, so a schema error at ``checks[2].with.table``
    can point at the right line.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[JsonPath, int] = {}
        self.duplicates: list[tuple[JsonPath, int]] = []  # a key written twice in one mapping
        self._budget = 0

    # Aliases make a DAG whose expansion can be exponential ("billion laughs"); every walk
    # over the expanded document (ours, then the schema validator's) is capped by this.
    MAX_NODES = 200_000

    def _visit(self, node) -> None:
        self._budget -= 1
        if self._budget < 0:
            raise yaml.constructor.ConstructorError(
                None, None, f"the document expands to more than {self.MAX_NODES} values (aliases?)",
                node.start_mark,
            )

    def construct_object(self, node, deep=False):
        # The safe constructor lets a few plain Python errors escape (a timestamp such as
        # 2024-13-45 raises ValueError); give them the node's position like YAML errors.
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {exc}", node.start_mark
            ) from None

    def load(self) -> Any:
        try:
            node = self.get_single_node()
            if node is None:
                return None
            self._budget = self.MAX_NODES
            self._find_duplicates(node, (), set())
            data = self.construct_document(node)
            self.lines[()] = node.start_mark.line + 1
            self._budget = self.MAX_NODES
            self._record(node, (), set())
            return data
        finally:
            self.dispose()

    def _find_duplicates(self, node, path: JsonPath, active: set[int]) -> None:
        # Before construction, so that keys brought in by a merge (<<: *base) and then
        # overridden are not mistaken for duplicates.
        if id(node) in active:
            return
        self._visit(node)
        active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                seen = set()
                for key_node, value_node in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                        continue
                    key = self.construct_object(key_node)
                    if key in seen:
                        self.duplicates.append((path + (key,), key_node.start_mark.line + 1))
                    seen.add(key)
                    self._find_duplicates(value_node, path + (key,), active)
            elif isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    self._find_duplicates(item, path + (i,), active)
        finally:
            active.discard(id(node))

    def _record(self, node, path: JsonPath, active: set[int]) -> None:
        if id(node) in active:  # a recursive alias: stop here
            return
        self._visit(node)
        active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if not isinstance(key_node, yaml.ScalarNode):
                        continue
                    try:
                        key = self.construct_object(key_node)
                    except yaml.YAMLError:
                        continue
                    sub = path + (key,)
                    self.lines.setdefault(sub, key_node.start_mark.line + 1)
                    self._record(value_node, sub, active)
            elif isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    sub = path + (i,)
                    self.lines.setdefault(sub, item.start_mark.line + 1)
                    self._record(item, sub, active)
        finally:
            active.discard(id(node))


def line_of(lines: Mapping[JsonPath, int], path: Iterable) -> int:
    """The line of ``path``, or of its nearest ancestor that has one."""
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get((), 1)


def key_path(path: Iterable) -> str:
    """``('checks', 2, 'with', 'table')`` -> ``checks[2].with.table``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or ROOT_KEY


# --------------------------------------------------------------------------------------------
# Schema


def load_schema() -> dict:
    """The exercise schema, with the fixture kinds registered now (``pgdrill.fixtures.kinds``): the
    choices of ``incident.fixture`` and ``contrasts[].variant`` and the fixtures' description."""
    return _load_schema(_fixture_choices())


def _fixture_choices() -> tuple:
    return (kinds.fixture_names(), kinds.variant_names(), tuple(k.title for k in kinds.kinds()))


@functools.cache
def _load_schema(choices: tuple) -> dict:
    fixtures, variants, titles = choices
    with SCHEMA_PATH.open(encoding="utf-8") as f:
        schema = json.load(f)
    fixture = schema["$defs"]["incident"]["properties"]["fixture"]
    fixture["enum"] = list(fixtures)
    fixture["description"] = fixture["description"].format(kinds=_or_list(titles))
    schema["$defs"]["contrast"]["properties"]["variant"]["enum"] = list(variants)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _or_list(items: tuple) -> str:
    """``a``, ``a or b``, ``a, b, or c``."""
    if len(items) < 3:
        return " or ".join(items)
    return f"{', '.join(items[:-1])}, or {items[-1]}"


def _validator() -> jsonschema.Draft202012Validator:
    return _validator_for(_fixture_choices())


@functools.cache
def _validator_for(choices: tuple) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_load_schema(choices))


def _resolve(schema: dict, root: dict) -> dict:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        merged = dict(root["$defs"][ref[len("#/$defs/"):]])
        merged.update({k: v for k, v in schema.items() if k != "$ref"})
        return merged
    return schema


def _apply_defaults(data: Any, schema: dict, root: dict) -> Any:
    """Fill in the schema's defaults (recursively) on already validated data."""
    schema = _resolve(schema, root)
    if isinstance(data, dict) and "properties" in schema:
        for key, sub in schema["properties"].items():
            sub_r = _resolve(sub, root)
            if key not in data and "default" in sub_r:
                data[key] = copy.deepcopy(sub_r["default"])
            if key in data:
                data[key] = _apply_defaults(data[key], sub_r, root)
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        return [_apply_defaults(item, schema["items"], root) for item in data]
    return data


def _closest(word: Any, choices: Iterable[str]) -> str:
    if not isinstance(word, str):
        return ""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _schema_message(err: jsonschema.ValidationError) -> tuple[list, str]:
    """A learner-readable message for one schema error, and the path it is about."""
    path = list(err.absolute_path)
    v, inst = err.validator, err.instance
    sch: Mapping[str, Any] = err.schema if isinstance(err.schema, Mapping) else {}
    allowed_values: Any = err.validator_value
    if v == "additionalProperties" and isinstance(inst, dict):
        allowed = list(sch.get("properties", {}))
        extra = [k for k in inst if k not in sch.get("properties", {})]
        key = extra[0] if extra else None
        msg = f"unknown key {key!r}{_closest(key, allowed)}; allowed keys: {', '.join(allowed)}"
        return (path + [key] if isinstance(key, str) else path), msg
    if v == "required":
        missing = err.message.split(" is a required property")[0].strip("'")
        typo = ""
        if isinstance(inst, dict):
            unknown = [k for k in inst if isinstance(k, str) and k not in sch.get("properties", {})]
            close = difflib.get_close_matches(missing, unknown, n=1, cutoff=0.6)
            typo = f" (is {close[0]!r} a typo?)" if close else ""
        return path, f"missing required key {missing!r}{typo}"
    if v == "enum":
        choices = ", ".join(str(c) for c in allowed_values)
        return path, f"{_short(inst)} is not allowed{_closest(inst, map(str, allowed_values))}; choose one of: {choices}"
    if v == "type":
        want = " or ".join(allowed_values) if isinstance(allowed_values, list) else str(allowed_values)
        want = want.replace("object", "mapping").replace("array", "list")
        return path, f"expected {want}, got {_type_name(inst)} {_short(inst)}"
    if v == "oneOf" and path and path[-1] == "seed":
        return path, f"expected 'learner', 'grading' or an integer >= 0, got {_short(inst)}"
    if v == "pattern":
        return path, f"{_short(inst)} must use lower-case letters, digits, '-' and '_' only (pattern {err.validator_value})"
    if v == "exclusiveMinimum":
        return path, f"must be greater than {err.validator_value}, got {_short(inst)}"
    if v == "minimum":
        return path, f"must be at least {err.validator_value}, got {_short(inst)}"
    if v == "minItems":
        return path, f"needs at least {err.validator_value} item(s)"
    if v == "minLength":
        return path, "must not be empty"
    if v == "uniqueItems":
        return path, "contains the same value twice"
    if v == "propertyNames":
        return path, f"argument names must be strings, got {_short(err.instance)}"
    return path, err.message


# --------------------------------------------------------------------------------------------
# Loading


def _read_yaml(path: Path, file: str) -> tuple[Any, dict, list]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([SpecProblem(file, 1, ROOT_KEY, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([SpecProblem(file, 1, ROOT_KEY, f"cannot read the file: {exc}")]) from None
    try:
        loader = LineLoader(text)
        data = loader.load()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{problem} ({exc.context})"
        raise SpecError([SpecProblem(file, line, SYNTAX_KEY, f"invalid YAML: {problem}")]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise SpecError([SpecProblem(file, line, SYNTAX_KEY, f"invalid YAML: {exc.reason} (character {exc.character!r})")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([SpecProblem(file, 1, SYNTAX_KEY, f"invalid YAML: {' '.join(str(exc).split())}")]) from None
    except RecursionError:
        raise SpecError([SpecProblem(file, 1, SYNTAX_KEY, "invalid YAML: nested too deeply")]) from None
    return data, loader.lines, loader.duplicates


def load_spec(path: Path, known_checks: Mapping[str, "CheckDef"] | None = None) -> ExerciseSpec:
    """Load and validate one ``exercise.yaml``; raise ``SpecError`` listing every problem.

    ``known_checks`` (e.g. ``pgdrill.checks.load_all()``) enables the catalogue checks: unknown check
    names and ``with`` arguments that do not fit the check's signature.
    """
    path = Path(path)
    file = str(path)
    data, lines, duplicates = _read_yaml(path, file)

    def problem(where: Iterable, message: str) -> SpecProblem:
        where = list(where)
        return SpecProblem(file, line_of(lines, where), key_path(where), message)

    if data is None:
        raise SpecError([SpecProblem(file, 1, ROOT_KEY, "the file is empty; expected a mapping")])
    if not isinstance(data, dict):
        raise SpecError([problem([], f"expected a mapping at the top level, got {_type_name(data)}")])

    if duplicates:
        raise SpecError([
            SpecProblem(file, line, key_path(where), f"key {where[-1]!r} is given twice (the second would silently win)")
            for where, line in duplicates
        ])
    try:
        errors = list(_validator().iter_errors(data))
    except RecursionError:
        raise SpecError([problem([], "the document nests too deeply (a recursive alias?)")]) from None
    if errors:
        found = []
        for err in errors:
            where, msg = _schema_message(err)
            found.append(problem(where, msg))
        found.sort(key=lambda p: (p.line, p.key))
        raise SpecError(_dedupe(found))

    data = _apply_defaults(copy.deepcopy(data), load_schema(), load_schema())
    problems = _semantic_problems(data, path, lines, problem, known_checks)
    if problems:
        raise SpecError(_dedupe(sorted(problems, key=lambda p: (p.line, p.key))))
    return _build(data, path, lines)


def _dedupe(problems: list[SpecProblem]) -> list[SpecProblem]:
    seen, out = set(), []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def _inside(base: Path, rel: str) -> Path | None:
    """``base / rel`` if it stays inside ``base`` and ``rel`` is relative, else None."""
    if Path(rel).is_absolute() or PurePosixPath(rel).is_absolute() or ".." in Path(rel).parts:
        return None
    return base / rel


def _semantic_problems(data: dict, path: Path, lines: Mapping, problem, known_checks) -> list[SpecProblem]:
    out: list[SpecProblem] = []
    exercise_dir = path.parent
    folder = path.resolve().parent.name
    if data["id"] != folder:
        out.append(problem(["id"], f"{data['id']!r} must equal the name of its folder, {folder!r}"))
    if not data["checks"] and data["self_check"] is None:
        out.append(problem(["checks"], "needs at least 1 item: an exercise without checks grades nothing"))

    inc = data["incident"]
    if not math.isfinite(inc["scale"]):
        out.append(problem(["incident", "scale"], f"must be a finite number, got {inc['scale']!r}"))
    for where, message in kinds.kind_of(inc["fixture"]).incident_problems(inc, _written(lines, "incident")):
        out.append(problem(["incident", *where], message))
    if inc["setup"] is not None:
        out.extend(_file_problem(exercise_dir, inc["setup"], ["incident", "setup"], problem, "setup file"))

    seen_paths: dict[str, int] = {}
    for i, f in enumerate(data["files"]):
        rel = f["path"]
        if _inside(Path("."), rel) is None or rel.endswith("/"):
            out.append(problem(["files", i, "path"], f"{rel!r} must be a relative file path without '..'"))
        norm = PurePosixPath(rel.replace("\\", "/")).as_posix()
        if norm in seen_paths:
            out.append(problem(["files", i, "path"], f"{rel!r} is listed twice (first as files[{seen_paths[norm]}])"))
        seen_paths.setdefault(norm, i)
        if f["starter"] is not None:
            out.extend(_file_problem(exercise_dir, f["starter"], ["files", i, "starter"], problem, "starter file"))

    for key in ("statement", "file"):
        if not math.isfinite(data["timeouts"][key]):
            out.append(problem(["timeouts", key], f"must be a finite number of seconds, got {data['timeouts'][key]!r}"))

    seen_ids: dict[str, int] = {}
    for i, c in enumerate(data["checks"]):
        if c["id"] in seen_ids:
            first = seen_ids[c["id"]]
            out.append(problem(["checks", i, "id"], f"duplicate check id {c['id']!r} (first used by checks[{first}])"))
        seen_ids.setdefault(c["id"], i)
        if not math.isfinite(c["points"]):
            out.append(problem(["checks", i, "points"], f"must be a finite number, got {c['points']!r}"))
        if known_checks is not None:
            out.extend(_check_problems(i, c, lines, known_checks, problem))
    out.extend(_contrast_problems(data, exercise_dir, lines, known_checks, problem))
    ids = {c["id"] for c in data["checks"]}
    for i, c in enumerate(data["checks"]):
        for kind, names in c["requires"].items():
            for j, name in enumerate(names):
                if name == c["id"]:
                    out.append(problem(["checks", i, "requires", kind, j], f"check {name!r} cannot require itself"))
                elif name not in ids:
                    out.append(problem(["checks", i, "requires", kind, j],
                                       f"no check {name!r} in this exercise{_closest(name, ids)}"))
    return out


def _contrast_problems(data: dict, exercise_dir: Path, lines: Mapping, known_checks, problem) -> list[SpecProblem]:
    """``contrasts:`` and the checks' ``contrast:`` keys (see the schema's descriptions)."""
    out: list[SpecProblem] = []
    fixture = data["incident"]["fixture"]
    kind = kinds.kind_of(fixture)
    sql_files = [PurePosixPath(f["path"].replace("\\", "/")).as_posix() for f in data["files"] if f["run"] == "sql"]
    seen: dict[str, int] = {}
    for i, c in enumerate(data["contrasts"]):
        where = ["contrasts", i]
        if c["id"] in seen:
            out.append(problem(where + ["id"], f"duplicate contrast id {c['id']!r} (first used by contrasts[{seen[c['id']]}])"))
        seen.setdefault(c["id"], i)
        for path, message in kind.contrast_problems(c, fixture):
            out.append(problem(where + path, message))
        if c["seed"] is not None and c["seed"] == data["incident"]["seed"]:
            out.append(problem(where + ["seed"], f"{c['seed']} is the exercise's own seed: a contrast must differ"))
        if c["setup"] is not None:
            out.extend(_file_problem(exercise_dir, c["setup"], where + ["setup"], problem, "setup file"))
        for j, rel in enumerate(c["files"]):
            if PurePosixPath(rel.replace("\\", "/")).as_posix() not in sql_files:
                out.append(problem(where + ["files", j], f"{rel!r} is not one of the learner's SQL files "
                                                         f"(files with run: sql: {', '.join(sql_files) or 'none'})"))
        if c["planted"] and c["files"]:
            out.append(problem(where + ["planted"], "planted rows are judged by the checks of the end state, which "
                                                    "do not run on a contrast that runs only some files (files:)"))
        if c["variant"] is None and c["seed"] is None and c["setup"] is None and not c["files"]:
            out.append(problem(where, "a contrast must differ from the graded starting state: give variant, seed, "
                                      "setup or files"))
    for i, c in enumerate(data["checks"]):
        if "contrast" not in _written(lines, "checks", i):
            continue
        definition = known_checks.get(c["check"]) if known_checks is not None else None
        if definition is not None and not getattr(definition, "contrasted", False):
            out.append(problem(["checks", i, "contrast"], f"check {c['check']!r} is not graded on contrasts, so "
                                                          "contrast has no effect here"))
        elif not c["contrast"] and data["contrasts"] and c["points"] > 0:
            out.append(problem(["checks", i, "contrast"],
                               "a named query graded on the graded database only can be answered with a constant: "
                               "give this check points: 0 (a fact that cannot differ between databases is shown, "
                               "not scored as a skill) or let it be graded on the contrasts"))
    return out


def _written(lines: Mapping[JsonPath, int], *keys) -> set:
    """The keys written in the file under ``keys`` (defaults have no line, so they are not)."""
    n = len(keys)
    return {p[n] for p in lines if len(p) == n + 1 and p[:n] == keys}


def _file_problem(base: Path, rel: str, where: list, problem, what: str) -> list[SpecProblem]:
    target = _inside(base, rel)
    if target is None:
        return [problem(where, f"{what} {rel!r} must be a path inside the exercise folder, without '..'")]
    if target.is_dir():
        return [problem(where, f"{what} {rel!r} is a folder, not a file")]
    if not target.is_file():
        return [problem(where, f"{what} {rel!r} does not exist (looked for {target})")]
    return []


def _check_problems(i: int, c: dict, lines: Mapping, known_checks, problem) -> list[SpecProblem]:
    name = c["check"]
    if name not in known_checks:
        return [problem(["checks", i, "check"], f"unknown check {name!r}{_closest(name, known_checks)}")]
    params: dict[str, inspect.Parameter] = dict(known_checks[name].parameters)
    args: dict = c["with"]
    out = []
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    named = {
        n: p for n, p in params.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    where_with = ["checks", i, "with"] if "with" in _written(lines, "checks", i) else ["checks", i]
    for n, p in named.items():
        if p.default is inspect.Parameter.empty and n not in args:
            out.append(problem(where_with, f"check {name!r} needs argument {n!r} (arguments: {_arg_list(named)})"))
    if not accepts_any:
        for key in args:
            if key not in named:
                out.append(problem(
                    ["checks", i, "with", key],
                    f"check {name!r} takes no argument {key!r}{_closest(key, named)}; arguments: {_arg_list(named)}",
                ))
    # Each value against the parameter's annotation (checks/arguments.py): a wrong type or an
    # unknown choice is the spec's fault, found here rather than as a TypeError while grading.
    func = getattr(known_checks[name], "func", None)
    if func is not None:
        for where, message in argument_problems(func, {k: v for k, v in args.items() if k in named}):
            out.append(problem(["checks", i, "with", *where], f"check {name!r}: {message}"))
    # A check whose arguments nest further (a list of checks to run) vets them itself.
    vet = getattr(getattr(known_checks[name], "func", None), "argument_problems", None)
    if vet is not None and not out:
        for where, message in vet(args):
            out.append(problem(["checks", i, "with", *where], message))
    return out


def _arg_list(named: Mapping[str, inspect.Parameter]) -> str:
    if not named:
        return "none"
    return ", ".join(n if p.default is inspect.Parameter.empty else f"{n}={p.default!r}" for n, p in named.items())


def _build(data: dict, path: Path, lines: Mapping) -> ExerciseSpec:
    base = path.parent
    inc = data["incident"]
    incident = IncidentSpec(
        fixture=inc["fixture"],
        scale=inc["scale"],
        seed=inc["seed"],
        setup=base / inc["setup"] if inc["setup"] is not None else None,
        activity=tuple(inc["activity"]),
    )
    files = tuple(
        FileSpec(
            path=PurePosixPath(f["path"].replace("\\", "/")).as_posix(),
            run=f["run"],
            required=f["required"],
            starter=base / f["starter"] if f["starter"] is not None else None,
        )
        for f in data["files"]
    )
    checks = tuple(
        CheckSpec(
            id=c["id"],
            check=c["check"],
            description=c["description"],
            readme=c.get("readme", ""),
            args=MappingProxyType(dict(c["with"])),
            points=c["points"],
            feedback=c["feedback"],
            hint=c["hint"],
            visibility=c["visibility"],
            line=line_of(lines, ["checks", i]),
            requires_any=tuple(c["requires"].get("any", ())),
            requires_all=tuple(c["requires"].get("all", ())),
            contrast=c["contrast"],
        )
        for i, c in enumerate(data["checks"])
    )
    contrasts = tuple(
        ContrastSpec(
            id=c["id"],
            variant=c["variant"],
            seed=c["seed"],
            setup=base / c["setup"] if c["setup"] is not None else None,
            files=tuple(PurePosixPath(f.replace("\\", "/")).as_posix() for f in c["files"]),
            replay=c["replay"],
            feedback=c["feedback"],
            planted=tuple(PlantedRows(fault=p["fault"], table=p["table"], query=p["query"]) for p in c["planted"]),
            line=line_of(lines, ["contrasts", i]),
        )
        for i, c in enumerate(data["contrasts"])
    )
    order = data["order"]
    return ExerciseSpec(
        id=data["id"],
        title=data["title"],
        summary=data["summary"],
        order=int(order) if order is not None else None,
        incident=incident,
        files=files,
        timeouts=TimeoutSpec(statement=data["timeouts"]["statement"], file=data["timeouts"]["file"]),
        checks=checks,
        path=path,
        contrasts=contrasts,
        self_check=MappingProxyType(dict(data["self_check"])) if data["self_check"] is not None else None,
    )


def load_all_specs(root: Path, known_checks: Mapping[str, "CheckDef"] | None = None) -> list[ExerciseSpec]:
    """Every ``<root>/exercises/*/exercise.yaml``, sorted by (order, id).

    Problems in all files are collected and raised together as one ``SpecError``.
    """
    problems: list[SpecProblem] = []
    specs: list[ExerciseSpec] = []
    for spec_path in sorted(Path(root, "exercises").glob(f"*/{SPEC_FILENAME}")):
        try:
            specs.append(load_spec(spec_path, known_checks))
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems)
    return sorted(specs, key=lambda s: s.sort_key)
