"""Maintenance checks: statistics are fresh, tables are vacuumed, dead tuples are under control.

They read the cumulative statistics (pg_stat_all_tables). Those lag: a backend publishes its
counters when a transaction ends at most once a second and when it exits, so a check reads
after ``pg_stat_clear_snapshot()`` and, while the answer is still "no", retries for up to
``ctx.stats_wait`` seconds (default ``DEFAULT_STATS_WAIT``, 2). VACUUM and ANALYZE publish their
timestamps at once. A clone starts with empty counters (they are kept per database OID).

What a learner could write is never the evidence: dead tuples are measured on disk with
pgstattuple wherever it is installed, and the functions with which PostgreSQL 18 lets a
table's owner write reltuples or pg_statistic (``pg_restore_relation_stats`` …) are revoked
from PUBLIC by the sandbox (``fixtures/sandbox.py``), so the estimates these checks compare
with are the server's own. The analyze and vacuum timestamps are only set by ANALYZE and
VACUUM themselves.
"""

from __future__ import annotations

import time
from typing import Literal

import psycopg
from psycopg import sql

from pgdrill.checks import vacuum_thresholds
from pgdrill.checks.arguments import Schema, Since, Tables
from pgdrill.checks.base import CheckContext, ExerciseBug, LearnerFault, Outcome, check
from pgdrill.checks.kit import BaselineMissing
from pgdrill.checks.sql import column_names, one_row, query, resolve_tables, rows_evidence, sql_query

DEFAULT_STATS_WAIT = 2.0
_STEP = 0.2


def _since(ctx: CheckContext, since):
    """The moment a maintenance action must be later than, as text for ::timestamptz, or None."""
    if since is None:
        return None
    if str(since) == "setup":
        return ctx.setup_finished_at
    return str(since)


def _stats(conn, oid: int, since) -> dict:
    cur = conn.execute(query(conn, "maintenance_table_stats"), {"oid": oid, "since": since})
    return dict(zip(column_names(cur), one_row(cur)))


def _wait(ctx: CheckContext) -> float:
    return ctx.stats_wait if ctx.stats_wait is not None else DEFAULT_STATS_WAIT


def _poll(wait: float, conn, read, good):
    """``read()`` until ``good(result)`` or ``wait`` seconds are over; returns the last result."""
    deadline = time.monotonic() + wait
    while True:
        conn.execute("SELECT pg_catalog.pg_stat_clear_snapshot()")
        result = read()
        if good(result) or time.monotonic() >= deadline:
            return result
        time.sleep(_STEP)


def _when(ts) -> str:
    return "never (in this database)" if ts is None else f"at {ts:%Y-%m-%d %H:%M:%S}"


@check
def statistics_fresh(ctx: CheckContext, *, tables: Tables, since: Since = "setup", max_mod_ratio: float | None = 0.1,
                     schema: Schema = "public") -> Outcome:
    """The planner's statistics of these tables are fresh.

    What it asserts:
        Each table was analyzed (ANALYZE, VACUUM ANALYZE or autoanalyze) after ``since``
        — by default the moment the exercise's setup finished, i.e. by the learner — or,
        when ``max_mod_ratio`` is set, it has been analyzed in this database and fewer
        than ``max_mod_ratio`` × its rows changed since (n_mod_since_analyze against
        reltuples).
    Arguments:
        since: ``setup`` (default), a timestamp, or null for "ever analyzed".
        max_mod_ratio: also accept tables analyzed earlier with at most this fraction of
            rows modified since (default 0.1); null to require an analyze after ``since``.
    Feedback on failure:
        For each stale table, when it was last analyzed and how many rows changed since.
        The planner chooses plans from these statistics; stale ones give wrong row
        estimates and slow plans. ANALYZE the table (and keep autovacuum on). Partial
        credit per table.
    Example:
        - check: statistics_fresh
          with: {tables: [orders, products, order_items]}
    """
    conn = ctx.grader()
    names, rels, problems = resolve_tables(conn, tables, schema)
    since_ts = _since(ctx, since)

    def fresh(s) -> bool:
        if s["analyzed_at"] is None:
            return False
        if since is None or s["analyzed_since"]:
            return True
        return (max_mod_ratio is not None
                and s["n_mod_since_analyze"] <= float(max_mod_ratio) * max(s["reltuples"], s["n_live_tup"], 1))

    def read():
        return [(rel, _stats(conn, rel.oid, since_ts)) for rel in rels]

    results = _poll(_wait(ctx), conn, read, lambda rs: all(fresh(s) for _, s in rs))
    ok, ev_rows = 0, []
    for rel, s in results:
        ev_rows.append((rel.display, _when(s["analyzed_at"]).removeprefix("at "), s["n_mod_since_analyze"],
                        int(max(s["reltuples"], 0))))
        if fresh(s):
            ok += 1
        else:
            after = " after the drill started" if since_ts and s["analyzed_at"] is not None else ""
            problems.append(f"{rel.display} was last analyzed {_when(s['analyzed_at'])}{after}, "
                            f"{s['n_mod_since_analyze']} rows modified since")
    ev = (rows_evidence("Statistics", ("table", "last analyzed", "modified since", "rows (estimate)"), ev_rows,
                        limit=50),)
    if not problems:
        return Outcome(True, f"Statistics are fresh for {', '.join(r.display for r in rels)}.", ev)
    return Outcome(False, "Stale statistics: " + "; ".join(problems) + ". The planner picks plans from these "
                   "numbers; with stale ones it misjudges row counts and chooses slow plans. Run ANALYZE.",
                   ev, score=ok / len(names))


@check
def vacuumed_since(ctx: CheckContext, *, tables: Tables, since: Since = "setup", schema: Schema = "public") -> Outcome:
    """These tables were vacuumed (manually or by autovacuum) after a moment.

    What it asserts:
        last_vacuum or last_autovacuum of each table is later than ``since`` — by default
        the moment the exercise's setup finished.
    Arguments:
        since: ``setup`` (default), a timestamp, or null for "ever vacuumed".
    Feedback on failure:
        Names the tables not vacuumed since then. VACUUM makes the space of dead row
        versions reusable and keeps the visibility map current for index-only scans.
        Partial credit per table.
    Example:
        - check: vacuumed_since
          with: {tables: [orders, products]}
    """
    conn = ctx.grader()
    names, rels, problems = resolve_tables(conn, tables, schema)
    since_ts = _since(ctx, since)

    def good(s) -> bool:
        return s["vacuumed_at"] is not None and (since is None or s["vacuumed_since"])

    results = _poll(_wait(ctx), conn, lambda: [(r, _stats(conn, r.oid, since_ts)) for r in rels],
                    lambda rs: all(good(s) for _, s in rs))
    ok = 0
    for rel, s in results:
        if good(s):
            ok += 1
        else:
            problems.append(f"{rel.display} was last vacuumed {_when(s['vacuumed_at'])}")
    if not problems:
        return Outcome(True, f"{', '.join(r.display for r in rels)} vacuumed.")
    return Outcome(False, "Not vacuumed: " + "; ".join(problems) + ". VACUUM frees the space of dead row "
                   "versions for reuse; without it tables only grow.", score=ok / len(names))


def _pgstattuple_fn(conn):
    row = conn.execute(query(conn, "extension_function"),
                      {"extname": "pgstattuple", "proname": "pgstattuple_approx", "nargs": 1}).fetchone()
    if row is None or not row[1]:
        return None
    return sql.Identifier(row[0], "pgstattuple_approx")


@check
def dead_tuples_below(ctx: CheckContext, *, tables: Tables, ratio: float = 0.1,
                      source: Literal["auto", "stats", "pgstattuple"] = "auto", schema: Schema = "public") -> Outcome:
    """Dead row versions make up less than a given share of these tables.

    What it asserts:
        For each table, dead / (live + dead) tuples < ``ratio``, measured on disk with
        pgstattuple_approx whenever the extension is installed (``source: auto``, the
        default, and ``pgstattuple``): the real state, not statistics — PostgreSQL 18
        lets a table's owner write its reltuples (``pg_restore_relation_stats``, which
        the sandbox revokes as well). Only without pgstattuple, or with ``source:
        stats``, the cumulative statistics stand in (n_dead_tup, and n_live_tup — or
        the planner's reltuples while a fresh clone's counters have not counted the
        live rows yet), read again for a moment while they say "too many" because they
        lag.
    Arguments:
        ratio: the largest acceptable dead share, between 0 and 1 (default 0.1).
        source: auto (default), stats or pgstattuple.
    Feedback on failure:
        Each bloated table's dead share and counts, and where they come from. Dead tuples
        are left by UPDATE and DELETE until VACUUM reclaims them; they make every scan
        read more pages. If VACUUM does not remove them, an old open transaction
        (pg_stat_activity.backend_xmin) is holding them. Partial credit per table.
    Example:
        - check: dead_tuples_below
          with: {tables: [orders, products], ratio: 0.1}
    """
    if source not in ("auto", "stats", "pgstattuple"):
        raise ExerciseBug(f"dead_tuples_below: source must be auto, stats or pgstattuple, not {source!r}")
    conn = ctx.grader()
    names, rels, problems = resolve_tables(conn, tables, schema)
    limit = float(ratio)
    fn = _pgstattuple_fn(conn) if source != "stats" else None
    if fn is None and source == "pgstattuple":
        base = ctx.baseline() if ctx.baseline is not None else None
        if base is not None and _pgstattuple_fn(base) is not None:
            raise LearnerFault(Outcome(False, "The pgstattuple extension is gone from your database (the untouched "
                                              "incident has it), so the grader cannot measure the dead row versions "
                                              f"of {', '.join(map(str, names))}. Leave the incident's extensions in place: a "
                                              "fix removes the bloat, not the tool that measures it."))
        raise ExerciseBug("dead_tuples_below: source: pgstattuple, but pgstattuple is not installed in the incident, "
                          "or the grader may not run pgstattuple_approx")

    def share(live, dead) -> float:
        return dead / (live + dead) if live + dead > 0 else 0.0

    def from_stats(s) -> tuple[int, int, str]:
        if s["activity"] == 0 and s["n_live_tup"] == 0 and s["n_dead_tup"] == 0 and s["relpages"] > 0:
            return 0, 0, "unknown"  # counters silent in this clone although the table has pages
        # UPDATEs add dead tuples but no live ones: until VACUUM or ANALYZE has counted the
        # live rows of a fresh clone, the planner's estimate stands in for them.
        live = s["n_live_tup"] if s["n_live_tup"] > 0 else int(max(s["reltuples"], 0))
        return live, s["n_dead_tup"], "statistics"

    measured: dict[int, tuple[int, int, str]] = {}
    on_disk = [] if fn is None else rels
    for rel in on_disk:
        try:
            live, dead = one_row(conn.execute(sql_query(conn, "maintenance_pgstattuple", fn=fn), {"oid": rel.oid}))
        except psycopg.errors.QueryCanceled:
            raise
        except psycopg.Error:
            if source == "pgstattuple":
                raise
            continue
        measured[rel.oid] = (int(live), int(dead), "pgstattuple")
    unmeasured = [rel for rel in rels if rel.oid not in measured]
    if unmeasured:
        results = _poll(_wait(ctx), conn, lambda: [(r, from_stats(_stats(conn, r.oid, None))) for r in unmeasured],
                        lambda rs: all(m[2] == "statistics" and share(m[0], m[1]) < limit for _, m in rs))
        measured.update({rel.oid: m for rel, m in results})
    ok, ev_rows = 0, []
    for rel in rels:
        live, dead, src = measured[rel.oid]
        pct = share(live, dead)
        ev_rows.append((rel.display, live, dead, f"{pct:.1%}", src))
        if src == "unknown":
            problems.append(f"{rel.display}: no statistics yet in this database"
                            + (" and pgstattuple is not available" if source == "auto" else "")
                            + " (VACUUM or ANALYZE would count its rows)")
        elif pct >= limit:
            problems.append(f"{rel.display}: {pct:.0%} dead ({dead} dead of {live + dead} row versions, {src})")
        else:
            ok += 1
    ev = (rows_evidence("Dead tuples", ("table", "live", "dead", "dead share", "source"), ev_rows, limit=50),)
    if not problems:
        return Outcome(True, f"Dead tuples under {limit:.0%} in {', '.join(r.display for r in rels)}.", ev)
    return Outcome(False, f"Want under {limit:.0%} dead tuples: " + "; ".join(problems) + ". Dead row versions "
                   "stay until VACUUM reclaims them and every scan reads past them. Run VACUUM; if they "
                   "survive it, an old open transaction (see pg_stat_activity.backend_xmin) is holding them.",
                   ev, score=ok / len(names))


@check
def not_rewritten(ctx: CheckContext, *, tables: Tables, schema: Schema = "public") -> Outcome:
    """These tables were not rewritten (no VACUUM FULL, CLUSTER or table-rewriting ALTER TABLE).

    What it asserts:
        Each table still has the data file (pg_relation_filenode) it has on an untouched clone
        of the same incident: nothing rewrote it. VACUUM FULL, CLUSTER, TRUNCATE and ALTER
        TABLE … SET DATA TYPE or SET TABLESPACE write a new file, and hold an ACCESS EXCLUSIVE
        lock on the table while they do; VACUUM, ANALYZE, CREATE INDEX and ALTER TABLE … SET
        (storage parameters) keep the file.
    Arguments:
        Only the shared ``tables`` and ``schema``.
    Feedback on failure:
        Names the rewritten tables and explains the price: while a table is rewritten, every
        read and write of it waits, so in a live shop the checkout stops for the duration.
        Plain VACUUM makes the space of dead tuples reusable without blocking anyone. Partial
        credit per table.
    Example:
        - check: not_rewritten
          with: {tables: [orders, products, order_items]}
    """
    conn = ctx.grader()
    base = ctx.baseline() if ctx.baseline is not None else None
    if base is None:
        raise BaselineMissing("not_rewritten needs an untouched baseline clone, and none is available")
    names, rels, problems = resolve_tables(conn, tables, schema)
    ok, ev_rows = 0, []
    for rel in rels:
        mine = one_row(conn.execute(query(conn, "maintenance_filenode"), {"schema": rel.schema, "name": rel.name}))
        theirs = base.execute(query(base, "maintenance_filenode"), {"schema": rel.schema, "name": rel.name}).fetchone()
        if theirs is None:
            ev_rows.append((rel.display, str(mine[0]), "(new table)"))
            ok += 1
            continue
        ev_rows.append((rel.display, str(mine[0]), str(theirs[0])))
        if mine[0] == theirs[0]:
            ok += 1
        else:
            problems.append(f"{rel.display} was rewritten")
    ev = (rows_evidence("Data file of each table (pg_relation_filenode)", ("table", "yours", "untouched incident"),
                        ev_rows, limit=50),)
    if not problems:
        return Outcome(True, f"{', '.join(r.display for r in rels)} kept their data files: nothing was rewritten.", ev)
    return Outcome(False, "; ".join(problems) + ". VACUUM FULL (or CLUSTER, or a rewriting ALTER TABLE) writes a "
                   "new copy of the table under an ACCESS EXCLUSIVE lock: every read and write of it waits until "
                   "the copy is done, so in a shop that is open the checkout stops. Plain VACUUM makes the space of "
                   "dead tuples reusable without blocking anyone; keep VACUUM FULL for a maintenance window.",
                   ev, score=ok / len(names))


@check
def autovacuum_runs(ctx: CheckContext, *, tables: Tables, vacuum_after: float | None = 0.2,
                    analyze_after: float | None = 0.1, inserts_after: float | None = None,
                    slack: int = vacuum_thresholds.DEFAULT_SLACK, schema: Schema = "public") -> Outcome:
    """Autovacuum would vacuum and analyze these tables soon enough, all settings taken together.

    What it asserts:
        For each table, the number of dead row versions after which autovacuum would vacuum it
        is at most ``vacuum_after`` × its rows + ``slack``, and the number of changed rows after
        which it would analyze it at most ``analyze_after`` × its rows + ``slack`` — computed as
        the server computes them: threshold + scale factor × rows (vacuum capped by
        autovacuum_vacuum_max_threshold on PostgreSQL 18), each parameter from the table's
        storage parameters when set there, else from the server; never while autovacuum or
        track_counts is off on the server or autovacuum_enabled is false on the table. With
        ``inserts_after`` the insert-triggered vacuum (insert threshold + insert scale factor ×
        rows × the unfrozen share on 18) is judged too. Rows are the table's size as the server
        knows it (reltuples, or the live rows counted since when larger). So a setting is never
        judged alone: ``autovacuum_enabled = on`` with a scale factor of 100 or a threshold of
        two billion fails, and a threshold-only tuning that acts early enough passes.
    Arguments:
        vacuum_after: the largest share of the rows that may be dead before a vacuum (default
            0.2, PostgreSQL's stock scale factor); null: not judged.
        analyze_after: the largest share of the rows that may change before an analyze
            (default 0.1, the stock value); null: not judged.
        inserts_after: the largest share of the rows that may be inserted before a vacuum;
            omitted: not judged.
        slack: rows allowed on top of each share (default 50, the stock base thresholds).
    Feedback on failure:
        Per table, that autovacuum never runs on it and why (off on the server, off on the
        table), or after how many rows it would vacuum or analyze, which parameter values (from
        the table or the server) make it so, and the most that is wanted. Evidence shows the
        trigger points of every table. Partial credit per table.
    Example:
        - check: autovacuum_runs
          with: {tables: [orders, order_items], vacuum_after: 0.05, analyze_after: null}
    """
    conn = ctx.grader()
    return vacuum_thresholds.judge(conn, tables, schema, vacuum_after=vacuum_after, analyze_after=analyze_after,
                                   inserts_after=inserts_after, slack=slack)
