#!/bin/sh
# stop.sh DIR: stops the glewlwyd that start.sh DIR started (SIGTERM, then SIGKILL after 5 s).
DIR=${1:?usage: stop.sh DIR}
[ -f "$DIR/glewlwyd.pid" ] || exit 0
PID=$(cat "$DIR/glewlwyd.pid")
kill "$PID" 2>/dev/null
for _ in $(seq 1 50); do
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
kill -9 "$PID" 2>/dev/null
rm -f "$DIR/glewlwyd.pid"
exit 0
