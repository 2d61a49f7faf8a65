"""POST /v1/token/verify: distinct tokens and a 1,000-token mix, ES256 and EdDSA, the lean ceiling
for distinct tokens (Benchmarks/nio-verify), and a load sweep (ES256: distinct and mix, drawn in
BENCHMARKS.md; EdDSA: distinct, for its p99 target), each distinct point followed by the lean
ceiling's at the same load."""
from __future__ import annotations

import contextlib

from .. import lib
from .baselines import NIOVerify

CONNECTIONS = 64
# The sweep: connections, each pausing SWEEP_DELAY_MS between requests, so offered load rises with them.
SWEEP_CONNECTIONS = (4, 8, 16, 32, 64, 96, 128, 192)
SWEEP_DELAY_MS = 5
SWEEP_SECONDS = 4
PROBE_TOKENS = 60_000
# Which token modes each algorithm's sweep runs: both targets ask for p99 < 5 ms at half the
# OpenSSL rate of distinct tokens; the ES256 mix series is drawn beside it in the plot.
SWEEP_MODES = {"ES256": ("distinct", "mix"), "EdDSA": ("distinct",)}


def prepare(algorithm: str, token_count: int) -> tuple[lib.Server, str]:
    server = lib.Server(f"verify-{algorithm}", env={"PORTCULLIS_SIGNING_ALG": algorithm})
    server.add_user("bench", roles=("viewer",))
    server.start()
    template = server.login("bench")["access_token"]
    path = lib.write_lines(server.directory / "tokens.txt", server.mint(template, token_count))
    return server, str(path)


def run_one(server: lib.Server, tokens: str, mode: str, offset: int = 0, connections: int = CONNECTIONS,
            delay_ms: int = 0, seconds: float | None = None, rate_bound: float | None = None) -> dict:
    """One wrk run against Portcullis (see `load`)."""
    return load(server.url, server.pid, tokens, mode, offset, connections, delay_ms, seconds, rate_bound)


def load(url: str, pids: int | list[int], tokens: str, mode: str, offset: int = 0, connections: int = CONNECTIONS,
         delay_ms: int = 0, seconds: float | None = None, rate_bound: float | None = None) -> dict:
    """One wrk run of verify.lua at `url`, counting the CPU of `pids`; a distinct-token run given
    `rate_bound` (req/s it cannot exceed) reads only the tokens it can send (`lib.parse_wrk` fails
    a run that ran out of them)."""
    env = {"BENCH_TOKENS": tokens, "BENCH_MODE": mode, "BENCH_OFFSET": str(offset), "BENCH_DELAY_MS": str(delay_ms)}
    if mode == "distinct" and rate_bound:
        env["BENCH_LIMIT"] = str(int(rate_bound * (seconds or lib.SECONDS)) + connections)
    return lib.wrk(url, "verify.lua", connections=connections, seconds=seconds, env=env, server_pid=pids)


def lean_ceiling(server: lib.Server, tokens: str, offset: int, rate_bound: float) -> dict:
    """The same distinct-token load, with the next tokens of the list, against Benchmarks/nio-verify
    holding `server`'s keys: what SwiftNIO and the signature check alone serve here."""
    if not lib.NIO_VERIFY.exists():
        return {"error": f"{lib.NIO_VERIFY.relative_to(lib.ROOT)} is not built (make bench-build)"}
    with NIOVerify(server.directory / "Keys") as ceiling:
        return load(ceiling.url, ceiling.pids, tokens, "distinct", offset, rate_bound=rate_bound)


def p99_at(points: list[dict], rate: float) -> tuple[float | None, float | None]:
    """The p99 (ms) and rate of the first (lightest) sweep point whose rate reaches `rate`; (None,
    None) when none does."""
    point = next((p for p in points if p["rps"] >= rate), None)
    return (point["p99_ms"], point["rps"]) if point else (None, None)


def run(context: dict) -> dict:
    openssl = context["baselines"]["openssl_verify_per_s"]
    figures: dict = {}
    for algorithm in ("ES256", "EdDSA"):
        modes = SWEEP_MODES.get(algorithm, ())
        server, tokens = prepare(algorithm, PROBE_TOKENS)
        # A short probe sizes the token pool: enough that no run sends a token twice.
        probe = run_one(server, tokens, "distinct", seconds=2)["rps"] * 2.5 + 5000
        # Twice a run's worth: Portcullis's distinct run, then the lean ceiling's.
        count = int(probe * lib.SECONDS) * 2
        sweeps_ceiling = "distinct" in modes and lib.NIO_VERIFY.exists()
        if "distinct" in modes:
            # Portcullis's sweep, and the lean ceiling's after each of its points.
            count += int(sum(min(c * 1000 / SWEEP_DELAY_MS, probe) for c in SWEEP_CONNECTIONS) * SWEEP_SECONDS) * (2 if sweeps_ceiling else 1)
        tokens = str(lib.write_lines(server.directory / "tokens.txt", server.mint(server.login("bench")["access_token"], count + 10_000)))
        try:
            distinct = run_one(server, tokens, "distinct", rate_bound=probe)
            offset = distinct["requests"] + CONNECTIONS
            ceiling = lean_ceiling(server, tokens, offset, probe)
            if "rps" in ceiling:
                offset += ceiling["requests"] + CONNECTIONS
            mix = run_one(server, tokens, "mix")
            # The framework's own ceiling: the cheapest route of the same server, same connections.
            healthz = lib.wrk(server.url + "/healthz", "get.lua", connections=CONNECTIONS, server_pid=server.pid)
            result = {"distinct": distinct, "mix": mix, "healthz": healthz, "ceiling": ceiling, "tokens_minted": count,
                      "distinct_vs_openssl": distinct["rps"] / openssl[algorithm],
                      "mix_vs_openssl": mix["rps"] / openssl[algorithm]}
            if modes:
                points: dict = {mode: [] for mode in modes}
                # The lean ceiling under the same sweep: whether any server here meets the p99 target.
                with NIOVerify(server.directory / "Keys") if sweeps_ceiling else contextlib.nullcontext() as ceiling_server:
                    # Distinct-token series: Portcullis's, then the ceiling's at the same load.
                    distinct_series = [("distinct", server.url, server.pid)] if "distinct" in modes else []
                    if ceiling_server is not None:
                        distinct_series.append(("ceiling", ceiling_server.url, ceiling_server.pids))
                        points["ceiling"] = []
                    for connections in SWEEP_CONNECTIONS:
                        for series, url, pids in distinct_series:
                            point = load(url, pids, tokens, "distinct", offset, connections, SWEEP_DELAY_MS, SWEEP_SECONDS,
                                         rate_bound=min(connections * 1000 / SWEEP_DELAY_MS, probe))
                            offset += point["requests"] + connections
                            points[series].append({"connections": connections, **point})
                        if "mix" in modes:
                            point = run_one(server, tokens, "mix", connections=connections, delay_ms=SWEEP_DELAY_MS, seconds=SWEEP_SECONDS)
                            points["mix"].append({"connections": connections, **point})
                result["sweep"] = points
                # The p99 target's point: the first (lightest) load whose distinct-token rate reaches
                # half of `openssl speed -multi 2`; None when no point of the sweep reaches it.
                target = openssl[algorithm] * 0.5
                result["p99_ms_at_half_openssl"], result["rps_of_that_point"] = p99_at(points.get("distinct", []), target)
                if "ceiling" in points:
                    result["ceiling_p99_ms_at_half_openssl"], result["ceiling_rps_of_that_point"] = p99_at(points["ceiling"], target)
            result["server_rss_peak_kib"] = lib.rss_kib(server.pid, "VmHWM")
            figures[algorithm] = result
        finally:
            server.stop()
    context["verify"] = figures
    return figures
