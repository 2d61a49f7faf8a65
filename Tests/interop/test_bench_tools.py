"""The benchmark's own arithmetic: wrk output parsing, the targets and the regression check of `make bench`.

Pure functions of bench/lib.py and bench/report.py, no server: a wrong parse or an inverted
comparison would make BENCHMARKS.md lie without any load test noticing.
"""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import lib, report  # noqa: E402

WRK_OUTPUT = """Running 8s test @ http://127.0.0.1:8080
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms    1.93ms  43.35ms   87.39%
    Req/Sec    15.93k     1.10k   17.56k    77.50%
  Latency Distribution
     50%    3.79ms
     75%    4.55ms
     90%    5.31ms
     99%    7.96ms
  127561 requests in 8.01s, 60.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  15919.10
Transfer/sec:      7.51MB
unexpected answers: 5
token list wrapped: 0
"""


def test_wrk_output_is_parsed_with_units_errors_and_script_counters():
    figures = lib.parse_wrk(0, WRK_OUTPUT)
    assert figures["rps"] == 15919.10
    assert figures["requests"] == 127561
    assert (figures["p50_ms"], figures["p90_ms"], figures["p99_ms"]) == (3.79, 5.31, 7.96)
    assert figures["errors"] == 4 + 3
    assert figures["unexpected"] == 5
    assert figures["wrapped"] == 0


def stand_in_wrk(directory: Path, monkeypatch, script: str) -> None:
    """`script` as the `wrk` on PATH."""
    fake = directory / "wrk"
    fake.write_text(script)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{directory}:{os.environ['PATH']}")


def test_wrk_cpu_is_counted_from_its_running_line_not_from_its_set_up(tmp_path, monkeypatch):
    """A stand-in `wrk` burns 0.4 s of CPU before its "Running" line (as reading and building a
    token list does) and almost none after: none of the set-up is charged to its requests."""
    stand_in_wrk(tmp_path, monkeypatch, f"""#!{sys.executable}
import time
began = time.process_time()
while time.process_time() - began < 0.4:
    pass
print({WRK_OUTPUT.splitlines()[0]!r}, flush=True)
print({chr(10).join(WRK_OUTPUT.splitlines()[1:])!r})
""")
    figures = lib.wrk("http://127.0.0.1:9/", "get.lua", seconds=1)
    assert figures["requests"] == 127561
    # The set-up alone would be 0.4 s / 127,561 requests = 3.1 us per request.
    assert figures["client_cpu_us_per_request"] < 1.0
    assert figures["client_cpu_from"] == "clock start"


def test_a_wrk_with_no_set_up_to_speak_of_still_counts_from_its_running_line(tmp_path, monkeypatch):
    """A script without a list uses less CPU before "Running" than the kernel's 10 ms tick: the
    run still counted from the clock's start, and says so (BENCHMARKS.md's text depends on it)."""
    stand_in_wrk(tmp_path, monkeypatch, "#!/bin/sh\ncat <<'EOF'\n" + WRK_OUTPUT + "EOF\n")
    figures = lib.wrk("http://127.0.0.1:9/", "get.lua", seconds=1)
    assert figures["requests"] == 127561
    assert figures["client_cpu_from"] == "clock start"


def test_latency_units_convert_to_milliseconds():
    assert lib._milliseconds("850.00us") == 0.85
    assert lib._milliseconds("1.50s") == 1500
    assert lib._milliseconds("2.00m") == 120000


def test_a_failed_wrk_run_is_an_error_not_a_zero():
    try:
        lib.parse_wrk(1, "unable to connect to 127.0.0.1:1 Connection refused")
    except RuntimeError:
        return
    raise AssertionError("a failed run must raise")


def test_a_distinct_token_run_that_ran_out_of_tokens_is_an_error_not_a_rate():
    try:
        lib.parse_wrk(0, WRK_OUTPUT.replace("token list wrapped: 0", "token list wrapped: 1"))
    except RuntimeError:
        return
    raise AssertionError("repeated tokens are cache hits: the run must raise")


def test_the_budget_of_each_target_is_its_cores_time_less_the_client_and_the_floor():
    cpu = lambda server, client: {"server_cpu_us_per_request": server, "client_cpu_us_per_request": client}
    figures = {"verify": {"ES256": {"distinct": cpu(170.0, 40.0), "healthz": cpu(20.0, 9.0)}},
               "authorize": {"authorize": cpu(35.0, 10.0)}}
    baselines = {"openssl_verify_per_s": {"ES256": 40000.0}, "openssl_verify_per_s_1core": {"ES256": 20000.0},
                 "nginx": {"rps": 100000.0}}
    rows = [line for line in report.budget_lines(figures, baselines, 2) if line.startswith("| verify") or line.startswith("| authorize")]
    # ES256 at 0.5 x 40,000/s: 2 cores / 20,000 = 100 us; wrk 40, signature 1e6/20,000 = 50, /healthz 20: 10 short; 170 - 70 spent.
    assert rows[0] == ("| verify ES256, distinct, at 0.5× `openssl speed -multi 2` | 20,000 req/s | 100 µs | 40 µs "
                       "| signature check 50 µs + `/healthz` 20 µs | -10 µs | 100 µs |")
    # authorize at 0.4 x 100,000/s: 2 cores / 40,000 = 50 us; wrk 10, /healthz 20: 20 left; 35 - 20 spent.
    assert rows[1] == "| authorize, at 0.4× nginx | 40,000 req/s | 50 µs | 10 µs | `/healthz` 20 µs | 20 µs | 15 µs |"
    del figures["verify"]["ES256"]["distinct"]["client_cpu_us_per_request"]
    del figures["authorize"]["authorize"]["client_cpu_us_per_request"]
    assert report.budget_lines(figures, baselines, 2) == [], "a run without the client's CPU (older results) has no budget"


def results(**figures):
    return {"date": "d", "machine": {"commit": "c"}, "figures": figures}


def verify_run(openssl, mix, distinct, p99=10.0, startup=100.0, rss=1000.0):
    return results(baselines={"openssl_verify_per_s": {"ES256": openssl}},
                   verify={"ES256": {"mix": {"rps": mix, "p99_ms": p99}, "distinct": {"rps": distinct}}},
                   memory={"startup_ms": startup, "rss_idle_kib": rss})


def test_a_slower_machine_is_not_a_regression_when_the_ratio_to_its_baseline_holds():
    before = verify_run(openssl=20000.0, mix=10000.0, distinct=5000.0)
    # Half the speed everywhere (another day on this VM): every ratio is unchanged, and the raw
    # p99 and start-up, 21 % and 30 % worse, stay within the 40 % allowed to raw figures.
    slower = verify_run(openssl=10000.0, mix=5000.0, distinct=2500.0, p99=12.1, startup=130.0)
    assert report.regressions(slower, before) == []


def test_regressions_flag_ratios_past_20_percent_raw_figures_past_40_and_memory_past_20():
    before = verify_run(openssl=20000.0, mix=10000.0, distinct=5000.0)
    now = verify_run(openssl=20000.0, mix=7800.0, distinct=6500.0, p99=14.1, startup=80.0, rss=1210.0)
    flagged = {name: change for name, _, _, change in report.regressions(now, before)}
    assert set(flagged) == {"verify.ES256.mix.rps / baselines.openssl_verify_per_s.ES256",
                            "verify.ES256.mix.p99_ms", "memory.rss_idle_kib"}
    assert round(flagged["verify.ES256.mix.rps / baselines.openssl_verify_per_s.ES256"], 2) == -0.22
    # Exactly at a threshold is not flagged (ratio 20 %, raw 40 %); a missing earlier figure is not compared.
    edge = verify_run(openssl=20000.0, mix=8000.0, distinct=5000.0, p99=14.0, rss=1200.0)
    assert report.regressions(edge, before) == []
    assert report.regressions(now, None) == []
    assert report.regressions(now, results(verify={"ES256": {"mix": {"rps": 10000.0}}})) == []


def test_verdict_fails_the_run_on_a_regression_and_passes_within_the_threshold():
    before = verify_run(openssl=20000.0, mix=10000.0, distinct=5000.0)
    regressed = verify_run(openssl=20000.0, mix=7000.0, distinct=5000.0)   # 30 % lower ratio to OpenSSL
    within = verify_run(openssl=20000.0, mix=8500.0, distinct=5000.0)      # 15 % lower: noise
    flagged = [f"{name}: {b} -> {n}" for name, b, n, _ in report.regressions(regressed, before)]
    status, lines = report.verdict(flagged)
    assert status == 1
    assert lines[0].startswith("REGRESSION: verify.ES256.mix.rps / baselines.openssl_verify_per_s.ES256")
    assert "1 watched figure worse" in lines[-1] and "FAILED" in lines[-1]
    # Warn-only still reports, but exits 0.
    status, lines = report.verdict(flagged, warn_only=True)
    assert status == 0 and lines[0].startswith("REGRESSION:") and "warn only" in lines[-1]
    # Within the threshold: nothing flagged, status 0 and an OK line.
    assert report.regressions(within, before) == []
    status, lines = report.verdict([])
    assert status == 0 and lines == [lines[-1]] and lines[-1].startswith("bench: OK")


def test_targets_hold_at_their_bound_show_the_stretch_and_say_when_not_measured():
    figures = {"baselines": {"nginx": {"rps": 100000.0}, "openssl_verify_per_s": {"ES256": 30000.0, "EdDSA": 20000.0}},
               "verify": {"ES256": {"healthz": {"rps": 45000.0}, "distinct": {"rps": 14999.0}, "mix": {"rps": 30000.0},
                                    "sweep": {"distinct": []}, "p99_ms_at_half_openssl": None}},
               "authorize": {"authorize": {"rps": 52000.0}},
               "oauth": {"portcullis": {"introspect_mix": {"rps": 7900.0}, "verify_mix": {"rps": 10000.0}}}}
    found = report.targets(figures)
    assert found["healthz"].met is True and found["healthz"].measured == "0.45×"
    assert found["verify.ES256.distinct"].met is False
    assert found["verify.ES256.mix"].met is True
    assert found["verify.ES256.p99"].met is False and found["verify.ES256.p99"].measured == "the sweep never reached that rate"
    assert found["authorize"].cell == "**holds (stretch 0.50× too)**"
    assert found["introspect"].met is False
    # Not in this run's figures: not measured, neither held nor missed.
    assert found["verify.EdDSA.distinct"].met is None and found["verify.EdDSA.p99"].cell == "not measured"
    assert found["login"].met is None
    missed = report.missed(figures)
    assert len(missed) == 3 and missed[0].startswith("verify ES256, every token distinct")


def test_a_missed_target_is_listed_and_fails_the_run_only_when_targets_are_required():
    status, lines = report.verdict([], missed_targets=["authorize ÷ nginx: 0.12×, target ≥ 0.40×"])
    assert status == 0 and lines[0] == "TARGET MISSED: authorize ÷ nginx: 0.12×, target ≥ 0.40×"
    assert lines[1].startswith("bench: OK") and "1 target missed" in lines[2]
    status, lines = report.verdict([], missed_targets=["x"], require_targets=True)
    assert status == 1 and "FAILED" in lines[-1]


def with_argon2(milliseconds: float | None) -> dict:
    return results(baselines={"argon2_cli_ms": milliseconds} if milliseconds is not None else {})


def test_a_host_on_which_the_argon2_cli_slowed_past_its_threshold_fails_the_run_without_a_regression():
    reference = with_argon2(32.0)
    slowdown = report.host_slowdown(with_argon2(56.0), reference)
    assert slowdown == 1.75 and report.host_degraded(slowdown)
    status, lines = report.verdict([], slowdown=slowdown)
    assert status == 1 and lines[0].startswith("HOST DEGRADED: the argon2 CLI's hash took 1.75× as long as in the reference run")
    assert not any(line.startswith("bench: OK") for line in lines)
    status, lines = report.verdict([], slowdown=slowdown, warn_only=True)
    assert status == 0 and "warn only" in lines[0]
    # The spread of normal days (31 to 36.5 ms), exactly at the threshold, a faster host, or no
    # figure in either run: not degraded, and the verdict is the usual one.
    for now in (36.5, 41.6, 20.0):
        assert not report.host_degraded(report.host_slowdown(with_argon2(now), reference))
    assert report.verdict([], slowdown=report.host_slowdown(with_argon2(41.6), reference)) == report.verdict([])
    assert report.host_slowdown(with_argon2(56.0), with_argon2(None)) is None
    assert report.host_slowdown(with_argon2(None), reference) is None
    assert report.host_slowdown(with_argon2(56.0), None) is None


def test_a_degraded_host_is_said_at_the_top_of_benchmarks_md():
    committed = json.loads(report.RESULTS.read_text())
    previous = json.loads(json.dumps(committed))
    previous["date"] = "earlier"
    previous["figures"]["baselines"]["argon2_cli_ms"] = 32.0
    committed["figures"]["baselines"]["argon2_cli_ms"] = 56.0
    text = report.markdown(committed, [], previous, False)
    summary = text.split("## Summary", 1)[1]
    assert summary.lstrip().startswith("**This run's host was degraded:** the `argon2` CLI's hash took 1.75× as long")
    assert "In this run: 56.0 ms, 1.75× the reference run's (**degraded**)." in text
    committed["figures"]["baselines"]["argon2_cli_ms"] = 33.0
    text = report.markdown(committed, [], previous, False)
    assert "host was degraded" not in text and "In this run: 33.0 ms, 1.03× the reference run's (quiet)." in text


def test_the_committed_results_render_without_the_figures_added_since():
    """BENCHMARKS.md re-renders from an older results.json (no lean-NIO ceiling, no introspection mix)."""
    committed = json.loads(report.RESULTS.read_text())
    committed["figures"]["baselines"].pop("nio_healthz", None)
    committed["figures"].get("oauth", {}).get("portcullis", {}).pop("introspect_mix", None)
    for algorithm in ("ES256", "EdDSA"):
        committed["figures"]["verify"][algorithm].pop("ceiling", None)
    for algorithm in ("ES256", "EdDSA"):
        for mode in ("distinct", "healthz"):
            committed["figures"]["verify"][algorithm][mode].pop("client_cpu_from", None)
    committed["figures"].get("authorize", {}).get("authorize", {}).pop("client_cpu_from", None)
    text = report.markdown(committed, [], None, False)
    assert "SwiftNIO alone, GET /healthz (`Benchmarks/nio-healthz`, a baseline: what Swift serves here) | not measured in this run" in text
    # Neither a tool it did not run nor a way of counting wrk's CPU it did not use.
    assert "Benchmarks/nio-verify" not in next(line for line in text.splitlines() if line.startswith("- Tools:"))
    assert "wrk's share is its CPU per request measured in this run at the rate reached, from its launch, so with its set-up" in text
    for algorithm in ("ES256", "EdDSA"):
        for mode in ("distinct", "healthz"):
            committed["figures"]["verify"][algorithm][mode]["client_cpu_from"] = "clock start"
    committed["figures"]["authorize"]["authorize"]["client_cpu_from"] = "clock start"
    assert "at the rate reached, from the moment its clock starts" in report.markdown(committed, [], None, False)
    committed["figures"]["baselines"]["nio_healthz"] = {"rps": 60000.0, "p99_ms": 3.0, "server_cpu_us_per_request": 16.0}
    text = report.markdown(committed, [], None, False)
    assert "SwiftNIO alone (`Benchmarks/nio-healthz`): 60,000 req/s" in text
    # The lean token-check ceiling came later still: not measured, then its ratios and its CPU.
    eddsa = committed["figures"]["verify"]["EdDSA"]
    assert f"| verify EdDSA, distinct, against the lean ceiling | {report.fmt(eddsa['distinct']['rps'])} | SwiftNIO and the " \
           "signature check alone (`Benchmarks/nio-verify`): not measured in this run | – |" in text
    openssl = committed["figures"]["baselines"]["openssl_verify_per_s"]["EdDSA"]
    eddsa["ceiling"] = {"rps": openssl / 2, "server_cpu_us_per_request": 170.0, "client_cpu_us_per_request": 30.0}
    eddsa["distinct"]["rps"] = openssl * 0.41
    text = report.markdown(committed, [], None, False)
    assert f"`Benchmarks/nio-verify`): {report.fmt(openssl / 2)} req/s, itself 0.50× `openssl speed` | 0.82× |" in text
    assert "Benchmarks/nio-verify" in next(line for line in text.splitlines() if line.startswith("- Tools:"))
    assert f"EdDSA 170 µs of server CPU and 30 µs of wrk per request at {report.fmt(openssl / 2)} req/s." in text


def test_the_p99_targets_point_is_the_first_load_reaching_the_rate():
    from bench.scenarios import verify
    points = [{"rps": 900.0, "p99_ms": 1.0}, {"rps": 5100.0, "p99_ms": 6.5}, {"rps": 7000.0, "p99_ms": 9.0}]
    assert verify.p99_at(points, 5000.0) == (6.5, 5100.0)
    assert verify.p99_at(points, 900.0) == (1.0, 900.0)
    assert verify.p99_at(points, 7001.0) == (None, None)
    assert verify.p99_at([], 1.0) == (None, None)


def test_the_lean_ceilings_sweep_is_shown_beside_the_p99_target_when_measured():
    """A run without the ceiling's sweep says so; one with it shows its p99 at the target's rate
    (or that it never got there) and its points under the same sweep."""
    results = json.loads(report.RESULTS.read_text())
    verify = results["figures"]["verify"]
    for algorithm in ("ES256", "EdDSA"):
        verify[algorithm]["sweep"].pop("ceiling", None)
    row = "| verify {} p99 at ≥ 50 % of the OpenSSL rate, the lean ceiling (`Benchmarks/nio-verify`) under the same sweep | {} |"
    text = report.markdown(results, [], None, True)
    assert row.format("ES256", "not measured in this run") in text
    assert "ES256 ceiling req/s" not in text
    connections = [p["connections"] for p in verify["ES256"]["sweep"]["distinct"]]
    verify["ES256"]["sweep"]["ceiling"] = [{"connections": c, "rps": 100.0 * c, "p50_ms": 1.5, "p99_ms": c / 8} for c in connections]
    verify["ES256"]["ceiling_p99_ms_at_half_openssl"], verify["ES256"]["ceiling_rps_of_that_point"] = 12.0, 9600.0
    verify["EdDSA"]["sweep"]["ceiling"] = [{"connections": c, "rps": 50.0 * c, "p50_ms": 2.0, "p99_ms": 3.0} for c in connections]
    verify["EdDSA"]["ceiling_p99_ms_at_half_openssl"] = None
    text = report.markdown(results, [], None, True)
    assert row.format("ES256", "12 ms at 9,600 req/s") in text
    assert row.format("EdDSA", "the sweep never reached that rate") in text
    assert "| connections | ES256 ceiling req/s | p50 ms | p99 ms | EdDSA ceiling req/s | p50 ms | p99 ms |" in text
    assert "| 96 | 9,600 | 1.5 | 12.0 | 4,800 | 2.0 | 3.0 |" in text


def test_the_replicas_paper_estimate_divides_only_by_what_postgresql_is_asked_per_request():
    """With the revocation cache on, PostgreSQL's share of a verify is the cache's misses, not a cost
    per verify: the estimate says verifies grow with the replicas and takes PostgreSQL's ceiling
    from the cache-off verify when it was measured."""
    one = {"verify_mix": {"replicas_cpu_us_per_request": 40.0, "postgres_cpu_us_per_request": 0.05},
           "login": {"replicas_cpu_us_per_request": 25000.0, "postgres_cpu_us_per_request": 2500.0}}
    text = "".join(report.paper_estimate(one))
    assert "a verify costs a replica 40 µs of CPU and PostgreSQL 0.05 µs" in text
    assert "verifies grow with the replicas, about 50,000/s each" in text
    assert "The cache-off verify was not measured in this run." in text
    assert "verifies/s, which" not in text, "no ceiling from the cached verify"
    one["verify_mix_uncached"] = {"replicas_cpu_us_per_request": 80.0, "postgres_cpu_us_per_request": 100.0}
    text = "".join(report.paper_estimate(one))
    assert "a verify costs PostgreSQL 100 µs and the replica 80 µs: PostgreSQL saturates at about 80,000 verifies/s, " \
           "which 25,000 verifies/s per replica reach with about 3 replicas." in text
    assert "PostgreSQL's 3,200/s ceiling needs about 40 replicas" in text
    one["verify_mix"]["postgres_cpu_us_per_request"] = 0.0
    assert "PostgreSQL 0.00 µs" in "".join(report.paper_estimate(one))
    assert report.paper_estimate(None) == [""]


def run_main(monkeypatch, flagged, *arguments, env=None, missed=()):
    """bench.run.main() with no scenario run, report.write() answering `flagged` and the targets `missed`."""
    from bench import run
    monkeypatch.setattr(run, "SCENARIOS", {})
    monkeypatch.setattr(run, "machine", lambda: {"commit": "test"})
    monkeypatch.setattr(run.report, "write", lambda results, **_: list(flagged))
    monkeypatch.setattr(run.report, "missed", lambda figures: list(missed))
    monkeypatch.setattr(sys, "argv", ["bench.run", "--only", "nothing", *arguments])
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    return run.main()


def test_bench_run_exits_non_zero_when_a_figure_regressed(monkeypatch, capsys):
    assert run_main(monkeypatch, ["verify.ES256.mix.rps: 10,000.0 -> 7,000.0 (-30%)"]) == 1
    output = capsys.readouterr().out
    assert "REGRESSION: verify.ES256.mix.rps" in output and "FAILED" in output
    assert run_main(monkeypatch, ["verify.ES256.mix.rps: 10,000.0 -> 7,000.0 (-30%)"], "--warn-only") == 0
    monkeypatch.delenv("BENCH_WARN_ONLY", raising=False)
    assert run_main(monkeypatch, ["memory.startup_ms: 100.0 -> 150.0 (+50%)"], env={"BENCH_WARN_ONLY": "1"}) == 0
    assert run_main(monkeypatch, [], env={"BENCH_WARN_ONLY": "0"}) == 0
    assert "bench: OK" in capsys.readouterr().out


def test_bench_run_exits_non_zero_on_a_degraded_host(monkeypatch, capsys):
    monkeypatch.delenv("BENCH_WARN_ONLY", raising=False)
    from bench import run
    monkeypatch.setattr(run.report, "host_slowdown", lambda *_: 2.0)
    assert run_main(monkeypatch, []) == 1
    assert "HOST DEGRADED" in capsys.readouterr().out
    monkeypatch.setattr(run.report, "host_slowdown", lambda *_: 1.2)
    assert run_main(monkeypatch, []) == 0


def test_bench_run_exits_zero_on_a_missed_target_unless_targets_are_required(monkeypatch, capsys):
    monkeypatch.delenv("BENCH_REQUIRE_TARGETS", raising=False)
    assert run_main(monkeypatch, [], missed=["healthz: 0.23×, target ≥ 0.45×"]) == 0
    assert "TARGET MISSED: healthz" in capsys.readouterr().out
    assert run_main(monkeypatch, [], "--require-targets", missed=["healthz: 0.23×, target ≥ 0.45×"]) == 1
    assert run_main(monkeypatch, [], missed=["healthz"], env={"BENCH_REQUIRE_TARGETS": "1"}) == 1


def test_a_load_whose_answers_were_wrong_is_flagged_whatever_its_rate():
    figures = {
        "login": {"login": {"rps": 4363.8, "requests": 35005, "errors": 34627, "unexpected": 34627}},
        "authorize": {"authorize": {"rps": 30000, "requests": 240000, "unexpected": 10}},
        "baselines": {"nginx": {"requests": 10, "unexpected": 10}},
    }
    found = report.wrong_answers(figures)
    assert found == ["login.login: 34,627 of 35,005 answers were not the expected ones"]
    status, _ = report.verdict(found)
    assert status == 1
