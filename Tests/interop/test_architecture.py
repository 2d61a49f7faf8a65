"""The rules of docs/ARCHITECTURE.md, read off the source tree so that breaking one fails `make test`."""
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SOURCES = os.path.join(ROOT, "Sources")


def swift_files(target):
    base = os.path.join(SOURCES, target)
    for folder, _, files in os.walk(base):
        for name in files:
            if name.endswith(".swift"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as handle:
                    yield os.path.relpath(path, ROOT), handle.read()


def code_lines(text):
    """Lines without `//` comments (doc comments may name what the code must not use)."""
    return [line.split("//", 1)[0] for line in text.splitlines()]


def targets():
    return sorted(name for name in os.listdir(SOURCES) if os.path.isdir(os.path.join(SOURCES, name)))


def violations(rule, pattern, allowed_targets=(), allowed_files=()):
    found = []
    for target in targets():
        if target in allowed_targets:
            continue
        for path, text in swift_files(target):
            if path in allowed_files:
                continue
            for number, line in enumerate(code_lines(text), 1):
                if re.search(pattern, line):
                    found.append(f"{path}:{number}: {line.strip()}")
    return found


def test_c_modules_are_imported_only_by_the_crypto_and_qr_targets():
    assert violations("C", r"^\s*(\w+\s+)?import\s+C(OpenSSL|Argon2|QRencode)\b",
                      allowed_targets=("PortcullisCrypto", "PortcullisQR")) == []


def test_core_policy_and_crypto_know_no_http():
    found = []
    for target in ("PortcullisCore", "PortcullisPolicy", "PortcullisCrypto", "PortcullisSQLite", "PortcullisWebAuthn"):
        for path, text in swift_files(target):
            for number, line in enumerate(code_lines(text), 1):
                if re.search(r"^\s*(\w+\s+)?import\s+(Hummingbird\w*|HTTPTypes|NIOHTTP1)\b", line):
                    found.append(f"{path}:{number}: {line.strip()}")
    assert found == []


def test_webauthn_verification_is_pure():
    """Only Foundation and PortcullisCrypto: no store, no HTTP, no logging, and no clock."""
    found = []
    for path, text in swift_files("PortcullisWebAuthn"):
        for number, line in enumerate(code_lines(text), 1):
            imported = re.search(r"^\s*(?:\w+\s+)?import\s+(\w+)", line)
            if imported and imported.group(1) not in ("Foundation", "PortcullisCrypto"):
                found.append(f"{path}:{number}: {line.strip()}")
            if re.search(r"\bDate\(\)|Date\.now\b|ContinuousClock|SuspendingClock", line):
                found.append(f"{path}:{number}: {line.strip()}")
    assert found == []


def test_no_store_reads_the_wall_clock():
    found = []
    for path, text in swift_files("PortcullisSQLite"):
        for number, line in enumerate(code_lines(text), 1):
            if re.search(r"\bDate\(\)|Date\.now\b|timeIntervalSinceNow", line):
                found.append(f"{path}:{number}: {line.strip()}")
    assert found == [], "a store takes its time from the caller (at:)"


def test_only_the_bearer_middleware_reads_a_bearer_header():
    found = violations("bearer", r"headers\[\.authorization\]", allowed_files=(
        "Sources/PortcullisServer/Middleware/BearerTokenMiddleware.swift",
        # Client authentication (RFC 6749 section 2.3.1) reads `Basic`, never `Bearer`.
        "Sources/PortcullisServer/Controllers/OAuthController.swift",
        # The hot routes' input carries the raw field to routes that parse it with the parsers above.
        "Sources/PortcullisServer/HotPath/HotRoutes.swift",
    ))
    assert found == []
    with open(os.path.join(ROOT, "Sources/PortcullisServer/HotPath/HotRoutes.swift")) as file:
        hot = file.read()
    assert "BearerTokenMiddleware.token(in:" in hot and "OAuthController.credentials(" in hot
    assert not re.search(r'"bearer', hot, re.IGNORECASE), "the hot routes never parse the bearer scheme themselves"
    for path, text in swift_files("PortcullisServer"):
        if path.endswith("OAuthController.swift"):
            assert "bearer" not in text.lower().replace("bearertoken", ""), path


def test_only_the_client_address_middleware_reads_forwarding_headers():
    found = violations("forwarded", r'"(X-Forwarded-For|Forwarded)"', allowed_files=(
        "Sources/PortcullisServer/Middleware/ClientAddressMiddleware.swift",
    ))
    assert found == [], "the client address is resolved once, from trusted proxies only (ClientAddressMiddleware)"


def test_pages_never_parse_forms_or_check_csrf_themselves():
    found = []
    for path, text in swift_files("PortcullisServer"):
        # FormParameters is the parser and BrowserCookies the cookie reader the middleware use.
        if "/Web/" not in path or path.endswith(("FormParameters.swift", "BrowserCookies.swift")):
            continue
        for number, line in enumerate(code_lines(text), 1):
            if re.search(r"FormParameters\.(body|query)\(|ConstantTime\.equals|request\.cookies\[", line):
                found.append(f"{path}:{number}: {line.strip()}")
    assert found == [], "pages read context.parameters, context.csrf and context.session (set by the middleware)"
