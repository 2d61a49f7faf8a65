"""Baselines measured in the same run: OpenSSL verify rates, the Argon2 CLI bound, the nginx ceiling and
the lean-NIO ceiling (Benchmarks/nio-healthz)."""
from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from .. import lib

ARGON2_DEFAULT = {"memory_kib": 19456, "iterations": 2, "parallelism": 1}


def argon2_cli_seconds(runs: int = 12) -> float:
    """Median seconds per hash of Debian's `argon2` CLI at Portcullis's default parameters."""
    times = []
    for _ in range(runs):
        # The CLI times the hash itself ("0.036 seconds"), without process start-up.
        output = subprocess.run(["argon2", "somesaltsomesalt", "-id", "-t", str(ARGON2_DEFAULT["iterations"]),
                                 "-k", str(ARGON2_DEFAULT["memory_kib"]), "-p", str(ARGON2_DEFAULT["parallelism"])],
                                input=lib.PASSWORD, capture_output=True, check=True, text=True).stdout
        times.append(float(re.search(r"([\d.]+) seconds", output).group(1)))
    return statistics.median(times)


class Baseline:
    """A baseline HTTP server on a free loopback port, started and stopped around a `with` block:
    `url` answers 200 once it is up; `pids` are its processes, whose CPU the loads count."""

    name = "baseline"

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix=f"portcullis-bench-{self.name}-"))
        self.port = lib.free_port()
        self.url = f"http://127.0.0.1:{self.port}/"

    def command(self) -> list[str]:
        raise NotImplementedError

    def __enter__(self):
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline and self.process.poll() is None:
            try:
                if lib.http("GET", self.url)[0] == 200:
                    # Listed once it answers: a master's workers exist by then.
                    self.pids = lib.process_tree(self.process.pid)
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"{self.name} did not start")

    def __exit__(self, *_):
        self.process.terminate()
        self.process.wait(timeout=10)


class Nginx(Baseline):
    """nginx `return 200` (bench/peers/nginx/nginx.conf: a master and two workers)."""

    name = "nginx"

    def command(self) -> list[str]:
        config = (lib.BENCH / "peers" / "nginx" / "nginx.conf").read_text()
        (self.directory / "nginx.conf").write_text(config.replace("@PORT@", str(self.port)).replace("@DIR@", str(self.directory)))
        return ["nginx", "-c", str(self.directory / "nginx.conf"), "-e", str(self.directory / "error.log")]


class NIOHealthz(Baseline):
    """Benchmarks/nio-healthz: SwiftNIO's HTTP/1.1 pipeline and one handler with a pre-built
    `{"status":"ok"}`, one event loop per core: what Swift on NIO serves here, without a framework."""

    name = "nio-healthz"

    def command(self) -> list[str]:
        return [str(lib.NIO_HEALTHZ), str(self.port)]


class NIOVerify(Baseline):
    """Benchmarks/nio-verify: NIO's HTTP/1.1 pipeline and a handler that parses the body's token and
    checks its signature with the key ring in `keys` (a Portcullis server's Keys directory): the
    work no token server can skip, without anything else."""

    name = "nio-verify"

    def __init__(self, keys: Path):
        super().__init__()
        self.keys = keys

    def command(self) -> list[str]:
        return [str(lib.NIO_VERIFY), str(self.keys), str(self.port)]


def ceiling(baseline: Baseline, path: str = "") -> dict:
    """A GET of `path` with the same wrk settings as the Portcullis loads it bounds (64
    connections, one wrk thread), with the server's CPU per request over all its processes."""
    with baseline:
        return lib.wrk(baseline.url + path.lstrip("/"), "get.lua", connections=64, server_pid=baseline.pids)


def run(context: dict) -> dict:
    figures = {
        "openssl_verify_per_s": {alg: lib.openssl_verify_rate(alg, 2) for alg in ("ES256", "EdDSA")},
        "openssl_verify_per_s_1core": {alg: lib.openssl_verify_rate(alg, 1) for alg in ("ES256", "EdDSA")},
    }
    seconds = argon2_cli_seconds()
    figures["argon2_cli_ms"] = seconds * 1000
    figures["argon2_bound_per_s"] = 2 / seconds
    figures["nginx"] = ceiling(Nginx())
    # The report shows "not measured" rather than failing the whole run when it was not built.
    if lib.NIO_HEALTHZ.exists():
        figures["nio_healthz"] = ceiling(NIOHealthz(), "/healthz")
    else:
        figures["nio_healthz"] = {"error": f"{lib.NIO_HEALTHZ.relative_to(lib.ROOT)} is not built (make bench-build)"}
    context["baselines"] = figures
    return figures
