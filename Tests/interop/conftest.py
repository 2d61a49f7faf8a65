"""A live `portcullis serve` on a free loopback port, with its own database and keys."""
import os
import re
import subprocess
import sys
import tempfile
import uuid

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("PORTCULLIS_BIN", os.path.join(ROOT, ".build", "debug", "portcullis"))
POLICY_BENCH = os.environ.get("PORTCULLIS_POLICY_BENCH", os.path.join(ROOT, ".build", "debug", "policy-bench"))

# The launcher shared with bench/ lives in tools/ at the repository root.
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from tools.portcullis_server import PortcullisServer, create_postgres_database, free_port  # noqa: E402,F401 (free_port: for the tests)


class Server(PortcullisServer):
    """The debug build on `workdir`, serving the repository's Policies/ unless told otherwise;
    stop() also checks the log for leaked passwords."""

    def __init__(self, workdir: str, policies: str = os.path.join(ROOT, "Policies")):
        super().__init__(BIN, workdir, policies=policies, stop_timeout=10)
        self.workdir = workdir

    def stop(self):
        super().stop()
        self.assert_log_is_clean()

    def assert_log_is_clean(self):
        """No password used by the interop tests ever appears in the server's log."""
        self.log.flush()
        text = open(self.log.name, encoding="utf-8", errors="replace").read()
        for secret in ("correct horse battery", "not the password", "wrong password"):
            assert secret not in text, f"the server logged a password: {secret!r}"
        # Every server here answered requests, so its log has request lines (text or JSON format).
        assert "request_id=" in text or '"request_id":' in text, "no request line in the server's log"

    def login(self, username="alice", password="correct horse battery"):
        response = requests.post(self.url + "/v1/login", json={"username": username, "password": password}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


# The PostgreSQL server `make test` starts (scripts/with-test-postgres.sh); without it the
# PostgreSQL half is skipped, except on CI where it must run.
TEST_POSTGRES = os.environ.get("PORTCULLIS_TEST_POSTGRES")


def postgres_database(name: str) -> str:
    """A new, empty database on the test PostgreSQL server, as a PORTCULLIS_DB URL."""
    if not TEST_POSTGRES:
        if os.environ.get("CI") == "true":
            pytest.fail("PORTCULLIS_TEST_POSTGRES is unset: the PostgreSQL interop run is required on CI")
        pytest.skip("no PostgreSQL for the tests (make test starts one; or set PORTCULLIS_TEST_POSTGRES)")
    return create_postgres_database(TEST_POSTGRES, name)


def sql(server, statement: str, **variables) -> str:
    """Runs one SQL statement on the server's database, SQLite or PostgreSQL; returns its output
    (`:'name'` placeholders take `variables`, bound by the client, never spliced)."""
    location = server.env["PORTCULLIS_DB"]
    if location.startswith("postgres"):
        # psql interpolates variables in what it reads, not in -c.
        command = ["psql", location.split("?", 1)[0], "-At", "-q", "-v", "ON_ERROR_STOP=1"] + [f"-v{k}={v}" for k, v in variables.items()]
        return subprocess.run(command, input=statement + ";\n", check=True, capture_output=True, text=True).stdout.strip()
    import sqlite3
    db = sqlite3.connect(location)
    try:
        with db:
            arguments = [variables[name] for name in re.findall(r":'(\w+)'", statement)]
            rows = db.execute(re.sub(r":'\w+'", "?", statement), arguments).fetchall()
        return "\n".join("|".join(str(c) for c in row) for row in rows)
    finally:
        db.close()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(request):
    """The shared server, once on each backend: every test that takes it runs on SQLite and on PostgreSQL."""
    with tempfile.TemporaryDirectory(prefix="portcullis-interop-") as workdir:
        srv = Server(workdir)
        srv.backend = request.param
        if request.param == "postgres":
            srv.env["PORTCULLIS_DB"] = postgres_database("interop_" + uuid.uuid4().hex[:12])
            # Rotations sign at once, as with Keys/ (test_replicas.py tests the activation delay).
            srv.env["PORTCULLIS_KEY_ACTIVATION_DELAY"] = "0"
            srv.cli("migrate")
        with srv:
            srv.cli("user", "add", "alice", "--email", "alice@example.com", "--role", "viewer", "--password-stdin", stdin="correct horse battery\n")
            yield srv
