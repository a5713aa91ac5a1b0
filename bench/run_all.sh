#!/usr/bin/env bash
# Every benchmark in one command; each prints its figures beside its yardstick and appends a
# dated section (machine, date) to bench/results.md.
#   bash bench/run_all.sh [--server embedded|system]
set -euo pipefail
cd "$(dirname "$0")/.."
server_args=("$@")
python3 bench/build_incident.py --scales 1 10 "${server_args[@]}" --markdown bench/results.md
python3 bench/grade_capstone.py --scale 1 "${server_args[@]}" --markdown bench/results.md
python3 bench/batch_throughput.py --markdown bench/results.md
python3 bench/warm_grading.py "${server_args[@]}" --markdown bench/results.md
python3 bench/regrade_fanout.py --markdown bench/results.md
