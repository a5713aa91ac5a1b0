"""The repository stands alone: nothing it runs, documents or ships points outside itself.

A fresh clone must grade at 100 % with nothing beside it. What used to break that was a
sibling folder of sample databases that code read, READMEs told learners to run and the
grading bundle quietly left out. The scan below reads every file of the tree (code, docs,
exercise READMEs, solutions, bench, CI, packaging — all but the vendored upstream data) for:

* a sibling ``shared/`` folder (its samples, scenario or design notes);
* an absolute path of a developer's machine (``/work/…``, ``/home/…``, ``/Users/…``);
* ``Path(__file__)`` climbing above the repository root (``parents[2]`` from
  ``fixtures/templates.py``; the same index from three folders down stays inside);
* a shell script's ``$(dirname "$0")/..`` climbing above the root.

System locations the product really uses (``/tmp``, ``/var/tmp``, ``/opt/pgdrill-venv`` on
Gradescope, ``/usr/lib/postgresql``) are not the developer's tree and are allowed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ("pagila", "chinook", "northwind")

# Folders that are build or cache output, never part of the repository's content.
_SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".hypothesis", "build", "dist", "node_modules"}
# This file spells the forbidden patterns out in order to look for them.
_THIS_FILE = Path("tests") / "test_self_contained.py"

_LITERALS = [
    ("sibling shared folder", re.compile(r"\.\./shared\b|(?<![\w-])shared/(?:samples|scenario|design)\b")),
    ("absolute path of a developer's machine", re.compile(r"(?<![\w.~-])/(?:work|home|Users)/")),
]
_FILE_PARENTS = re.compile(r"Path\(__file__\)(?:\.resolve\(\)|\.absolute\(\))?(?:\.parents\[(\d+)\]|((?:\.parent)+))")
_SCRIPT_DIR_UP = re.compile(r"dirname\s+\"?\$(?:0|\{BASH_SOURCE\[0\]\}|BASH_SOURCE)\"?\s*\)((?:/\.\.)+)")


def _is_vendored_upstream(rel: Path) -> bool:
    """The sample databases' own files (SQL and licences), kept byte for byte as published."""
    return rel.parts[:2] == ("fixtures", "samples") and len(rel.parts) == 4 and rel.name != "PROVENANCE.md"


def repository_files(root: Path):
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (not path.is_file() or set(rel.parts) & _SKIP_DIRS or any(p.endswith(".egg-info") for p in rel.parts)
                or rel == _THIS_FILE or _is_vendored_upstream(rel)):
            continue
        yield path, rel


def outside_mentions(root: Path) -> list[tuple[str, int, str]]:
    """``(file, line, what)`` for every mention of a path outside ``root``."""
    found = []
    for path, rel in repository_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        depth = len(rel.parts)  # parents[depth - 1] of the file is the repository root
        for n, line in enumerate(text.splitlines(), 1):
            for what, pattern in _LITERALS:
                if pattern.search(line):
                    found.append((rel.as_posix(), n, what))
            for m in _FILE_PARENTS.finditer(line):
                index = int(m.group(1)) if m.group(1) is not None else m.group(2).count(".parent") - 1
                if index >= depth:
                    found.append((rel.as_posix(), n, "Path(__file__) above the repository root"))
            for m in _SCRIPT_DIR_UP.finditer(line):
                # dirname of the script is parents[0]; each /.. climbs one more.
                if m.group(1).count("/..") >= depth:
                    found.append((rel.as_posix(), n, "script folder above the repository root"))
    return found


def test_nothing_mentions_a_path_outside_the_repository():
    assert outside_mentions(ROOT) == []


def _copy_tree(target: Path) -> Path:
    """The repository's own files (without the large sample dumps, which the scan skips anyway)."""
    for path, rel in repository_files(ROOT):
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / rel)
    return target


def test_the_scan_finds_planted_mentions(tmp_path):
    copy = _copy_tree(tmp_path / "copy")
    assert outside_mentions(copy) == []
    plants = {
        "exercises/course-05-indexes/README.md": "../shared/samples/pagila/load.sh postgresql://you@localhost/postgres\n",
        "docs/incident.md": "The scenario (`shared/scenario/techshop-incident.md`) says so.\n",
        "bench/planted.py": "NOTES = '/work/shared/design/house-style.md'\n",
        "fixtures/planted.py": "SAMPLES = Path(__file__).resolve().parents[2] / 'samples'\n",
        "pgdrill/planted_parent.py": "DATA = Path(__file__).parent.parent.parent / 'data'\n",
        ".ci/planted": 'cd "$(dirname "$0")/../.."\n',
        "solutions/course-02-querying/planted.sql": "\\i /home/teacher/chinook.sql\n",
    }
    # Legitimate look-alikes: the same climbs from deeper down stay inside the repository.
    harmless = {
        "exercises/course-05-indexes/sub/deeper.py": "ROOT = Path(__file__).resolve().parents[2]\n",
        "pgdrill/fine.py": "ROOT = Path(__file__).resolve().parent.parent\n",
        ".ci/fine": 'cd "$(dirname "$0")/.."\n',
        "docs/fine.md": "The embedded binaries are copied from /root to /var/tmp; shared buffers / shared_preload.\n",
    }
    for rel, text in {**plants, **harmless}.items():
        path = copy / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(text)
    found = {file for file, _, _ in outside_mentions(copy)}
    assert found == set(plants)


def _build_package(tmp_path: Path) -> Path:
    """What an install puts in site-packages, built offline from a copy of the repository
    (``build_py``: the files of the wheel, without zipping them)."""
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build"))
    lib = tmp_path / "lib"
    proc = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                           "--build-lib", str(lib)], cwd=source, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return lib


def test_the_package_installs_one_top_level_name_that_runs_alone(tmp_path):
    """An install holds one top-level package, ``pgdrill``, with the repository's checks/ and
    fixtures/ inside it as real folders; it runs from there, with no source tree on the path
    (the interpreter runs in an empty folder, and the editable install of whatever tree is
    installed here comes after the path)."""
    lib = _build_package(tmp_path)
    assert sorted(p.name for p in lib.iterdir()) == ["pgdrill"]
    assert not any(p.is_symlink() for p in lib.rglob("*"))
    assert (lib / "pgdrill" / "checks" / "kit.py").is_file() and (lib / "pgdrill" / "fixtures" / "server.py").is_file()
    assert (lib / "pgdrill" / "checks" / "programs" / "pg_dump-fails.sh").is_file()
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(lib)
    code = ("import pgdrill, pgdrill.checks as c, pgdrill.fixtures.kinds.sample as t\n"
            "registry = c.load_all()\n"
            "import sys\n"
            "print(pgdrill.__file__, c.__file__, t.__file__, t.SAMPLES_DIR,\n"
            "      *{sys.modules[d.func.__module__].__file__ for d in registry.values()}, sep='\\n')\n")
    where = subprocess.run([sys.executable, "-c", code], cwd=empty, env=env, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    files = where.stdout.split()
    assert len(files) > 5 and all(Path(f).is_relative_to(lib / "pgdrill") for f in files), files
    cli = subprocess.run([sys.executable, "-c", "import sys; from pgdrill.cli import main; sys.exit(main(['--help']))"],
                         cwd=empty, env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and "usage" in cli.stdout.lower(), cli.stdout + cli.stderr


def test_a_copy_of_the_tree_imports_its_own_engine(tmp_path):
    """A source tree run with ``python grade.py`` (a fresh clone, the student template, the
    grading bundle, CI's ``git archive`` copy) imports its own pgdrill, checks and fixtures,
    even where pgdrill is installed in editable mode from another tree."""
    clone = tmp_path / "clone"
    clone.mkdir()
    for part in ("grade.py", "pyproject.toml"):
        shutil.copyfile(ROOT / part, clone / part)
    for part in ("pgdrill", "checks", "fixtures"):
        shutil.copytree(ROOT / part, clone / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    # grade.py's own start (its folder first on the path), run from another folder
    code = ("import runpy, sys\n"
            "runpy.run_path(sys.argv[1], run_name='grade')\n"
            "import pgdrill.checks as c, pgdrill.fixtures.kinds.sample as t, pgdrill.cli\n"
            "registry = c.load_all()\n"
            "print(pgdrill.cli.__file__, c.__file__, t.__file__, t.SAMPLES_DIR,\n"
            "      *{sys.modules[d.func.__module__].__file__ for d in registry.values()}, sep='\\n')\n")
    where = subprocess.run([sys.executable, "-c", code, str(clone / "grade.py")], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    files = where.stdout.split()
    assert len(files) > 5 and all(Path(f).is_relative_to(clone) for f in files), files
    assert all(not Path(f).resolve().is_relative_to(ROOT) for f in files), files


def test_the_samples_ship_inside_the_package(tmp_path):
    """Every vendored sample file (SQL, licence, provenance) is package data of ``pgdrill.fixtures``."""
    lib = _build_package(tmp_path)
    vendored = {p.relative_to(ROOT / "fixtures").as_posix() for p in (ROOT / "fixtures" / "samples").rglob("*")
                if p.is_file()}
    built = {p.relative_to(lib / "pgdrill" / "fixtures").as_posix()
             for p in (lib / "pgdrill" / "fixtures" / "samples").rglob("*") if p.is_file()}
    assert vendored and built == vendored
    for name in SAMPLES:
        names = {Path(p).name for p in built if Path(p).parent.name == name}
        assert "PROVENANCE.md" in names and any(n.startswith("LICENSE") for n in names), name
        assert any(n.endswith(".sql") for n in names), name
