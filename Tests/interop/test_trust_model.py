"""The trust model of issue 13, attacked from outside against a live server.

Each test drives one attack of the security review with real clients (authlib's OAuth2Session for
OAuth, plain requests for the REST API and the browser pages) and pins the fixed behaviour:
1 refresh tokens are bound to their client, 2 access tokens carry an audience that is checked,
3 the account lockout holds under concurrency, 4 browser sessions end with the credentials,
5 removing TOTP needs the password and a code and respects the lockout, 6 resources must be
canonical, 7 an authorization code is checked before it is burned and PKCE is required.

The module has its own server so lockouts, sessions and clients do not leak into other files.
"""
import base64
import html
import itertools
import json
import re
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from conftest import Server

PASSWORD = "correct horse battery"
NEW_PASSWORD = "correct horse battery staple"
REDIRECT = "http://127.0.0.1:8765/callback"
API = "https://api.example"
SCOPE = "openid offline_access"

_ids = itertools.count(1)


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def srv():
    """A server of this module alone; the address limit is out of the way so only the account limit counts."""
    with tempfile.TemporaryDirectory(prefix="portcullis-trust-") as workdir:
        server = Server(workdir)
        server.env["PORTCULLIS_ADDRESS_FAILURE_LIMIT"] = "100000"
        server.start()
        try:
            yield server
        finally:
            server.stop()


def endpoints(srv):
    document = requests.get(srv.url + "/.well-known/openid-configuration", timeout=10).json()
    return document["authorization_endpoint"], document["token_endpoint"]


def new_user(srv, role=None, password=PASSWORD):
    name = f"user{next(_ids)}"
    srv.cli("user", "add", name, *(["--role", role] if role else []), "--password-stdin", stdin=password + "\n")
    return name


def new_client(srv, *flags):
    """A confidential client with REDIRECT; extra CLI flags as given. Returns {client_id, client_secret}."""
    client_id = f"client{next(_ids)}"
    out = srv.cli("client", "add", f"Trust App {client_id}", "--id", client_id, "--redirect-uri", REDIRECT, *flags, "--json")
    return json.loads(out)


def oauth_session(client, pkce=True):
    return OAuth2Session(client["client_id"], client["client_secret"], scope=SCOPE, redirect_uri=REDIRECT,
                         code_challenge_method="S256" if pkce else None, token_endpoint_auth_method="client_secret_basic")


def hidden_fields(page):
    return {name: html.unescape(value) for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location or "").query))


def authorize(srv, url, username, password=PASSWORD, browser=None, mfa_code=None):
    """Follows /oauth2/authorize like a browser (login form, MFA form, consent); returns the redirect to the app."""
    browser = browser if browser is not None else requests.Session()
    answer = browser.get(url, allow_redirects=False, timeout=10)
    if answer.status_code == 200 and 'id="login"' in answer.text:
        form = hidden_fields(answer.text) | {"username": username, "password": password}
        answer = browser.post(srv.url + "/oauth2/login", data=form, allow_redirects=False, timeout=30)
    if answer.status_code == 200 and 'id="mfa"' in answer.text:
        assert mfa_code, "the login asks for a second factor"
        answer = browser.post(srv.url + "/oauth2/mfa", data=hidden_fields(answer.text) | {"code": mfa_code}, allow_redirects=False, timeout=30)
    if answer.status_code == 200 and 'id="consent"' in answer.text:
        answer = browser.post(srv.url + "/oauth2/consent", data=hidden_fields(answer.text) | {"decision": "allow"}, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text[:500]
    return answer.headers["Location"]


def code_flow(srv, client, username, **extra):
    """authorization_code with PKCE through authlib; `extra` goes into both the authorization and the token request."""
    authorization_endpoint, token_endpoint = endpoints(srv)
    session = oauth_session(client)
    verifier = generate_token(64)
    url, _ = session.create_authorization_url(authorization_endpoint, code_verifier=verifier, **extra)
    callback = authorize(srv, url, username)
    token = session.fetch_token(token_endpoint, authorization_response=callback, code_verifier=verifier, **extra)
    return session, token


def claims_of(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def audiences(jwt):
    aud = claims_of(jwt)["aud"]
    return [aud] if isinstance(aud, str) else list(aud)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def me(srv, access):
    return requests.get(srv.url + "/v1/me", headers=bearer(access), timeout=10)


def verify(srv, token, **extra):
    answer = requests.post(srv.url + "/v1/token/verify", json={"token": token, **extra}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def token_request(srv, client, **form):
    _, token_endpoint = endpoints(srv)
    return requests.post(token_endpoint, auth=(client["client_id"], client["client_secret"]), data=form, timeout=10)


# ---------------------------------------------------------------- 1. refresh tokens are bound to their client


def test_oauth_refresh_token_is_refused_at_the_rest_refresh_endpoint_and_not_consumed(srv):
    """Attack 1: an OAuth client's refresh token replayed at POST /v1/token/refresh."""
    client = new_client(srv)
    session, token = code_flow(srv, client, new_user(srv))
    answer = requests.post(srv.url + "/v1/token/refresh", json={"refresh_token": token["refresh_token"]}, timeout=10)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_grant", answer.text
    refreshed = session.refresh_token(endpoints(srv)[1], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] and refreshed["refresh_token"] != token["refresh_token"]


def test_rest_refresh_token_is_refused_at_the_oauth_token_endpoint_and_not_consumed(srv):
    """Attack 1: a REST login's refresh token presented by a client at /oauth2/token."""
    pair = srv.login(new_user(srv), PASSWORD)
    answer = token_request(srv, new_client(srv), grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant", answer.text
    again = requests.post(srv.url + "/v1/token/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=10)
    assert again.status_code == 200, again.text


def test_refresh_token_of_client_a_is_refused_for_client_b_and_not_consumed(srv):
    """Attack 1: client B presents client A's refresh token."""
    client_a, client_b = new_client(srv), new_client(srv)
    session_a, token = code_flow(srv, client_a, new_user(srv))
    answer = token_request(srv, client_b, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant", answer.text
    assert session_a.refresh_token(endpoints(srv)[1], refresh_token=token["refresh_token"])["access_token"]


# ---------------------------------------------------------------- 2. audience


@pytest.fixture(scope="module")
def third_party(srv):
    """A third-party client's access token for a viewer (who may read documents/*)."""
    client = new_client(srv)
    _, token = code_flow(srv, client, new_user(srv, role="viewer"))
    return client, token["access_token"]


def test_third_party_access_token_is_audienced_to_its_client(third_party):
    """Attack 2: a third-party client's token must not carry the account API's audience."""
    client, access = third_party
    assert audiences(access) == [client["client_id"]]


def test_third_party_access_token_is_refused_by_the_account_api(srv, third_party):
    """Attack 2: a third-party client's token used at GET /v1/me."""
    _, access = third_party
    answer = me(srv, access)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token", answer.text


def test_rest_login_token_is_audienced_to_the_issuer_and_works_at_me(srv):
    """Attack 2 (the legitimate side): a REST login token is for the account API."""
    access = srv.login(new_user(srv), PASSWORD)["access_token"]
    assert srv.url in audiences(access)
    assert me(srv, access).status_code == 200


def test_verify_with_an_audience_the_token_lacks_is_inactive_with_a_reason(srv, third_party):
    """Attack 2: a resource server asks /v1/token/verify about a token meant for someone else."""
    _, access = third_party
    answer = verify(srv, access, audience=API)
    assert answer["active"] is False, answer
    assert isinstance(answer.get("reason"), str) and answer["reason"], answer


def test_verify_without_audience_reports_client_id_scope_and_aud(srv, third_party):
    """Attack 2: a resource server can check the audience itself from the verify answer."""
    client, access = third_party
    answer = verify(srv, access)
    assert answer["active"] is True and answer["client_id"] == client["client_id"], answer
    assert set(answer["scope"].split()) == set(SCOPE.split())
    aud = answer["aud"]
    assert sorted([aud] if isinstance(aud, str) else aud) == sorted(audiences(access))


def test_authorize_with_an_audience_the_token_lacks_is_not_allowed(srv, third_party):
    """Attack 2: /v1/authorize with a token of another audience (the user could read documents/x)."""
    _, access = third_party
    answer = requests.post(srv.url + "/v1/authorize", json={
        "token": access, "action": "read", "resource": "documents/x", "audience": API}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["allowed"] is False and answer.json()["reason"], answer.text


def test_resource_indicator_sets_the_audience(srv):
    """Attack 2: RFC 8707 — a registered resource becomes the token's audience."""
    client = new_client(srv, "--resource", API)
    _, token = code_flow(srv, client, new_user(srv), resource=API)
    assert audiences(token["access_token"]) == [API]
    assert verify(srv, token["access_token"], audience=API)["active"] is True


def test_unregistered_resource_is_invalid_target(srv):
    """Attack 2: RFC 8707 — a client asks for a resource it has not registered."""
    client = new_client(srv)
    authorization_endpoint, _ = endpoints(srv)
    session = oauth_session(client)
    verifier = generate_token(64)
    url, _ = session.create_authorization_url(authorization_endpoint, code_verifier=verifier, resource=API)
    callback = query_of(authorize(srv, url, new_user(srv)))
    if "error" in callback:
        assert callback["error"] == "invalid_target", callback
        return
    answer = token_request(srv, client, grant_type="authorization_code", code=callback["code"], redirect_uri=REDIRECT,
                           code_verifier=verifier, resource=API)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_target", answer.text


def test_first_party_token_is_audienced_to_the_issuer_and_works_at_me(srv):
    """Attack 2 (the legitimate side): a --first-party client's token is for the account API."""
    client = new_client(srv, "--first-party")
    _, token = code_flow(srv, client, new_user(srv))
    assert srv.url in audiences(token["access_token"])
    assert me(srv, token["access_token"]).status_code == 200


# ---------------------------------------------------------------- 3. race-proof lockout


def test_concurrent_wrong_passwords_cannot_exceed_the_account_limit(srv):
    """Attack 3: 30 wrong passwords and the right one at once must not get more than 10 evaluations."""
    username = new_user(srv)
    attempts = [f"wrong password {i}" for i in range(30)] + [PASSWORD]
    barrier = threading.Barrier(len(attempts))

    def attempt(password):
        barrier.wait(timeout=60)
        answer = requests.post(srv.url + "/v1/login", json={"username": username, "password": password}, timeout=120)
        error = answer.json().get("error") if answer.headers.get("Content-Type", "").startswith("application/json") else None
        return password, answer.status_code, error, answer.headers.get("Retry-After")

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        results = list(pool.map(attempt, attempts))
    evaluated = [r for r in results if r[1] == 200 or (r[1] == 401 and r[2] == "invalid_credentials")]
    refused = [r for r in results if r not in evaluated]
    # The limit is on guesses: at most 10 wrong passwords are ever evaluated. The owner's right
    # password gives back only the slot it held itself, so it may run as an 11th evaluation.
    guesses = [r for r in evaluated if r[0] != PASSWORD]
    assert len(guesses) <= 10, f"{len(guesses)} wrong passwords of {len(results)} attempts were evaluated"
    assert all(status == 429 and retry for _, status, _, retry in refused), [r[1:] for r in refused]
    if not any(password == PASSWORD for password, *_ in evaluated):
        answer = requests.post(srv.url + "/v1/login", json={"username": username, "password": PASSWORD}, timeout=30)
        assert answer.status_code == 429, answer.text


# ---------------------------------------------------------------- TOTP accounts (attacks 4 and 5)


class TOTPAccount:
    """A user with active TOTP, a REST access token from before enrolment, and recovery codes."""

    def __init__(self, srv):
        self.srv = srv
        self.username = new_user(srv)
        self.access = srv.login(self.username, PASSWORD)["access_token"]
        enrolment = requests.post(srv.url + "/v1/me/mfa/totp", headers=bearer(self.access), timeout=10).json()
        self.otp = pyotp.parse_uri(enrolment["otpauth_uri"])
        self.last_step = int(time.time() // 30)
        confirm = requests.post(srv.url + "/v1/me/mfa/totp/confirm", json={"code": self.otp.at(self.last_step * 30)},
                                headers=bearer(self.access), timeout=10)
        assert confirm.status_code == 200, confirm.text
        self.recovery_codes = confirm.json()["recovery_codes"]

    def current_code(self):
        """A code of the current step, waiting for the next step if this one was used (codes are single-use per step)."""
        step = int(time.time() // 30)
        if step <= self.last_step:
            time.sleep((self.last_step + 1) * 30 - time.time() + 0.2)
            step = int(time.time() // 30)
        self.last_step = step
        return self.otp.at(step * 30)

    def totp_active(self):
        answer = me(self.srv, self.access)
        assert answer.status_code == 200, answer.text
        return answer.json()["mfa"]["totp"]

    def remove_totp(self, **body):
        return requests.delete(self.srv.url + "/v1/me/mfa/totp", json=body, headers=bearer(self.access), timeout=30)


@pytest.fixture(scope="module")
def totp_pool(srv):
    """Accounts enrolled together, so the wait for an unused TOTP step is paid about once for the module."""
    return [TOTPAccount(srv) for _ in range(7)]


@pytest.fixture
def totp_account(srv, totp_pool):
    return totp_pool.pop() if totp_pool else TOTPAccount(srv)


# ---------------------------------------------------------------- 4. browser sessions end with credentials


@pytest.fixture(scope="module")
def browser_app(srv):
    return new_client(srv)


def authorization_url(srv, client):
    """The same authorization request each time, with a new state."""
    url, _ = oauth_session(client).create_authorization_url(endpoints(srv)[0], code_verifier=generate_token(64))
    return url


def logged_in_browser(srv, client, username, mfa_code=None):
    """A browser (cookie jar) with a live session: a second authorization goes straight to a code."""
    browser = requests.Session()
    assert "code" in query_of(authorize(srv, authorization_url(srv, client), username, browser=browser, mfa_code=mfa_code))
    again = browser.get(authorization_url(srv, client), allow_redirects=False, timeout=10)
    assert again.status_code in (302, 303) and "code" in query_of(again.headers["Location"]), "the session was not remembered"
    assert browser.cookies.get("portcullis_session")
    return browser


def assert_session_ended(srv, browser, client):
    answer = browser.get(authorization_url(srv, client), allow_redirects=False, timeout=10)
    assert "code" not in query_of(answer.headers.get("Location")), "the old browser session still gets a code"
    assert answer.status_code == 200 and 'id="login"' in answer.text, (answer.status_code, answer.text[:300])


def test_password_change_ends_browser_sessions(srv, browser_app):
    """Attack 4: the user changes the password; a browser session from before must not get codes."""
    username = new_user(srv)
    browser = logged_in_browser(srv, browser_app, username)
    access = srv.login(username, PASSWORD)["access_token"]
    answer = requests.post(srv.url + "/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                           headers=bearer(access), timeout=30)
    assert answer.status_code == 204, answer.text
    assert_session_ended(srv, browser, browser_app)


def test_operator_passwd_ends_browser_sessions(srv, browser_app):
    """Attack 4: an operator resets the password with `portcullis user passwd`."""
    username = new_user(srv)
    browser = logged_in_browser(srv, browser_app, username)
    srv.cli("user", "passwd", username, "--password-stdin", stdin=NEW_PASSWORD + "\n")
    assert_session_ended(srv, browser, browser_app)


def test_operator_disable_ends_browser_sessions_for_good(srv, browser_app):
    """Attack 4: `portcullis user disable` ends the browser session; enabling the user again does not revive it."""
    username = new_user(srv)
    browser = logged_in_browser(srv, browser_app, username)
    srv.cli("user", "disable", username)
    assert_session_ended(srv, browser, browser_app)
    srv.cli("user", "enable", username)
    assert_session_ended(srv, browser, browser_app)


def test_operator_mfa_reset_ends_browser_sessions(srv, browser_app, totp_account):
    """Attack 4: `portcullis user mfa-reset` ends a session that was started with the second factor."""
    browser = logged_in_browser(srv, browser_app, totp_account.username, mfa_code=totp_account.recovery_codes[0])
    srv.cli("user", "mfa-reset", totp_account.username)
    assert_session_ended(srv, browser, browser_app)


# ---------------------------------------------------------------- 5. removing TOTP


def test_totp_removal_with_the_password_alone_is_refused(totp_account):
    """Attack 5: a stolen access token plus the password must not remove the second factor."""
    answer = totp_account.remove_totp(password=PASSWORD)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", answer.text
    assert totp_account.totp_active() is True


def test_totp_removal_with_a_code_alone_is_refused(totp_account):
    """Attack 5: a stolen access token plus a TOTP code must not remove the second factor."""
    answer = totp_account.remove_totp(code=totp_account.current_code())
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", answer.text
    assert totp_account.totp_active() is True


def test_totp_removal_with_a_wrong_password_and_a_right_code_is_refused(totp_account):
    """Attack 5: the right code does not make up for a wrong password."""
    answer = totp_account.remove_totp(password="wrong password", code=totp_account.current_code())
    assert answer.status_code in (400, 401), answer.text
    assert totp_account.totp_active() is True


def test_totp_removal_with_the_password_and_a_current_code_succeeds(totp_account):
    """Attack 5 (the legitimate side): password and current code remove TOTP."""
    answer = totp_account.remove_totp(password=PASSWORD, code=totp_account.current_code())
    assert answer.status_code == 204, answer.text
    assert totp_account.totp_active() is False


def test_totp_removal_with_the_password_and_a_recovery_code_succeeds(totp_account):
    """Attack 5 (the legitimate side): a recovery code stands in for the TOTP code."""
    answer = totp_account.remove_totp(password=PASSWORD, code=totp_account.recovery_codes[0])
    assert answer.status_code == 204, answer.text
    assert totp_account.totp_active() is False


def test_totp_removal_respects_the_account_lockout(srv, totp_account):
    """Attack 5: once the account is locked, DELETE /v1/me/mfa/totp is no way around the lock."""
    for i in range(10):
        answer = requests.post(srv.url + "/v1/login", json={"username": totp_account.username, "password": f"wrong password {i}"}, timeout=30)
        assert answer.status_code == 401, answer.text
    locked = requests.post(srv.url + "/v1/login", json={"username": totp_account.username, "password": PASSWORD}, timeout=30)
    assert locked.status_code == 429, "the account is locked after 10 failures"
    answer = totp_account.remove_totp(password=PASSWORD, code=totp_account.current_code())
    assert answer.status_code == 429, answer.text
    assert totp_account.totp_active() is True


# ---------------------------------------------------------------- 6. canonical resources


@pytest.fixture(scope="module")
def editor_token(srv):
    """Policies/documents.yaml: an editor may read documents/* but nothing under documents/secret/."""
    return srv.login(new_user(srv, role="editor"), PASSWORD)["access_token"]


def decide(srv, token, resource, action="read"):
    return requests.post(srv.url + "/v1/authorize", json={"token": token, "action": action, "resource": resource}, timeout=10)


@pytest.mark.parametrize("resource", ["documents/./secret/x", "documents//secret/x", "documents/a/../secret/x"])
def test_non_canonical_resource_is_refused(srv, editor_token, resource):
    """Attack 6: dot segments and empty segments must not slip past `documents/secret/*` deny rules."""
    answer = decide(srv, editor_token, resource)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", answer.text
    description = answer.json()["error_description"]
    assert re.search(r"canonical|segment|empty|['\"`]\.\.?['\"`]", description, re.IGNORECASE), description


def test_canonical_resources_are_decided_by_the_policy(srv, editor_token):
    """Attack 6 (the legitimate side): the canonical forms get the policy's answer."""
    secret = decide(srv, editor_token, "documents/secret/x")
    assert secret.status_code == 200 and secret.json()["allowed"] is False, secret.text
    plain = decide(srv, editor_token, "documents/plans/x")
    assert plain.status_code == 200 and plain.json()["allowed"] is True, plain.text


# ---------------------------------------------------------------- 7. authorization codes and PKCE


def issue_code(srv, client, pkce=True):
    """A fresh code (and its verifier) for the client through the browser pages."""
    authorization_endpoint, _ = endpoints(srv)
    verifier = generate_token(64) if pkce else None
    url, _ = oauth_session(client, pkce=pkce).create_authorization_url(authorization_endpoint, code_verifier=verifier)
    return authorize(srv, url, new_user(srv)), verifier


def test_code_with_a_wrong_redirect_uri_is_refused_without_burning_it(srv):
    """Attack 7: a bad token request must not burn the code for the legitimate one."""
    client = new_client(srv)
    callback, verifier = issue_code(srv, client)
    code = query_of(callback)["code"]
    wrong = token_request(srv, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT + "/other", code_verifier=verifier)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant", wrong.text
    right = token_request(srv, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier)
    assert right.status_code == 200 and right.json()["access_token"], right.text


def test_code_with_a_wrong_verifier_is_refused_without_burning_it(srv):
    """Attack 7: a wrong code_verifier must not burn the code; the right request succeeds once."""
    client = new_client(srv)
    session = oauth_session(client)
    callback, verifier = issue_code(srv, client)
    code = query_of(callback)["code"]
    wrong = token_request(srv, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=generate_token(64))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant", wrong.text
    token = session.fetch_token(endpoints(srv)[1], authorization_response=callback, code_verifier=verifier)
    assert token["access_token"]
    replay = token_request(srv, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant", replay.text


def test_confidential_client_without_code_challenge_is_refused(srv):
    """Attack 7: PKCE is required for confidential clients too."""
    callback, _ = issue_code(srv, new_client(srv), pkce=False)
    assert query_of(callback).get("error") == "invalid_request" and "code" not in query_of(callback), callback


def test_confidential_client_registered_pkce_optional_may_omit_code_challenge(srv):
    """Attack 7 (the opt-out): a client registered with --pkce optional works without PKCE."""
    client = new_client(srv, "--pkce", "optional")
    callback, _ = issue_code(srv, client, pkce=False)
    token = oauth_session(client, pkce=False).fetch_token(endpoints(srv)[1], authorization_response=callback)
    assert token["access_token"]
