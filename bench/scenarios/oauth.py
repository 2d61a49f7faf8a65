"""client_credentials issuance and RFC 7662 introspection: Portcullis against glewlwyd (bench/peers/glewlwyd),
and Portcullis's introspection against its own token verify on one 1,000-token mix."""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from .. import lib

CONNECTIONS = 64
GLEWLWYD = lib.BENCH / "peers" / "glewlwyd"
GLEWLWYD_URL = "http://127.0.0.1:4593/api/oidc"
GLEWLWYD_CLIENT = ("bench-client", "bench-secret")
# The verify scenario's mix size: introspection's target is a ratio to verify on the same mix.
MIX = 1000


def measure(token_url: str, introspect_url: str, client: tuple[str, str], grant_fields: str) -> dict:
    authorization = lib.basic(*client)
    status, body = lib.http("POST", token_url, grant_fields.encode(),
                            {"Content-Type": "application/x-www-form-urlencoded", "Authorization": authorization})
    if status != 200 or not isinstance(body, dict) or "access_token" not in body:
        raise RuntimeError(f"client_credentials failed: {status} {body}")
    form = {"BENCH_CONTENT_TYPE": "application/x-www-form-urlencoded", "BENCH_AUTHORIZATION": authorization}
    issue = lib.wrk(token_url, "post.lua", connections=CONNECTIONS,
                    env={**form, "BENCH_PATH": "/" + token_url.split("/", 3)[3], "BENCH_BODY": grant_fields, "BENCH_EXPECT": "access_token"})
    status, check = lib.post_form(introspect_url, {"token": body["access_token"]}, {"Authorization": authorization})
    if status != 200 or check.get("active") is not True:
        raise RuntimeError(f"introspection failed: {status} {check}")
    introspect = lib.wrk(introspect_url, "post.lua", connections=CONNECTIONS,
                         env={**form, "BENCH_PATH": "/" + introspect_url.split("/", 3)[3],
                              "BENCH_BODY": "token=" + body["access_token"], "BENCH_EXPECT": '"active":true'})
    return {"client_credentials": issue, "introspect": introspect,
            "token_signing_alg": json.loads(lib.base64.urlsafe_b64decode(body["access_token"].split(".")[0] + "==")).get("alg")}


def token_mix(server: lib.Server, client: tuple[str, str]) -> dict:
    """Introspection and token verify, back to back on one server, each drawing at random from the
    same MIX live user access tokens (minted like the verify scenario's mix): the like-for-like
    pair behind the target "introspection ≥ 0.8× the verify rate of the same token mix". The single
    token of `measure` stays for the comparison with glewlwyd, which introspects one token too."""
    tokens = lib.write_lines(server.directory / "mix.txt", server.mint(server.login("bench")["access_token"], MIX))
    mix = {"BENCH_TOKENS": str(tokens), "BENCH_MODE": "mix", "BENCH_MIX": str(MIX)}
    verify = lib.wrk(server.url, "verify.lua", connections=CONNECTIONS, env=mix, server_pid=server.pid)
    introspect = lib.wrk(server.url, "verify.lua", connections=CONNECTIONS, server_pid=server.pid, env={
        **mix, "BENCH_PATH": "/oauth2/introspect", "BENCH_FORM": "1", "BENCH_AUTHORIZATION": lib.basic(*client)})
    return {"verify_mix": verify, "introspect_mix": introspect}


def portcullis() -> dict:
    server = lib.Server("oauth")
    server.add_user("bench", roles=("viewer",))
    server.start()
    try:
        created = json.loads(server.cli("client", "add", "bench", "--grant-type", "client_credentials", "--json"))
        client = (created["client_id"], created["client_secret"])
        figures = measure(server.url + "/oauth2/token", server.url + "/oauth2/introspect", client, "grant_type=client_credentials")
        return {**figures, **token_mix(server, client)}
    finally:
        server.stop()


def glewlwyd(iterations: int | None = None) -> dict:
    """glewlwyd with its default client-secret hashing (PBKDF2), or with `iterations` rounds of it."""
    directory = Path(tempfile.mkdtemp(prefix="portcullis-bench-glewlwyd-"))
    command = ["sh", str(GLEWLWYD / "start.sh"), str(directory)] + ([str(iterations)] if iterations else [])
    started = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        return {"error": f"glewlwyd did not start: {(started.stdout + started.stderr).strip()[-600:]}"}
    try:
        return measure(GLEWLWYD_URL + "/token", GLEWLWYD_URL + "/introspect", GLEWLWYD_CLIENT,
                       "grant_type=client_credentials&scope=bench")
    except RuntimeError as error:
        return {"error": str(error)}
    finally:
        subprocess.run(["sh", str(GLEWLWYD / "stop.sh"), str(directory)], capture_output=True, timeout=60)


def run(context: dict) -> dict:
    # glewlwyd hashes client secrets with PBKDF2 (expensive by design, for low-entropy secrets);
    # Portcullis's are 256-bit random and stored as SHA-256. The second run sets PBKDF2 to one
    # iteration so the rest of the two servers is compared like for like.
    figures = {"portcullis": portcullis(), "glewlwyd": glewlwyd(), "glewlwyd_pbkdf2_1": glewlwyd(iterations=1)}
    mine = figures["portcullis"]
    figures["introspect_mix_vs_verify_mix"] = mine["introspect_mix"]["rps"] / mine["verify_mix"]["rps"]
    for peer_name in ("glewlwyd", "glewlwyd_pbkdf2_1"):
        peer = figures[peer_name]
        if "error" not in peer:
            for endpoint in ("client_credentials", "introspect"):
                figures[f"{endpoint}_vs_{peer_name}"] = figures["portcullis"][endpoint]["rps"] / peer[endpoint]["rps"]
    context["oauth"] = figures
    return figures
