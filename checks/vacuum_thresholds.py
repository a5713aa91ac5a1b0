"""When autovacuum would act on a table, computed the way the server computes it.

Shared by the checks that judge autovacuum settings (``maintenance.autovacuum_runs``,
``catalog.autovacuum_enabled``): no parameter is judged alone. A table is vacuumed once its
dead row versions exceed

    vacuum threshold + vacuum scale factor × rows      (capped, on PostgreSQL 18, by
                                                        autovacuum_vacuum_max_threshold)

vacuumed for inserts once the rows inserted since the last vacuum exceed

    insert threshold + insert scale factor × rows × unfrozen share   (−1 turns this off; the
                                                                     unfrozen share is 18's)

and analyzed once the rows changed since the last analyze exceed

    analyze threshold + analyze scale factor × rows

— each parameter taken from the table's storage parameters (``ALTER TABLE … SET``) when set
there, else from the server; and nothing happens at all while autovacuum or track_counts is
off on the server or autovacuum_enabled is false on the table. So ``autovacuum_enabled = on``
with a scale factor of 100, or with a threshold of two billion, never vacuums in practice,
and a threshold-only tuning (scale factor 0, threshold 5000) vacuums a big table early.

``rows`` is the table's size as the server knows it: the larger of pg_class.reltuples and
the live rows counted by the statistics. (Autovacuum itself takes reltuples, as 0 before the
first VACUUM or ANALYZE; the settings are judged for the table as it is, not for that moment.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pgdrill.checks.base import ExerciseBug, Outcome
from pgdrill.checks.sql import query, resolve_tables, rows_evidence

# The 50 rows of PostgreSQL's stock base thresholds: a bound "after 5 % of the rows" allows them
# on top, so the stock threshold with a 5 % scale factor fits it.
DEFAULT_SLACK = 50
_FALSE_WORDS = {"f", "fa", "fal", "fals", "false", "n", "no", "of", "off", "0"}

_PARAMS = ("autovacuum_vacuum_threshold", "autovacuum_vacuum_scale_factor", "autovacuum_analyze_threshold",
           "autovacuum_analyze_scale_factor", "autovacuum_vacuum_insert_threshold",
           "autovacuum_vacuum_insert_scale_factor", "autovacuum_vacuum_max_threshold")


@dataclass(frozen=True)
class Triggers:
    """After how many rows autovacuum would act on one table (None: never)."""

    rows: float
    off_because: str | None          # why autovacuum never runs on it, or None
    vacuum_after: float | None       # dead row versions
    analyze_after: float | None      # rows changed since the last analyze
    inserts_after: float | None      # rows inserted since the last vacuum (None: off)
    used: dict = field(default_factory=dict)  # parameter -> "value (table)" / "value (server)"

    def describe(self, which: str) -> str:
        """The parameters behind one trigger, e.g. "scale factor 100 (table), threshold 50 (server)"."""
        names = {"vacuum": ("autovacuum_vacuum_scale_factor", "autovacuum_vacuum_threshold",
                            "autovacuum_vacuum_max_threshold"),
                 "analyze": ("autovacuum_analyze_scale_factor", "autovacuum_analyze_threshold"),
                 "inserts": ("autovacuum_vacuum_insert_scale_factor", "autovacuum_vacuum_insert_threshold")}[which]
        parts = []
        for name in names:
            if name in self.used:
                short = name.removeprefix("autovacuum_").replace("vacuum_insert_", "insert ").replace(
                    "vacuum_", "").replace("analyze_", "").replace("_", " ")
                parts.append(f"{short} {self.used[name]}")
        return ", ".join(parts)


def _number(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def triggers(conn, oid: int) -> Triggers:
    """The autovacuum trigger points of the table with this OID, as the server would compute them."""
    row = conn.execute(query(conn, "maintenance_autovacuum_inputs"), {"table_oid": oid}).fetchone()
    reltuples, relpages, relallfrozen, n_live, opt_names, opt_values, set_names, set_values = row
    table = dict(zip(opt_names, opt_values))
    server = dict(zip(set_names, set_values))
    rows = max(float(reltuples or 0), float(n_live or 0), 0.0)
    used: dict[str, str] = {}

    def param(name: str) -> float | None:
        if name in table and _number(table[name]) is not None:
            used[name] = f"{table[name]} (table)"
            return _number(table[name])
        if name in server:
            used[name] = f"{server[name]} (server)"
            return _number(server[name])
        return None  # not on this server version

    off = None
    if server.get("autovacuum") != "on":
        off = f"autovacuum = {server.get('autovacuum')} on the server"
    elif server.get("track_counts") != "on":
        off = f"track_counts = {server.get('track_counts')} on the server: autovacuum cannot see what changed"
    elif str(table.get("autovacuum_enabled", "on")).strip().lower() in _FALSE_WORDS:
        off = f"autovacuum_enabled = {table['autovacuum_enabled']} on the table"

    vac = (param("autovacuum_vacuum_threshold") or 0) + (param("autovacuum_vacuum_scale_factor") or 0) * rows
    cap = param("autovacuum_vacuum_max_threshold")
    if cap is not None and cap >= 0:
        vac = min(vac, cap)
    anl = (param("autovacuum_analyze_threshold") or 0) + (param("autovacuum_analyze_scale_factor") or 0) * rows
    ins_base = param("autovacuum_vacuum_insert_threshold")
    ins_scale = param("autovacuum_vacuum_insert_scale_factor")
    unfrozen = 1.0
    if relpages and relallfrozen and relpages > 0 and relallfrozen > 0:
        unfrozen = 1.0 - min(relallfrozen, relpages) / relpages
    ins = None if ins_base is None or ins_base < 0 else ins_base + (ins_scale or 0) * rows * unfrozen
    if off is not None:
        return Triggers(rows, off, None, None, None, used)
    return Triggers(rows, None, vac, anl, ins, used)


def bound(fraction, rows: float, slack) -> float:
    """The most changed rows allowed before autovacuum acts: ``fraction`` of ``rows`` plus ``slack``."""
    return float(fraction) * rows + float(slack)


def count(value: float | None) -> str:
    """A trigger point for people: "never", or a row count with thousands separators."""
    return "never" if value is None else f"{value:,.0f}"


_WHAT = {"vacuum": ("vacuum", "dead row versions"), "analyze": ("analyze", "changed rows"),
         "inserts": ("vacuum for inserts", "inserted rows")}


def judge(conn, tables, schema: str, *, vacuum_after, analyze_after, inserts_after=None,
          slack=DEFAULT_SLACK):
    """One Outcome for "autovacuum acts on each of these tables soon enough" (partial credit per table).

    Each ``*_after`` is a fraction of the table's rows (None: not judged); a table passes when
    every judged trigger point is at most that fraction of its rows plus ``slack``.
    """
    names, rels, problems = resolve_tables(conn, tables, schema)
    limits = {"vacuum": vacuum_after, "analyze": analyze_after, "inserts": inserts_after}
    for key, value in limits.items():
        if value is not None and not 0 <= float(value):
            raise ExerciseBug(f"{key}_after must be a fraction of the table's rows (0 or more), not {value!r}")
    ok, ev_rows = 0, []
    for rel in rels:
        trig = triggers(conn, rel.oid)
        ev_rows.append((rel.display, f"{trig.rows:,.0f}", count(trig.vacuum_after), count(trig.analyze_after),
                        "off" if trig.inserts_after is None and trig.off_because is None else count(trig.inserts_after),
                        trig.off_because or "; ".join(f"{k}: {v}" for k, v in trig.used.items())))
        if trig.off_because is not None:
            problems.append(f"autovacuum never runs on {rel.display} ({trig.off_because})")
            continue
        wrong = []
        for key, fraction in limits.items():
            if fraction is None:
                continue
            have = getattr(trig, f"{key}_after")
            limit = bound(fraction, trig.rows, slack)
            if have is None or have > limit:
                verb, unit = _WHAT[key]
                wrong.append(f"it would {verb} only after {count(have)} {unit} ({trig.describe(key) or 'off'}), "
                             f"want at most {count(limit)} ({float(fraction):.0%} of its {trig.rows:,.0f} rows "
                             f"+ {slack})")
        if wrong:
            problems.append(f"{rel.display}: " + "; ".join(wrong))
        else:
            ok += 1
    ev = (rows_evidence("When autovacuum would act (rows)", ("table", "rows", "vacuum after dead",
                                                             "analyze after changed", "vacuum after inserted",
                                                             "from"), ev_rows, limit=50),)
    if not problems:
        judged = ", ".join(f"{_WHAT[k][0]} within {float(v):.0%}" for k, v in limits.items() if v is not None)
        return Outcome(True, f"Autovacuum acts on {', '.join(map(str, names))} in time ({judged} of the rows).", ev)
    return Outcome(False, "Autovacuum does not keep up: " + "; ".join(problems) + ". What counts is when it "
                   "would actually run: threshold + scale factor × rows, each from the table's storage parameters "
                   "or else from the server, and nothing at all while it is switched off. A huge scale factor or "
                   "threshold switches it off in all but name.", ev, score=ok / len(names))
