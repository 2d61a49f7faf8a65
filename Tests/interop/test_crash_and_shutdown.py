"""Durability and shutdown against a live server.

kill -9 in the middle of concurrent writes must lose no acknowledged write (SQLite WAL with
synchronous=FULL), and SIGTERM must let in-flight requests finish before the process exits.
"""
import hashlib
import os
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time

import requests

from conftest import BIN, Server

PASSWORD = "correct horse battery"


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def test_kill_9_mid_load_loses_no_acknowledged_write():
    with tempfile.TemporaryDirectory(prefix="portcullis-crash-") as workdir:
        server = Server(workdir)
        server.env["PORTCULLIS_ARGON2_MEMORY_KIB"] = "1024"  # cheap hashing: the point is the write rate
        server.env["PORTCULLIS_ARGON2_ITERATIONS"] = "1"
        server.env["PORTCULLIS_ARGON2_ALLOW_WEAK"] = "1"  # serve refuses settings below OWASP's floor otherwise
        server.start()
        for index in range(4):
            server.cli("user", "add", f"seed{index}", "--password-stdin", stdin=PASSWORD + "\n")

        acknowledged_users, acknowledged_tokens = [], []
        lock = threading.Lock()
        stop = threading.Event()

        def create_users():
            index = 0
            while not stop.is_set():
                name = f"user{index}"
                result = subprocess.run([BIN, "user", "add", name, "--password-stdin"], env=server.env, input=PASSWORD + "\n",
                                        capture_output=True, text=True, timeout=30)
                if result.returncode == 0:
                    with lock:
                        acknowledged_users.append(name)
                index += 1

        def rotate(seed):
            try:
                session = requests.Session()
                token = session.post(server.url + "/v1/login", json={"username": seed, "password": PASSWORD}, timeout=10).json()["refresh_token"]
                while not stop.is_set():
                    answer = session.post(server.url + "/v1/token/refresh", json={"refresh_token": token}, timeout=10)
                    if answer.status_code != 200:
                        return
                    token = answer.json()["refresh_token"]
                    with lock:
                        acknowledged_tokens.append(token)
            except requests.RequestException:
                return  # the server died under us: whatever was acknowledged is recorded

        threads = [threading.Thread(target=create_users)] + [threading.Thread(target=rotate, args=(f"seed{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert len(acknowledged_tokens) > 50 and len(acknowledged_users) > 3, (len(acknowledged_tokens), len(acknowledged_users))

        server.start()  # same database: recovery from the WAL
        database = sqlite3.connect(server.env["PORTCULLIS_DB"])
        assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        users = {row[0] for row in database.execute("SELECT username FROM users")}
        missing_users = [name for name in acknowledged_users if name not in users]
        hashes = {row[0] for row in database.execute("SELECT token_hash FROM refresh_tokens")}
        missing_tokens = [token for token in acknowledged_tokens if sha256_hex(token) not in hashes]
        database.close()
        assert missing_users == [] and missing_tokens == [], f"lost {len(missing_users)} users and {len(missing_tokens)} refresh tokens"
        # And the server works on the recovered database.
        assert requests.post(server.url + "/v1/login", json={"username": acknowledged_users[0], "password": PASSWORD}, timeout=10).status_code == 200
        assert subprocess.run([BIN, "audit", "verify"], env=server.env, capture_output=True, timeout=30).returncode == 0
        server.stop()


def test_sigterm_lets_in_flight_requests_finish():
    with tempfile.TemporaryDirectory(prefix="portcullis-shutdown-") as workdir:
        server = Server(workdir)
        server.start()
        server.cli("user", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
        results = []

        def login():
            try:
                answer = requests.post(server.url + "/v1/login", json={"username": "alice", "password": PASSWORD}, timeout=30)
                results.append(answer.status_code)
            except requests.RequestException as error:
                results.append(repr(error))

        # Each login costs an Argon2id hash at the default parameters; 8 of them keep 2 cores busy for a while.
        threads = [threading.Thread(target=login) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(0.05)
        started = time.time()
        server.process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(timeout=30)
        exit_code = server.process.wait(timeout=30)
        assert results == [200] * 8, results
        assert exit_code == 0
        assert time.time() - started < 15
        database = sqlite3.connect(server.env["PORTCULLIS_DB"])
        assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert database.execute("SELECT COUNT(*) FROM audit_events WHERE action = 'login.success'").fetchone()[0] == 8
        database.close()


def test_overload_is_shed_with_503_and_bad_clients_are_cut_off():
    import socket
    with tempfile.TemporaryDirectory(prefix="portcullis-overload-") as workdir:
        server = Server(workdir)
        server.env["PORTCULLIS_MAX_CONCURRENT_REQUESTS"] = "2"
        server.env["PORTCULLIS_IDLE_TIMEOUT"] = "1"
        server.start()
        server.cli("user", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n")
        statuses = []

        def login():
            answer = requests.post(server.url + "/v1/login", json={"username": "alice", "password": PASSWORD}, timeout=30)
            statuses.append((answer.status_code, answer.headers.get("Retry-After")))

        threads = [threading.Thread(target=login) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(statuses) == 12
        assert all(status in (200, 503) for status, _ in statuses), statuses
        assert any(status == 503 and retry == "1" for status, retry in statuses), statuses
        assert any(status == 200 for status, _ in statuses)

        # A 40 KiB header is refused without harm.
        try:
            big = requests.get(server.url + "/healthz", headers={"X-Big": "a" * 40_000}, timeout=10)
            assert 400 <= big.status_code < 500
        except requests.ConnectionError:
            pass  # closing the connection is an acceptable refusal
        # A client that connects and stays silent is dropped after the idle timeout.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as silent:
            started = time.time()
            assert silent.recv(1) == b""
            assert time.time() - started < 4
        assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
        server.stop()
