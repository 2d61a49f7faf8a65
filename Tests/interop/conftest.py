"""A live `portcullis serve` on a free loopback port, with its own database and keys."""
import os
import socket
import subprocess
import tempfile
import time

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("PORTCULLIS_BIN", os.path.join(ROOT, ".build", "debug", "portcullis"))
POLICY_BENCH = os.environ.get("PORTCULLIS_POLICY_BENCH", os.path.join(ROOT, ".build", "debug", "policy-bench"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workdir: str, policies: str = os.path.join(ROOT, "Policies")):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
        self.env.update({
            "PORTCULLIS_DB": os.path.join(workdir, "portcullis.db"),
            "PORTCULLIS_KEYS": os.path.join(workdir, "Keys"),
            "PORTCULLIS_PORT": str(self.port),
            "PORTCULLIS_ISSUER": self.url,
            "PORTCULLIS_POLICIES": policies,
        })
        self.log = open(os.path.join(workdir, "server.log"), "w")
        self.process = None

    def start(self):
        self.process = subprocess.Popen([BIN, "serve"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError("server exited: " + open(self.log.name).read())
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.assert_log_is_clean()

    def assert_log_is_clean(self):
        """No password used by the interop tests ever appears in the server's log."""
        self.log.flush()
        text = open(self.log.name, encoding="utf-8", errors="replace").read()
        for secret in ("correct horse battery", "not the password", "wrong password"):
            assert secret not in text, f"the server logged a password: {secret!r}"
        # Every server here answered requests, so its log has request lines (text or JSON format).
        assert "request_id=" in text or '"request_id":' in text, "no request line in the server's log"

    def cli(self, *args, stdin=None):
        result = subprocess.run([BIN, *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"portcullis {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def login(self, username="alice", password="correct horse battery"):
        response = requests.post(self.url + "/v1/login", json={"username": username, "password": password}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def server():
    with tempfile.TemporaryDirectory(prefix="portcullis-interop-") as workdir:
        srv = Server(workdir)
        srv.start()
        srv.cli("user", "add", "alice", "--email", "alice@example.com", "--role", "viewer", "--password-stdin", stdin="correct horse battery\n")
        try:
            yield srv
        finally:
            srv.stop()
