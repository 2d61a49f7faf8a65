"""client_credentials issuance and RFC 7662 introspection: Portcullis against glewlwyd (bench/peers/glewlwyd)."""
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


def portcullis() -> dict:
    server = lib.Server("oauth")
    server.start()
    try:
        created = json.loads(server.cli("client", "add", "bench", "--grant-type", "client_credentials", "--json"))
        return measure(server.url + "/oauth2/token", server.url + "/oauth2/introspect",
                       (created["client_id"], created["client_secret"]), "grant_type=client_credentials")
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
    for peer_name in ("glewlwyd", "glewlwyd_pbkdf2_1"):
        peer = figures[peer_name]
        if "error" not in peer:
            for endpoint in ("client_credentials", "introspect"):
                figures[f"{endpoint}_vs_{peer_name}"] = figures["portcullis"][endpoint]["rps"] / peer[endpoint]["rps"]
    context["oauth"] = figures
    return figures
