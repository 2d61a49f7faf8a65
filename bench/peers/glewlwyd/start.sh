#!/bin/sh
# Starts glewlwyd on 127.0.0.1:4593 with a fresh SQLite database in DIR and configures it for
# the OAuth benchmark: the OIDC plugin (ES256 JWT access tokens, client_credentials, RFC 7662
# introspection), a scope "bench" and a confidential client bench-client / bench-secret.
# Exits 0 once a client_credentials token has been issued and introspected as active.
# ITERATIONS (optional) sets the client module's PBKDF2 iterations for client secrets
# (glewlwyd's own default applies when it is not given).
set -eu
DIR=${1:?usage: start.sh DIR [ITERATIONS]}
ITERATIONS=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$DIR"
rm -f "$DIR/glewlwyd.db"
# The schema and the default admin (admin / password) from Debian's package.
zcat /usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz | python3 -c "
import sqlite3, sys
import json
connection = sqlite3.connect(sys.argv[1]); connection.executescript(sys.stdin.read())
if sys.argv[2]:
    row = connection.execute(\"SELECT gcmi_parameters FROM g_client_module_instance WHERE gcmi_name = 'database'\").fetchone()
    parameters = json.loads(row[0]); parameters['pbkdf2-iterations'] = int(sys.argv[2])
    connection.execute(\"UPDATE g_client_module_instance SET gcmi_parameters = ? WHERE gcmi_name = 'database'\", (json.dumps(parameters),))
connection.commit()" "$DIR/glewlwyd.db" "$ITERATIONS"
# A signing key made for this run only; never committed.
openssl ecparam -genkey -name prime256v1 -noout -out "$DIR/key.pem" 2>/dev/null
openssl ec -in "$DIR/key.pem" -pubout -out "$DIR/public.pem" 2>/dev/null
sed "s|@DIR@|$DIR|g" "$HERE/glewlwyd.conf.in" > "$DIR/glewlwyd.conf"
glewlwyd --config-file="$DIR/glewlwyd.conf" > "$DIR/glewlwyd.out" 2>&1 &
echo $! > "$DIR/glewlwyd.pid"
for _ in $(seq 1 100); do
  if curl -s -o /dev/null http://127.0.0.1:4593/api/auth/scheme/ 2>/dev/null; then
    exec python3 "$HERE/configure.py" "$DIR"
  fi
  if ! kill -0 "$(cat "$DIR/glewlwyd.pid")" 2>/dev/null; then
    echo "glewlwyd exited:"; tail -5 "$DIR/glewlwyd.out" "$DIR/glewlwyd.log" 2>/dev/null; exit 1
  fi
  sleep 0.1
done
echo "glewlwyd did not answer on 127.0.0.1:4593 within 10 s"; exit 1
