"""python-fido2 (an independent WebAuthn implementation) plays the browser and the authenticator
against the REST API: registration and both sign-in ceremonies, and every refusal the server must
make without storing anything. Runs on SQLite and on PostgreSQL (the `server` fixture)."""
import base64
import os
import uuid

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from fido2.cose import ES256, RS256, EdDSA
from fido2.utils import sha256
from fido2.webauthn import (
    Aaguid,
    AttestationObject,
    AttestedCredentialData,
    AuthenticationResponse,
    AuthenticatorAssertionResponse,
    AuthenticatorAttestationResponse,
    AuthenticatorData,
    CollectedClientData,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
    RegistrationResponse,
)

from conftest import sql

PASSWORD = "correct horse battery"
FLAG = AuthenticatorData.FLAG


class Authenticator:
    """A software authenticator holding one credential, built from python-fido2's types and
    `cryptography`'s keys: what a browser plus a security key would send."""

    def __init__(self, algorithm="ES256", counter=0):
        self.algorithm = algorithm
        if algorithm == "ES256":
            self.key = ec.generate_private_key(ec.SECP256R1())
            self.cose = ES256.from_cryptography_key(self.key.public_key())
        elif algorithm == "EdDSA":
            self.key = ed25519.Ed25519PrivateKey.generate()
            self.cose = EdDSA.from_cryptography_key(self.key.public_key())
        else:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.cose = RS256.from_cryptography_key(self.key.public_key())
        self.credential_id = os.urandom(32)
        self.counter = counter
        self.user_handle = None

    def sign(self, message: bytes) -> bytes:
        if self.algorithm == "ES256":
            return self.key.sign(message, ec.ECDSA(hashes.SHA256()))
        if self.algorithm == "EdDSA":
            return self.key.sign(message)
        return self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    def create(self, public_key: dict, origin: str, attestation="none", rp_id=None, flags=FLAG.UP | FLAG.UV | FLAG.AT):
        options = PublicKeyCredentialCreationOptions.from_dict(public_key)
        self.user_handle = options.user.id
        client_data = CollectedClientData.create(type=CollectedClientData.TYPE.CREATE, challenge=options.challenge, origin=origin)
        data = AuthenticatorData.create(
            sha256((rp_id or options.rp.id).encode()), flags, self.counter,
            AttestedCredentialData.create(Aaguid.NONE, self.credential_id, self.cose))
        statement = {}
        if attestation == "packed":
            statement = {"alg": self.cose.ALGORITHM, "sig": self.sign(bytes(data) + client_data.hash)}
        response = RegistrationResponse(
            raw_id=self.credential_id,
            response=AuthenticatorAttestationResponse(
                client_data=client_data, attestation_object=AttestationObject.create(attestation, data, statement)))
        return dict(response)

    def get(self, public_key: dict, origin: str, rp_id=None, flags=FLAG.UP | FLAG.UV, with_handle=True, counter_step=1):
        options = PublicKeyCredentialRequestOptions.from_dict(public_key)
        self.counter += counter_step
        client_data = CollectedClientData.create(type=CollectedClientData.TYPE.GET, challenge=options.challenge, origin=origin)
        data = AuthenticatorData.create(sha256((rp_id or options.rp_id).encode()), flags, self.counter)
        response = AuthenticationResponse(
            raw_id=self.credential_id,
            response=AuthenticatorAssertionResponse(
                client_data=client_data, authenticator_data=data, signature=self.sign(bytes(data) + client_data.hash),
                user_handle=self.user_handle if with_handle else None))
        return dict(response)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def new_user(server):
    name = "pk-" + uuid.uuid4().hex[:10]
    server.cli("user", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
    return name, server.login(name, PASSWORD)["access_token"]


def register(server, access, authenticator, **options):
    start = requests.post(server.url + "/v1/me/webauthn/register/options", headers=bearer(access), timeout=10)
    assert start.status_code == 200, start.text
    credential = authenticator.create(start.json()["publicKey"], server.url, **options)
    return requests.post(server.url + "/v1/me/webauthn/register", headers=bearer(access),
                         json={"credential": credential, "name": "test key"}, timeout=10)


def passkeys(server, access):
    response = requests.get(server.url + "/v1/me/webauthn", headers=bearer(access), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["passkeys"]


def passwordless(server, authenticator, username=None, **assertion):
    start = requests.post(server.url + "/v1/login/webauthn/options", json={"username": username} if username else {}, timeout=10)
    assert start.status_code == 200, start.text
    body = start.json()
    credential = authenticator.get(body["publicKey"], server.url, **assertion)
    return requests.post(server.url + "/v1/login/webauthn", json={"webauthn_token": body["webauthn_token"], "credential": credential}, timeout=10)


@pytest.mark.parametrize("algorithm,attestation", [("ES256", "none"), ("EdDSA", "packed"), ("RS256", "packed")])
def test_register_then_sign_in_without_a_password(server, algorithm, attestation):
    _, access = new_user(server)
    authenticator = Authenticator(algorithm)
    created = register(server, access, authenticator, attestation=attestation)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "test key"
    assert [p["id"] for p in passkeys(server, access)] == [created.json()["id"]]

    signed_in = passwordless(server, authenticator)
    assert signed_in.status_code == 200, signed_in.text
    me = requests.get(server.url + "/v1/me", headers=bearer(signed_in.json()["access_token"]), timeout=10).json()
    assert me["mfa"]["webauthn"] is True


def test_a_passkey_becomes_the_second_factor_after_the_password(server):
    name, access = new_user(server)
    authenticator = Authenticator()
    assert register(server, access, authenticator).status_code == 201
    first = requests.post(server.url + "/v1/login", json={"username": name, "password": PASSWORD}, timeout=10).json()
    assert first["mfa_required"] is True and first["methods"] == ["webauthn"]
    options = requests.post(server.url + "/v1/login/mfa/webauthn/options", json={"mfa_token": first["mfa_token"]}, timeout=10)
    assert options.status_code == 200, options.text
    allowed = [c["id"] for c in options.json()["publicKey"]["allowCredentials"]]
    assert allowed == [hex_to_b64(authenticator.credential_id.hex())]
    credential = authenticator.get(options.json()["publicKey"], server.url, with_handle=False)
    done = requests.post(server.url + "/v1/login/mfa", json={"mfa_token": first["mfa_token"], "credential": credential}, timeout=10)
    assert done.status_code == 200, done.text
    assert "access_token" in done.json()
    again = requests.post(server.url + "/v1/login/mfa", json={"mfa_token": first["mfa_token"], "credential": credential}, timeout=10)
    assert again.status_code == 401, "the mfa_token and its challenge are single-use"


def test_registration_refusals_store_nothing(server):
    _, access = new_user(server)
    cases = {
        "wrong origin": dict(origin_override="https://evil.example"),
        "wrong rp id": dict(rp_id="evil.example"),
        "no user presence": dict(flags=FLAG.UV | FLAG.AT),
    }
    for reason, case in cases.items():
        authenticator = Authenticator()
        start = requests.post(server.url + "/v1/me/webauthn/register/options", headers=bearer(access), timeout=10).json()
        origin = case.pop("origin_override", server.url)
        credential = authenticator.create(start["publicKey"], origin, **case)
        refused = requests.post(server.url + "/v1/me/webauthn/register", headers=bearer(access), json={"credential": credential}, timeout=10)
        assert refused.status_code == 400, f"{reason}: {refused.status_code} {refused.text}"
        assert refused.json()["error"] == "invalid_request"
    # Malformed CBOR: an attestation object cut short.
    start = requests.post(server.url + "/v1/me/webauthn/register/options", headers=bearer(access), timeout=10).json()
    credential = Authenticator().create(start["publicKey"], server.url)
    credential["response"]["attestationObject"] = credential["response"]["attestationObject"][:40]
    refused = requests.post(server.url + "/v1/me/webauthn/register", headers=bearer(access), json={"credential": credential}, timeout=10)
    assert refused.status_code == 400, refused.text
    # A replayed registration: the challenge was consumed by the first answer.
    authenticator = Authenticator()
    start = requests.post(server.url + "/v1/me/webauthn/register/options", headers=bearer(access), timeout=10).json()
    credential = authenticator.create(start["publicKey"], server.url)
    assert requests.post(server.url + "/v1/me/webauthn/register", headers=bearer(access), json={"credential": credential}, timeout=10).status_code == 201
    replay = requests.post(server.url + "/v1/me/webauthn/register", headers=bearer(access), json={"credential": credential}, timeout=10)
    assert replay.status_code == 400, replay.text
    assert len(passkeys(server, access)) == 1, "only the one good registration is stored"


def test_sign_in_refusals_are_one_401(server):
    _, access = new_user(server)
    authenticator = Authenticator()
    assert register(server, access, authenticator).status_code == 201
    bodies = set()

    def refused(response, reason):
        assert response.status_code == 401, f"{reason}: {response.status_code} {response.text}"
        bodies.add(response.text)

    refused(passwordless_with_origin(server, authenticator, "https://evil.example"), "wrong origin")
    refused(passwordless(server, authenticator, rp_id="evil.example"), "wrong rp id")
    refused(passwordless(server, authenticator, flags=FLAG.UP), "no user verification in a passwordless sign-in")
    refused(passwordless(server, authenticator, with_handle=False), "no user handle for a discoverable credential")
    # A flipped signature byte.
    start = requests.post(server.url + "/v1/login/webauthn/options", json={}, timeout=10).json()
    credential = authenticator.get(start["publicKey"], server.url)
    signature = bytearray(bytes.fromhex(b64_to_hex(credential["response"]["signature"])))
    signature[len(signature) // 2] ^= 1
    credential["response"]["signature"] = hex_to_b64(bytes(signature).hex())
    refused(requests.post(server.url + "/v1/login/webauthn", json={"webauthn_token": start["webauthn_token"], "credential": credential}, timeout=10),
            "flipped signature byte")
    # A replayed assertion: the webauthn_token's challenge was consumed.
    start = requests.post(server.url + "/v1/login/webauthn/options", json={}, timeout=10).json()
    credential = authenticator.get(start["publicKey"], server.url)
    ok = requests.post(server.url + "/v1/login/webauthn", json={"webauthn_token": start["webauthn_token"], "credential": credential}, timeout=10)
    assert ok.status_code == 200, ok.text
    refused(requests.post(server.url + "/v1/login/webauthn", json={"webauthn_token": start["webauthn_token"], "credential": credential}, timeout=10),
            "replayed challenge")
    # An unknown credential.
    refused(passwordless(server, Authenticator()), "unknown credential")
    assert len(bodies) == 1, f"every failure has the same body: {bodies}"


def test_a_counter_that_goes_backwards_flags_the_passkey(server):
    name, access = new_user(server)
    authenticator = Authenticator(counter=10)
    assert register(server, access, authenticator).status_code == 201
    assert passwordless(server, authenticator).status_code == 200  # counter 11
    authenticator.counter = 5  # a clone with an older counter
    assert passwordless(server, authenticator).status_code == 401
    listed = passkeys(server, access)
    assert listed[0]["flagged"] is True
    # Refused from then on, even with a counter that moves forward again.
    authenticator.counter = 100
    assert passwordless(server, authenticator).status_code == 401
    assert "FLAGGED" in server.cli("user", "passkeys", name)
    events = sql(server, "SELECT action FROM audit_events WHERE action = 'passkey.cloned'")
    assert "passkey.cloned" in events
    server.cli("user", "passkey-remove", name, listed[0]["id"])
    assert passkeys(server, server.login(name, PASSWORD)["access_token"]) == []


def test_another_users_passkey_is_not_a_second_factor(server):
    name, access = new_user(server)
    mine = Authenticator()
    assert register(server, access, mine).status_code == 201
    _, other_access = new_user(server)
    theirs = Authenticator()
    assert register(server, other_access, theirs).status_code == 201
    first = requests.post(server.url + "/v1/login", json={"username": name, "password": PASSWORD}, timeout=10).json()
    options = requests.post(server.url + "/v1/login/mfa/webauthn/options", json={"mfa_token": first["mfa_token"]}, timeout=10).json()
    credential = theirs.get(options["publicKey"], server.url)
    refused = requests.post(server.url + "/v1/login/mfa", json={"mfa_token": first["mfa_token"], "credential": credential}, timeout=10)
    assert refused.status_code == 401, refused.text


def test_named_options_do_not_tell_who_exists(server):
    name, access = new_user(server)
    assert register(server, access, Authenticator()).status_code == 201
    without, _ = new_user(server)

    def allowed(username):
        body = requests.post(server.url + "/v1/login/webauthn/options", json={"username": username}, timeout=10).json()
        return [c["id"] for c in body["publicKey"]["allowCredentials"]]

    assert len(allowed(name)) == 1
    unknown = allowed("nobody-" + uuid.uuid4().hex[:6])
    assert len(unknown) == 1 and allowed(without) != unknown
    assert allowed("nobody-x") == allowed("nobody-x"), "a decoy is stable, like a real credential"


def test_removal_needs_the_password(server):
    _, access = new_user(server)
    assert register(server, access, Authenticator()).status_code == 201
    passkey = passkeys(server, access)[0]["id"]
    wrong = requests.delete(server.url + f"/v1/me/webauthn/{passkey}", headers=bearer(access), json={"password": "not the password"}, timeout=10)
    assert wrong.status_code == 401
    assert len(passkeys(server, access)) == 1
    done = requests.delete(server.url + f"/v1/me/webauthn/{passkey}", headers=bearer(access), json={"password": PASSWORD}, timeout=10)
    assert done.status_code == 204, done.text
    assert passkeys(server, access) == []


def passwordless_with_origin(server, authenticator, origin):
    start = requests.post(server.url + "/v1/login/webauthn/options", json={}, timeout=10).json()
    credential = authenticator.get(start["publicKey"], origin)
    return requests.post(server.url + "/v1/login/webauthn", json={"webauthn_token": start["webauthn_token"], "credential": credential}, timeout=10)


def b64_to_hex(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).hex()


def hex_to_b64(text):
    return base64.urlsafe_b64encode(bytes.fromhex(text)).decode().rstrip("=")
