#!/usr/bin/env bash
# Reads what a backup script must never see: the grader's checkout (reference solutions, the
# exercise specs), another learner's submission, the grader's command line (which carries
# --seed and paths) — and leaves files in /tmp, /dev/shm and /var/tmp. Then it makes a
# correct backup, so the check itself must still pass. Placeholders REPO_ROOT, OTHER_SUBMISSION
# and MARKER are filled in by tests/test_hostile.py.
for f in REPO_ROOT/solutions/course-10-backup-restore/backup.sh REPO_ROOT/exercises/course-10-backup-restore/exercise.yaml \
         OTHER_SUBMISSION/solution.sql; do
  if cat "$f" 2>/dev/null; then echo "READ $f"; else echo "could not read $f"; fi
done
for p in /proc/[0-9]*; do tr '\0' ' ' < "$p/cmdline" 2>/dev/null; echo; done > "$HOME/cmdlines" 2>&1
echo "processes seen: $(ls -d /proc/[0-9]* | wc -l)"
grep -h -o -E -e '--seed[= ][0-9]+|pytest|grade\.py' "$HOME/cmdlines" | sort -u | sed 's/^/SEEN /'
ls /tmp | sed 's/^/IN TMP: /'
for d in /tmp /dev/shm /var/tmp; do echo left > "$d/MARKER" 2>&1 || echo "could not write $d"; done
pg_dump --format=custom --no-password --file="$BACKUP_DIR/pagila.dump"
