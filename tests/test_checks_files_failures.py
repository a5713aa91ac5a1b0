"""Files judged by effect, scripts run off the happy path (issue 15, kinds 4 and 5), against a
real PostgreSQL: backup scripts under injected failures (pg_dump failing halfway, the server
unreachable), restore scripts with several dumps present and with a truncated one, passwords
written into scripts, crontab jobs that never run or run elsewhere, runbooks whose restore
commands cannot work on their dump. Every wrong submission fails naming its accident; correct
unusual ones pass."""

from __future__ import annotations

import textwrap

import pytest

from pgdrill.checks.files import backup_restores, cron_schedule_valid, restore_script_restores, runbook_restore_consistent
from test_checks_files import ctx_for, write  # noqa: F401 - the fixture, shared

# ------------------------------------------------------------------------------ scripts under failure (issue 15, 5)

BACKUP_WITH_TEMP_NAME = """
#!/bin/bash
set -euo pipefail
target="$BACKUP_DIR/shop-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump -Fc --no-password -f "$target.partial"
mv "$target.partial" "$target"
"""


def test_a_backup_that_always_exits_0_fails_under_injected_failures(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", """
        pg_dump -Fc -f "$BACKUP_DIR/shop.dump"
        echo "backup done"
    """)
    assert backup_restores(ctx).passed  # on the happy path it looks fine
    out = backup_restores(ctx, failures=["dump-fails", "server-down"])
    assert not out.passed and out.score == pytest.approx(0.5)
    assert "when pg_dump fails halfway" in out.message and "backup.sh exits 0" in out.message
    assert "when the database server cannot be reached" in out.message
    assert "leaves shop.dump" in out.message and "named like a finished backup" in out.message


def test_set_e_alone_still_leaves_a_file_that_looks_finished(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", """
        set -euo pipefail
        pg_dump -Fc -f "$BACKUP_DIR/shop.dump"
    """)
    out = backup_restores(ctx, failures=["dump-fails"])
    assert not out.passed and out.score == pytest.approx(0.5)
    assert "exits 0" not in out.message and "leaves shop.dump" in out.message


@pytest.mark.parametrize("script", [
    BACKUP_WITH_TEMP_NAME,
    # another style: a pipe with pipefail, every status checked by hand, the temporary file removed
    """
    #!/bin/bash
    set -o pipefail
    out="$BACKUP_DIR/shop-$(date +%F).sql.gz"
    if ! pg_dump --no-password | gzip -9 > "$out.tmp"; then
        rm -f "$out.tmp"
        echo "backup failed" >&2
        exit 2
    fi
    mv "$out.tmp" "$out"
    """,
    # a directory-format dump under its final name, removed by a trap when anything failed; a log
    """
    set -eu
    exec 2>>"$BACKUP_DIR/backup.log"
    d="$BACKUP_DIR/shop.dir"
    trap 'rc=$?; [ "$rc" -eq 0 ] || rm -rf "$d"; exit "$rc"' EXIT
    pg_dump --format=directory --no-password -f "$d"
    echo "backup written to $d" >&2  # the log is newer than the dump: it is not taken for it
    """,
], ids=["temp-name", "pipe-pipefail", "trap"])
def test_backups_that_fail_cleanly_pass(ctx_for, script):
    ctx = ctx_for()
    write(ctx, "backup.sh", script)
    out = backup_restores(ctx, failures=["dump-fails", "server-down"])
    assert out.passed, out.message
    assert "fails cleanly when pg_dump fails halfway and when the server cannot be reached" in out.message


def test_a_password_written_into_a_script_is_refused(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", """
        #!/bin/bash
        export PGPASSWORD=Sup3rSecret
        pg_dump -Fc -f "$BACKUP_DIR/shop.dump"
    """)
    out = backup_restores(ctx)
    assert not out.passed and "has a password written into it (line 2: PGPASSWORD set to a literal)" in out.message
    assert "Sup3rSecret" not in out.message + "".join(" ".join(r) for e in out.evidence for r in e.rows)
    write(ctx, "backup.sh", """
        # The password comes from the environment (cron's) or ~/.pgpass, never from here.
        PGPASSWORD="${PGPASSWORD:-}" pg_dump -Fc -f "$BACKUP_DIR/shop.dump"
    """)
    assert backup_restores(ctx).passed


def test_secrets_in_scripts():
    text = textwrap.dedent("""\
        # PGPASSWORD=not-read-in-a-comment
        export PGPASSWORD=hunter2
        PGPASSWORD="$(cat /run/secrets/pg)" pg_dump
        PGPASSWORD=$PW pg_dump
        pg_dump "host=db password=s3cret dbname=shop"
        pg_dump postgresql://bob:pw@localhost/shop
        pg_dump postgresql://bob@localhost/shop
        echo "localhost:5432:*:bob:pw" > ~/.pgpass
        PGPASSWORD= pg_dump
    """)
    from pgdrill.checks.commands import secrets_in
    assert [(n, what) for n, what, _ in secrets_in(text)] == [
        (2, "PGPASSWORD set to a literal"), (5, "a password= literal in a connection string"),
        (6, "a password in a connection URI"), (8, "a ~/.pgpass line with a literal password")]
    assert all("••••" in masked for _, _, masked in secrets_in(text))


RESTORE_NEWEST_BY_MTIME = """
set -euo pipefail
dump=$(ls -t "$BACKUP_DIR"/*.dump | head -n 1)
pg_restore --no-owner --no-privileges --no-comments --exit-on-error -d "$PGDATABASE" "$dump"
"""


@pytest.mark.parametrize("restore", [
    RESTORE_NEWEST_BY_MTIME,
    # by name: the timestamps in the names sort in time order
    """
    set -euo pipefail
    dump=$(find "$BACKUP_DIR" -maxdepth 1 -name 'shop-*.dump' | sort | tail -n 1)
    pg_restore --no-owner --no-privileges --no-comments --exit-on-error --dbname="$PGDATABASE" "$dump"
    """,
], ids=["by-mtime", "by-name"])
def test_a_restore_that_picks_the_newest_dump_passes(ctx_for, restore):
    ctx = ctx_for()
    write(ctx, "backup.sh", BACKUP_WITH_TEMP_NAME)
    write(ctx, "restore.sh", restore)
    out = restore_script_restores(ctx, failures=["older-dumps", "truncated-dump"])
    assert out.passed, out.message
    assert "picked the newest of 3 dumps" in out.message and "on a truncated dump it exits with an error" in out.message


def test_a_restore_that_picks_the_oldest_dump_fails(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", BACKUP_WITH_TEMP_NAME)
    write(ctx, "restore.sh", """
        set -euo pipefail
        dump=$(ls "$BACKUP_DIR"/*.dump | head -n 1)
        pg_restore --no-owner --no-privileges --no-comments --exit-on-error -d "$PGDATABASE" "$dump"
    """)
    assert restore_script_restores(ctx).passed  # with one dump, it cannot go wrong
    out = restore_script_restores(ctx, failures=["older-dumps"])
    assert not out.passed and out.fraction == 0
    assert "restored an older dump, not the newest" in out.message
    listing = next(e for e in out.evidence if e.title == "$BACKUP_DIR when the restore ran").body
    assert listing.count("(older, no rows)") == 2 and "(newest, from backup.sh)" in listing


def test_a_restore_that_reports_success_on_a_truncated_dump_fails(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", BACKUP_WITH_TEMP_NAME)
    write(ctx, "restore.sh", """
        dump=$(ls -t "$BACKUP_DIR"/*.dump | head -n 1)
        pg_restore --no-owner --no-privileges --no-comments -d "$PGDATABASE" "$dump"
        echo "restore finished"
    """)
    out = restore_script_restores(ctx, failures=["older-dumps", "truncated-dump"])
    assert not out.passed and out.score == pytest.approx(0.5)
    assert "when that dump is truncated" in out.message and "still exits 0" in out.message


def test_older_dump_names_follow_the_backup_s_own_timestamp():
    import datetime as dt

    from pgdrill.checks.files import _older_name

    made = dt.datetime(2026, 12, 2, 12, 30, 5, tzinfo=dt.timezone.utc).timestamp()
    assert _older_name("shop-20261202T123005Z.dump", made, made + 2, 1) == "shop-20261201T123005Z.dump"
    assert _older_name("shop-2026-12-02.sql.gz", made, made + 2, 2) == "shop-2026-11-30.sql.gz"
    assert _older_name(f"shop-{int(made)}.dump", made, made, 1) == f"shop-{int(made) - 86400}.dump"
    assert _older_name("shop.dump", made, made, 1) == "shop-20261201.dump"


# ------------------------------------------------------------------------------ crontab judged by effect (issue 15, 4)

NIGHTLY = dict(command_pattern=r"\bvacuumdb\b|\b(vacuum|analyze)\b", every_hours=24, between="00:00-06:00",
               database="techshop")


@pytest.fixture
def files_ctx(tmp_path):
    """A context for checks that only read files (crontab, runbook): no database needed."""
    from pgdrill.checks.base import CheckContext

    sub = tmp_path / "sub"
    sub.mkdir()
    return CheckContext(exercise_id="t", exercise_dir=tmp_path, submission_dir=sub, manifest={},
                        grader=lambda: None, learner=lambda: None)


@pytest.mark.parametrize("crontab,says", [
    ("0 2 30 2 * vacuumdb -z -d techshop", "never runs: day 30 of the month never occurs in February"),
    ("0 3 31 4,6,9,11 * vacuumdb -z -d techshop", "never occurs in April, June, September, November"),
    ("@reboot vacuumdb -z -d techshop", "@reboot runs only when the machine starts"),
    ("0 2 29 2 * vacuumdb -z -d techshop", "years between two runs; it must run at least every 24 hours"),
    ("0 3 * * 1-5 vacuumdb -z -d techshop", "up to 3 days between two runs"),
    ("0 3 1 * mon vacuumdb -z -d techshop", "up to 7 days between two runs"),  # either day field, not both
    ("0 14 * * * vacuumdb -z -d techshop", "also runs at 14:00, outside 00:00–06:00"),
    ("30 3 * * * vacuumdb --analyze --dbname=postgres", "runs vacuumdb against database postgres, not techshop"),
    ("PGDATABASE=shop\n30 3 * * * vacuumdb -z", "against database shop, not techshop"),
    ("30 3 * * * vacuumdb -z\nPGDATABASE=techshop", "names no database"),  # set after the job: too late
    ("30 3 * * * psql -c 'VACUUM ANALYZE' postgresql://db.internal/shop", "psql against database shop"),
], ids=["30-february", "31-april", "reboot", "leap-day", "weekdays", "dom-or-dow", "afternoon", "wrong-db",
        "env-db", "env-after", "uri"])
def test_a_crontab_job_that_never_runs_or_runs_elsewhere_fails(files_ctx, crontab, says):
    write(files_ctx, "maintenance.cron", crontab + "\n")
    out = cron_schedule_valid(files_ctx, path="maintenance.cron", **NIGHTLY)
    assert not out.passed and says in out.message, out.message


@pytest.mark.parametrize("crontab", [
    "PGDATABASE=techshop\n@daily vacuumdb --analyze",
    "0 1-5/2 * * * sudo -u postgres vacuumdb --all --analyze-only",
    "30 2 * * * psql 'postgresql:///techshop' -c 'VACUUM (ANALYZE)' >> /var/log/vac-$(date +\\%F).log 2>&1",
    "15 3 1-31 jan-dec * DB=techshop; vacuumdb -z -d \"$DB\"",
    "MAILTO=dba@example.org\n0 4 * * 0-7 su postgres -c 'vacuumdb -z techshop'",
    "0 3 * * * vacuumdb -z -d techshop && psql -d ops -c \"INSERT INTO runs VALUES (now())\"",
], ids=["macro-env", "all-databases", "uri-log", "variable", "su", "logs-elsewhere"])
def test_a_crontab_job_that_really_runs_nightly_on_the_database_passes(files_ctx, crontab):
    write(files_ctx, "maintenance.cron", crontab + "\n")
    out = cron_schedule_valid(files_ctx, path="maintenance.cron", **NIGHTLY)
    assert out.passed, out.message
    assert "next run" in out.message


def test_the_cron_evaluator_reads_cron_s_own_rules():
    import datetime as dt

    from pgdrill.checks.cron import CronSchedule

    start = dt.datetime(2026, 12, 2, 12, 0)
    assert [t.isoformat() for t in CronSchedule.parse("0 3 1 * mon").next_runs(start, 3)] == [
        "2026-12-07T03:00:00", "2026-12-14T03:00:00", "2026-12-21T03:00:00"]
    assert [t.isoformat() for t in CronSchedule.parse("0 3 1 * mon").next_runs(dt.datetime(2026, 12, 22), 3)] == [
        "2026-12-28T03:00:00", "2027-01-01T03:00:00", "2027-01-04T03:00:00"]  # the 1st is a Friday: either field
    # A day field starting with * (even */10) makes both fields count: the 1st, 11th, 21st or 31st AND a Monday.
    assert CronSchedule.parse("0 3 */10 * 1").next_runs(start, 1)[0].isoformat() == "2026-12-21T03:00:00"
    assert CronSchedule.parse("0 2 29 2 *").next_runs(start, 1)[0].isoformat() == "2028-02-29T02:00:00"
    assert CronSchedule.parse("0 2 30 2 *").summary(start).runs == 0
    assert CronSchedule.parse("*/20 5/6 * * 7").times()[-1].isoformat() == "23:40:00"
    with pytest.raises(ValueError, match="60 is outside 0–59"):
        CronSchedule.parse("60 3 * * *")


# ------------------------------------------------------------------------------ runbooks read against their dump

CUSTOM_BACKUP = 'set -euo pipefail\npg_dump -Fc --no-password -f "$BACKUP_DIR/pagila.dump"\n'
PLAIN_GZ_BACKUP = 'set -o pipefail\npg_dump --no-password | gzip > "$BACKUP_DIR/pagila.sql.gz" || exit 1\n'


@pytest.mark.parametrize("backup,runbook,says", [
    ("pg_dump -Fp -f \"$BACKUP_DIR/pagila.sql\"\n",
     "## Restore\n```\ncreatedb restored\npg_restore --no-owner -d restored /backups/pagila.sql\n```\n",
     "runs pg_restore on a plain dump"),
    (CUSTOM_BACKUP, "## Restore\n```bash\n$ createdb restored\n$ psql -d restored -f /backups/pagila-<time>.dump\n```\n",
     "feeds a custom dump to psql"),
    (PLAIN_GZ_BACKUP, "## Restore\n`createdb r` then `psql r < /backups/pagila.sql.gz`\n",
     "decompress it into psql"),
    (CUSTOM_BACKUP, "## Restore\n1. `createdb pagila_restored`\n2. `pg_restore --no-owner -d pagila_restore pagila.dump`\n",
     "restores into pagila_restore, but the runbook creates pagila_restored"),
    (CUSTOM_BACKUP, "## Restore\n`pg_restore --no-owner /backups/pagila.dump`\n", "restores nothing"),
    (CUSTOM_BACKUP, "## Restore\n`pg_restore -d postgres /backups/pagila.dump`\n",
     "restores into the maintenance database postgres"),
    (CUSTOM_BACKUP, "## Backup\n`pg_dump -f pagila.sql`\n## Restore\n`pg_restore -d r pagila.dump`\n",
     "the runbook describes a plain dump, but backup.sh writes a custom dump"),
    (CUSTOM_BACKUP, "## Restore\nAsk the DBA to restore the newest dump.\n", "shows no restore command"),
], ids=["pg_restore-on-plain", "psql-on-custom", "psql-on-gzip", "typo-database", "no-dbname", "into-postgres",
        "runbook-vs-script", "no-command"])
def test_a_runbook_whose_restore_cannot_work_on_its_dump_fails(files_ctx, backup, runbook, says):
    write(files_ctx, "backup.sh", backup)
    write(files_ctx, "RUNBOOK.md", runbook)
    out = runbook_restore_consistent(files_ctx, path="RUNBOOK.md", backup="backup.sh")
    assert not out.passed and says in out.message, out.message


@pytest.mark.parametrize("backup,runbook", [
    (CUSTOM_BACKUP, "## Restore\n`pg_restore --create --dbname=postgres /backups/pagila.dump`\n"),
    (CUSTOM_BACKUP, "## Restore\n```\ncreatedb r\npg_restore -f - /backups/pagila.dump | psql -X -v ON_ERROR_STOP=1 r\n```\n"),
    (CUSTOM_BACKUP, "## Restore\n```\ncreatedb \\\n  -T template0 r\npg_restore --no-owner \\\n  --dbname=r <dump>\n```\n"),
    (PLAIN_GZ_BACKUP, "## Restore\n```\ncreatedb restored\ngunzip -c /backups/pagila.sql.gz | psql -X restored\n```\n"),
    (CUSTOM_BACKUP, "## Restore\nRun `BACKUP_DIR=/backups PGDATABASE=restored ./restore.sh` on an empty database.\n"),
], ids=["create", "pipe-into-psql", "continued-lines", "gunzip-pipe", "restore-script"])
def test_a_runbook_whose_restore_suits_its_dump_passes(files_ctx, backup, runbook):
    write(files_ctx, "backup.sh", backup)
    write(files_ctx, "RUNBOOK.md", runbook)
    out = runbook_restore_consistent(files_ctx, path="RUNBOOK.md", backup="backup.sh")
    assert out.passed, out.message


# ------------------------------------------------------------------------------ end to end, on the exercises

def _solution_files(exercise: str) -> dict[str, str]:
    from pgdrill.grading import SOLUTIONS_DIR

    return {p.name: p.read_text() for p in (SOLUTIONS_DIR / exercise).iterdir() if p.name != "NOTES.md"}


def _by_id(result) -> dict:
    return {c.check_id: c for c in result.checks}


def test_5_1_a_nightly_job_on_30_february_earns_nothing(grade):
    files = _solution_files("techshop-5-1-monitoring")
    files["maintenance.cron"] = "PGDATABASE=techshop\n30 3 30 2 * vacuumdb --analyze --jobs=2\n"
    check = _by_id(grade("techshop-5-1-monitoring", files))["nightly-maintenance-scheduled"]
    assert check.points == 0
    assert "never runs: day 30 of the month never occurs in February" in check.message
    jobs = next(e for e in check.evidence if e.title.startswith("Jobs in"))
    assert jobs.rows[0][2] == "never"


def test_course_10_wrong_and_unusual_submissions(grade):
    from pgdrill.report import Status

    files = _solution_files("course-10-backup-restore")
    # A plain dump, and a runbook that restores it with pg_restore: the backup is fine, the runbook is not.
    plain = {**files, "backup.sh": 'set -o pipefail\nf="$BACKUP_DIR/pagila-$(date -u +%s).sql"\n'
                                   'pg_dump --no-password -f "$f.tmp" && mv "$f.tmp" "$f" || { rm -f "$f.tmp"; exit 1; }\n'}
    result = _by_id(grade("course-10-backup-restore", plain))
    assert result["backup-restores"].status is Status.PASSED, result["backup-restores"].message
    runbook = result["runbook-restore-works"]
    assert runbook.points == 0 and "runs pg_restore on a plain dump" in runbook.message
    # The same backup, and a runbook that replays the plain dump with psql: full marks.
    plain["RUNBOOK.md"] = files["RUNBOOK.md"].replace(
        "`pg_restore --no-owner --exit-on-error -d pagila_restored pagila-<time>.dump`",
        "`psql -X -v ON_ERROR_STOP=1 -d pagila_restored -f pagila-<time>.sql`").replace(
        "`pg_dump --format=custom --no-password`", "`pg_dump --no-password`")
    assert plain["RUNBOOK.md"].count("pagila-<time>.sql") == 1 and "--format=custom" not in plain["RUNBOOK.md"]
    result = grade("course-10-backup-restore", plain)
    assert result.points == result.max_points, [(c.check_id, c.message) for c in result.checks]
    # A password in the script: not run, no points for the backup.
    secret = {**files, "backup.sh": "PGPASSWORD=postgres pg_dump -Fc -f \"$BACKUP_DIR/p.dump\"\n"}
    backup = _by_id(grade("course-10-backup-restore", secret))["backup-restores"]
    assert backup.points == 0 and "password written into it" in backup.message


def test_the_documented_restore_is_run_on_the_real_dump(ctx_for):
    ctx = ctx_for()
    write(ctx, "backup.sh", CUSTOM_BACKUP)
    # Consistent on paper, but --clean on an empty database stops at the first DROP with --exit-on-error.
    write(ctx, "RUNBOOK.md", "## Restore\n```\ncreatedb shop_restored\n"
                             "pg_restore --clean --exit-on-error -d shop_restored /backups/pagila.dump\n```\n")
    out = runbook_restore_consistent(ctx, path="RUNBOOK.md", backup="backup.sh", run=True)
    assert not out.passed and "restored 0 of the dump's 3 table(s) intact" in out.message, out.message
    ran = next(e for e in out.evidence if e.title == "The runbook's restore, as the grader ran it").body
    assert "--dbname=pgdrill_restore_" in ran and "<the dump from backup.sh>" in ran
    # The same with --if-exists, from another host as the superuser: runs (connection options are the grader's).
    write(ctx, "RUNBOOK.md", "## Restore\n```\ncreatedb shop_restored\npg_restore -h db2 -U postgres --clean "
                             "--if-exists --exit-on-error -j 2 -d shop_restored /backups/pagila.dump\n```\n")
    out = runbook_restore_consistent(ctx, path="RUNBOOK.md", backup="backup.sh", run=True)
    assert out.passed and "restored every table intact" in out.message, out.message


def test_5_2_a_backup_that_always_succeeds_and_a_restore_of_the_oldest_dump(grade):
    from pgdrill.report import Status

    files = _solution_files("techshop-5-2-backup")
    files["backup.sh"] = ('pg_dump --format=custom --no-password '
                          '--file="$BACKUP_DIR/techshop-$(date -u +%Y%m%dT%H%M%SZ).dump"\nexit 0\n')
    files["restore.sh"] = files["restore.sh"].replace("sort -nr", "sort -n")  # the oldest first: wrong
    assert "sort -n |" in files["restore.sh"]
    result = _by_id(grade("techshop-5-2-backup", files))
    backup = result["backup-restores"]
    assert backup.status is Status.PARTIAL and backup.points == 2
    assert "when pg_dump fails halfway" in backup.message and "backup.sh exits 0" in backup.message
    procedure = result["restore-procedure-tested"]
    assert procedure.points == 0 and "restored an older dump, not the newest" in procedure.message
    assert result["runbook-restore-works"].status is Status.PASSED
