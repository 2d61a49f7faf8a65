"""Our access tokens verify with PyJWT from the JWKS alone, before and after key rotation."""
import jwt
import requests


def verify_with_pyjwt(server, token):
    client = jwt.PyJWKClient(server.url + "/.well-known/jwks.json", cache_jwk_set=False, cache_keys=False)
    key = client.get_signing_key_from_jwt(token)
    return jwt.decode(
        token, key, algorithms=["ES256", "EdDSA", "RS256"], audience=server.url, issuer=server.url,
        options={"require": ["exp", "iat", "nbf", "iss", "sub", "jti"]},
    )


def test_access_token_verifies_with_pyjwt_from_jwks(server):
    token = server.login()["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["typ"] == "at+jwt"
    claims = verify_with_pyjwt(server, token)
    assert claims["username"] == "alice"
    assert claims["roles"] == ["viewer"]
    assert claims["sid"]


def test_tampered_token_fails_pyjwt_and_verify_endpoint(server):
    token = server.login()["access_token"]
    head, payload, sig = token.split(".")
    tampered = f"{head}.{payload}.{sig[:-4]}AAAA"
    try:
        verify_with_pyjwt(server, tampered)
        raise AssertionError("PyJWT accepted a tampered token")
    except jwt.InvalidSignatureError:
        pass
    assert requests.post(server.url + "/v1/token/verify", json={"token": tampered}).json() == {"active": False}


def test_tokens_from_before_and_after_rotation_both_verify(server):
    before = server.login()["access_token"]
    for alg in ["EdDSA", "RS256"]:
        server.cli("keys", "rotate", "--alg", alg)
        after = server.login()["access_token"]
        assert jwt.get_unverified_header(after)["alg"] == alg
        for token in (before, after):
            assert verify_with_pyjwt(server, token)["username"] == "alice"
            answer = requests.post(server.url + "/v1/token/verify", json={"token": token}).json()
            assert answer["active"] is True, answer
    kids = [k["kid"] for k in requests.get(server.url + "/.well-known/jwks.json").json()["keys"]]
    assert len(kids) >= 3


def test_logout_makes_verify_inactive(server):
    pair = server.login()
    assert requests.post(server.url + "/v1/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert requests.post(server.url + "/v1/token/verify", json={"token": pair["access_token"]}).json() == {"active": False}


def test_a_revocation_by_the_cli_process_is_seen_by_the_next_verify(server):
    """The token check answers from memory (SQLite: while the file is unchanged; PostgreSQL: the
    revocation cache), so a revocation made by another process must still reach it: on SQLite the
    very next check, on PostgreSQL within its bound (the notification's delay)."""
    import time
    server.cli("user", "add", "carol", "--password-stdin", stdin="correct horse battery\n")
    token = server.login("carol")["access_token"]

    def verify():
        return requests.post(server.url + "/v1/token/verify", json={"token": token}).json()

    for _ in range(3):  # remembered as live
        assert verify()["active"] is True
    def answered_hot():
        prefix = 'portcullis_hot_path_requests_total{outcome="answered"} '
        line = next(line for line in requests.get(server.url + "/metrics").text.splitlines() if line.startswith(prefix))
        return float(line[len(prefix):])
    before = answered_hot()
    assert verify()["active"] is True
    assert answered_hot() == before + 1, "the remembered answer came from the hot path"
    server.cli("user", "disable", "carol")
    if server.backend == "sqlite":
        assert verify() == {"active": False}, "the very next check after the CLI's commit"
    else:
        deadline = time.monotonic() + 2
        while verify() != {"active": False}:
            assert time.monotonic() < deadline, "still live 2 s after the CLI's revocation"
            time.sleep(0.01)
