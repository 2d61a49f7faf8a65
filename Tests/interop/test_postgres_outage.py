"""PostgreSQL going away under a running server: requests that need it get 503 within a few
seconds (never a hang), /readyz says not ready, and both recover by themselves when it returns."""
import os
import shlex
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

from conftest import ROOT, Server, free_port, postgres_database

SCRIPT = os.path.join(ROOT, "scripts", "test-postgres.sh")


def pg_ctl(data: str, *arguments: str):
    postgres = shlex.split(open(os.path.join(data, "postmaster.opts")).read())[0]
    binary = os.path.join(os.path.dirname(postgres), "pg_ctl")
    subprocess.run(["runuser", "-u", "postgres", "--", binary, "-D", data, "-w", *arguments], check=True, capture_output=True)


def login(server):
    started = time.monotonic()
    answer = requests.post(server.url + "/v1/login", json={"username": "zed", "password": "zed password"}, timeout=40)
    return answer, time.monotonic() - started


def test_requests_get_503_while_postgresql_is_down_and_recover_when_it_returns():
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the outage test must run on CI (it starts its own PostgreSQL as root)")
        pytest.skip("starting a PostgreSQL of its own needs root")
    with tempfile.TemporaryDirectory(prefix="portcullis-outage-") as folder:
        cluster = os.path.join(folder, "pg")
        url = subprocess.run([SCRIPT, "start", cluster], check=True, capture_output=True, text=True).stdout.strip()
        try:
            home = open(os.path.join(cluster, "cluster")).read().strip() if os.path.exists(os.path.join(cluster, "cluster")) else cluster
            data = os.path.join(home, "data")
            # postmaster.opts: the postgres binary and its arguments, each quoted.
            options = shlex.split(open(os.path.join(data, "postmaster.opts")).read())[1:]
            os.makedirs(os.path.join(folder, "srv"))
            server = Server(os.path.join(folder, "srv"))
            server.env.update({"PORTCULLIS_DB": url, "PORTCULLIS_DB_AUTO_MIGRATE": "1"})
            with server:
                server.cli("user", "add", "zed", "--password-stdin", stdin="zed password\n")
                answer, _ = login(server)
                assert answer.status_code == 200, answer.text

                # A fast (clean) stop: the test cluster runs with synchronous_commit=off, so an immediate
                # stop could drop the user just added, which would test the cluster, not Portcullis.
                pg_ctl(data, "-m", "fast", "stop")
                for _ in range(2):
                    answer, took = login(server)
                    assert answer.status_code == 503 and answer.json()["error"] == "temporarily_unavailable", answer.text
                    assert answer.headers.get("Retry-After") == "1"
                    assert took < 10, f"a request waited {took:.1f} s for a database that is down"
                ready = requests.get(server.url + "/readyz", timeout=40)
                assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
                assert requests.get(server.url + "/healthz", timeout=10).status_code == 200

                pg_ctl(data, "-l", os.path.join(home, "pg.log"), "-o", " ".join(shlex.quote(o) for o in options[2:]), "start")
                deadline = time.monotonic() + 90
                while requests.get(server.url + "/readyz", timeout=40).status_code != 200:
                    assert time.monotonic() < deadline, "the server did not recover within 90 s of PostgreSQL's return"
                    time.sleep(0.5)
                answer, _ = login(server)
                assert answer.status_code == 200, answer.text
        finally:
            subprocess.run([SCRIPT, "stop", cluster], capture_output=True)


def test_an_unreachable_postgresql_at_start_is_one_clear_error_after_a_bounded_wait(tmp_path):
    server = Server(str(tmp_path))
    server.env["PORTCULLIS_DB"] = f"postgres://portcullis@127.0.0.1:{free_port()}/nothing?sslmode=disable"
    started = time.monotonic()
    result = server.run_cli("migrate", "status", timeout=60)
    took = time.monotonic() - started
    assert result.returncode != 0
    assert "did not answer within" in result.stderr and "127.0.0.1" in result.stderr, result.stderr
    assert took < 30, f"gave up after {took:.1f} s"


def test_serve_refuses_a_postgresql_schema_that_is_behind_unless_told_to_migrate(tmp_path):
    url = postgres_database("behind_" + uuid.uuid4().hex[:10])
    server = Server(str(tmp_path))
    server.env["PORTCULLIS_DB"] = url
    refused = subprocess.run([server.binary, "serve"], env=server.env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "schema is behind" in refused.stderr and "portcullis migrate" in refused.stderr, refused.stderr
    status = server.run_cli("migrate", "status")
    assert status.returncode == 1 and "v1-schema" in status.stdout
    server.env["PORTCULLIS_DB_AUTO_MIGRATE"] = "1"
    with server:
        assert requests.get(server.url + "/readyz", timeout=10).status_code == 200
    assert server.run_cli("migrate", "status").returncode == 0
