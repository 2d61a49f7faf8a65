"""Three `portcullis serve` replicas on one PostgreSQL behind haproxy (health checks on /readyz):
thirty seconds of mixed load while one replica is killed with SIGKILL and restarted and
`keys rotate` runs once; then every safety property is checked on the shared database.

Bounded in time, loopback only, every process stopped by its pid."""
import base64
import hashlib
import html
import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from contextlib import ExitStack

import jwt
import pytest
import requests

from conftest import Server, free_port, postgres_database
from tools.haproxy import Haproxy, config as haproxy_config

LOAD_SECONDS = 30
# A client whose refresh met the killed replica retries with the same token: inside this window
# that is a retry (it gets the successor), not reuse (docs/CONFIGURATION.md, "Refresh grace window").
GRACE_WINDOW = 3
REDIRECT = "http://127.0.0.1:8765/callback"
PASSWORD = "correct horse battery"


def hidden_fields(page: str) -> dict:
    return {name: html.unescape(value) for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}


class Cluster:
    def __init__(self, stack: ExitStack):
        self.database = postgres_database("failover_" + uuid.uuid4().hex[:12])
        self.secrets = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        self.lb_port = free_port()
        self.url = f"http://127.0.0.1:{self.lb_port}"
        folders = [stack.enter_context(tempfile.TemporaryDirectory(prefix=f"portcullis-failover-{i}-")) for i in range(3)]
        self.replicas = []
        for folder in folders:
            replica = Server(folder)
            replica.env.update({
                "PORTCULLIS_DB": self.database, "PORTCULLIS_SECRETS_KEY": self.secrets, "PORTCULLIS_ISSUER": self.url,
                "PORTCULLIS_KEY_ACTIVATION_DELAY": "2",
                # Every request here comes from 127.0.0.1: the per-address limit would be one shared
                # budget for the whole load; this test checks the per-account lockout.
                "PORTCULLIS_ADDRESS_FAILURE_LIMIT": "100000", "PORTCULLIS_REFRESH_GRACE_WINDOW": str(GRACE_WINDOW), "PORTCULLIS_DB_POOL_SIZE": "4",
                # Strict mode: every check reads the database (the default cache is test_replicas.py's).
                "PORTCULLIS_REVOCATION_CACHE_SECONDS": "0",
            })
            self.replicas.append(replica)
        self.folder = folders[0]

    def start(self, stack: ExitStack):
        first = self.replicas[0]
        first.cli("migrate")
        for name in ("alice", "bob", "carol", "dave", "locky"):
            first.cli("user", "add", name, "--role", "editor", "--password-stdin", stdin=PASSWORD + "\n")
        self.client = json.loads(first.cli("client", "add", "Failover App", "--id", "failover-app", "--redirect-uri", REDIRECT,
                                           "--grant-type", "authorization_code", "--grant-type", "refresh_token",
                                           "--grant-type", "client_credentials", "--json"))
        for replica in self.replicas:
            stack.enter_context(replica)
        balancer = Haproxy(self.lb_port, haproxy_config(self.lb_port, [r.port for r in self.replicas], check_interval_ms=300, retries=True,
                                                         server_close=True),
                           self.folder)
        stack.enter_context(balancer)

    def basic(self):
        return (self.client["client_id"], self.client["client_secret"])


def post(url, **kwargs):
    """A request that may meet the replica being killed: None instead of an exception."""
    try:
        return requests.post(url, timeout=20, **kwargs)
    except requests.RequestException:
        return None


def code_for(cluster: Cluster, username: str) -> tuple[str, str]:
    """One authorization code (and its PKCE verifier) through the load balancer, like a browser."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    query = urllib.parse.urlencode({"response_type": "code", "client_id": cluster.client["client_id"], "redirect_uri": REDIRECT,
                                    "scope": "openid offline_access", "state": secrets.token_urlsafe(8),
                                    "code_challenge": challenge, "code_challenge_method": "S256"})
    browser = requests.Session()
    page = browser.get(cluster.url + "/oauth2/authorize?" + query, timeout=20)
    answer = browser.post(cluster.url + "/oauth2/login", data=hidden_fields(page.text) | {"username": username, "password": PASSWORD},
                          allow_redirects=False, timeout=20)
    if answer.status_code == 200 and 'id="consent"' in answer.text:
        answer = browser.post(cluster.url + "/oauth2/consent", data=hidden_fields(answer.text) | {"decision": "allow"},
                              allow_redirects=False, timeout=20)
    assert answer.status_code == 303, answer.text[:300]
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(answer.headers["Location"]).query))["code"]
    return code, verifier


class Load:
    """What the workers saw: acknowledged writes and every wrong answer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.chains: dict[str, str] = {}        # user -> the refresh token of the last acknowledged rotation
        self.tokens: list[str] = []             # access tokens acknowledged
        self.signature_failures: list[str] = []
        self.double_redemptions: list[str] = []
        self.codes = 0
        self.errors: list[str] = []

    def note(self, **changes):
        with self.lock:
            for name, value in changes.items():
                getattr(self, name).append(value) if isinstance(getattr(self, name), list) else setattr(self, name, value)


def refresh_chain(cluster: Cluster, load: Load, user: str, until: float):
    pair = None
    while pair is None and time.monotonic() < until:
        response = post(cluster.url + "/v1/login", json={"username": user, "password": PASSWORD})
        pair = response.json() if response is not None and response.status_code == 200 else None
    token = pair["refresh_token"]
    with load.lock:
        load.chains[user] = token
        load.tokens.append(pair["access_token"])
    while time.monotonic() < until:
        response = post(cluster.url + "/v1/token/refresh", json={"refresh_token": token})
        if response is None or response.status_code >= 500:
            continue  # not acknowledged: retried with the same token (inside the grace window)
        if response.status_code != 200:
            load.note(errors=f"refresh of {user}: {response.status_code} {response.text[:200]}")
            return
        token = response.json()["refresh_token"]
        with load.lock:
            load.chains[user] = token
            load.tokens.append(response.json()["access_token"])


def checks(cluster: Cluster, load: Load, until: float):
    while time.monotonic() < until:
        with load.lock:
            token = load.tokens[-1] if load.tokens else None
        if token is None:
            time.sleep(0.05)
            continue
        verify = post(cluster.url + "/v1/token/verify", json={"token": token})
        if verify is not None and verify.status_code == 200 and verify.json().get("active") is not True:
            load.note(signature_failures=f"verify: {jwt.get_unverified_header(token)['kid']}")
        decision = post(cluster.url + "/v1/authorize", json={"token": token, "action": "read", "resource": "documents/a"})
        if decision is not None and decision.status_code not in (200,) and decision.status_code < 500:
            load.note(signature_failures=f"authorize: {decision.status_code} {decision.text[:200]}")
        # The app's own client_credentials token, issued and introspected (RFC 7662) under load.
        issued = post(cluster.url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=cluster.basic())
        if issued is None or issued.status_code >= 500:
            continue
        if issued.status_code != 200:
            load.note(errors=f"client_credentials: {issued.status_code} {issued.text[:200]}")
            continue
        load.note(tokens=issued.json()["access_token"])
        answer = post(cluster.url + "/oauth2/introspect", data={"token": issued.json()["access_token"]}, auth=cluster.basic())
        if answer is not None and answer.status_code == 200 and answer.json().get("active") is not True:
            load.note(signature_failures=f"introspect: {answer.text[:200]}")
        elif answer is not None and answer.status_code != 200 and answer.status_code < 500:
            load.note(errors=f"introspect: {answer.status_code} {answer.text[:200]}")


def code_flows(cluster: Cluster, load: Load, until: float):
    """Each code redeemed at two replicas at once, directly: exactly one redemption may win."""
    while time.monotonic() < until:
        try:
            code, verifier = code_for(cluster, "dave")
        except (requests.RequestException, AssertionError, KeyError):
            continue  # the login met the killed replica
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
        live = [r for r in cluster.replicas if r.process and r.process.poll() is None][:2]
        results = [None, None]

        def redeem(index, replica):
            results[index] = post(replica.url + "/oauth2/token", data=form, auth=cluster.basic())

        threads = [threading.Thread(target=redeem, args=(i, r)) for i, r in enumerate(live)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wins = sum(1 for r in results if r is not None and r.status_code == 200)
        with load.lock:
            load.codes += 1
            if wins > 1:
                load.double_redemptions.append(code[:8])


@pytest.mark.skipif(subprocess.run(["which", "haproxy"], capture_output=True).returncode != 0 and os.environ.get("CI") != "true",
                    reason="haproxy is not installed (make test-deps installs it)")
def test_three_replicas_behind_haproxy_survive_a_kill_and_a_rotation_under_load():
    with ExitStack() as stack:
        cluster = Cluster(stack)
        cluster.start(stack)
        load = Load()
        began = time.monotonic()
        until = began + LOAD_SECONDS
        workers = [threading.Thread(target=refresh_chain, args=(cluster, load, user, until)) for user in ("alice", "bob", "carol")]
        workers += [threading.Thread(target=checks, args=(cluster, load, until)) for _ in range(2)]
        workers.append(threading.Thread(target=code_flows, args=(cluster, load, until)))
        for worker in workers:
            worker.start()

        # The events: a rotation, then replica 3 killed and restarted, all under load.
        time.sleep(6)
        rotated = json.loads(cluster.replicas[0].cli("keys", "rotate", "--alg", "EdDSA", "--json"))["kid"]
        time.sleep(4)
        victim = cluster.replicas[2]
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        time.sleep(5)
        victim.start()
        for worker in workers:
            worker.join(timeout=LOAD_SECONDS + 60)
        assert not any(worker.is_alive() for worker in workers), "a load worker hung"

        # Under load: no wrong answer.
        assert load.errors == [], load.errors
        assert load.signature_failures == [], "a live token was refused during the rotation or the kill"
        assert load.double_redemptions == [], "a code was redeemed twice"
        assert load.codes >= 3, "the code flow ran"
        kids = {jwt.get_unverified_header(token)["kid"] for token in load.tokens}
        assert rotated in kids and len(kids) >= 2, "tokens were signed before and after the rotation"

        a, b, c = cluster.replicas
        # No acknowledged write lost: each chain's last acknowledged refresh token rotates, on any replica.
        for user, token in load.chains.items():
            response = requests.post(b.url + "/v1/token/refresh", json={"refresh_token": token}, timeout=20)
            assert response.status_code == 200, (user, response.text)
        # Every acknowledged access token verifies on every replica (zero signature failures).
        sample = load.tokens[:: max(1, len(load.tokens) // 50)]
        for replica in cluster.replicas:
            for token in sample:
                assert requests.post(replica.url + "/v1/token/verify", json={"token": token}, timeout=20).json()["active"] is True
        # No reuse alarm so far: every retry after a lost answer was inside the grace window.
        trail = json.loads(a.cli("audit", "show", "--limit", "100000", "--json"))
        assert [e for e in trail if e["action"] == "token.reuse"] == [], "a refresh reuse alarm without a deliberate replay"

        # A deliberate replay on replica A is detected on replica B.
        pair = requests.post(a.url + "/v1/login", json={"username": "bob", "password": PASSWORD}, timeout=20).json()
        assert requests.post(a.url + "/v1/token/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=20).status_code == 200
        time.sleep(GRACE_WINDOW + 0.5)  # past the grace window: a replay, not a retry
        assert requests.post(b.url + "/v1/token/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=20).status_code == 401
        trail = json.loads(c.cli("audit", "show", "--limit", "100000", "--json"))
        assert len([e for e in trail if e["action"] == "token.reuse"]) == 1

        # A revocation on one replica is inactive on the others at once (strict mode: no revocation cache).
        pair = requests.post(a.url + "/v1/login", json={"username": "carol", "password": PASSWORD}, timeout=20).json()
        assert requests.post(a.url + "/v1/logout", json={"refresh_token": pair["refresh_token"]}, timeout=20).status_code == 204
        for replica in (b, c):
            assert requests.post(replica.url + "/v1/token/verify", json={"token": pair["access_token"]}, timeout=20).json() == {"active": False}

        # The account lockout trips at exactly its threshold with failures spread round-robin.
        statuses = [requests.post(cluster.replicas[i % 3].url + "/v1/login", json={"username": "locky", "password": "wrong password"},
                                  timeout=20).status_code for i in range(9)]
        assert statuses == [401] * 9, statuses
        assert requests.post(b.url + "/v1/login", json={"username": "locky", "password": PASSWORD}, timeout=20).status_code == 200
        assert requests.post(c.url + "/v1/login", json={"username": "locky", "password": "wrong password"}, timeout=20).status_code == 401
        locked = requests.post(a.url + "/v1/login", json={"username": "locky", "password": PASSWORD}, timeout=20)
        assert locked.status_code == 429 and locked.headers.get("Retry-After"), (locked.status_code, locked.text)

        # One audit chain, intact, appended from every replica.
        chain = json.loads(b.cli("audit", "verify", "--json"))
        assert chain["result"] == "intact", chain
