"""docs/walkthrough.md cannot rot: every ```sql block runs, and every number it states holds.

The walkthrough's ```sql blocks run in document order as one learner file
(`pgdrill.runner.run_sql_text`: role learner, one session, autocommit) on a fresh clone of the
incident, so the state carries over as it would for a learner in psql. Every statement must
succeed unless its block says otherwise.

Directives: an HTML comment on the line right before a block, items separated by ";".

    <!-- expect: rows=15; fault=orphan_order_items -->
    <!-- expect: error=23505 -->
    <!-- expect: contains=Seq Scan on products; lacks=Index -->
    <!-- expect: rows=0; server>=18 -->

    rows=N          the block's result has N rows (returned, or changed by DML)
    value=TEXT      first column of its first row, as psql prints it (t/f, NULL)
    contains=TEXT   its rows as text (" | " between columns) contain TEXT; repeatable
    lacks=TEXT      … do not contain TEXT; repeatable
    error=SQLSTATE  exactly one statement of the block fails, with that SQLSTATE
    fault=ID[+ID]   the number in rows=/value= is the manifest's count of that fault (summed):
                    the prose's "15 order items" is tied to the incident, not typed twice
    server>=N / server<N   the row/value/text expectations apply only on those versions

The block's result is its last statement that returned rows; if none did, its last statement
that changed rows. The parser and runner live in pgdrill/doctest_sql.py.

The walkthrough also agrees with the exercises: the SQL of its Tasks 4.1, 4.2 and 4.3 (less the
blocks that show an error on purpose) is graded as those exercises' submissions and must score
full marks, and the report's impact numbers (Task 5.3) are the manifest's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pgdrill.doctest_sql import DirectiveError, parse_markdown, problems, run_blocks

ROOT = Path(__file__).resolve().parents[1]
WALKTHROUGH = ROOT / "docs" / "walkthrough.md"
SEEDS = (1, 7)


@pytest.fixture(scope="module")
def blocks():
    return parse_markdown(WALKTHROUGH.read_text(encoding="utf-8"))


def _run(server, clone, blocks):
    runs = run_blocks(server, clone.dbname, blocks, file_name="walkthrough.md")
    major = server.version_num // 10000
    return runs, [issue for run in runs for issue in problems(run, manifest=clone.manifest, server_major=major)]


# --------------------------------------------------------------------------------- the document


def test_walkthrough_follows_the_scenario_phases_in_order():
    text = WALKTHROUGH.read_text(encoding="utf-8")
    tasks = re.findall(r"^### Task (\d\.\d)", text, flags=re.M)
    assert tasks == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "3.1", "3.2", "3.3",
                     "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3"]


def test_walkthrough_states_its_numbers_through_the_manifest(blocks):
    """The scenario's headline numbers are promised by a block and tied to the manifest."""
    assert len(blocks) >= 60
    tied = {(b.expect.rows, b.expect.faults) for b in blocks if b.expect and b.expect.faults}
    for number, fault in [(15, ("orphan_order_items",)), (3, ("negative_stock",)), (2, ("duplicate_emails",))]:
        assert (number, fault) in tied, f"no block promises {number} rows for {fault[0]}"
    expected_errors = {b.expect.error for b in blocks if b.expect and b.expect.error}
    assert {"23505", "XX001", "23503", "23514"} <= expected_errors


def test_readme_links_the_walkthrough():
    assert "docs/walkthrough.md" in (ROOT / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------- the directives


def test_directives_parse_into_expectations():
    md = ("intro\n\n<!-- expect: rows=15; fault=a+b; contains=Seq Scan; contains=x; server>=18 -->\n"
          "```sql\nSELECT 1;\n```\n\n```sql\nSELECT 2;\n```\n\n```bash\nls\n```\n")
    first, second = parse_markdown(md)
    assert first.line == 5 and first.sql == "SELECT 1;\n"
    e = first.expect
    assert (e.rows, e.faults, e.contains, e.server_op, e.server_major) == (15, ("a", "b"), ("Seq Scan", "x"), ">=", 18)
    assert e.applies_to(18) and not e.applies_to(15)
    assert second.expect is None


@pytest.mark.parametrize("md, message", [
    ("<!-- expect: row=3 -->\n```sql\nSELECT 1;\n```\n", "unknown expectation"),
    ("<!-- expect: rows=three -->\n```sql\nSELECT 1;\n```\n", "whole number"),
    ("<!-- expect: error=oops -->\n```sql\nSELECT 1;\n```\n", "SQLSTATE"),
    ("<!-- expect: fault=negative_stock -->\n```sql\nSELECT 1;\n```\n", "needs a number"),
    ("<!-- expect: rows=1; rows=2 -->\n```sql\nSELECT 1;\n```\n", "twice"),
    ("<!-- expect: rows=1 -->\n\nsome prose\n```sql\nSELECT 1;\n```\n", "right before"),
    ("<!-- expect: rows=1 -->\n```bash\nls\n```\n", "not ```sql"),
    ("text\n<!-- expect: rows=1 -->\n", "not followed"),
    ("```sql\nSELECT 1;\n", "never closed"),
])
def test_directive_mistakes_are_errors_not_silently_skipped(md, message):
    with pytest.raises(DirectiveError, match=re.escape(message)):
        parse_markdown(md)


def test_statements_sharing_a_line_are_refused():
    """Each statement is named on the line before it so that its rows are captured."""
    from pgdrill.doctest_sql import combine

    with pytest.raises(DirectiveError, match="own line"):
        combine(parse_markdown("```sql\nSELECT 1; SELECT 2;\n```\n"))


# --------------------------------------------------------------------------------- on a real clone


@pytest.mark.parametrize("seed", SEEDS)
def test_walkthrough_keeps_every_promise(pg_server, make_clone, blocks, seed):
    clone = make_clone(seed=seed)
    runs, issues = _run(pg_server, clone, blocks)
    assert not issues, "docs/walkthrough.md:\n" + "\n".join(issues)
    # Every block ran: nothing was dropped on the way (a block with no statement would hide one).
    assert all(run.statements for run in runs)
    checked = [r for r in runs if r.block.expect is not None]
    assert len(checked) >= 40


def test_a_broken_promise_is_reported(pg_server, make_clone):
    """The checker can fail: wrong counts, a fault number that disagrees with the manifest,
    an error that does not come, and an unexpected error are each reported."""
    md = "\n".join([
        "<!-- expect: rows=14 -->",
        "```sql",
        "SELECT oi.id FROM order_items oi WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id);",
        "```",
        "<!-- expect: rows=15; fault=negative_stock -->",
        "```sql",
        "SELECT oi.id FROM order_items oi WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = oi.order_id);",
        "```",
        "<!-- expect: error=23505 -->",
        "```sql",
        "SELECT 1;",
        "```",
        "```sql",
        "SELECT * FROM no_such_table;",
        "```",
        "<!-- expect: contains=Index Scan -->",
        "```sql",
        "EXPLAIN SELECT * FROM order_items WHERE order_id = 1;",
        "```",
        "<!-- expect: value=f -->",
        "```sql",
        "SELECT true;",
        "```",
        "<!-- expect: value=1 -->",   # a psql display command is skipped, as the runner skips it
        "```sql",
        "\\x",
        "SELECT 1;",
        "```",
        "",
    ])
    clone = make_clone()
    runs, issues = _run(pg_server, clone, parse_markdown(md))
    text = "\n".join(issues)
    assert len(runs) == 7
    assert "want 14 rows, have 15" in text
    assert "the text says 15 but the manifest counts 3 for negative_stock" in text
    assert "expected exactly one statement to fail with SQLSTATE 23505; have no error" in text
    assert "42P01" in text and "no_such_table" in text
    assert "want the output to contain 'Index Scan'" in text and "Seq Scan on order_items" in text
    assert "want value 'f', have 't'" in text
    assert len(issues) == 6


# --------------------------------------------------------------------------------- graded as a submission

# A walkthrough section whose SQL is an exercise's whole answer: graded as that exercise's
# submission, it must score full marks — the walkthrough and the exercises cannot disagree.
# A section ends at the next heading (a "####" inside it starts what the exercise leaves out).
GRADED_SECTIONS = {
    "4.1": ("techshop-4-1-indexes", "indexes.sql"),
    "4.2": ("techshop-4-2-cleanup", "cleanup.sql"),
    "4.3": ("techshop-4-3-maintenance", "maintenance.sql"),
}


def section_sql(text: str, blocks, task: str) -> str:
    """The SQL of the walkthrough's "### Task <task>" section, its blocks in order — but those
    that show an error on purpose (`expect: error=…`): they demonstrate, they fix nothing."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines, 1) if line.startswith(f"### Task {task} "))
    end = next((i for i, line in enumerate(lines, 1) if i > start and re.match(r"#{2,4} ", line)), len(lines) + 1)
    chosen = [b.sql for b in blocks if start < b.line < end and not (b.expect and b.expect.error)]
    assert chosen, f"no SQL in the walkthrough's Task {task}"
    return "\n".join(chosen)


@pytest.mark.parametrize("task", sorted(GRADED_SECTIONS))
def test_walkthrough_section_scores_full_marks_as_a_submission(grade, blocks, task):
    exercise, file_name = GRADED_SECTIONS[task]
    result = grade(exercise, {file_name: section_sql(WALKTHROUGH.read_text(encoding="utf-8"), blocks, task)})
    lost = [(c.check_id, c.message) for c in result.checks if c.points < c.max_points]
    assert result.points == result.max_points, f"walkthrough Task {task} as {exercise}: " + "\n".join(map(str, lost))
    assert [s for s in result.statements if s.status != "ok"] == []


def test_the_reports_numbers_are_the_incidents(incident):
    """Task 5.3's impact paragraph counts what the earlier tasks found: each number is the
    manifest's (the walkthrough once said 16 wrong totals where its own Task 3.2 counts 14)."""
    text = WALKTHROUGH.read_text(encoding="utf-8")
    report = text[text.index("### Task 5.3"):]
    counts = {f["id"]: f["count"] for f in incident.manifest["faults"]}
    said = {
        r"(\d+) order lines\s+lost their orders": ("orphan_order_items",),
        r"(\d+) orders lost their customers": ("orders_without_customer",),
        r"(\d+) customers had split accounts": ("duplicate_emails",),
        r"(\d+) products\s+were oversold": ("negative_stock",),
        r"(\d+) orders had wrong totals": ("zero_total_orders", "negative_total_orders", "order_total_mismatch"),
    }
    for pattern, faults in said.items():
        found = re.search(pattern, report)
        assert found, f"Task 5.3 no longer says {pattern!r}"
        assert int(found.group(1)) == sum(counts[f] for f in faults), (pattern, {f: counts[f] for f in faults})


# --------------------------------------------------------------------------------- the lab's advice


@pytest.fixture
def lab(request):
    """A private lab (as in tests/test_lab.py), destroyed afterwards."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="pgdrill-lab-walkthrough-"))
    base.chmod(0o755)  # the server runs as another user
    server = request.config.getoption("--pg-server")
    env = dict(os.environ, PGDRILL_LAB_DIR=str(base / "lab"), PGDRILL_SERVER=server if server != "dsn" else "embedded")

    def run(*args, check=True):
        proc = subprocess.run([sys.executable, str(ROOT / "grade.py"), "lab", *args], env=env,
                              capture_output=True, text=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"lab {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    yield run
    run("destroy", check=False)
    shutil.rmtree(base, ignore_errors=True)


def test_lab_without_background_sessions_lets_phase_4_through(lab):
    """The walkthrough tells learners to run `lab up --no-activity` before Phase 4: it ends the
    application's sessions, keeps the learner's work, and reset remembers it."""
    app_sessions = "SELECT count(*) FROM pg_stat_activity WHERE usename = 'techshop_app'"
    lab("up", "--scale", "0.1", "--seed", "2")
    before = lab("psql", "-XAt", "-c", app_sessions, "-c", "CREATE TABLE my_notes (line text)").stdout.split()
    assert int(before[0]) >= 3

    lab("up", "--no-activity")
    # What the report's snapshot and the idle transaction blocked now goes through at once.
    after = lab("psql", "-XAt", "-v", "ON_ERROR_STOP=1", "-c", app_sessions,
                "-c", "SELECT to_regclass('my_notes') IS NOT NULL",
                "-c", "CREATE INDEX CONCURRENTLY idx_products_category ON products (category_id)").stdout.split()
    assert after[:2] == ["0", "t"]
    assert "activity:   stopped" in lab("status").stdout

    lab("reset")
    assert lab("psql", "-XAtc", app_sessions).stdout.strip() == "0"
    lab("up", "--activity")
    assert int(lab("psql", "-XAtc", app_sessions).stdout) >= 3
