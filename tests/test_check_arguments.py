"""Typed check arguments: every parameter has a type, and a spec's ``with:`` value that does not
fit it is a spec error with file, line and key when the spec loads — not a TypeError while grading."""

from __future__ import annotations

import datetime
import inspect
import math
import textwrap
from pathlib import Path

import pytest

from pgdrill import checks
from pgdrill.checks.arguments import argument_problems, describe, parameter_types, shared_of, value_problems
from pgdrill.spec import SpecError, load_all_specs, load_spec

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = checks.load_all()


def test_every_check_parameter_has_a_type_its_default_fits():
    for name, definition in REGISTRY.items():
        types = parameter_types(definition.func)
        for param, p in definition.parameters.items():
            assert p.annotation is not inspect.Parameter.empty, f"{name}({param}) has no annotation"
            if p.default is not inspect.Parameter.empty:
                default = list(p.default) if isinstance(p.default, tuple) else p.default
                assert value_problems(default, types[param]) == [], f"{name}({param}={p.default!r})"


def test_every_shipped_exercise_loads_with_the_typed_catalogue():
    specs = load_all_specs(ROOT, REGISTRY)
    assert len(specs) >= 20


# --------------------------------------------------------------------------------------------
# Bad specs, one kind each: the problem names the line of the offending value and its key


def _spec(tmp_path: Path, checks_yaml: str) -> Path:
    folder = tmp_path / "typed"
    folder.mkdir()
    path = folder / "exercise.yaml"
    path.write_text(textwrap.dedent("""\
        id: typed
        title: Typed arguments
        incident: {fixture: empty}
        files:
          - path: solution.sql
        checks:
        """) + textwrap.indent(textwrap.dedent(checks_yaml), "  "), encoding="utf-8")
    return path


def _problems(path: Path) -> list[tuple[int, str, str]]:
    with pytest.raises(SpecError) as info:
        load_spec(path, REGISTRY)
    return [(p.line, p.key, p.message) for p in info.value.problems]


CASES = {
    "wrong type": ("""\
        - id: fast
          check: speedup_over_baseline
          description: d
          with:
            query: SELECT 1
            factor: fast
        """, 12, "checks[0].with.factor", "expected number, got string 'fast'"),
    "bool is not a number": ("""\
        - id: fast
          check: median_time_under
          description: d
          with: {query: SELECT 1, runs: true}
        """, 10, "checks[0].with.runs", "expected integer, got boolean True"),
    "unknown choice": ("""\
        - id: rows
          check: rows_match
          description: d
          with:
            query: q
            reference: SELECT 1
            mode: sett
        """, 13, "checks[0].with.mode", "'sett' is not allowed (did you mean 'set'?); choose one of: bag, set"),
    "unknown choice in a list": ("""\
        - id: backup
          check: backup_restores
          description: d
          with:
            failures:
              - dump-fails
              - disk-full
        """, 13, "checks[0].with.failures[1]", "'disk-full' is not allowed; choose one of: dump-fails, server-down"),
    "wrong item type": ("""\
        - id: fresh
          check: statistics_fresh
          description: d
          with:
            tables: [orders, 3]
        """, 11, "checks[0].with.tables[1]", "expected string, got number 3"),
    "unquoted SQLSTATE": ("""\
        - id: refused
          check: statement_fails
          description: d
          with:
            sql: INSERT INTO t VALUES (1)
            sqlstate: 23505
        """, 12, "checks[0].with.sqlstate", 'write it in quotes: "23505"'),
    "a number where a probe timeout (a duration) belongs": ("""\
        - id: works
          check: statement_succeeds
          description: d
          with: {sql: SELECT 1, timeout: 5}
        """, 10, "checks[0].with.timeout", "expected string, got number 5"),
    "missing required argument": ("""\
        - id: rows
          check: rows_match
          description: d
          with:
            query: q
        """, 10, "checks[0].with", "check 'rows_match' needs argument 'reference'"),
    "unknown argument": ("""\
        - id: rows
          check: rows_match
          description: d
          with:
            query: q
            reference: SELECT 1
            orderd: true
        """, 13, "checks[0].with.orderd", "takes no argument 'orderd' (did you mean 'ordered'?)"),
    "nested check of integrity_checks_pass": ("""\
        - id: all
          check: integrity_checks_pass
          description: d
          with:
            checks:
              - check: no_negative_values
                with: {table: products, column: price, allow_zero: "no"}
        """, 13, "checks[0].with.checks[0].with.allow_zero", "expected boolean, got string 'no'"),
}


@pytest.mark.parametrize("case", list(CASES), ids=lambda c: c.replace(" ", "-"))
def test_a_bad_argument_is_a_spec_error_at_its_line(tmp_path, case):
    body, line, key, message = CASES[case]
    problems = _problems(_spec(tmp_path, body))
    assert any(p[0] == line and p[1] == key and message in p[2] for p in problems), problems


def test_all_argument_problems_of_a_spec_are_reported_together(tmp_path):
    path = _spec(tmp_path, """\
        - id: one
          check: rows_match
          description: d
          with: {query: q, reference: SELECT 1, against: basline}
        - id: two
          check: dead_tuples_below
          description: d
          with: {tables: orders, ratio: "10%", source: statz}
        """)
    keys = {(line, key) for line, key, _ in _problems(path)}
    assert keys == {(10, "checks[0].with.against"), (14, "checks[1].with.ratio"), (14, "checks[1].with.source")}


def test_values_written_differently_but_fitting_pass(tmp_path):
    path = _spec(tmp_path, """\
        - id: a
          check: speedup_over_baseline
          description: d
          with: {query: SELECT 1, factor: 3, params: [1, "x", null, 2.5]}
        - id: b
          check: dead_tuples_below
          description: d
          with: {tables: orders, ratio: 0}
        - id: c
          check: statistics_fresh
          description: d
          with: {tables: [orders], since: 2024-05-01 10:00:00, max_mod_ratio: null}
        - id: d
          check: rows_preserved
          description: d
          with: {table: orders, key: null}
        """)
    spec = load_spec(path, REGISTRY)
    assert spec.get_check("c").args["since"] == datetime.datetime(2024, 5, 1, 10, 0)


# --------------------------------------------------------------------------------------------
# The type rules themselves


@pytest.mark.parametrize("value, tp, fits", [
    (2, float, True), (2.5, float, True), (True, float, False), (math.nan, float, False), (math.inf, float, False),
    (3, int, True), (3.0, int, False), (False, int, False),
    ("x", str, True), (1, str, False), (None, str, False), (None, str | None, True),
    (["a"], list[str], True), ("a", list[str], False), ([1], list[str], False), ([], list[str], True),
    ({"a": 1}, dict[str, float], True), ({"a": "SELECT 1"}, dict[str, float | str], True),
    ({"a": [1]}, dict[str, float | str], False),
])
def test_value_fits_type(value, tp, fits):
    assert (value_problems(value, tp) == []) is fits


def test_literal_choices_compare_type_and_value():
    from typing import Literal

    assert value_problems(1, Literal[True]) != []
    assert value_problems(True, Literal[True]) == []
    assert value_problems("learner", Literal["learner"]) == []


def test_shared_definitions_carry_their_documentation():
    from pgdrill.checks.arguments import Params, Schema

    assert shared_of(Schema).name == "schema" and "public" in shared_of(Schema).doc
    assert shared_of(Params | None).name == "params"
    assert describe(Params) == "list of values or null"
    rows = parameter_types(REGISTRY["rows_match"].func)
    assert shared_of(rows["mode"]).name == "mode" and describe(rows["mode"]) == "'bag' or 'set'"


def test_argument_problems_ignore_arguments_the_check_does_not_take():
    func = REGISTRY["rows_match"].func
    assert argument_problems(func, {"nonsense": 1, "ordered": True}) == []
    assert argument_problems(func, {"ordered": "yes"}) == [(["ordered"], "expected boolean, got string 'yes'")]


# --------------------------------------------------------------------------------------------
# docgen: shared arguments documented once, types shown, examples held to the types


def _shared_check(ctx, *, tables, mode="bag", limit=3):
    """Tables match.

    What it asserts:
        Something about ``tables``.
    Arguments:
        limit: how many.
    Feedback on failure:
        What differs.
    Example:
        - check: shared_check
          with: {tables: [orders], limit: many}
    """


def test_docgen_renders_shared_arguments_and_types():
    from pgdrill.checks.arguments import RowsMode, Tables
    from pgdrill.checks.base import CheckDef
    from pgdrill import docgen

    _shared_check.__annotations__.update(tables=Tables, mode=RowsMode, limit=int)
    parameter_types.cache_clear()
    definition = CheckDef(name="shared_check", family="synthetic", func=_shared_check)
    problems = docgen.docstring_problems(definition)
    # Undocumented shared arguments are fine; the example's wrong type is not.
    assert problems == ["shared_check: Example: limit: expected integer, got string 'many'"]
    section = "\n".join(docgen._check_section(definition))
    assert f"| `tables` | string or list of strings | *required* | {shared_of(Tables).doc} |" in section
    assert "| `mode` | `bag` or `set` | `'bag'` |" in section
    assert "| `limit` | integer | `3` | how many. |" in section
    text = docgen.checks_markdown(REGISTRY)
    assert "## Shared arguments" in text and "| `mode` | `bag` or `set` |" in text


def test_only_the_arguments_annotations_are_evaluated():
    # A family may import its context type for type checkers only.
    def check_like(ctx: "OnlyForTypeCheckers", *, a: "int", b: "list[str] | None" = None) -> "AlsoUnknown":  # noqa: F821
        """Stand-in."""

    assert dict(parameter_types(check_like)) == {"a": int, "b": list[str] | None}
