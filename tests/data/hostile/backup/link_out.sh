#!/usr/bin/env bash
# "Dumps" that lead to a file only root can read: a symbolic link, and a hard link (which the
# kernel refuses to a user who cannot read the file). The grader, which reads the dump to
# restore it, must follow neither.
ln -s /etc/shadow "$BACKUP_DIR/pagila.dump"
ln /etc/shadow "$BACKUP_DIR/hard.dump" 2>&1 || echo "no hard link to /etc/shadow"
exit 0
