"""PostgreSQL going away under a running server: requests that need it get 503 within a few
seconds (never a hang), /readyz says not ready, and both recover by themselves when it returns."""
import os
import shlex
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import ROOT, Server

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

                pg_ctl(data, "-m", "immediate", "stop")
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
