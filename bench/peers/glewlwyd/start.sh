#!/bin/sh
# start.sh DIR [ITERATIONS]
# Starts glewlwyd on 127.0.0.1:4593 with a fresh SQLite database in DIR: Debian's schema
# (init.sqlite3.sql) plus setup.sql (OIDC plugin with ES256 JWT access tokens, client_credentials
# and RFC 7662 introspection; scope "bench"; confidential client bench-client / bench-secret).
# The ES256 key is generated here, into DIR, for this run only.
# ITERATIONS (optional): PBKDF2-HMAC-SHA256 iterations for bench-secret's stored hash (and the
# client module's "pbkdf2-iterations"); default 150000, glewlwyd's own default.
# Exits 0 once /api/oidc/.well-known/openid-configuration answers 200; otherwise kills glewlwyd,
# prints the log tail and exits 1.
set -eu
DIR=${1:?usage: start.sh DIR [ITERATIONS]}
ITERATIONS=${2:-150000}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
rm -f "$DIR/glewlwyd.db" "$DIR/glewlwyd.log" "$DIR/glewlwyd.out"

openssl ecparam -genkey -name prime256v1 -noout -out "$DIR/key.pem"
openssl ec -in "$DIR/key.pem" -pubout -out "$DIR/public.pem" 2>/dev/null

zcat /usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz > "$DIR/init.sqlite3.sql"
python3 - "$DIR" "$HERE/setup.sql" "$ITERATIONS" <<'PY'
import base64, hashlib, json, secrets, sqlite3, string, sys
directory, setup_path, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3])
salt = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16)).encode()
digest = hashlib.pbkdf2_hmac("sha256", b"bench-secret", salt, iterations, 32)
def pem(name):  # JSON string contents; PEM has no quotes, so it is also safe inside the SQL literal
    return json.dumps(open(f"{directory}/{name}").read())[1:-1]
setup = open(setup_path).read()
for placeholder, value in (("@PRIVATE_KEY_JSON@", pem("key.pem")), ("@PUBLIC_KEY_JSON@", pem("public.pem")),
                           ("@CLIENT_SECRET_HASH@", f"{base64.b64encode(digest + salt).decode()},{iterations}"),
                           ("@PBKDF2_ITERATIONS@", str(iterations))):
    setup = setup.replace(placeholder, value)
connection = sqlite3.connect(f"{directory}/glewlwyd.db")
connection.executescript(open(f"{directory}/init.sqlite3.sql").read())
connection.executescript(setup)
connection.commit()
connection.close()
PY
rm -f "$DIR/init.sqlite3.sql"

URL=http://127.0.0.1:4593/api/oidc/.well-known/openid-configuration
if curl -s -o /dev/null "$URL" 2>/dev/null; then
  echo "something already answers on 127.0.0.1:4593 (a glewlwyd left running?); not starting"; exit 1
fi

sed "s|@DIR@|$DIR|g" "$HERE/glewlwyd.conf" > "$DIR/glewlwyd.conf"
glewlwyd --config-file="$DIR/glewlwyd.conf" > "$DIR/glewlwyd.out" 2>&1 &
echo $! > "$DIR/glewlwyd.pid"

for _ in $(seq 1 150); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL" 2>/dev/null)" = 200 ]; then
    exit 0
  fi
  kill -0 "$(cat "$DIR/glewlwyd.pid")" 2>/dev/null || break
  sleep 0.1
done
echo "glewlwyd is not answering 200 on $URL:"
kill "$(cat "$DIR/glewlwyd.pid")" 2>/dev/null || true
rm -f "$DIR/glewlwyd.pid"
tail -n 20 "$DIR/glewlwyd.out" "$DIR/glewlwyd.log" 2>/dev/null || true
exit 1
