#!/usr/bin/env bash
# One job of a class regrade (.github/workflows/regrade.yml in the grading bundle; pgdrill's
# docs/classroom.md, "Class regrade"): clone the student repositories of share INDEX of COUNT
# of the roster, grade them in one batch and write a gradebook folder to OUT. The merge job
# joins the folders with `grade.py gradebook merge`.
#
#   regrade-chunk.sh ROSTER INDEX COUNT OUT
#
# Environment: PGDRILL_CLONE_TOKEN (read access to the students' repositories), PGDRILL_SCALE,
# PGDRILL_GRADING_SEED, PGDRILL_EXERCISES (space-separated ids; default all), PGDRILL_WORKERS
# (default 2), PGDRILL_CLONE_BASE (where repositories are
# cloned from, default https://github.com/), PGDRILL_GRADE_PY (default: grade.py beside this
# script).
set -euo pipefail
roster=$1 index=$2 count=$3 out=$4
here="$(cd "$(dirname "$0")" && pwd)"
grade_py="${PGDRILL_GRADE_PY:-$here/grade.py}"
base="${PGDRILL_CLONE_BASE:-https://github.com/}"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/submissions" "$out"

auth=()
if [ -n "${PGDRILL_CLONE_TOKEN:-}" ]; then
  # The token goes in a header for this git command only: never into a URL, a log or .git/config.
  auth=(-c "http.extraheader=AUTHORIZATION: basic $(printf 'x-access-token:%s' "$PGDRILL_CLONE_TOKEN" | base64 -w0)")
fi

: > "$out/not-cloned.txt"
while IFS=$'\t' read -r folder repo; do
  [ -n "$folder" ] || continue
  if [ -z "$repo" ]; then
    echo "::warning::$folder: no repo in the roster, not graded"
    echo "$folder	no repo in the roster" >> "$out/not-cloned.txt"
  elif ! git "${auth[@]}" clone --quiet --depth 1 "$base$repo" "$work/submissions/$folder" 2>"$work/clone.err"; then
    echo "::warning::$folder: could not clone $repo: $(tail -1 "$work/clone.err")"
    echo "$folder	could not clone $repo" >> "$out/not-cloned.txt"
  fi
done < <("$python" "$grade_py" gradebook chunk "$roster" --chunk "$index/$count")

if [ -z "$(ls -A "$work/submissions")" ]; then
  echo "chunk $index/$count: nothing to grade"
  echo "[]" > "$out/gradebook.json"
  exit 0
fi
args=(--batch "$work/submissions" --out "$out" --workers "${PGDRILL_WORKERS:-2}")
for id in ${PGDRILL_EXERCISES:-}; do args+=(--exercise "$id"); done
if [ -n "${PGDRILL_SCALE:-}" ]; then args+=(--scale "$PGDRILL_SCALE"); fi
if [ -n "${PGDRILL_GRADING_SEED:-}" ]; then args+=(--seed "$PGDRILL_GRADING_SEED"); fi
start=$(date +%s)
# As root (sudo where we are not): the server then runs as an unprivileged user and learner
# programs in the bubblewrap sandbox; without root they would be reported as not graded.
as_root=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then
  as_root=(sudo --preserve-env=PGDRILL_CACHE_DIR env "PATH=$PATH")
fi
"${as_root[@]}" "$python" "$grade_py" "${args[@]}"
echo "chunk $index/$count graded in $(( $(date +%s) - start )) s"
