"""`portcullis migrate import` moves a real SQLite deployment into PostgreSQL: the same users,
passwords, TOTP secrets, recovery codes, refresh-token families, clients and audit chain work there, and passkeys,
WebAuthn user handles and challenges cross byte for byte."""
import json
import sqlite3
import tempfile
import time

import pyotp
import requests

from conftest import Server, postgres_database, sql


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_sqlite_deployment_imported_into_postgresql_keeps_working():
    with tempfile.TemporaryDirectory(prefix="portcullis-import-") as workdir:
        # 1. A SQLite deployment with real history.
        with Server(workdir) as old:
            old.cli("user", "add", "alice", "--email", "alice@example.com", "--role", "viewer", "--password-stdin", stdin="correct horse battery\n")
            old.cli("user", "add", "bob", "--password-stdin", stdin="bob password here\n")
            pair = old.login()
            rotated = requests.post(old.url + "/v1/token/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=10).json()
            access = old.login("bob", "bob password here")["access_token"]
            enrolment = requests.post(old.url + "/v1/me/mfa/totp", headers=bearer(access), timeout=10).json()
            otp = pyotp.parse_uri(enrolment["otpauth_uri"])
            confirm = requests.post(old.url + "/v1/me/mfa/totp/confirm", json={"code": otp.now()}, headers=bearer(access), timeout=10)
            assert confirm.status_code == 200, confirm.text
            recovery = confirm.json()["recovery_codes"]
            client = json.loads(old.cli("client", "add", "Batch", "--id", "batch", "--grant-type", "client_credentials", "--scope", "reports", "--json"))
            requests.post(old.url + "/v1/login", json={"username": "alice", "password": "wrong password"}, timeout=10)
            head_before = json.loads(old.cli("audit", "verify", "--json"))
            assert head_before["result"] == "intact"
            sqlite_path = old.env["PORTCULLIS_DB"]
        # Passkey rows as the SQLite store writes them (booleans as integers, blobs, JSON lists, REAL
        # times), written directly so that every column holds an edge value (a 1023-byte id, the
        # largest sign count). They are bob's, who has TOTP already: alice keeps logging in with a password.
        credential_id = bytes(range(256)) * 3 + bytes(255)
        with sqlite3.connect(sqlite_path) as db:
            bob_id = db.execute("SELECT id FROM users WHERE username = 'bob'").fetchone()[0]
            db.execute("INSERT INTO webauthn_user_handles (user_id, handle) VALUES (?, ?)", (bob_id, b"\x5a" * 64))
            db.execute(
                "INSERT INTO webauthn_credentials (id, user_id, credential_id, public_key, algorithm, sign_count, transports, backup_eligible,"
                " backed_up, name, created_at, last_used_at, flagged_at, aaguid, attestation_format)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ("pk-1", bob_id, credential_id, b"\xa5\x01\x02\x03\x26", -7, 4294967295, '["internal","hybrid"]', 1, 0, "Laptop",
                 1700000000.5, 1700000100.25, None, bytes(16), "none"))
            db.execute("INSERT INTO webauthn_challenges (key, purpose, user_id, challenge, expires_at) VALUES (?, ?, ?, ?, ?)",
                       ("k-login", "login", None, b"\x07" * 32, time.time() + 300))
        db.close()
        counts = {table: sqlite3.connect(sqlite_path).execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("users", "token_families", "refresh_tokens", "totp_credentials", "recovery_codes", "oauth_clients", "audit_events",
                                "webauthn_user_handles", "webauthn_credentials", "webauthn_challenges")}

        # 2. The import, into an empty PostgreSQL database.
        new = Server(workdir)
        new.env["PORTCULLIS_DB"] = postgres_database(f"import_{int(time.time() * 1000)}")
        new.env["PORTCULLIS_ISSUER"] = old.env["PORTCULLIS_ISSUER"]  # the same deployment, the same issuer
        summary = json.loads(new.cli("migrate", "import", "--from", f"sqlite:{sqlite_path}", "--json"))
        assert summary["result"] == "imported" and summary["audit"].startswith("intact"), summary
        for table, count in counts.items():
            assert summary[table] == str(count), (table, summary[table], count)
        passkey = sql(new, "SELECT encode(credential_id, 'hex'), encode(public_key, 'hex'), algorithm, sign_count, transports, backup_eligible,"
                           " backed_up, name, created_at, last_used_at, flagged_at IS NULL, encode(aaguid, 'hex'), attestation_format,"
                           " (SELECT encode(handle, 'hex') FROM webauthn_user_handles WHERE user_id = c.user_id),"
                           " (SELECT user_id IS NULL AND purpose = 'login' FROM webauthn_challenges WHERE key = 'k-login')"
                           " FROM webauthn_credentials c WHERE id = 'pk-1'")
        assert passkey.split("|") == [credential_id.hex(), "a501020326", "-7", "4294967295", '["internal","hybrid"]', "t", "f", "Laptop",
                                      "1700000000.5", "1700000100.25", "t", "00" * 16, "none", "5a" * 64, "t"], passkey
        again = new.run_cli("migrate", "import", "--from", f"sqlite:{sqlite_path}")
        assert again.returncode != 0 and "empty" in again.stderr, "a second import into a non-empty database must be refused"

        head_after = json.loads(new.cli("audit", "verify", "--json"))
        assert head_after["result"] == "intact" and head_after["head"] == head_before["head"]
        assert head_after["events"] == head_before["events"]

        # 3. The signing keys: the server refuses a database without keys while Keys/ has some,
        # and `keys import` moves them in, the old signing key still signing.
        refused = new.run_cli("serve", "--port", "0")
        assert refused.returncode != 0 and "keys import" in refused.stderr, refused.stderr
        imported = json.loads(new.cli("keys", "import", "--json"))
        assert int(imported["imported"]) >= 2, imported
        chain = json.loads(new.cli("audit", "verify", "--json"))
        assert chain["result"] == "intact" and int(chain["events"]) == int(head_before["events"]) + int(imported["imported"]), "one audit event per key"
        listed = json.loads(new.cli("keys", "list", "--json"))
        assert [k["kid"] for k in listed if k["status"] == "signing"] == [imported["signing"]], listed

        # 4. The same deployment, served from PostgreSQL.
        with new:
            # An access token issued on SQLite verifies: its key came along.
            verified = requests.post(new.url + "/v1/token/verify", json={"token": pair["access_token"]}, timeout=10).json()
            assert verified["active"] is True, verified
            assert new.login()["access_token"].split(".")[0] == pair["access_token"].split(".")[0], "the same signing key (same header)"
            assert new.login()["access_token"]  # the Argon2id hash came along
            # The family rotated on SQLite rotates on PostgreSQL, and the old token is reuse.
            again_rotated = requests.post(new.url + "/v1/token/refresh", json={"refresh_token": rotated["refresh_token"]}, timeout=10)
            assert again_rotated.status_code == 200, again_rotated.text
            reuse = requests.post(new.url + "/v1/token/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=10)
            assert reuse.status_code == 401
            # The client's secret hash came along.
            token = requests.post(new.url + "/oauth2/token", data={"grant_type": "client_credentials", "scope": "reports"},
                                  auth=(client["client_id"], client["client_secret"]), timeout=10)
            assert token.status_code == 200, token.text
            # Bob's second factor: a recovery code, then a TOTP code of a later step (the sealed secret and last step came along).
            step = requests.post(new.url + "/v1/login", json={"username": "bob", "password": "bob password here"}, timeout=10).json()
            assert step.get("mfa_required") is True
            done = requests.post(new.url + "/v1/login/mfa", json={"mfa_token": step["mfa_token"], "code": recovery[0]}, timeout=10)
            assert done.status_code == 200, done.text
            time.sleep(30 - (time.time() % 30) + 0.2)
            step = requests.post(new.url + "/v1/login", json={"username": "bob", "password": "bob password here"}, timeout=10).json()
            done = requests.post(new.url + "/v1/login/mfa", json={"mfa_token": step["mfa_token"], "code": otp.now()}, timeout=10)
            assert done.status_code == 200, done.text
