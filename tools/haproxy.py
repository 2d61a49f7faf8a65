"""haproxy (Debian's package) in front of Portcullis replicas on loopback, for the failover test
and the replica benchmark: round robin over the replicas whose /readyz answers 200."""
from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def config(port: int, replica_ports: list[int], check_interval_ms: int = 1000, retries: bool = False, server_close: bool = False) -> str:
    """A configuration listening on 127.0.0.1:`port`; with `retries`, a request that never reached a
    replica (or got nothing back) is resent to another; with `server_close`, each request gets its
    own connection to a replica (a killed replica costs no kept-alive connection), else they are reused."""
    servers = "\n".join(f"    server r{index} 127.0.0.1:{replica} check" for index, replica in enumerate(replica_ports))
    retry = "    retry-on conn-failure empty-response\n    retries 3\n    option redispatch\n" if retries else ""
    close = "    option http-server-close\n" if server_close else "    option http-keep-alive\n"
    return f"""global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
{close}    option forwardfor
frontend portcullis
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter {check_interval_ms}ms fall 2 rise 1
{retry}{servers}
"""


class Haproxy:
    """One haproxy process in the foreground (`-db`), stopped by its pid."""

    def __init__(self, port: int, configuration: str, folder: Path):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.path = Path(folder) / "haproxy.cfg"
        self.path.write_text(configuration)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Haproxy":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, ready_timeout: float = 15) -> None:
        """Starts haproxy and waits until it answers /readyz with 200 (a replica is up behind it)."""
        self.process = subprocess.Popen(["haproxy", "-db", "-f", str(self.path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("haproxy did not become ready")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
