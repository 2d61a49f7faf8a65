"""Baselines measured in the same run: OpenSSL verify rates, the Argon2 CLI bound, the nginx ceiling."""
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


class Nginx:
    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="portcullis-bench-nginx-"))
        self.port = lib.free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        config = (lib.BENCH / "peers" / "nginx" / "nginx.conf").read_text()
        (self.directory / "nginx.conf").write_text(config.replace("@PORT@", str(self.port)).replace("@DIR@", str(self.directory)))

    def __enter__(self):
        self.process = subprocess.Popen(["nginx", "-c", str(self.directory / "nginx.conf"), "-e", str(self.directory / "error.log")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if lib.http("GET", self.url)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def __exit__(self, *_):
        self.process.terminate()
        self.process.wait(timeout=10)


def run(context: dict) -> dict:
    figures = {
        "openssl_verify_per_s": {alg: lib.openssl_verify_rate(alg, 2) for alg in ("ES256", "EdDSA")},
        "openssl_verify_per_s_1core": {alg: lib.openssl_verify_rate(alg, 1) for alg in ("ES256", "EdDSA")},
    }
    seconds = argon2_cli_seconds()
    figures["argon2_cli_ms"] = seconds * 1000
    figures["argon2_bound_per_s"] = 2 / seconds
    with Nginx() as nginx:
        # The same connection count as the Portcullis runs it bounds.
        figures["nginx"] = lib.wrk(nginx.url, "get.lua", connections=64)
    context["baselines"] = figures
    return figures
