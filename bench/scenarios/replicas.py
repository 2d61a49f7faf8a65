"""1, 2 and 3 replicas on one PostgreSQL behind haproxy, on this machine: verify (a 200-token mix:
the signature cached, the liveness answered by the revocation cache) and login throughput, with
the CPU each request costs the replicas and PostgreSQL. On two shared cores more replicas cannot
add throughput; the per-request costs feed a paper estimate of how far replicas scale before
PostgreSQL saturates (report.py). For that estimate one replica with the revocation cache off
(every check a database read) verifies the same tokens too."""
from __future__ import annotations

import base64
import os
import subprocess
import time
from pathlib import Path

from .. import lib
from . import backends, login
from tools.haproxy import Haproxy, config as haproxy_config

CONNECTIONS = 64
TOKENS = 200
ISSUER = "http://portcullis.bench"


def postgres_cpu_seconds() -> float:
    """CPU seconds used so far by every process of the postgres user (the test cluster's backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != postgres_uid():
                continue
            total += lib.cpu_seconds(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return total


def postgres_uid() -> int:
    import pwd
    return pwd.getpwnam("postgres").pw_uid


def measure(replicas: list[lib.Server], url: str, script: str, env: dict) -> dict:
    pids = [r.pid for r in replicas]
    before = sum(lib.cpu_seconds(pid) for pid in pids)
    pg_before = postgres_cpu_seconds()
    figures = lib.wrk(url, script, connections=CONNECTIONS, env=env)
    if figures["requests"]:
        figures["replicas_cpu_us_per_request"] = (sum(lib.cpu_seconds(pid) for pid in pids) - before) / figures["requests"] * 1e6
        figures["postgres_cpu_us_per_request"] = (postgres_cpu_seconds() - pg_before) / figures["requests"] * 1e6
    return figures


def measure_uncached(env: dict, mix: dict) -> dict:
    """The verify mix against one more replica of the same database, asked directly, with the
    revocation cache off: every token check is a liveness read."""
    replica = lib.Server("replica-uncached", env={**env, "PORTCULLIS_REVOCATION_CACHE_SECONDS": "0"})
    replica.start()
    try:
        # A replica's first requests read its keys and open its pool's connections (one run measured
        # from a cold start had a p99 of 449 ms; warm, 12 ms): two seconds of load first.
        lib.wrk(replica.url, "verify.lua", connections=CONNECTIONS, seconds=2, env=mix)
        return measure([replica], replica.url, "verify.lua", mix)
    finally:
        replica.stop()


def run(context: dict) -> dict:
    url, folder = backends.postgres_url()
    results: dict = {}
    try:
        for count in (1, 2, 3):
            database = backends.database(url)
            secrets = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
            env = {"PORTCULLIS_DB": database, "PORTCULLIS_SECRETS_KEY": secrets, "PORTCULLIS_ISSUER": ISSUER}
            replicas = [lib.Server(f"replica-{count}-{i}", env=env) for i in range(count)]
            replicas[0].cli("migrate")
            replicas[0].add_user("bench", roles=("editor",))
            login.add_login_users(replicas[0])
            for replica in replicas:
                replica.start()
            port = lib.free_port()
            balancer = Haproxy(port, haproxy_config(port, [r.port for r in replicas]), replicas[0].directory)
            balancer.start()
            try:
                front = balancer.url
                tokens = [replicas[i % count].login("bench")["access_token"] for i in range(TOKENS)]
                token_file = lib.write_lines(replicas[0].directory / "tokens.txt", tokens)
                mix = {"BENCH_TOKENS": str(token_file), "BENCH_MODE": "mix", "BENCH_MIX": str(TOKENS)}
                results[str(count)] = {
                    "verify_mix": measure(replicas, front, "verify.lua", mix),
                    "login": measure(replicas, front, "post.lua", login.login_env()),
                }
                if count == 1:
                    results["1"]["verify_mix_uncached"] = measure_uncached(env, mix)
            finally:
                balancer.stop()
                for replica in replicas:
                    replica.stop()
    finally:
        if folder:
            subprocess.run([str(backends.SCRIPT), "stop", folder], capture_output=True, timeout=60)
    context["replicas"] = results
    return results
