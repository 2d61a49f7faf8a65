"""Configures a fresh glewlwyd through its admin API (python3 configure.py DIR), then checks
that client_credentials and introspection work. Used by start.sh; standard library only."""
import base64
import http.cookiejar
import json
import sys
import urllib.parse
import urllib.request

BASE = "http://127.0.0.1:4593/api"
directory = sys.argv[1]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def call(path, body=None, form=None, auth=None):
    headers = {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if form is not None:
        data, headers["Content-Type"] = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    with opener.open(urllib.request.Request(BASE + path, data=data, headers=headers), timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else None


call("/auth/", {"username": "admin", "password": "password"})
call("/scope/", {"name": "bench", "display_name": "bench", "description": "benchmark scope", "password_required": False, "scheme": {}})
call("/mod/plugin/", {"module": "oidc", "name": "oidc", "display_name": "OpenID Connect", "enabled": True, "parameters": {
    "iss": "http://127.0.0.1:4593", "jwt-type": "ecdsa", "jwt-key-size": "256",
    "key": open(f"{directory}/key.pem").read(), "cert": open(f"{directory}/public.pem").read(),
    "access-token-duration": 3600, "refresh-token-duration": 1209600, "code-duration": 600, "refresh-token-rolling": True,
    "allow-non-oidc": True, "auth-type-code-enabled": True, "auth-type-client-enabled": True, "auth-type-refresh-enabled": True,
    "auth-type-token-enabled": False, "auth-type-implicit-enabled": False, "auth-type-password-enabled": False,
    "auth-type-device-enabled": False, "introspection-revocation-allowed": True, "introspection-revocation-auth-scope": [],
    "introspection-revocation-allow-target-client": True, "subject-type": "public", "scope": [], "claims": []}})
call("/client/", {"client_id": "bench-client", "name": "bench client", "confidential": True, "password": "bench-secret", "enabled": True,
                  "authorization_type": ["client_credentials"], "scope": ["bench"], "redirect_uri": [],
                  "token_endpoint_auth_method": ["client_secret_basic", "client_secret_post"]})
token = call("/oidc/token", form={"grant_type": "client_credentials", "scope": "bench"}, auth="bench-client:bench-secret")
answer = call("/oidc/introspect", form={"token": token["access_token"]}, auth="bench-client:bench-secret")
assert answer.get("active") is True, answer
print("glewlwyd ready: client_credentials and introspection work")
