"""`make soak`: verify load at half the measured peak for SOAK_SECONDS (default 600), RSS sampled
every 30 s. Writes bench/soak.json, which BENCHMARKS.md reports; the RSS must stay flat.
"""
from __future__ import annotations

import datetime
import json
import os
import sys
import time

from . import lib, report
from .scenarios import verify

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
SAMPLE_EVERY = 30
DELAY_MS = 10


def main() -> int:
    server = lib.Server("soak")
    server.add_user("bench", roles=("viewer",))
    server.start()
    try:
        template = server.login("bench")["access_token"]
        tokens = str(lib.write_lines(server.directory / "tokens.txt", server.mint(template, 1000)))
        peak = verify.run_one(server, tokens, "mix", seconds=5)["rps"]
        offered = peak / 2
        # Each connection pauses DELAY_MS between requests: about connections × 1000 / DELAY_MS requests/s.
        connections = max(1, round(offered * DELAY_MS / 1000))
        env = {"BENCH_TOKENS": tokens, "BENCH_MODE": "mix", "BENCH_DELAY_MS": str(DELAY_MS)}
        load = lib.start_wrk(server.url, "verify.lua", connections, SECONDS, env=env)
        began = time.time()
        samples = [[0, lib.rss_kib(server.pid)]]
        while load.poll() is None and time.time() - began < SECONDS + 30:
            time.sleep(SAMPLE_EVERY)
            if server.process.poll() is not None:
                raise RuntimeError("the server died during the soak")
            samples.append([round(time.time() - began), lib.rss_kib(server.pid)])
            print(f"  {samples[-1][0]:4d} s  RSS {samples[-1][1] / 1024:.1f} MiB", flush=True)
        figures = lib.finish_wrk(load)
    finally:
        server.stop()
    # Growth after the first minute (allocator warm-up) to the end.
    after_warmup = next((kib for t, kib in samples if t >= 60), samples[0][1])
    growth = (samples[-1][1] - after_warmup) / after_warmup * 100
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": SECONDS, "peak_rps": peak, "offered_rps": offered, "connections": connections,
        "achieved_rps": figures["rps"], "requests": figures["requests"], "errors": figures["errors"] + figures["unexpected"],
        "p99_ms": figures["p99_ms"], "rss_kib": samples, "rss_after_warmup_kib": after_warmup, "growth_percent": growth,
        "verdict": "flat" if abs(growth) < 10 else "GROWING",
    }
    report.SOAK.write_text(json.dumps(lib.round_figures(result), indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rss_kib"}, indent=1))
    # Refresh BENCHMARKS.md's soak section from the committed results, if there are any.
    if report.RESULTS.exists():
        report.rerender()
    return 0 if result["verdict"] == "flat" and result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
