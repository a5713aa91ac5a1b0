"""``python grade.py new-exercise ID``: a new exercise that validates from the first minute.

Writes, following the course conventions (docs/architecture.md):

* ``exercises/ID/exercise.yaml`` — a spec with one worked check of each kind an exercise
  usually needs (a named query compared with a reference query, a change to the database,
  nothing lost), to edit;
* ``exercises/ID/README.md`` — the learner's page: situation, task, files, checks, hints;
* ``exercises/ID/solution.sql`` — the starter the learner edits in place;
* ``exercises/ID/contrast_setup.sql`` — a contrast (``contrasts:``): one more table, so an
  answer typed in from the graded database fails while a query that computes it passes;
* ``solutions/ID/solution.sql`` — the reference solution, which scores full marks;
* ``solutions/ID/NOTES.md`` — why the reference solution is written that way.

The reference solution passes the scaffold's checks and the starter does not, so
``grade.py validate --solutions`` is green before the author changes anything, and stays a
safety net while they do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pgdrill.fixtures.kinds import DEFAULT_FIXTURE, fixture_names, kind_of

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class ScaffoldError(Exception):
    pass


@dataclass(frozen=True)
class Scaffold:
    id: str
    title: str
    fixture: str = DEFAULT_FIXTURE
    order: int | None = None


def _spec(s: Scaffold) -> str:
    incident = ["incident:", f"  fixture: {s.fixture}", *kind_of(s.fixture).scaffold_incident(s.fixture)]
    order = f"order: {s.order}\n" if s.order is not None else ""
    return f"""id: {s.id}
title: {_yaml_str(s.title)}
summary: One sentence for course listings — replace it.
{order}{chr(10).join(incident)}
files:
  - path: solution.sql
    run: sql
# Contrasts: the learner's files run again on each of these databases, and every named
# query must be right there too — an answer typed in as a constant, or a query that only fits
# the graded data, fails. A setup .sql perturbs a clone (boundary rows, other spellings, an
# extra match); `variant: elsewhere` (TechShop) moves the catalog faults; `seed:` picks other
# data; `files:` runs only some of the learner's files (a verification on the unfixed state).
contrasts:
  - id: one-more-table
    setup: contrast_setup.sql
    feedback: the same database with one more table
timeouts:
  statement: 10
  file: 120
# Every check below works as written; adapt them to the task. The catalogue of checks and
# their arguments is in docs/checks.md, the format in docs/exercise-format.md.
checks:
  - id: answer-query
    readme: "`answer` returns the number of tables in `public`"
    check: rows_match
    with:
      query: answer
      # The expected rows come from this reference query, run by the grader at grading
      # time — never write expected values into a spec. `against: baseline` runs it on an
      # untouched clone: the learner's later statements (CREATE TABLE drill_log) change the
      # answer on their own database.
      against: baseline
      reference: |
        SELECT count(*) AS tables
        FROM pg_catalog.pg_tables
        WHERE schemaname = 'public'
    points: 2
    description: The query named answer counts the tables in schema public.
    feedback: >
      Explain why the answer matters here: what the learner should understand when this
      check fails.
    hint: pg_catalog.pg_tables lists every table with its schema.
  - id: table-created
    readme: "table `drill_log` exists"
    check: statement_succeeds
    with:
      sql: "SELECT 1 FROM public.drill_log LIMIT 1"
    points: 1
    description: A table public.drill_log exists and the grader can read it.
  - id: minutes-positive
    readme: "`drill_log` refuses 0 or fewer minutes, accepts any positive number"
    # A property probe: one refused value proves no rule (CHECK (minutes <> 0) refuses 0 and
    # lets -5 in). The grader writes many values, each rolled back — both sides of each
    # boundary, the type's extremes, generated ones — and checks the rows already there.
    # For a DEFAULT, defaults_follow_rule probes a new row in contexts far apart.
    check: column_rule_enforced
    with:
      table: drill_log
      column: minutes
      rule: value > 0
      boundaries: [0]
      probe_sql: "INSERT INTO drill_log (note, minutes) VALUES ('probe', {{value}})"
    points: 1
    description: drill_log refuses a duration of 0 minutes or less and accepts any positive one.
  - id: nothing-dropped
    readme: "the database still answers"
    check: statement_succeeds
    with:
      sql: "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'"
      min_rows: 1
    points: 1
    description: The database still answers questions about its tables.
"""


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _readme(s: Scaffold) -> str:
    return f"""# {s.title}

Describe the situation in a paragraph: what is broken at TechShop, who noticed, why it matters.

## Your task (edit `solution.sql` in this folder)
1. Write a query named `answer` (put `-- name: answer` on the line before it) that returns
   how many tables schema `public` has, in a column named `tables`.
2. Create a table `drill_log` for your notes: a `note`, and the `minutes` you spent, which is
   never 0 or less.

Grade yourself: `python grade.py -e {s.id}`. Your file also runs on a second database with
one more table, where the answer must be right too: compute it, do not type it in.

## Points
| check | points |
|---|---|
| `answer` returns the number of tables in `public` | 2 |
| table `drill_log` exists | 1 |
| `drill_log` refuses 0 or fewer minutes, accepts any positive number | 1 |
| the database still answers | 1 |
| **total** | **5** |

The untouched starter scores 1 of 5: nothing is broken yet.

## Hints
- `pg_catalog.pg_tables` lists every table with its schema.
"""


CONTRAST_SETUP = """-- Contrast one-more-table (grader-side; the student template never holds it): one more
-- table, so the right answer here differs from the graded database's.
CREATE TABLE public.contrast_extra (id integer);
"""

STARTER = """-- Write your SQL below. Name the query the grader compares like this:
--
-- -- name: answer
-- SELECT …;
"""

REFERENCE = """-- Reference solution: scores full marks (python grade.py validate --solutions).

-- name: answer
SELECT count(*) AS tables
FROM pg_catalog.pg_tables
WHERE schemaname = 'public';

CREATE TABLE drill_log (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    note    text NOT NULL,
    minutes integer NOT NULL CHECK (minutes > 0)
);
"""


def _notes(s: Scaffold) -> str:
    return f"""# Why the reference solution of {s.id} looks like this

- Say why each statement is written the way it is, and where it is better than the
  scenario's suggested SQL.
- The query runs before `drill_log` exists, so it sees the database as it was handed over;
  the spec compares it with the reference query on an untouched clone (`against: baseline`).
"""


def new_exercise(exercise_id: str, root: Path, *, title: str | None = None, fixture: str = DEFAULT_FIXTURE,
                 order: int | None = None) -> list[Path]:
    """Write the files of a new exercise under ``root``; return them. Refuses to overwrite."""
    if not ID_PATTERN.match(exercise_id):
        raise ScaffoldError(f"{exercise_id!r} is not a valid exercise id: use lower-case letters, digits, '-' and '_', "
                            "starting with a letter or digit")
    if fixture not in fixture_names():
        raise ScaffoldError(f"unknown fixture {fixture!r}; choose one of: {', '.join(fixture_names())}")
    root = Path(root)
    ex_dir, sol_dir = root / "exercises" / exercise_id, root / "solutions" / exercise_id
    for folder in (ex_dir, sol_dir):
        if folder.exists():
            raise ScaffoldError(f"{folder} already exists; choose another id or remove it")
    s = Scaffold(exercise_id, title or exercise_id.replace("-", " ").replace("_", " ").capitalize(), fixture, order)
    files = {
        ex_dir / "exercise.yaml": _spec(s),
        ex_dir / "README.md": _readme(s),
        ex_dir / "solution.sql": STARTER,
        ex_dir / "contrast_setup.sql": CONTRAST_SETUP,
        sol_dir / "solution.sql": REFERENCE,
        sol_dir / "NOTES.md": _notes(s),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    # The README's points table, as `python -m pgdrill.docgen` writes it from the spec.
    from pgdrill import checks
    from pgdrill.docgen import readme_with_points
    from pgdrill.spec import load_spec

    readme = ex_dir / "README.md"
    spec = load_spec(ex_dir / "exercise.yaml", checks.load_all())
    readme.write_text(readme_with_points(readme.read_text(encoding="utf-8"), spec), encoding="utf-8")
    return list(files)
