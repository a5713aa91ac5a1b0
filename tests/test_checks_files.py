"""The files family: the incident report (Markdown) and the backup script, run for real
against a clone, its dump restored into a scratch database."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from checks.base import CheckContext
from checks.files import backup_restores, markdown_sections, normalise_heading, report_has_sections, \
    report_mentions_numbers
from fixtures.sandbox import GRADER, LEARNER

WORDS = "We found the cause quickly and wrote down every step we took so the next on-call engineer can follow it."

REPORT = f"""
# TechShop incident report

## 1. Summary:
{WORDS}

```
## Prevention (inside a code block, not a heading)
```

## **Root Cause Analysis**
{WORDS}

### 2.1 Missing indexes
The products table had no index on name.

## Fixes
Too short.

Timeline
--------
{WORDS}

## Findings
We found 15 orphaned order items and 3 products with negative stock. Two customers
(not 3) share an email. The database was 142 MB.

| finding | count |
| --- | --- |
| orphaned_order_items | 15 |
"""


@pytest.fixture
def ctx_for(make_clone, tmp_path):
    """Build a CheckContext on an empty clone with a small shop; files go into tmp_path/sub."""
    opened = []
    sub = tmp_path / "sub"
    sub.mkdir()

    def make(baseline_clone=None, clone=None) -> CheckContext:
        if clone is None:
            clone = make_clone(fixture="empty")
            with clone.connect(LEARNER) as conn:
                conn.execute("""
                    CREATE TABLE customers (id int PRIMARY KEY, email text);
                    CREATE TABLE orders (id serial PRIMARY KEY, customer_id int, note text, total numeric(10,2));
                    INSERT INTO customers VALUES (1, 'a@x'), (2, 'b@x'), (3, NULL);
                    INSERT INTO orders (customer_id, note, total)
                    SELECT 1 + g % 3, CASE WHEN g % 7 = 0 THEN NULL ELSE 'tab' || E'\\t' || g END, g * 1.5
                    FROM generate_series(1, 200) g;
                    CREATE TABLE empty_table (x int);
                """)

        def grader(c=clone):
            conn = c.connect(GRADER, purpose="grader")
            opened.append(conn)
            return conn

        base = None
        if baseline_clone is not None:
            def base(c=baseline_clone):
                conn = c.connect(GRADER, purpose="grader-baseline")
                opened.append(conn)
                return conn
        ctx = CheckContext(exercise_id="t", exercise_dir=Path("."), submission_dir=sub, manifest={},
                           grader=grader, learner=lambda: None, baseline=base, server=clone.server,
                           dbname=clone.dbname)
        ctx.clone = clone
        return ctx

    yield make
    for conn in opened:
        conn.close()


def write(ctx: CheckContext, name: str, text: str) -> Path:
    path = Path(ctx.submission_dir) / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


# ------------------------------------------------------------------------------ report_has_sections

def test_heading_normalisation_and_sections():
    assert normalise_heading("1. Summary:") == "summary"
    assert normalise_heading("**2.3 Root Cause**") == "root cause"
    assert normalise_heading("IV) Prevention") == "prevention"
    titles = [(lvl, title) for lvl, title, _ in markdown_sections(REPORT)]
    assert (2, "Fixes") in titles and (2, "Timeline") in titles
    assert not any("inside a code block" in t for _, t in titles)
    body = dict((t, b) for _, t, b in markdown_sections(REPORT))["**Root Cause Analysis**"]
    assert "no index on name" in body  # subsections belong to their parent


def test_report_has_sections_full_marks(ctx_for):
    ctx = ctx_for()
    write(ctx, "report.md", REPORT)
    out = report_has_sections(ctx, path="report.md", sections=["summary", "Root cause", "Timeline"], min_words=10)
    assert out.passed, out.message


def test_report_has_sections_partial_credit(ctx_for):
    ctx = ctx_for()
    write(ctx, "report.md", REPORT)
    out = report_has_sections(ctx, path="report.md", min_words=10,
                              sections=["Summary", ["Fixes applied", "Fixes"], "Prevention", "Root cause"])
    assert not out.passed and out.score == pytest.approx(0.5)
    assert "no section “Prevention”" in out.message
    assert "section “Fixes” has 2 word(s)" in out.message
    headings = next(e for e in out.evidence if e.title.startswith("Headings"))
    assert "## 1. Summary:" in headings.body


def test_report_missing_or_outside_the_submission(ctx_for, tmp_path):
    ctx = ctx_for()
    out = report_has_sections(ctx, path="report.md", sections=["Summary"])
    assert not out.passed and "was not found" in out.message
    (tmp_path / "secret.md").write_text("# Summary\n" + WORDS)
    out = report_has_sections(ctx, path="../secret.md", sections=["Summary"])
    assert not out.passed and "outside the submission" in out.message
    (Path(ctx.submission_dir) / "link.md").symlink_to(tmp_path / "secret.md")
    # a link is never followed, wherever it points (pgdrill/submission.py)
    assert "link.md is a symbolic link" in report_has_sections(ctx, path="link.md", sections=["Summary"]).message


# ------------------------------------------------------------------------------ report_mentions_numbers

def test_report_mentions_numbers(ctx_for):
    ctx = ctx_for()
    write(ctx, "report.md", REPORT)
    facts = {
        "orphaned order items": "SELECT 15",
        "negative stock": 3,
        "share an email|duplicate email": "SELECT count(*) - 1 FROM customers WHERE email IS NOT NULL",
        "unused indexes": 4,
    }
    out = report_mentions_numbers(ctx, path="report.md", facts=facts, against="graded")
    assert not out.passed and out.score == pytest.approx(0.5)
    assert "near “share an email” the report says 3, 142 MB, expected 1" in out.message
    assert "“unused indexes” is not mentioned" in out.message
    size = {"database": "SELECT 142 * 1024 * 1024 + 300000"}
    assert report_mentions_numbers(ctx, path="report.md", facts=size, against="graded").passed


def test_report_numbers_come_from_the_untouched_incident(ctx_for):
    baseline = ctx_for()
    ctx = ctx_for(baseline_clone=baseline.clone)
    with ctx.clone.connect(LEARNER) as conn:
        conn.execute("DELETE FROM orders WHERE id > 15")  # the learner fixed things since the diagnosis
    write(ctx, "report.md", "# Findings\nThe orders table had 200 rows before the cleanup.\n")
    facts = {"orders table": "SELECT count(*) FROM orders"}
    assert report_mentions_numbers(ctx, path="report.md", facts=facts).passed
    assert not report_mentions_numbers(ctx, path="report.md", facts=facts, against="graded").passed


# ------------------------------------------------------------------------------ backup_restores

GOOD_SCRIPT = """
#!/bin/bash
set -euo pipefail
pg_dump --format=custom --file="$BACKUP_DIR/techshop.dump" "$PGDATABASE"
"""


def test_backup_script_that_works(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", GOOD_SCRIPT)
    out = backup_restores(ctx)
    assert out.passed, out.message
    table = next(e for e in out.evidence if e.kind == "rows")
    assert ("public.orders", "200", "200", "same") in table.rows
    assert "custom" in out.message
    with ctx.server.connect() as conn:  # the scratch database is gone
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgdrill_restore_%'").fetchone() == (0,)


def test_plain_dump_partial_and_gzip(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", 'pg_dump -t orders -t customers "$PGDATABASE" | gzip > "$BACKUP_DIR/plain.sql.gz"\n')
    out = backup_restores(ctx)  # every table in public by default
    assert not out.passed and out.score == pytest.approx(2 / 3)
    assert "public.empty_table is missing from the restore" in out.message
    assert "gzip-plain" in next(e for e in out.evidence if e.title == "Dump").body
    assert backup_restores(ctx, tables=["orders", "public.customers"]).passed


def test_backup_compares_content_not_just_counts(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", """
        pg_dump -Fp -f "$BACKUP_DIR/dump.sql" "$PGDATABASE"
        sed -i 's/\\t1\\.50$/\\t9.99/' "$BACKUP_DIR/dump.sql"
    """)
    out = backup_restores(ctx, tables=["orders", "customers"])
    assert not out.passed and out.score == pytest.approx(0.5)
    assert "same row count but different content" in out.message


def test_backup_script_that_writes_nothing(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", 'pg_dump -Fc -f techshop.dump "$PGDATABASE"\n')
    out = backup_restores(ctx)
    assert not out.passed
    assert "wrote nothing to $BACKUP_DIR" in out.message and "techshop.dump" in out.message


def test_backup_script_that_fails(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", 'pg_dump -Fc -f "$BACKUP_DIR/x.dump" no_such_database\n')
    out = backup_restores(ctx)
    assert not out.passed and "exited with status 1" in out.message
    assert "no_such_database" in out.evidence[0].body
    write(ctx, "backup.sh", "echo 'not a dump' > \"$BACKUP_DIR/x.dump\"; exit 3\n")
    assert "exited with status 3" in backup_restores(ctx).message


def test_backup_script_that_hangs_is_killed(ctx_for, tmp_path):
    ctx = ctx_for()
    marker = tmp_path / "survived"
    write(ctx, "backup.sh", f"(sleep 3; touch {marker}) &\nsleep 60\n")
    out = backup_restores(ctx, timeout=1)
    assert not out.passed and "did not finish within 1 s" in out.message
    import time
    time.sleep(3.5)
    assert not marker.exists()  # its background children were killed too


def test_plain_dump_cannot_run_shell_commands(ctx_for, tmp_path):
    ctx = ctx_for()
    marker = tmp_path / "pwned"
    write(ctx, "backup.sh", f"""
        pg_dump -Fp -f "$BACKUP_DIR/dump.sql" "$PGDATABASE"
        echo '\\! touch {marker}' >> "$BACKUP_DIR/dump.sql"
    """)
    out = backup_restores(ctx)
    assert out.passed, out.message
    assert not marker.exists()


def test_backup_script_environment_is_scrubbed(ctx_for, monkeypatch):
    ctx = ctx_for()
    monkeypatch.setenv("PGDRILL_SECRET", "do-not-leak")
    write(ctx, "backup.sh", f"""
        test -z "${{PGDRILL_SECRET:-}}" || exit 7
        test "$PGUSER" = pgdrill_grader || exit 8
        test "$(command -v pg_dump)" = "{ctx.server.bindir}/pg_dump" || exit 9
        test "$PWD" != "{Path.cwd()}" || exit 10
        pg_dump -Fd -f "$BACKUP_DIR/dir" "$PGDATABASE"
    """)
    out = backup_restores(ctx)
    assert out.passed, out.message
    assert "directory" in out.message
