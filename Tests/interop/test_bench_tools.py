"""The benchmark's own arithmetic: wrk output parsing and the regression check of `make bench`.

Pure functions of bench/lib.py and bench/report.py, no server: a wrong parse or an inverted
comparison would make BENCHMARKS.md lie without any load test noticing.
"""
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


def results(**figures):
    return {"date": "d", "machine": {"commit": "c"}, "figures": figures}


def test_regressions_flag_only_figures_more_than_20_percent_worse_in_their_own_direction():
    before = results(verify={"ES256": {"mix": {"rps": 10000.0, "p99_ms": 10.0}, "distinct": {"rps": 5000.0}}},
                     memory={"startup_ms": 100.0})
    now = results(verify={"ES256": {"mix": {"rps": 7900.0, "p99_ms": 12.1}, "distinct": {"rps": 6500.0}}},
                  memory={"startup_ms": 80.0})
    flagged = {path: change for path, _, _, change in report.regressions(now, before)}
    assert set(flagged) == {"verify.ES256.mix.rps", "verify.ES256.mix.p99_ms"}
    assert round(flagged["verify.ES256.mix.rps"], 2) == -0.21
    # Exactly 20 % worse is not flagged; a missing earlier figure is not compared.
    edge = results(verify={"ES256": {"mix": {"rps": 8000.0, "p99_ms": 12.0}}})
    assert report.regressions(edge, before) == []
    assert report.regressions(now, None) == []


def test_verdict_fails_the_run_on_a_regression_and_passes_within_the_threshold():
    before = results(verify={"ES256": {"mix": {"rps": 10000.0}}})
    regressed = results(verify={"ES256": {"mix": {"rps": 7000.0}}})    # 30 % fewer requests/s
    within = results(verify={"ES256": {"mix": {"rps": 8500.0}}})       # 15 % fewer: noise
    flagged = [f"{path}: {b} -> {n}" for path, b, n, _ in report.regressions(regressed, before)]
    status, lines = report.verdict(flagged)
    assert status == 1
    assert lines[0].startswith("REGRESSION: verify.ES256.mix.rps")
    assert "1 watched figure more than 20% worse" in lines[-1] and "FAILED" in lines[-1]
    # Warn-only still reports, but exits 0.
    status, lines = report.verdict(flagged, warn_only=True)
    assert status == 0 and lines[0].startswith("REGRESSION:") and "warn only" in lines[-1]
    # Within the threshold: nothing flagged, status 0 and an OK line.
    assert report.regressions(within, before) == []
    status, lines = report.verdict([])
    assert status == 0 and lines == [lines[-1]] and lines[-1].startswith("bench: OK")


def run_main(monkeypatch, flagged, *arguments, env=None):
    """bench.run.main() with no scenario run and report.write() answering `flagged`."""
    from bench import run
    monkeypatch.setattr(run, "SCENARIOS", {})
    monkeypatch.setattr(run, "machine", lambda: {"commit": "test"})
    monkeypatch.setattr(run.report, "write", lambda results: list(flagged))
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
