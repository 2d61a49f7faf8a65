"""POST /v1/login at the default Argon2id cost, against the Argon2 CLI bound; verify p99 beside it."""
from __future__ import annotations

import json

from .. import lib

LOGIN_CONNECTIONS = 16
# The cheap load beside the logins: 8 connections pausing 5 ms (about 1,500 verifies/s).
VERIFY_CONNECTIONS = 8
VERIFY_DELAY_MS = 5


# Logins spread over this many accounts: one account takes at most its lockout threshold of
# password checks at once (attempt reservations), so one user hammered by 16 connections would
# measure the lockout, not the login.
LOGIN_USERS = 32


def add_login_users(server: lib.Server, count: int = LOGIN_USERS) -> None:
    for n in range(count):
        server.add_user(f"bench-login-{n}", roles=("viewer",))


def login_env(users: int = LOGIN_USERS) -> dict:
    return {"BENCH_PATH": "/v1/login", "BENCH_BODY": json.dumps({"username": "bench-login-{n}", "password": lib.PASSWORD}),
            "BENCH_BODY_VARIANTS": str(users), "BENCH_EXPECT": "access_token"}


def verify_env(server: lib.Server) -> dict:
    template = server.login("bench")["access_token"]
    tokens = lib.write_lines(server.directory / "tokens.txt", server.mint(template, 1000))
    return {"BENCH_TOKENS": str(tokens), "BENCH_MODE": "mix", "BENCH_DELAY_MS": str(VERIFY_DELAY_MS)}


def run(context: dict, cpus: str | None = None) -> dict:
    bound = context["baselines"]["argon2_bound_per_s"]
    server = lib.Server("login", cpus=cpus)
    server.add_user("bench", roles=("viewer",))
    add_login_users(server)
    server.start()
    try:
        verify = verify_env(server)
        alone = lib.wrk(server.url, "post.lua", connections=LOGIN_CONNECTIONS, env=login_env())
        verify_alone = lib.wrk(server.url, "verify.lua", connections=VERIFY_CONNECTIONS, env=verify)
        beside = lib.start_wrk(server.url, "verify.lua", VERIFY_CONNECTIONS, lib.SECONDS, env=verify)
        together = lib.wrk(server.url, "post.lua", connections=LOGIN_CONNECTIONS, env=login_env())
        verify_during = lib.finish_wrk(beside)
        figures = {
            "login": alone, "login_vs_argon2_bound": alone["rps"] / bound,
            "login_with_verify": together, "verify_alone": verify_alone, "verify_during_login": verify_during,
            "login_p50_ms": alone["p50_ms"],
        }
    finally:
        server.stop()
    context["login"] = figures
    return figures
