"""SQLite against PostgreSQL in the same run on the same machine: login, verify (distinct tokens and
a 1,000-token mix), authorize, client_credentials and introspection, with the server's CPU per
request. PostgreSQL is a throwaway cluster (scripts/test-postgres.sh, fsync off as in the tests;
its own CPU is not counted in the server's), or PORTCULLIS_TEST_POSTGRES when set."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid

from .. import lib  # puts the repository root on sys.path for tools/
from . import login
from tools.portcullis_server import create_postgres_database  # noqa: E402

CONNECTIONS = 64
LOGIN_CONNECTIONS = 16
SCRIPT = lib.ROOT / "scripts" / "test-postgres.sh"


def postgres_url() -> tuple[str, str | None]:
    """A server URL and the cluster folder to stop afterwards (None when the caller gave one)."""
    given = os.environ.get("PORTCULLIS_TEST_POSTGRES")
    if given:
        return given, None
    folder = tempfile.mkdtemp(prefix="portcullis-bench-pg-")
    url = subprocess.run([str(SCRIPT), "start", folder], check=True, capture_output=True, text=True, timeout=120).stdout.strip()
    return url, folder


def database(server_url: str) -> str:
    return create_postgres_database(server_url, "bench_" + uuid.uuid4().hex[:10])


def measure(backend: str, env: dict) -> dict:
    server = lib.Server(f"backend-{backend}", env=env)
    if backend == "postgres":
        server.cli("migrate")
        # PostgreSQL keeps the signing keys in the database; token-mint signs with Keys/ files. Make
        # the keys in Keys/ (through a scratch SQLite database) and import them: both hold the same keys.
        server.cli("keys", "rotate", "--db", f"sqlite:{server.directory / 'scratch.db'}")
        server.cli("keys", "import")
    server.add_user("bench", roles=("editor",))
    login.add_login_users(server)
    server.start()
    try:
        figures: dict = {}
        figures["login"] = lib.wrk(server.url, "post.lua", connections=LOGIN_CONNECTIONS, server_pid=server.pid, env=login.login_env())
        template = server.login("bench")["access_token"]
        probe = lib.wrk(server.url, "verify.lua", connections=CONNECTIONS, seconds=2,
                        env={"BENCH_TOKENS": str(lib.write_lines(server.directory / "probe.txt", server.mint(template, 20_000))),
                             "BENCH_MODE": "distinct"})
        tokens = lib.write_lines(server.directory / "tokens.txt", server.mint(template, int(probe["rps"] * 2.5 * lib.SECONDS) + 20_000))
        for mode in ("distinct", "mix"):
            figures[f"verify_{mode}"] = lib.wrk(server.url, "verify.lua", connections=CONNECTIONS, server_pid=server.pid,
                                                env={"BENCH_TOKENS": str(tokens), "BENCH_MODE": mode})
        token = server.login("bench")["access_token"]
        body = json.dumps({"token": token, "action": "write", "resource": "documents/plans/q3"})
        figures["authorize"] = lib.wrk(server.url, "post.lua", connections=CONNECTIONS, server_pid=server.pid,
                                       env={"BENCH_PATH": "/v1/authorize", "BENCH_BODY": body, "BENCH_EXPECT": '"allowed":true'})
        client = json.loads(server.cli("client", "add", "bench", "--grant-type", "client_credentials", "--json"))
        authorization = lib.basic(client["client_id"], client["client_secret"])
        form = {"BENCH_CONTENT_TYPE": "application/x-www-form-urlencoded", "BENCH_AUTHORIZATION": authorization}
        figures["client_credentials"] = lib.wrk(server.url, "post.lua", connections=CONNECTIONS, server_pid=server.pid, env={
            **form, "BENCH_PATH": "/oauth2/token", "BENCH_BODY": "grant_type=client_credentials", "BENCH_EXPECT": "access_token"})
        status, issued = lib.post_form(server.url + "/oauth2/token", {"grant_type": "client_credentials"}, {"Authorization": authorization})
        assert status == 200, issued
        figures["introspect"] = lib.wrk(server.url, "post.lua", connections=CONNECTIONS, server_pid=server.pid, env={
            **form, "BENCH_PATH": "/oauth2/introspect", "BENCH_BODY": "token=" + issued["access_token"], "BENCH_EXPECT": '"active":true'})
        return figures
    finally:
        server.stop()


def run(context: dict) -> dict:
    figures = {"sqlite": measure("sqlite", {})}
    url, folder = postgres_url()
    try:
        figures["postgres"] = measure("postgres", {"PORTCULLIS_DB": database(url)})
    finally:
        if folder:
            subprocess.run([str(SCRIPT), "stop", folder], capture_output=True, timeout=60)
    figures["postgres_vs_sqlite"] = {name: figures["postgres"][name]["rps"] / figures["sqlite"][name]["rps"]
                                     for name in figures["sqlite"] if figures["sqlite"][name].get("rps")}
    context["backends"] = figures
    return figures
