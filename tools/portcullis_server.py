"""One launcher of a live `portcullis serve`, for the interop tests and the benchmarks.

    with PortcullisServer(binary, directory) as server:   # started, /readyz answered 200
        server.cli("user", "add", "alice", "--password-stdin", stdin="…\n")
        requests.get(server.url + "/healthz")
    # stopped (SIGTERM, then SIGKILL after stop_timeout)

Each server gets a free loopback port and its own database and keys under `directory`; its
output goes to `directory/server.log` (kept open as `log` across restarts). `env` is the
environment `serve` and `cli()` run with: the caller's, less every PORTCULLIS_* variable, plus
the server's own settings and `env`; change it before `start()` to change the server.
`cpus` pins the server to those CPUs with taskset.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortcullisServer:
    def __init__(self, binary: str | os.PathLike, directory: str | os.PathLike, *, policies: str | os.PathLike,
                 env: dict | None = None, cpus: str | None = None, ready_timeout: float = 30,
                 stop_timeout: float = 20, cli_timeout: float = 60):
        self.binary = str(binary)
        self.directory = Path(directory)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cpus = cpus
        self.ready_timeout, self.stop_timeout, self.cli_timeout = ready_timeout, stop_timeout, cli_timeout
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
        self.env.update({
            "PORTCULLIS_DB": str(self.directory / "portcullis.db"),
            "PORTCULLIS_KEYS": str(self.directory / "Keys"),
            "PORTCULLIS_POLICIES": str(policies),
            "PORTCULLIS_PORT": str(self.port),
            "PORTCULLIS_ISSUER": self.url,
            **(env or {}),
        })
        self.log = open(self.directory / "server.log", "ab")
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "PortcullisServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> float:
        """Starts `serve` and returns the seconds until /readyz answered 200."""
        command = [self.binary, "serve"]
        if self.cpus:
            command = ["taskset", "-c", self.cpus, *command]
        began = time.perf_counter()
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = began + self.ready_timeout
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - began
            except (OSError, http.client.HTTPException):  # refused, reset, 503 (HTTPError), timeout
                pass
            if self.process.poll() is not None:
                self.log.flush()
                tail = (self.directory / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"portcullis serve exited with {self.process.returncode}: {tail}")
            time.sleep(0.005)
        raise RuntimeError(f"portcullis serve did not become ready in {self.ready_timeout:g} s")

    @property
    def pid(self) -> int:
        """The server's pid (under taskset too: taskset execs the server in its own process)."""
        assert self.process, "not started"
        return self.process.pid

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited after stop_timeout seconds. The Popen stays
        in `process` (its returncode) until the next start()."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.flush()

    def run_cli(self, *arguments: str, stdin: str | None = None, timeout: float | None = None) -> subprocess.CompletedProcess:
        """Runs `portcullis ARGUMENTS` against this server's database and keys, whatever its exit status."""
        return subprocess.run([self.binary, *arguments], env=self.env, input=stdin, capture_output=True, text=True,
                              timeout=timeout or self.cli_timeout)

    def cli(self, *arguments: str, stdin: str | None = None, timeout: float | None = None) -> str:
        """Runs `portcullis ARGUMENTS` against this server's database and keys; its stdout (raises on failure)."""
        result = self.run_cli(*arguments, stdin=stdin, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"portcullis {' '.join(arguments)} failed: {result.stderr.strip()}")
        return result.stdout


def create_postgres_database(server_url: str, name: str) -> str:
    """Creates the empty database `name` on the PostgreSQL server of `server_url` (any database
    URL on it, e.g. PORTCULLIS_TEST_POSTGRES) and returns its PORTCULLIS_DB URL, same query string."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain database name: {name!r}")
    base, _, query = server_url.partition("?")
    root = base.rsplit("/", 1)[0]
    subprocess.run(["psql", root + "/postgres", "-q", "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    return f"{root}/{name}" + (f"?{query}" if query else "")
