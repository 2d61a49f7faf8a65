#!/bin/sh
# Stops the glewlwyd that start.sh DIR started.
DIR=${1:?usage: stop.sh DIR}
[ -f "$DIR/glewlwyd.pid" ] && kill "$(cat "$DIR/glewlwyd.pid")" 2>/dev/null
rm -f "$DIR/glewlwyd.pid"
