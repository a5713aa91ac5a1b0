#!/usr/bin/env bash
# Start processes forever, some of them in sessions of their own (setsid) so that killing
# the script's process group would not reach them. MARKER is filled in by the test.
for i in $(seq 1 20); do
  setsid bash -c 'exec -a MARKER sleep 1000' &
done
while true; do
  (exec -a MARKER sleep 1000) &
  sleep 0.01
done
