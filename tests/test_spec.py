"""Exercise specs: valid files load with defaults, invalid ones name file, line and key."""

from __future__ import annotations

import dataclasses
import atexit
import re
import shutil
import string
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgdrill.checks.base import CheckDef
from pgdrill import spec as spec_mod
from pgdrill.spec import (
    CheckSpec,
    ExerciseSpec,
    FileSpec,
    IncidentSpec,
    SpecError,
    SpecProblem,
    TimeoutSpec,
    load_all_specs,
    load_spec,
)

DATA = Path(__file__).parent / "data" / "specs"
VALID = sorted(DATA.glob("valid/*/exercise.yaml"))
INVALID = sorted(DATA.glob("invalid/*/exercise.yaml"))


# A small stand-in catalogue, so these tests do not depend on which checks exist yet.
def index_exists(ctx, table, columns=(), method="btree"):
    """Stand-in."""


def rows_match(ctx, query, ordered=False):
    """Stand-in."""


def anything_goes(ctx, **options):
    """Stand-in."""


KNOWN = {
    f.__name__: CheckDef(name=f.__name__, family="test", func=f)
    for f in (index_exists, rows_match, anything_goes)
}


def _expectation(path: Path) -> tuple[int, str, str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    m = re.match(r"# expect: (\d+): (\S+): (.+)$", first)
    assert m, f"{path}: first line must be '# expect: <line>: <key>: <message part>'"
    return int(m.group(1)), m.group(2), m.group(3)


def test_there_are_cases():
    assert len(VALID) >= 3 and len(INVALID) >= 20


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.parent.name)
@pytest.mark.parametrize("known", [None, KNOWN], ids=["no-catalogue", "catalogue"])
def test_valid_spec_loads(path, known):
    spec = load_spec(path, known)
    assert isinstance(spec, ExerciseSpec)
    assert spec.id == path.parent.name
    assert spec.path == path and spec.dir == path.parent
    assert spec.checks and all(isinstance(c, CheckSpec) for c in spec.checks)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.parent.name)
def test_invalid_spec_names_file_line_and_key(path):
    line, key, message = _expectation(path)
    with pytest.raises(SpecError) as info:
        load_spec(path, KNOWN)
    err = info.value
    assert (err.file, err.line, err.key) == (str(path), line, key), str(err)
    assert message in err.message, str(err)
    assert str(err).splitlines()[0] == f"{path}:{line}: {key}: {err.message}"


def test_minimal_spec_gets_the_schema_defaults():
    spec = load_spec(DATA / "valid/minimal/exercise.yaml")
    assert spec.summary == "" and spec.order is None
    assert spec.incident == IncidentSpec(fixture="techshop", scale=1, seed="learner", setup=None, activity=())
    assert spec.files == ()
    assert spec.timeouts == TimeoutSpec(statement=10, file=120)
    (check,) = spec.checks
    assert (check.points, check.feedback, check.hint, check.visibility) == (1, "", "", "visible")
    assert dict(check.args) == {"table": "products"}
    assert check.line == 5


def test_dataclass_defaults_agree_with_the_schema():
    """The schema holds the defaults; the records' own defaults must not drift from it."""
    spec = load_spec(DATA / "valid/minimal/exercise.yaml")
    assert spec.incident == IncidentSpec()
    assert spec.timeouts == TimeoutSpec()
    assert spec.summary == ExerciseSpec.__dataclass_fields__["summary"].default
    assert spec.order == ExerciseSpec.__dataclass_fields__["order"].default
    check = spec.checks[0]
    bare = CheckSpec(id=check.id, check=check.check, description=check.description, args=check.args, line=check.line)
    assert check == bare
    schema = spec_mod.load_schema()
    file_props = schema["$defs"]["file"]["properties"]
    assert FileSpec(path="x").run == file_props["run"]["default"]
    assert FileSpec(path="x").required == file_props["required"]["default"]


def test_full_spec_keeps_every_value():
    path = DATA / "valid/full/exercise.yaml"
    spec = load_spec(path, KNOWN)
    assert (spec.title, spec.summary, spec.order) == ("Speed up the product search", "The search box times out.", 3)
    assert spec.incident == IncidentSpec(
        fixture="techshop", scale=0.5, seed="grading", setup=path.parent / "setup.sql",
        activity=("long_running_query", "idle_in_transaction"),
    )
    assert spec.files == (
        FileSpec(path="solution.sql", run="sql", required=True, starter=path.parent / "starter/solution.sql"),
        FileSpec(path="notes/diagnosis.md", run="none", required=False, starter=None),
    )
    assert spec.timeouts == TimeoutSpec(statement=5, file=60.5)
    assert [c.id for c in spec.checks] == ["trigram-index", "same-results", "later"]
    assert [c.visibility for c in spec.checks] == ["visible", "hidden", "after_due_date"]
    assert dict(spec.checks[0].args) == {"table": "products", "columns": ["name"], "method": "gin"}
    assert [c.line for c in spec.checks] == [24, 35, 41]
    assert spec.max_points == 3.5
    assert spec.get_check("later").points == 1.5
    later = spec.get_check("later")
    assert (later.requires_any, later.requires_all) == (("trigram-index", "same-results"), ("trigram-index",))
    assert spec.get_check("trigram-index").requires_any == spec.get_check("trigram-index").requires_all == ()


def test_merge_keys_and_anchors():
    spec = load_spec(DATA / "valid/sample-db/exercise.yaml", KNOWN)
    first, second = spec.checks
    assert spec.incident.fixture == "sample:pagila" and spec.incident.seed == 7
    assert (first.points, second.points) == (2, 2)
    assert dict(second.args) == {"query": "top_customers", "ordered": True}
    assert second.description == "Top customers in order."


def test_records_are_frozen():
    spec = load_spec(DATA / "valid/minimal/exercise.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.checks[0].args["table"] = "x"  # type: ignore[index]
    hash(spec)


def test_schema_errors_are_all_reported_in_line_order(tmp_path):
    d = tmp_path / "many"
    d.mkdir()
    (d / "exercise.yaml").write_text(
        "id: many\n"
        "title: Many problems\n"
        "incident: {fixture: nope}\n"
        "checks:\n"
        "  - id: a\n"
        "    check: x\n"
        "    description: d\n"
        "    points: -2\n"
        "    colour: red\n"
    )
    with pytest.raises(SpecError) as info:
        load_spec(d / "exercise.yaml")
    assert [(p.line, p.key) for p in info.value.problems] == [
        (3, "incident.fixture"), (8, "checks[0].points"), (9, "checks[0].colour"),
    ]
    assert len(str(info.value).splitlines()) == 3


def test_alias_bombs_and_recursive_aliases_are_spec_errors(tmp_path):
    bomb = tmp_path / "bomb"
    bomb.mkdir()
    lines = ["id: bomb", "title: t", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    (bomb / "exercise.yaml").write_text("\n".join(lines + ["checks: *a8"]) + "\n")
    with pytest.raises(SpecError) as info:
        load_spec(bomb / "exercise.yaml")
    assert "expands to more than" in info.value.message

    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "exercise.yaml").write_text(
        "id: loop\ntitle: t\nchecks: &c\n  - {id: a, check: x, description: d, with: {self: *c}}\n  - *c\n"
    )
    with pytest.raises(SpecError):
        load_spec(loop / "exercise.yaml")


def test_missing_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "nope" / "exercise.yaml")
    assert info.value.line == 1 and "not found" in info.value.message


def test_spec_error_needs_a_problem():
    with pytest.raises(ValueError):
        SpecError([])
    assert str(SpecProblem("f.yaml", 3, "a.b", "bad")) == "f.yaml:3: a.b: bad"


def test_key_path_and_line_of():
    assert spec_mod.key_path(["checks", 2, "with", "table"]) == "checks[2].with.table"
    assert spec_mod.key_path([]) == "(root)"
    lines = {(): 1, ("checks",): 4, ("checks", 0): 5}
    assert spec_mod.line_of(lines, ["checks", 0, "with", "table"]) == 5
    assert spec_mod.line_of(lines, ["nothing"]) == 1


def _course(root: Path, specs: dict[str, str]) -> Path:
    for name, text in specs.items():
        (root / "exercises" / name).mkdir(parents=True)
        (root / "exercises" / name / "exercise.yaml").write_text(text)
    return root


def _text(ident: str, order: int | None = None) -> str:
    order_line = f"order: {order}\n" if order is not None else ""
    return (f"id: {ident}\ntitle: T\n{order_line}checks:\n"
            "  - {id: a, check: index_exists, with: {table: t}, description: d}\n")


def test_load_all_specs_sorts_by_order_then_id(tmp_path):
    root = _course(tmp_path, {
        "zeta": _text("zeta", 1), "alpha": _text("alpha", 2), "beta": _text("beta", 1),
        "no-order": _text("no-order"), "also-no-order": _text("also-no-order"),
    })
    (root / "exercises" / "not-an-exercise").mkdir()
    specs = load_all_specs(root, KNOWN)
    assert [s.id for s in specs] == ["beta", "zeta", "alpha", "also-no-order", "no-order"]


def test_load_all_specs_collects_every_error(tmp_path):
    root = _course(tmp_path, {
        "good": _text("good"),
        "bad-one": "id: bad-one\ntitle: [\n",
        "bad-two": _text("wrong-name"),
    })
    with pytest.raises(SpecError) as info:
        load_all_specs(root)
    files = {Path(p.file).parent.name for p in info.value.problems}
    assert files == {"bad-one", "bad-two"}


def test_load_all_specs_of_an_empty_course(tmp_path):
    assert load_all_specs(tmp_path) == []


# --------------------------------------------------------------------------------------------
# Nothing but SpecError, whatever the file holds

_SCRATCH = Path(tempfile.mkdtemp(prefix="pgdrill-spec-fuzz-"))
(_SCRATCH / "fuzz").mkdir()
(_SCRATCH / "fuzz" / "setup.sql").write_text("")
# Created at import (Hypothesis examples cannot share a function-scoped tmp_path); removed at
# interpreter exit so test runs leave nothing in /tmp.
atexit.register(shutil.rmtree, _SCRATCH, True)


def _load_text(text: str) -> None:
    path = _SCRATCH / "fuzz" / "exercise.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        spec = load_spec(path, KNOWN)
    except SpecError as err:
        for p in err.problems:
            assert p.file == str(path) and p.line >= 1 and p.key and p.message
    else:
        assert isinstance(spec, ExerciseSpec)


yaml_punctuation = st.sampled_from(list(":-[]{},&*!|>'\"%@`#?<=~\t\n ") + ["<<", "- ", ": ", "\n  ", "---", "..."])
vocabulary = st.sampled_from([
    "id", "title", "checks", "check", "with", "points", "incident", "fixture", "seed", "scale",
    "files", "path", "starter", "setup", "visibility", "hidden", "learner", "techshop", "fuzz",
    "index_exists", "table", "1", "-1", ".nan", "2024-13-45", "null", "true", "!!binary", "&a", "*a",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(yaml_punctuation, vocabulary, st.text(string.printable, max_size=5)), max_size=60).map("".join))
def test_yamlish_garbage_raises_only_spec_error(text):
    _load_text(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_raises_only_spec_error(text):
    _load_text(text)


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["fuzz", "techshop", "learner", "grading", "sql", "none", "hidden", "index_exists",
                     "setup.sql", "../x", "", "table"]),
)
_keys = st.sampled_from(["id", "title", "summary", "order", "incident", "fixture", "scale", "seed", "setup",
                         "activity", "files", "path", "run", "required", "starter", "timeouts", "statement",
                         "file", "checks", "check", "with", "points", "description", "visibility", "table", "x"])
_documents = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=6)), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries(
    {"id": st.sampled_from(["fuzz", "other"]), "title": st.sampled_from(["T", ""])},
    optional={"incident": _documents, "files": _documents, "checks": _documents, "timeouts": _documents},
))
def test_structured_documents_raise_only_spec_error(doc):
    _load_text(yaml.safe_dump(doc))


def teardown_module():
    shutil.rmtree(_SCRATCH, ignore_errors=True)
