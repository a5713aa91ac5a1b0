#!/usr/bin/env bash
# Run a command the way Gradescope's default autograder machine would: 0.5 CPU and 768 MB of
# memory for it and every process it starts (PostgreSQL included), in a cgroup of their own.
# Needs root and a writable cgroup file system (v2: cpu.max / memory.max; v1: the cpu and
# memory controllers). Prints /usr/bin/time -v's figures and the cgroup's memory peak.
#
#   sudo bench/gradescope_machine.sh python grade.py solutions/ -e techshop-4-1-indexes
#
# Set CPU_QUOTA (default 50000 µs per 100000 µs) and MEMORY_MB (default 768) to try others.
# Used for the resource table in docs/classroom.md and bench/results.md; run it once, by hand
# (it takes minutes), never from a test.
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 COMMAND [ARGS…]" >&2; exit 2; }
QUOTA="${CPU_QUOTA:-50000}"
MEMORY=$(( ${MEMORY_MB:-768} * 1024 * 1024 ))
NAME="pgdrill-gradescope-$$"
procs=()
cleanup() {  # a cgroup can be removed once its last process is gone
  for dir in "${procs[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$dir" 2>/dev/null && break; sleep 0.5; done
  done
}
trap cleanup EXIT

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then          # cgroup v2
  dir="/sys/fs/cgroup/$NAME"
  mkdir "$dir"; procs+=("$dir")
  echo "$QUOTA 100000" > "$dir/cpu.max"
  echo "$MEMORY" > "$dir/memory.max"
  echo 0 > "$dir/memory.swap.max" 2>/dev/null || true
  join=("$dir/cgroup.procs"); peak="$dir/memory.peak"
else                                                        # cgroup v1
  mem_base="/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' /proc/self/cgroup)"
  cpu="/sys/fs/cgroup/cpu/$NAME"; mem="${mem_base%/}/$NAME"
  mkdir "$cpu" "$mem"; procs+=("$cpu" "$mem")
  echo 100000 > "$cpu/cpu.cfs_period_us"; echo "$QUOTA" > "$cpu/cpu.cfs_quota_us"
  echo "$MEMORY" > "$mem/memory.limit_in_bytes"
  join=("$cpu/cgroup.procs" "$mem/cgroup.procs"); peak="$mem/memory.max_usage_in_bytes"
fi
echo "limits: cpu $QUOTA/100000 µs, memory $((MEMORY / 1024 / 1024)) MB" >&2
set +e
( for f in "${join[@]}"; do echo $BASHPID > "$f"; done; exec /usr/bin/time -v "$@" )
code=$?
set -e
echo "cgroup memory peak: $(( $(cat "$peak") / 1024 / 1024 )) MB (page cache included)" >&2
exit "$code"
