"""authlib as the OAuth client, configured from discovery alone; joserfc validates the ID token.

The browser part (login and consent forms) is driven with a requests session that reads the
pages' hidden fields like a browser would submit them.
"""
import html
import json
import re
import secrets
import urllib.parse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

REDIRECT = "http://127.0.0.1:8765/callback"


def hidden_fields(page):
    return {name: html.unescape(value) for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}


def browser_login(server, authorization_url, username="alice", password="correct horse battery", consent=True):
    """Follows the pages like a user: login form, then the consent form; returns the redirect to the app."""
    browser = requests.Session()
    page = browser.get(authorization_url, timeout=10)
    assert page.status_code == 200 and 'id="login"' in page.text, page.text[:500]
    form = hidden_fields(page.text) | {"username": username, "password": password}
    answer = browser.post(server.url + "/oauth2/login", data=form, allow_redirects=False, timeout=30)
    if answer.status_code == 200 and 'id="consent"' in answer.text:
        assert "Interop App" in answer.text
        form = hidden_fields(answer.text) | {"decision": "allow" if consent else "deny"}
        answer = browser.post(server.url + "/oauth2/consent", data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text[:500]
    return answer.headers["Location"]


@pytest.fixture(scope="module")
def discovery(server):
    document = requests.get(server.url + "/.well-known/openid-configuration", timeout=10).json()
    assert document["issuer"] == server.url
    return document


@pytest.fixture(scope="module")
def confidential(server):
    out = server.cli("client", "add", "Interop App", "--id", "interop-app", "--redirect-uri", REDIRECT, "--json")
    return json.loads(out)


def validate_id_token(server, discovery, id_token, client_id, nonce):
    keys = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    token = jwt.decode(id_token, keys, algorithms=discovery["id_token_signing_alg_values_supported"])
    assert token.header["alg"] == "RS256"
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": server.url},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        auth_time={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(token.claims)
    return token.claims


def test_code_flow_with_pkce_refresh_revoke_introspect(server, discovery, confidential):
    session = OAuth2Session(
        confidential["client_id"], confidential["client_secret"], scope="openid profile email offline_access",
        redirect_uri=REDIRECT, code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic")
    verifier = generate_token(64)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    callback = browser_login(server, url)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(callback).query))
    assert query["state"] == state
    assert query["iss"] == server.url  # RFC 9207

    token = session.fetch_token(discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert token["token_type"] == "Bearer" and token["refresh_token"]
    claims = validate_id_token(server, discovery, token["id_token"], confidential["client_id"], nonce)
    assert claims["amr"] == ["pwd"]

    info = session.get(discovery["userinfo_endpoint"], timeout=10).json()
    assert info["sub"] == claims["sub"] and info["preferred_username"] == "alice" and info["email"] == "alice@example.com"

    old_access = token["access_token"]
    refreshed = session.refresh_token(discovery["token_endpoint"])
    assert refreshed["refresh_token"] != token["refresh_token"]

    introspection = session.introspect_token(discovery["introspection_endpoint"], token=refreshed["access_token"]).json()
    assert introspection["active"] is True and introspection["client_id"] == confidential["client_id"]
    assert session.introspect_token(discovery["introspection_endpoint"], token="garbage").json() == {"active": False}

    assert session.revoke_token(discovery["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token").status_code == 200
    # The family is gone: its access tokens and refresh token are dead.
    for access in (old_access, refreshed["access_token"]):
        assert session.introspect_token(discovery["introspection_endpoint"], token=access).json()["active"] is False
    with pytest.raises(Exception):
        session.refresh_token(discovery["token_endpoint"], refresh_token=refreshed["refresh_token"])


def test_client_secret_post_and_client_credentials(server, discovery):
    out = json.loads(server.cli("client", "add", "Batch Job", "--id", "batch-job", "--grant-type", "client_credentials", "--scope", "reports", "--json"))
    session = OAuth2Session(out["client_id"], out["client_secret"], scope="reports", token_endpoint_auth_method="client_secret_post")
    token = session.fetch_token(discovery["token_endpoint"], grant_type="client_credentials")
    assert token["scope"] == "reports" and "refresh_token" not in token
    answer = requests.post(server.url + "/v1/token/verify", json={"token": token["access_token"]}, timeout=10).json()
    assert answer["active"] is True and answer["sub"] == "batch-job"


def test_public_client_uses_pkce_and_no_secret(server, discovery):
    server.cli("client", "add", "Native App", "--id", "native-app", "--public", "--redirect-uri", "http://127.0.0.1/callback", "--json")
    redirect = "http://127.0.0.1:49152/callback"  # RFC 8252: any port for a loopback redirect
    session = OAuth2Session("native-app", scope="openid", redirect_uri=redirect, code_challenge_method="S256", token_endpoint_auth_method="none")
    verifier = generate_token(64)
    url, _ = session.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier, nonce="n")
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    form = hidden_fields(page.text) | {"username": "alice", "password": "correct horse battery"}
    consent = browser.post(server.url + "/oauth2/login", data=form, allow_redirects=False, timeout=30)
    assert "Native App" in consent.text
    answer = browser.post(server.url + "/oauth2/consent", data=hidden_fields(consent.text) | {"decision": "allow"}, allow_redirects=False, timeout=10)
    token = session.fetch_token(discovery["token_endpoint"], authorization_response=answer.headers["Location"], code_verifier=verifier)
    validate_id_token(server, discovery, token["id_token"], "native-app", "n")
    # Without the verifier the same kind of request fails: PKCE is what authenticates a public client.
    url, _ = session.create_authorization_url(discovery["authorization_endpoint"], code_verifier=generate_token(64), nonce="n")
    location = browser.get(url, allow_redirects=False, timeout=10).headers["Location"]
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query))["code"]
    response = requests.post(discovery["token_endpoint"], data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                                                                "client_id": "native-app"}, timeout=10)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_consent_denied_reaches_the_app_as_access_denied(server, discovery, confidential):
    session = OAuth2Session(confidential["client_id"], confidential["client_secret"], scope="openid email", redirect_uri=REDIRECT,
                            code_challenge_method="S256")
    url, state = session.create_authorization_url(discovery["authorization_endpoint"], code_verifier=generate_token(64), prompt="consent")
    callback = browser_login(server, url, consent=False)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(callback).query))
    assert query == {"error": "access_denied", "error_description": "the user denied the request", "state": state, "iss": server.url}
