"""How throughput changes from one core to two (taskset), and login latency with 10k, 100k and 1M users."""
from __future__ import annotations

import json
import sqlite3
import time

from .. import lib
from . import login, verify

DATABASE_SIZES = (10_000, 100_000, 1_000_000)


def verify_on(cpus: str, openssl_rate: float) -> dict:
    server = lib.Server("scaling-verify", cpus=cpus)
    server.add_user("bench", roles=("viewer",))
    server.start()
    try:
        template = server.login("bench")["access_token"]
        count = int(openssl_rate * 1.3 * lib.SECONDS) + 10_000
        tokens = lib.write_lines(server.directory / "tokens.txt", server.mint(template, count))
        return verify.run_one(server, str(tokens), "distinct")
    finally:
        server.stop()


def add_users(database: str, first: int, last: int) -> float:
    """Inserts users first..<last copying bench-login-0's password hash; returns seconds taken."""
    began = time.perf_counter()
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("""
            WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
            INSERT INTO users (id, username, username_key, email, password_hash, disabled, created_at, updated_at)
            SELECT printf('bulk-%08d', i), printf('user%08d', i), printf('user%08d', i), printf('user%08d@example.org', i),
                   (SELECT password_hash FROM users WHERE username = 'bench-login-0'), 0, 0, 0 FROM n
            """, (first, last))
    connection.close()
    return time.perf_counter() - began


def login_by_database_size() -> list[dict]:
    server = lib.Server("scaling-db")
    login.add_login_users(server, 1)
    points, present = [], 0
    env = login.login_env(users=1)
    try:
        for size in DATABASE_SIZES:
            seconds = add_users(str(server.directory / "portcullis.db"), present, size)
            present = size
            server.start()
            # One connection: the latency of a login alone, not of a queue.
            figures = lib.wrk(server.url, "post.lua", connections=1, seconds=min(lib.SECONDS, 5), env=env)
            figures.update(users=size, insert_seconds=seconds)
            points.append(figures)
            server.stop()
    finally:
        server.stop()
    return points


def run(context: dict) -> dict:
    baselines = context["baselines"]
    figures = {
        "verify_ES256_distinct": {
            "1": verify_on("0", baselines["openssl_verify_per_s_1core"]["ES256"]),
            "2": verify_on("0,1", baselines["openssl_verify_per_s"]["ES256"]),
        },
        "login": {
            "1": login.run({"baselines": baselines}, cpus="0")["login"],
            "2": context["login"]["login"],
        },
        "login_by_users": login_by_database_size(),
    }
    context["scaling"] = figures
    return figures
