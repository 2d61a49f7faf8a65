"""An RFC 6238 app (pyotp) enrols from our otpauth URI and logs in; the QR code decodes to that URI."""
import shutil
import subprocess
import time

import pyotp
import pytest
import requests


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def wait_for_next_step(period=30):
    """Codes are single-use per step: wait until the next step starts."""
    time.sleep(period - (time.time() % period) + 0.2)


@pytest.fixture(scope="module")
def enrolled(server):
    server.cli("user", "add", "totp-user", "--password-stdin", stdin="totp user password\n")
    access = server.login("totp-user", "totp user password")["access_token"]
    enrolment = requests.post(server.url + "/v1/me/mfa/totp", headers=bearer(access), timeout=10).json()
    return server, access, enrolment


def test_otpauth_uri_parses_with_pyotp(enrolled):
    _, _, enrolment = enrolled
    otp = pyotp.parse_uri(enrolment["otpauth_uri"])
    assert isinstance(otp, pyotp.TOTP)
    assert otp.secret == enrolment["secret"]
    assert otp.issuer == "Portcullis"
    assert otp.name == "totp-user"
    assert otp.digits == 6 and otp.interval == 30


@pytest.mark.skipif(not (shutil.which("rsvg-convert") and shutil.which("zbarimg")), reason="needs librsvg2-bin and zbar-tools")
def test_qr_svg_decodes_back_to_the_uri(enrolled, tmp_path):
    _, _, enrolment = enrolled
    svg = tmp_path / "qr.svg"
    png = tmp_path / "qr.png"
    svg.write_text(enrolment["qr_svg"])
    subprocess.run(["rsvg-convert", "-w", "400", "-h", "400", "-b", "white", "-o", str(png), str(svg)], check=True)
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], check=True, capture_output=True, text=True).stdout.strip()
    assert decoded == enrolment["otpauth_uri"]


def test_pyotp_codes_confirm_and_log_in_once(enrolled):
    server, access, enrolment = enrolled
    otp = pyotp.parse_uri(enrolment["otpauth_uri"])
    confirm = requests.post(server.url + "/v1/me/mfa/totp/confirm", json={"code": otp.now()}, headers=bearer(access), timeout=10)
    assert confirm.status_code == 200, confirm.text
    assert len(confirm.json()["recovery_codes"]) == 10

    wait_for_next_step()
    first = requests.post(server.url + "/v1/login", json={"username": "totp-user", "password": "totp user password"}, timeout=10).json()
    assert first["mfa_required"] is True and "access_token" not in first
    code = otp.now()
    done = requests.post(server.url + "/v1/login/mfa", json={"mfa_token": first["mfa_token"], "code": code}, timeout=10)
    assert done.status_code == 200, done.text
    token = done.json()["access_token"]
    assert requests.post(server.url + "/v1/token/verify", json={"token": token}, timeout=10).json()["active"] is True

    second = requests.post(server.url + "/v1/login", json={"username": "totp-user", "password": "totp user password"}, timeout=10).json()
    replay = requests.post(server.url + "/v1/login/mfa", json={"mfa_token": second["mfa_token"], "code": code}, timeout=10)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_code"

    shown = server.cli("user", "show", "totp-user", "--json")
    assert '"mfa" : true' in shown or '"mfa": true' in shown
