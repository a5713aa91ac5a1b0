"""Generated reference docs are up to date, and every check's docstring has its sections."""

from __future__ import annotations

import sys
import types

import pytest
import yaml

from pgdrill import checks
from pgdrill.checks.base import CheckDef
from pgdrill import docgen
from pgdrill.spec import load_spec

STALE_HINT = "run: python -m pgdrill.docgen"


# --------------------------------------------------------------------------------------------
# The generated files


def test_exercise_format_doc_is_up_to_date():
    path = docgen.EXERCISE_FORMAT_PATH
    assert path.exists(), f"{path} is missing; {STALE_HINT}"
    assert path.read_text(encoding="utf-8") == docgen.exercise_format_markdown(), f"{path} is stale; {STALE_HINT}"


def test_checks_doc_is_up_to_date_for_the_registry():
    registry = checks.load_all()
    path = docgen.CHECKS_PATH
    expected = docgen.checks_markdown(registry)
    if not registry and not path.exists():
        return  # no checks yet, nothing to document: the file appears with the first check
    assert path.exists(), f"{path} is missing; {STALE_HINT}"
    assert path.read_text(encoding="utf-8") == expected, f"{path} is stale; {STALE_HINT}"


def test_every_registered_check_has_a_complete_docstring():
    problems = [p for c in checks.load_all().values() for p in docgen.docstring_problems(c)]
    assert problems == []


def test_staleness_is_detected(tmp_path, monkeypatch):
    monkeypatch.setattr(docgen, "ROOT", tmp_path)  # no exercises/: no README to generate
    monkeypatch.setattr(docgen, "EXERCISE_FORMAT_PATH", tmp_path / "exercise-format.md")
    monkeypatch.setattr(docgen, "CHECKS_PATH", tmp_path / "checks.md")
    registry = {"index_exists": GOOD}
    assert docgen.stale_files(registry) == [tmp_path / "exercise-format.md", tmp_path / "checks.md"]
    for path, content in docgen.generated_files(registry).items():
        path.write_text(content)
    assert docgen.stale_files(registry) == []
    (tmp_path / "exercise-format.md").write_text(docgen.exercise_format_markdown() + "edited by hand\n")
    assert docgen.stale_files(registry) == [tmp_path / "exercise-format.md"]
    # An empty registry expects no checks.md, but a checks.md that exists must match.
    (tmp_path / "checks.md").unlink()
    assert docgen.stale_files({}) == [tmp_path / "exercise-format.md"]


def test_command_line_writes_and_checks(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(docgen, "ROOT", tmp_path)
    monkeypatch.setattr(docgen, "EXERCISE_FORMAT_PATH", tmp_path / "docs" / "exercise-format.md")
    monkeypatch.setattr(docgen, "CHECKS_PATH", tmp_path / "docs" / "checks.md")
    monkeypatch.setattr(checks, "load_all", lambda: {"index_exists": GOOD})
    assert docgen.main(["--check"]) == docgen.EXIT_STALE
    assert "docs/checks.md is missing" in capsys.readouterr().err
    assert docgen.main([]) == docgen.EXIT_OK
    assert (tmp_path / "docs" / "checks.md").read_text() == docgen.checks_markdown({"index_exists": GOOD})
    assert docgen.main(["--check"]) == docgen.EXIT_OK
    with pytest.raises(SystemExit) as info:
        docgen.main(["--help"])
    assert info.value.code == 0 and "--check" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# The points tables of the exercise READMEs


def test_readme_points_tables_are_generated_from_the_specs(tmp_path, monkeypatch, capsys):
    import shutil

    registry = checks.load_all()
    exercise = "course-01-create-tables"
    folder = tmp_path / "exercises" / exercise
    shutil.copytree(docgen.ROOT / "exercises" / exercise, folder)
    monkeypatch.setattr(docgen, "ROOT", tmp_path)
    monkeypatch.setattr(docgen, "EXERCISE_FORMAT_PATH", tmp_path / "docs" / "exercise-format.md")
    monkeypatch.setattr(docgen, "CHECKS_PATH", tmp_path / "docs" / "checks.md")
    assert docgen.main([]) == docgen.EXIT_OK
    assert docgen.stale_files(registry) == []
    readme = folder / "README.md"
    spec = load_spec(folder / "exercise.yaml", registry)
    table = docgen.points_table(spec)
    assert table in readme.read_text()
    # every check, its label (readme: or description) and points; shared labels share a row
    for check in spec.checks:
        assert f"`{check.id}`" in table and docgen._cell(check.readme or check.description) in table
    assert "| `order-items-order-fk` / `order-items-product-fk` | `order_items` → `orders`, → `products` | 1 + 1 |" in table
    assert f"| **total** | | **{spec.max_points:g}** |" in table
    # A table edited by hand, or points changed in the spec, make the README stale.
    readme.write_text(readme.read_text().replace("| 2 |", "| 3 |", 1))
    assert docgen.stale_files(registry) == [readme]
    assert docgen.main(["--check"]) == docgen.EXIT_STALE
    assert f"exercises/{exercise}/README.md is stale" in capsys.readouterr().err
    docgen.main([])
    spec_text = (folder / "exercise.yaml").read_text()
    (folder / "exercise.yaml").write_text(spec_text.replace("points: 2", "points: 4", 1))
    assert docgen.stale_files(registry) == [readme]
    docgen.main([])
    total = load_spec(folder / "exercise.yaml", registry).max_points
    assert total == spec.max_points + 2
    # the total of the starter's baseline sentence follows the spec too
    assert f"The untouched starter scores 0 of {total:g}" in readme.read_text()
    assert f"| **total** | | **{total:g}** |" in readme.read_text()


def test_a_readme_without_a_points_table_is_reported(tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "exercises" / "course-02-querying"
    shutil.copytree(docgen.ROOT / "exercises" / "course-02-querying", folder)
    (folder / "README.md").write_text("# A README without points\n")
    monkeypatch.setattr(docgen, "ROOT", tmp_path)
    with pytest.raises(docgen.ReadmeError, match="exercises/course-02-querying/README.md: no points table"):
        docgen.readme_files(checks.load_all())


# --------------------------------------------------------------------------------------------
# The exercise format


def test_exercise_format_documents_every_key():
    text = docgen.exercise_format_markdown()
    schema = docgen.load_schema()
    for section in [schema, *schema["$defs"].values()]:
        for key, sub in section["properties"].items():
            assert f"| `{key}` |" in text, key
            assert " ".join(sub["description"].split()) in text, key
            for value in sub.get("enum", []) + sub.get("items", {}).get("enum", []):
                assert f"`{value}`" in text


def test_every_schema_property_has_a_description():
    schema = docgen.load_schema()

    def walk(node, where):
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                assert sub.get("description"), f"{where}.{key} has no description"
            for key, sub in node.items():
                walk(sub, f"{where}.{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}[{i}]")

    walk(schema, "schema")


def test_the_documented_example_is_a_valid_spec(tmp_path):
    example = docgen.example_spec()
    folder = tmp_path / example["id"]
    folder.mkdir()
    (folder / "exercise.yaml").write_text(yaml.safe_dump(example, sort_keys=False))
    for rel in [example["incident"].get("setup")] + [f.get("starter") for f in example["files"]]:
        if rel:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text("-- placeholder\n")
    spec = load_spec(folder / "exercise.yaml")
    assert [c.id for c in spec.checks] == [c["id"] for c in example["checks"]]
    # Once the example's checks exist in the catalogue, its arguments must fit them too.
    registry = checks.load_all()
    if all(c["check"] in registry for c in example["checks"]):
        load_spec(folder / "exercise.yaml", registry)


def test_example_in_the_doc_is_the_schema_example():
    text = docgen.exercise_format_markdown()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert yaml.safe_load(block) == docgen.example_spec()


# --------------------------------------------------------------------------------------------
# Check docstrings: synthetic checks, so these run whatever the registry holds


def index_exists(ctx, table, columns=(), method="btree"):
    """An index exists on a table, optionally on given columns and of a given method.

    What it asserts:
        Some index on ``table`` covers ``columns`` (in order, as its leading columns) and,
        when ``method`` is given, uses that access method.
    Arguments:
        table: the table, optionally schema-qualified.
        columns: the leading columns the index must have; empty means any index.
        method (str): btree, hash, gin, gist, brin or spgist.
            Continued on a second line.
    Feedback on failure:
        Lists the indexes the table has, with their columns and methods.
    Example:
        - check: index_exists
          with: {table: products, columns: [name], method: gin}
    """


def no_arguments(ctx):
    """The server is reachable.

    What it asserts:
        A grader connection can run SELECT 1.
    Arguments:
        None.
    Feedback on failure:
        The connection error.
    Example:
        - check: no_arguments
    """


def sloppy(ctx, table, limit=10):
    """Does something.

    Arguments:
        table: the table.
        tabel: a typo.
    What it asserts:

    Example:
        - check: other_name
          with: {tabel: x}
    """


def undocumented(ctx):
    pass


def broken_example(ctx, table):
    """Summary.

    What it asserts:
        x
    Arguments:
        table: t
    Feedback on failure:
        y
    Example:
        - check: broken_example
          with: {table: [unclosed
    """


_family = types.ModuleType("checks.synthetic_family")
_family.__doc__ = """Synthetic checks used by the docgen tests.

Their family introduction is this module docstring.
"""
for _f in (index_exists, no_arguments):
    _f.__module__ = _family.__name__
    setattr(_family, _f.__name__, _f)
sys.modules.setdefault(_family.__name__, _family)

GOOD = CheckDef(name="index_exists", family="synthetic_family", func=index_exists)
NO_ARGS = CheckDef(name="no_arguments", family="synthetic_family", func=no_arguments)


def test_a_complete_docstring_has_no_problems():
    assert docgen.docstring_problems(GOOD) == []
    assert docgen.docstring_problems(NO_ARGS) == []


def test_docstring_problems_are_specific():
    problems = docgen.docstring_problems(CheckDef(name="sloppy", family="x", func=sloppy))
    text = "\n".join(problems)
    assert "missing section 'Feedback on failure'" in text
    assert "section 'What it asserts' is empty" in text
    assert "sections out of order" in text
    assert "argument 'limit' is not documented" in text
    assert "documents 'tabel', which is not a parameter" in text
    assert "names check 'other_name'" in text
    assert docgen.docstring_problems(CheckDef(name="undocumented", family="x", func=undocumented)) == [
        "undocumented: has no docstring"
    ]
    (problem,) = docgen.docstring_problems(CheckDef(name="broken_example", family="x", func=broken_example))
    assert "Example: not valid YAML" in problem


def test_docstring_sections_are_parsed():
    doc = docgen.parse_docstring(GOOD.doc)
    assert doc.summary.startswith("An index exists on a table")
    assert doc.order == docgen.SECTIONS
    assert docgen.documented_arguments(doc.sections["Arguments"]) == {
        "table": "the table, optionally schema-qualified.",
        "columns": "the leading columns the index must have; empty means any index.",
        "method": "btree, hash, gin, gist, brin or spgist. Continued on a second line.",
    }


def test_checks_markdown_from_a_synthetic_registry():
    text = docgen.checks_markdown({"no_arguments": NO_ARGS, "index_exists": GOOD})
    assert "## synthetic_family" in text
    assert "Their family introduction is this module docstring." in text
    assert "### `index_exists`" in text and "### `no_arguments`" in text
    assert text.index("### `index_exists`") < text.index("### `no_arguments`")
    assert "index_exists(table, columns=(), method='btree')" in text
    assert "| `table` | any value | *required* | the table, optionally schema-qualified. |" in text
    assert "| `method` | any value | `'btree'` |" in text
    for section in docgen.SECTIONS:
        assert f"**{section}**" in text
    assert "with: {table: products, columns: [name], method: gin}" in text


def test_checks_markdown_for_an_empty_registry():
    assert "No checks are registered yet" in docgen.checks_markdown({})

