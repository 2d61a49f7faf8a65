"""Two `portcullis serve` processes on one PostgreSQL database behave as one server: the signing
keys are shared (sealed in the database, published before they sign), a revocation or a
refresh-token replay on one replica is seen by the other, /readyz follows the schema, /metrics
names the policy each one decides with, and each runs its janitor under the maintenance lock."""
import base64
import json
import os
import re
import tempfile
import time
import uuid
from contextlib import ExitStack

import jwt
import pytest
import requests

from conftest import Server, postgres_database, sql

ISSUER = "http://portcullis.replicas.test"
ACTIVATION_DELAY = 4


def secrets_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def replica(workdir: str, database: str, secrets: str) -> Server:
    server = Server(workdir)
    server.env.update({"PORTCULLIS_DB": database, "PORTCULLIS_SECRETS_KEY": secrets, "PORTCULLIS_ISSUER": ISSUER,
                       "PORTCULLIS_KEY_ACTIVATION_DELAY": str(ACTIVATION_DELAY), "PORTCULLIS_JANITOR_INTERVAL": "1"})
    return server


@pytest.fixture
def replicas():
    database = postgres_database("replicas_" + uuid.uuid4().hex[:12])
    secrets = secrets_key()
    with ExitStack() as stack:
        folders = [stack.enter_context(tempfile.TemporaryDirectory(prefix=f"portcullis-replica-{name}-")) for name in "ab"]
        servers = [replica(folder, database, secrets) for folder in folders]
        servers[0].cli("migrate")
        for server in servers:
            stack.enter_context(server)
        servers[0].cli("user", "add", "alice", "--password-stdin", stdin="correct horse battery\n")
        yield servers


def kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def verify(server: Server, token: str) -> dict:
    return requests.post(server.url + "/v1/token/verify", json={"token": token}, timeout=10).json()


def published(server: Server) -> set[str]:
    return {key["kid"] for key in requests.get(server.url + "/.well-known/jwks.json", timeout=10).json()["keys"]}


def test_replicas_share_keys_and_a_logout_on_one_ends_the_token_on_the_other(replicas):
    a, b = replicas
    assert published(a) == published(b)
    pair = a.login()
    assert verify(b, pair["access_token"])["active"] is True
    assert requests.post(b.url + "/v1/logout", json={"refresh_token": pair["refresh_token"]}, timeout=10).status_code == 204
    assert verify(a, pair["access_token"]) == {"active": False}, "a logout on B is seen by the next check on A"


def test_with_the_default_revocation_cache_a_revocation_is_seen_at_once_where_made_and_soon_elsewhere(replicas):
    a, b = replicas
    pair = a.login()
    for _ in range(3):  # both replicas remember the token as live
        assert verify(a, pair["access_token"])["active"] is True
        assert verify(b, pair["access_token"])["active"] is True
    assert requests.post(b.url + "/v1/logout", json={"refresh_token": pair["refresh_token"]}, timeout=10).status_code == 204
    assert verify(b, pair["access_token"]) == {"active": False}, "the replica that logged out never answers live again"
    deadline = time.monotonic() + 2
    while verify(a, pair["access_token"]) != {"active": False}:
        assert time.monotonic() < deadline, "the other replica still answers live after 2 s (its bound is the notification's delay)"
        time.sleep(0.01)


def test_a_rotation_is_published_on_every_replica_before_any_signs_with_it(replicas):
    a, b = replicas
    before = a.login()["access_token"]
    began = time.monotonic()
    rotated = json.loads(a.cli("keys", "rotate", "--alg", "EdDSA", "--json"))["kid"]
    # B hears of it by notification, well before the activation.
    while rotated not in published(b) and time.monotonic() - began < ACTIVATION_DELAY / 2:
        time.sleep(0.05)
    assert rotated in published(b), "B publishes the new key before it may sign"
    assert kid(a.login()["access_token"]) == kid(before), "A does not sign with it yet"
    assert kid(b.login()["access_token"]) == kid(before), "nor B"
    listed = {k["kid"]: k["status"] for k in json.loads(b.cli("keys", "list", "--json"))}
    assert listed[rotated] == "pending"

    time.sleep(max(0, began + ACTIVATION_DELAY + 0.5 - time.monotonic()))
    for signer, checker in ((a, b), (b, a)):
        after = signer.login()["access_token"]
        assert kid(after) == rotated and jwt.get_unverified_header(after)["alg"] == "EdDSA"
        assert verify(checker, after)["active"] is True
        assert verify(checker, before)["active"] is True, "tokens of the old key still verify"


def test_a_refresh_token_replayed_on_another_replica_is_reuse(replicas):
    a, b = replicas
    pair = a.login()
    rotated = requests.post(a.url + "/v1/token/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=10)
    assert rotated.status_code == 200
    replay = requests.post(b.url + "/v1/token/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=10)
    assert replay.status_code == 401, replay.text
    successor = requests.post(a.url + "/v1/token/refresh", json={"refresh_token": rotated.json()["refresh_token"]}, timeout=10)
    assert successor.status_code == 401, "the replay on B revoked the family A rotated"


def test_a_replica_with_another_secrets_key_refuses_to_start(replicas):
    a, _ = replicas
    with tempfile.TemporaryDirectory(prefix="portcullis-replica-c-") as folder:
        stranger = replica(folder, a.env["PORTCULLIS_DB"], secrets_key())
        result = stranger.run_cli("serve", timeout=30)
        assert result.returncode != 0
        assert "cannot open the signing keys" in result.stderr and "no key-encryption key opens" in result.stderr, result.stderr


def metric(text: str, name: str) -> dict:
    """Every sample of `name` in Prometheus text, by its label set."""
    samples = {}
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
        if match:
            samples[match.group(1) or ""] = float(match.group(2))
    return samples


def wait_for(replicas, predicate, what, seconds=15):
    deadline = time.monotonic() + seconds
    answers = []
    while time.monotonic() < deadline:
        answers = [requests.get(replica.url + "/readyz", timeout=10) for replica in replicas]
        if all(predicate(answer) for answer in answers):
            return answers
        time.sleep(0.25)
    raise AssertionError(f"{what}: {[(a.status_code, a.json()) for a in answers]}")


def test_replicas_report_the_schema_and_policy_and_take_turns_at_maintenance(replicas):
    for replica in replicas:
        assert replica.env.get("PORTCULLIS_JANITOR_INTERVAL") == "1"
    ready = wait_for(replicas, lambda r: r.status_code == 200, "both replicas ready")
    assert all(r.json()["schema"] == "current" and r.json()["schema_migrations"] == [] for r in ready)

    # A newer release migrated the database: the old replicas keep serving (migrations are additive) and say so.
    sql(replicas[0], "INSERT INTO schema_migrations (id, checksum, applied_at) VALUES ('v99-future', 'x', 0)")
    ahead = wait_for(replicas, lambda r: r.status_code == 200 and r.json()["schema"] == "ahead", "both report ahead, still ready")
    assert all(r.json()["schema_migrations"] == ["v99-future"] and r.json()["database"] == "ok" for r in ahead)
    sql(replicas[0], "DELETE FROM schema_migrations WHERE id = 'v99-future'")
    wait_for(replicas, lambda r: r.status_code == 200 and r.json()["schema"] == "current", "both current again")

    # A migration of theirs missing: the database is behind them, both leave the load balancer.
    removed = sql(replicas[0], "DELETE FROM schema_migrations WHERE id = 'v4-revocation-notify' RETURNING checksum")
    behind = wait_for(replicas, lambda r: r.status_code == 503, "both unready while the schema is behind")
    assert all(r.json()["schema"] == "behind" and r.json()["schema_migrations"] == ["v4-revocation-notify"] for r in behind)
    sql(replicas[0], "INSERT INTO schema_migrations (id, checksum, applied_at) VALUES ('v4-revocation-notify', :'checksum', 0)", checksum=removed)
    wait_for(replicas, lambda r: r.status_code == 200 and r.json()["schema"] == "current", "both ready again")

    # Each replica says which policy it decides with; both read the same folder.
    version = ready[0].json()["policy_version"]
    for replica in replicas:
        text = requests.get(replica.url + "/metrics", timeout=10).text
        assert metric(text, "portcullis_policy_info") == {f'{{version="{version}"}}': 1.0}
        assert abs(metric(text, "portcullis_policy_loaded_timestamp_seconds")[""] - time.time()) < 120

    # Every replica's janitor runs each second; a round either sweeps or is skipped, never fails.
    time.sleep(2.5)
    swept = skipped = 0
    for replica in replicas:
        sweeps = metric(requests.get(replica.url + "/metrics", timeout=10).text, "portcullis_janitor_sweeps_total")
        swept += sweeps.get('{result="swept"}', 0)
        skipped += sweeps.get('{result="skipped"}', 0)
    assert swept >= 2 and swept + skipped >= 4, (swept, skipped)
    for replica in replicas:
        assert "janitor sweep failed" not in open(os.path.join(replica.workdir, "server.log"), errors="replace").read()
