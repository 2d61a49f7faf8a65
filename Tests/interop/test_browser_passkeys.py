"""Passkeys in a real browser: headless Chromium with a CTAP2 virtual authenticator (Chrome
DevTools' WebAuthn domain, through selenium) registers a passkey on the account page, then signs in
with it without a password, and as the second factor after the password, through the OAuth
authorization flow. The page's own script runs `navigator.credentials.create`/`get` under the
strict CSP. Screenshots go beside the other browser tests' ($PORTCULLIS_TEST_OUTPUT/screenshots).
"""
import base64
import hashlib
import http.server
import json
import secrets
import tempfile
import threading
import urllib.parse

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import Protocol, Transport, VirtualAuthenticatorOptions
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from conftest import Server, free_port
from test_browser_chromium import Callback, browser, shot  # noqa: F401 (browser: the shared fixture)

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def site():
    """A server whose issuer is http://localhost:PORT (browsers refuse passkeys on an IP-address
    origin), a user, and a client whose callback is a local HTTP server."""
    port = free_port()
    callback = http.server.HTTPServer(("127.0.0.1", port), Callback)
    threading.Thread(target=callback.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="portcullis-passkeys-") as workdir:
        server = Server(workdir)
        server.url = f"http://localhost:{server.port}"
        server.env["PORTCULLIS_ISSUER"] = server.url
        server.start()
        server.cli("user", "add", "pat", "--password-stdin", stdin=PASSWORD + "\n")
        redirect = f"http://127.0.0.1:{port}/callback"
        client = json.loads(server.cli("client", "add", "Passkey App", "--id", "passkey-app", "--redirect-uri", redirect, "--json"))
        try:
            yield server, client, redirect
        finally:
            server.stop()
            callback.shutdown()


def wait_for(driver, by, value):
    return WebDriverWait(driver, 20).until(expected_conditions.presence_of_element_located((by, value)))


def authorize(driver, server, client, redirect, **extra):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": redirect, "scope": "openid profile",
        "state": secrets.token_urlsafe(8), "code_challenge": challenge, "code_challenge_method": "S256", "prompt": "login", **extra})
    driver.get(f"{server.url}/oauth2/authorize?{query}")
    return verifier


def finish(driver, server, client, redirect, verifier):
    """From the consent page (first time) or the callback, to the ID token's claims."""
    WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(redirect) or d.find_elements(By.ID, "consent"))
    if not driver.current_url.startswith(redirect):
        driver.find_element(By.CSS_SELECTOR, "button[name=decision][value=allow]").click()
        WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(redirect))
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(driver.current_url).query))["code"]
    tokens = requests.post(server.url.replace("localhost", "127.0.0.1") + "/oauth2/token", auth=(client["client_id"], client["client_secret"]),
                           data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "code_verifier": verifier},
                           timeout=10).json()
    payload = tokens["id_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_chromium_registers_a_passkey_and_signs_in_with_it(browser, site):  # noqa: F811 (the imported fixture)
    server, client, redirect = site
    browser.add_virtual_authenticator(VirtualAuthenticatorOptions(
        protocol=Protocol.CTAP2, transport=Transport.INTERNAL, has_resident_key=True, has_user_verification=True,
        is_user_verified=True, is_user_consenting=True))
    try:
        # Sign in with the password on the account page, and add a passkey there.
        browser.get(f"{server.url}/account/passkeys")
        wait_for(browser, By.ID, "username").send_keys("pat")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
        wait_for(browser, By.ID, "add-passkey")
        shot(browser, "passkeys-empty.png")
        browser.find_element(By.CSS_SELECTOR, "#add-passkey button").click()
        wait_for(browser, By.ID, "name").send_keys("Virtual key")
        shot(browser, "passkey-add.png")
        browser.find_element(By.ID, "webauthn-start").click()
        WebDriverWait(browser, 20).until(lambda d: "Virtual key" in d.page_source and "added" in d.page_source)
        shot(browser, "passkeys-listed.png")
        assert len(browser.get_credentials()) == 1, "the virtual authenticator holds one discoverable credential"
        assert browser.get_credentials()[0].is_resident_credential

        # Passwordless, through the authorization flow: no username typed.
        verifier = authorize(browser, server, client, redirect)
        wait_for(browser, By.ID, "passkey")
        shot(browser, "login-with-passkey-button.png")
        browser.find_element(By.CSS_SELECTOR, "#passkey button").click()
        wait_for(browser, By.ID, "webauthn-start")
        shot(browser, "passkey-sign-in.png")
        browser.find_element(By.ID, "webauthn-start").click()
        claims = finish(browser, server, client, redirect, verifier)
        shot(browser, "passkey-callback.png")
        assert "pop" in claims["amr"] and "pwd" not in claims["amr"]
        assert claims["acr"] == "phr"

        # The password now needs the passkey as its second step.
        verifier = authorize(browser, server, client, redirect)
        wait_for(browser, By.ID, "username").send_keys("pat")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
        wait_for(browser, By.ID, "mfa-passkey")
        assert not browser.find_elements(By.ID, "code"), "no TOTP: only the passkey is offered"
        shot(browser, "mfa-passkey.png")
        browser.find_element(By.CSS_SELECTOR, "#mfa-passkey button").click()
        wait_for(browser, By.ID, "webauthn-start").click()
        claims = finish(browser, server, client, redirect, verifier)
        assert claims["amr"][:2] == ["pwd", "pop"] and claims["acr"] == "phr"

        # A client that requires phishing resistance is offered the passkey only.
        verifier = authorize(browser, server, client, redirect, acr_values="phr")
        wait_for(browser, By.ID, "passkey")
        assert not browser.find_elements(By.ID, "login"), "no password form when acr_values=phr"
        shot(browser, "login-passkey-required.png")
        browser.find_element(By.CSS_SELECTOR, "#passkey button").click()
        wait_for(browser, By.ID, "webauthn-start").click()
        assert finish(browser, server, client, redirect, verifier)["acr"] == "phr"

        # The sign counter the server keeps moved with the authenticator's.
        listed = server.cli("user", "passkeys", "pat")
        assert "Virtual key" in listed and "last used" in listed
    finally:
        browser.remove_all_credentials()
        browser.remove_virtual_authenticator()
