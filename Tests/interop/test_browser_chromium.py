"""A real browser (headless Chromium from Debian, driven by selenium) logs in, consents and lands on
the app's callback with a code. Screenshots of every page go to $PORTCULLIS_TEST_OUTPUT/screenshots
(default .build/test-output/screenshots) so a person can look at them.
"""
import base64
import hashlib
import http.server
import json
import os
import secrets
import shutil
import tempfile
import threading
import urllib.parse

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ROOT, Server, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = os.path.join(os.environ.get("PORTCULLIS_TEST_OUTPUT", os.path.join(ROOT, ".build", "test-output")), "screenshots")


class Callback(http.server.BaseHTTPRequestHandler):
    """The app's redirect URI: records the query and shows a small page."""
    queries = []

    def do_GET(self):
        Callback.queries.append(urllib.parse.urlparse(self.path).query)
        body = b"<!doctype html><title>App</title><h1>callback received</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("chromium and chromium-driver are missing: `make test` installs them (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    os.makedirs(SCREENSHOTS, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def app():
    """A live server with a user and a confidential client whose callback is a local HTTP server."""
    port = free_port()
    callback = http.server.HTTPServer(("127.0.0.1", port), Callback)
    threading.Thread(target=callback.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="portcullis-browser-") as workdir:
        server = Server(workdir)
        server.start()
        server.cli("user", "add", "alice", "--email", "alice@example.com", "--password-stdin", stdin="correct horse battery\n")
        redirect = f"http://127.0.0.1:{port}/callback"
        client = json.loads(server.cli("client", "add", "Demo App", "--id", "demo-app", "--redirect-uri", redirect, "--json"))
        try:
            yield server, client, redirect
        finally:
            server.stop()
            callback.shutdown()


def shot(driver, name):
    path = os.path.join(SCREENSHOTS, name)
    assert driver.save_screenshot(path), path
    print("screenshot:", path)


def test_chromium_logs_in_consents_and_reaches_the_callback(browser, app):
    server, client, redirect = app
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(12)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": redirect, "scope": "openid profile",
        "state": state, "nonce": "browser-nonce", "code_challenge": challenge, "code_challenge_method": "S256"})
    browser.get(f"{server.url}/oauth2/authorize?{query}")
    assert browser.find_element(By.ID, "login")
    assert "Demo App" in browser.page_source
    shot(browser, "login.png")

    browser.find_element(By.ID, "username").send_keys("alice")
    browser.find_element(By.ID, "password").send_keys("not the password")
    browser.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
    alert = WebDriverWait(browser, 20).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    assert "Wrong username or password" in alert.text
    shot(browser, "login-error.png")

    browser.find_element(By.ID, "password").send_keys("correct horse battery")
    browser.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
    WebDriverWait(browser, 20).until(expected_conditions.presence_of_element_located((By.ID, "consent")))
    assert "Demo App" in browser.page_source and "openid" in browser.page_source
    shot(browser, "consent.png")

    browser.find_element(By.CSS_SELECTOR, "button[name=decision][value=allow]").click()
    WebDriverWait(browser, 20).until(lambda driver: driver.current_url.startswith(redirect))
    shot(browser, "callback.png")
    parameters = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(browser.current_url).query))
    assert parameters["state"] == state and parameters["iss"] == server.url and parameters["code"]
    assert Callback.queries, "the callback server saw the redirect"

    tokens = requests.post(server.url + "/oauth2/token", auth=(client["client_id"], client["client_secret"]), timeout=10, data={
        "grant_type": "authorization_code", "code": parameters["code"], "redirect_uri": redirect, "code_verifier": verifier}).json()
    assert tokens["access_token"] and tokens["id_token"]

    # The session cookie is HttpOnly and SameSite=Lax as the browser stored it.
    cookies = {cookie["name"]: cookie for cookie in browser.get_cookies()}
    assert cookies["portcullis_session"]["httpOnly"] is True
    assert cookies["portcullis_session"]["sameSite"] == "Lax"

    # A second authorization goes straight through: session and consent are remembered.
    browser.get(f"{server.url}/oauth2/authorize?{query.replace(state, 'again')}")
    WebDriverWait(browser, 20).until(lambda driver: driver.current_url.startswith(redirect))
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlparse(browser.current_url).query))["state"] == "again"


def test_chromium_signs_out_through_the_logout_page(browser, app):
    server, _, _ = app
    browser.get(f"{server.url}/oauth2/logout")
    WebDriverWait(browser, 20).until(expected_conditions.presence_of_element_located((By.ID, "logout")))
    shot(browser, "logout.png")
    browser.find_element(By.CSS_SELECTOR, "#logout button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda driver: "signed out" in driver.page_source)
    shot(browser, "signed-out.png")
    assert "portcullis_session" not in {cookie["name"] for cookie in browser.get_cookies()}
