"""The HTML report, rendered by a real headless Chromium: it shows every check."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

from pgdrill.grading import SOLUTIONS_DIR
from pgdrill.render import render
from pgdrill.report import GradeReport

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(*args: str) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        if os.environ.get("PGDRILL_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is required here (PGDRILL_REQUIRE_CHROMIUM) but not installed")
        pytest.skip("chromium not installed (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="pgdrill-chromium-")
    try:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def graded_html(tmp_path_factory, request):
    """A real report: the demo exercise graded twice (reference and starter) in one report."""
    from pgdrill.grading import EXERCISES_DIR, Grader, GradingOptions
    from pgdrill.spec import load_spec
    from pgdrill import checks
    from pgdrill.fixtures.server import start_server

    spec = load_spec(EXERCISES_DIR / "demo-first-fix" / "exercise.yaml", checks.load_all())
    with start_server(request.config.getoption("--pg-server"), dsn=request.config.getoption("--pg-dsn")) as server:
        grader = Grader(server, options=GradingOptions(scale=0.1))
        good = grader.grade_exercise(spec, SOLUTIONS_DIR / spec.id)
        bad = grader.grade_exercise(spec, EXERCISES_DIR / spec.id)
    report = GradeReport(submission="browser-test", exercises=(good, bad))
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render(report, "html"), encoding="utf-8")
    return report, path


def test_html_report_renders_every_check_in_chromium(graded_html):
    report, path = graded_html
    dom = _chromium("--dump-dom", path.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    for exercise in report.exercises:
        for check in exercise.checks:
            assert check.description.split(" (")[0][:40].replace("&", "&amp;") in text.replace("&#39;", "'"), check.check_id
    assert "http://" not in path.read_text() and "https://" not in path.read_text()  # self-contained


def test_html_report_screenshot_is_not_blank(graded_html, tmp_path):
    _, path = graded_html
    shot = tmp_path / "report.png"
    proc = _chromium(f"--screenshot={shot}", "--window-size=1200,1600", path.as_uri())
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few hundred bytes
