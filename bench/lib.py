"""Shared pieces of the benchmark scenarios: a Portcullis server, wrk runs, baselines' tools.

Every load runs on 127.0.0.1 for a bounded time. Nothing here is specific to one scenario.
"""
from __future__ import annotations

import base64
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The launcher shared with the interop tests lives in tools/ at the repository root (on sys.path
# already under `python -m bench.run` from there; said explicitly for any other entry point).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tools.portcullis_server import PortcullisServer, free_port  # noqa: E402,F401 (free_port: for the scenarios)

BENCH = ROOT / "bench"
RELEASE = ROOT / ".build" / "release"
PORTCULLIS = RELEASE / "portcullis"
TOKEN_MINT = RELEASE / "token-mint"
POLICY_BENCH = RELEASE / "policy-bench"
NIO_HEALTHZ = RELEASE / "nio-healthz"
NIO_VERIFY = RELEASE / "nio-verify"
WRK_SCRIPTS = BENCH / "wrk"
PASSWORD = "bench password 0123456789"
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 10):
    """(status, parsed JSON or text) of one request."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, data = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, data = error.code, error.read()
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data.decode(errors="replace")


def post_json(url: str, value: dict, headers: dict | None = None):
    return http("POST", url, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})})


def post_form(url: str, fields: dict, headers: dict | None = None):
    body = "&".join(f"{k}={urllib.request.quote(str(v), safe='')}" for k, v in fields.items()).encode()
    return http("POST", url, body, {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident set (VmRSS) or its peak (VmHWM) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found for {pid}")


class Server(PortcullisServer):
    """A release-build Portcullis on a fresh directory (or `directory`, reused as it is) with a copy
    of Policies/, and a free loopback port; `cpus` pins it with taskset."""

    def __init__(self, name: str, env: dict | None = None, cpus: str | None = None, directory: Path | None = None):
        directory = directory or Path(tempfile.mkdtemp(prefix=f"portcullis-bench-{name}-"))
        if not (directory / "Policies").exists():
            shutil.copytree(ROOT / "Policies", directory / "Policies", ignore=shutil.ignore_patterns("*.md", "*.csv"))
        super().__init__(PORTCULLIS, directory, policies=directory / "Policies", cpus=cpus, cli_timeout=600, env={
            # The bench logs in far more often than a person; the per-address limit counts failures only.
            "PORTCULLIS_MAX_CONCURRENT_REQUESTS": "4096",
            **(env or {}),
        })

    def add_user(self, username: str, roles: tuple[str, ...] = ()) -> None:
        self.cli("user", "add", username, "--password-stdin", *[f"--role={role}" for role in roles], stdin=PASSWORD + "\n")

    def login(self, username: str) -> dict:
        status, body = post_json(self.url + "/v1/login", {"username": username, "password": PASSWORD})
        if status != 200:
            raise RuntimeError(f"login failed: {status} {body}")
        return body

    def mint(self, template: str, count: int, processes: int = 2) -> list[str]:
        """`count` distinct live tokens like `template`, signed by `processes` token-mint runs at once."""
        share = -(-count // processes)
        runs = [subprocess.Popen([str(TOKEN_MINT), str(self.directory / "Keys"), template, str(share), str(i * share)],
                                 stdout=subprocess.PIPE, text=True) for i in range(processes)]
        tokens = []
        for run in runs:
            out, _ = run.communicate(timeout=600)
            if run.returncode != 0:
                raise RuntimeError("token-mint failed")
            tokens += out.split()
        return tokens[:count]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsed latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (nginx's workers under its master, say)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += children.get(current, [])
    return found


def wrk(url: str, script: str, connections: int = 64, seconds: float | None = None, threads: int = 1,
        env: dict | None = None, cpus: str | None = None, server_pid: int | list[int] | None = None) -> dict:
    """Runs wrk with `--latency` and a script from bench/wrk; returns rps, p50/p90/p99 ms, errors,
    wrk's own CPU microseconds per request while its clock ran (it shares the machine's cores with
    the server), and with `server_pid` (one process, or several whose CPU adds up) the server's."""
    seconds = seconds or SECONDS
    # stdbuf: wrk's first line reaches us when printed, not when wrk exits.
    command = ["stdbuf", "-oL", "wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
               "--timeout", "10s", "-s", str(WRK_SCRIPTS / script), url]
    if cpus:
        command = ["taskset", "-c", cpus, *command]
    pids = [server_pid] if isinstance(server_pid, int) else list(server_pid or [])
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # One stream, read through one reader: the lines after the first may already sit in its buffer.
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    hung = threading.Timer(seconds + 60, process.kill)
    hung.start()
    try:
        # wrk prints "Running …" once its script's init has run (reading and building a token
        # list can take a second) and its clock has started: both processes' CPU counts from there.
        first_line = process.stdout.readline()
        clock_started = first_line.startswith("Running")
        client_setup = cpu_seconds(process.pid) if clock_started else 0.0
        before = sum(cpu_seconds(pid) for pid in pids)
        output = first_line + process.stdout.read()
        process.wait()
    finally:
        hung.cancel()
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = parse_wrk(process.returncode, output)
    if figures["requests"]:
        # wrk is the only child reaped meanwhile, so the children's CPU grew by its CPU alone.
        client_seconds = (client_after.ru_utime - client_before.ru_utime) + (client_after.ru_stime - client_before.ru_stime) - client_setup
        figures["client_cpu_us_per_request"] = client_seconds / figures["requests"] * 1e6
        # How that CPU was counted: runs before this rule counted wrk's set-up too (report.py says which).
        figures["client_cpu_from"] = "clock start" if clock_started else "launch"
    if pids and figures["requests"]:
        figures["server_cpu_us_per_request"] = (sum(cpu_seconds(pid) for pid in pids) - before) / figures["requests"] * 1e6
    return figures


def parse_wrk(returncode: int, output: str, errors: str = "") -> dict:
    """The figures of one wrk run's `--latency` output; a failed run, or a distinct-token run that
    ran out of tokens, raises."""
    if returncode != 0 or "Requests/sec" not in output:
        raise RuntimeError(f"wrk failed: {errors} {output}")
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
               "requests": int(re.search(r"(\d+) requests in", output).group(1))}
    for percentile in ("50", "90", "99"):
        match = re.search(rf"^\s+{percentile}(?:\.000)?%\s+(\S+)", output, re.M)
        figures[f"p{percentile}_ms"] = _milliseconds(match.group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    figures["errors"] = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    wrong = re.search(r"unexpected answers: (\d+)", output)
    figures["unexpected"] = int(wrong.group(1)) if wrong else 0
    wrapped = re.search(r"token list wrapped: (\d+)", output)
    if wrapped:
        figures["wrapped"] = int(wrapped.group(1))
        if figures["wrapped"]:
            # A distinct-token run that started its list over sent repeats, which the cache answers.
            raise RuntimeError("the token list ran out and started over: the run did not send distinct tokens")
    return figures


def start_wrk(url: str, script: str, connections: int, seconds: float, env: dict | None = None) -> subprocess.Popen:
    """wrk in the background (for a load that runs beside another); finish with finish_wrk."""
    command = ["wrk", "--latency", "-t", "1", "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "10s",
               "-s", str(WRK_SCRIPTS / script), url]
    return subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_wrk(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=600)
    return parse_wrk(process.returncode, out, err)


def openssl_verify_rate(algorithm: str, cores: int = 2) -> float:
    """Verifications per second from `openssl speed -multi` for ecdsap256 or ed25519."""
    name = {"ES256": "ecdsap256", "EdDSA": "ed25519"}[algorithm]
    command = ["openssl", "speed", "-seconds", "3"] + (["-multi", str(cores)] if cores > 1 else []) + [name]
    output = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    line = [l for l in output.splitlines() if ("nistp256" in l or "Ed25519" in l) and re.search(r"[\d.]+\s*$", l)][-1]
    return float(line.split()[-1])


def round_figures(value):
    if isinstance(value, float):
        return round(value, 3 if abs(value) < 10 else 1)
    if isinstance(value, dict):
        return {k: round_figures(v) for k, v in value.items()}
    if isinstance(value, list):
        return [round_figures(v) for v in value]
    return value
