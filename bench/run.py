"""`make bench`: every scenario in one run, then BENCHMARKS.md, bench/results.json and the plot.

    python3 -m bench.run [--only verify,authorize,...] [--warn-only] [--require-targets]

Scenarios run in order (later ones use the baselines, which always run). A whole run writes
BENCHMARKS.md, bench/results.json and the plot; a partial one (--only) writes
bench/results-partial.json alone, so the committed reference and report stay whole.

The last committed bench/results.json is the reference (bench/checks.py has the rule): a ratio to
a same-run baseline more than 20 % worse, a raw figure more than 40 % worse, or a load answered
wrongly exits 1 (after writing the results) unless --warn-only or BENCH_WARN_ONLY=1; so does a
host whose memory latency is more than 1.5× the reference run's (a neighbour holding the caches). A missed
target is printed and exits 0 unless --require-targets or BENCH_REQUIRE_TARGETS=1.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from . import lib, report
from .scenarios import authorize, backends, baselines, login, oauth, replicas, scaling, verify

SCENARIOS = {
    "baselines": baselines.run,
    "verify": verify.run,
    "login": login.run,
    "authorize": authorize.run,
    "oauth": oauth.run,
    "backends": backends.run,
    "replicas": replicas.run,
}


def startup_and_memory(context: dict) -> dict:
    """Start-up to /readyz (median of 5, on an existing database) and RSS idle; peak comes from the loads."""
    server = lib.Server("memory")
    server.add_user("bench", roles=("viewer",))
    times, idle = [], []
    for _ in range(5):
        times.append(server.start())
        time.sleep(1)
        idle.append(lib.rss_kib(server.pid))
        server.stop()
    peaks = [context["verify"][alg]["server_rss_peak_kib"] for alg in context.get("verify", {})]
    figures = {"startup_ms": statistics.median(times) * 1000, "rss_idle_kib": statistics.median(idle),
               "rss_peak_kib": max(peaks) if peaks else None}
    context["memory"] = figures
    return figures


def calibration(context: dict) -> dict:
    """`portcullis hash calibrate` at 250 ms, and the default parameters' cost per core."""
    server = lib.Server("calibrate")
    calibrated = json.loads(server.cli("hash", "calibrate", "--target-ms", "250", "--json"))
    argon2_ms = context["baselines"]["argon2_cli_ms"]
    figures = {"target_250ms": calibrated, "default_logins_per_s_per_core_cli": 1000 / argon2_ms,
               "default_logins_per_s_per_core_measured": context["login"]["login"]["rps"] / 2 if "login" in context else None}
    context["calibration"] = figures
    return figures


def machine() -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    memory_kib = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")))
    def version(command):
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "not found"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory_kib / 1048576, 1), "kernel": platform.release(),
            "openssl": version(["openssl", "version"]), "wrk": version(["wrk", "-v"]) or "wrk",
            "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
            "glewlwyd": version(["glewlwyd", "--version"]),
            "commit": version(["git", "-C", str(lib.ROOT), "rev-parse", "--short", "HEAD"])}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="comma-separated scenarios (baselines always run); writes bench/results-partial.json only")
    parser.add_argument("--warn-only", action="store_true", default=os.environ.get("BENCH_WARN_ONLY", "") not in ("", "0"),
                        help="report regressions but exit 0 (also BENCH_WARN_ONLY=1)")
    parser.add_argument("--require-targets", action="store_true",
                        default=os.environ.get("BENCH_REQUIRE_TARGETS", "") not in ("", "0"),
                        help="exit 1 when a target is missed, too (also BENCH_REQUIRE_TARGETS=1)")
    arguments = parser.parse_args()
    chosen = set(arguments.only.split(",")) if arguments.only else None
    context: dict = {}
    began = time.time()
    steps = list(SCENARIOS.items()) + [("memory", startup_and_memory), ("calibration", calibration), ("scaling", scaling.run)]
    for name, step in steps:
        if chosen and name != "baselines" and name not in chosen:
            continue
        print(f"== {name}", flush=True)
        step_began = time.time()
        figures = step(context)
        print(json.dumps(lib.round_figures(figures), indent=None)[:1500], flush=True)
        print(f"   ({time.time() - step_began:.0f} s)", flush=True)
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(), "bench_seconds": lib.SECONDS, "duration_s": round(time.time() - began),
        "figures": lib.round_figures(context),
    }
    previous = report.previous_results(results)
    flagged = report.write(results, previous=previous, partial=chosen is not None)
    slowdown = report.host_slowdown(results, previous)
    status, lines = report.verdict(flagged, warn_only=arguments.warn_only, missed_targets=report.missed(results["figures"]), slowdown=slowdown,
                                   require_targets=arguments.require_targets)
    for line in lines:
        print(line, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
