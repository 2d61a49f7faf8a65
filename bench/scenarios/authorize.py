"""POST /v1/authorize against the nginx ceiling, and the in-process decision time (policy-bench)."""
from __future__ import annotations

import json
import re
import subprocess

from .. import lib


def micro() -> dict:
    """Policy.decide on 1,000 roles / 10,000 rules, from the release policy-bench."""
    output = subprocess.run([str(lib.POLICY_BENCH)], capture_output=True, text=True, timeout=600, check=True).stdout
    number = lambda pattern: float(re.search(pattern, output).group(1))
    return {
        "decide_median_ns": number(r"Policy.decide\s+median\s+(\d+) ns"),
        "decide_p99_ns": number(r"Policy.decide\s+median\s+\d+ ns\s+p99\s+(\d+) ns"),
        "with_roles_and_reason_median_ns": number(r"returns\) median\s+(\d+) ns"),
        "linear_scan_median_ns": number(r"linear-scan baseline median\s+(\d+) ns"),
    }


def run(context: dict) -> dict:
    server = lib.Server("authorize")
    server.add_user("bench", roles=("editor",))
    server.start()
    try:
        token = server.login("bench")["access_token"]
        body = json.dumps({"token": token, "action": "write", "resource": "documents/plans/q3"})
        status, answer = lib.post_json(server.url + "/v1/authorize", json.loads(body))
        assert status == 200 and answer.get("allowed") is True, answer
        env = {"BENCH_PATH": "/v1/authorize", "BENCH_BODY": body, "BENCH_EXPECT": '"allowed":true'}
        http = lib.wrk(server.url, "post.lua", connections=64, env=env, server_pid=server.pid)
    finally:
        server.stop()
    nginx = context["baselines"]["nginx"]["rps"]
    figures = {"authorize": http, "authorize_vs_nginx": http["rps"] / nginx, "policy": micro()}
    context["authorize"] = figures
    return figures
