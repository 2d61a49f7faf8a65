"""A live `portcullis serve` on a free loopback port, with its own database and keys."""
import os
import sys
import tempfile

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("PORTCULLIS_BIN", os.path.join(ROOT, ".build", "debug", "portcullis"))
POLICY_BENCH = os.environ.get("PORTCULLIS_POLICY_BENCH", os.path.join(ROOT, ".build", "debug", "policy-bench"))

# The launcher shared with bench/ lives in tools/ at the repository root.
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from tools.portcullis_server import PortcullisServer, free_port  # noqa: E402,F401 (free_port: for the tests)


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


@pytest.fixture(scope="session")
def server():
    with tempfile.TemporaryDirectory(prefix="portcullis-interop-") as workdir:
        with Server(workdir) as srv:
            srv.cli("user", "add", "alice", "--email", "alice@example.com", "--role", "viewer", "--password-stdin", stdin="correct horse battery\n")
            yield srv
