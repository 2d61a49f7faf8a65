"""PORTCULLIS_LOG_FORMAT=json on a live server: every line of its output is one JSON object,
each request has one line with its request id, and a hostile path cannot forge a line."""
import json
import os
import tempfile

import requests

from conftest import Server


def test_every_line_is_one_json_object_and_requests_carry_their_id():
    with tempfile.TemporaryDirectory(prefix="portcullis-interop-json-log-") as workdir:
        server = Server(workdir)
        server.env["PORTCULLIS_LOG_FORMAT"] = "json"
        server.start()
        try:
            assert requests.get(server.url + "/healthz", headers={"X-Request-Id": "json-log-1"}, timeout=5).status_code == 200
            forged = '/x%0A{"level":"critical","msg":"forged"}'
            assert requests.get(server.url + forged, headers={"X-Request-Id": "json-log-2"}, timeout=5).status_code == 404
            response = requests.post(server.url + "/v1/login", json={"username": "nobody", "password": "wrong password"}, timeout=10)
            assert response.status_code == 401
        finally:
            server.stop()
        with open(server.log.name, encoding="utf-8") as log:
            lines = [json.loads(line) for line in log.read().splitlines()]  # raises on any non-JSON line
    assert all({"ts", "level", "label", "msg"} <= line.keys() for line in lines)
    assert not any(line.get("msg") == "forged" or line["level"] == "critical" for line in lines)
    requests_logged = {line["request_id"]: line for line in lines if line["msg"] == "request"}
    assert requests_logged["json-log-1"]["path"] == "/healthz"
    assert requests_logged["json-log-1"]["status"] == "200"
    assert requests_logged["json-log-2"]["status"] == "404"
    assert "forged" in requests_logged["json-log-2"]["path"]
    assert any(line["msg"].startswith("issuer ") for line in lines)
