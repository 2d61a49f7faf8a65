"""Two replicas of `portcullis serve` on one PostgreSQL database: /readyz follows the schema (a
migration the binary does not know takes both out, and undoing it brings both back), /metrics
names the policy each one decides with, and each runs its janitor under the maintenance lock."""
import os
import re
import tempfile
import time
import uuid

import requests

from conftest import Server, postgres_database, sql


def metric(text: str, name: str) -> dict:
    """Every sample of `name` in Prometheus text, by its label set."""
    samples = {}
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
        if match:
            samples[match.group(1) or ""] = float(match.group(2))
    return samples


def wait_for(replicas, predicate, what, seconds=15):
    deadline = time.monotonic() + seconds
    answers = []
    while time.monotonic() < deadline:
        answers = [requests.get(replica.url + "/readyz", timeout=10) for replica in replicas]
        if all(predicate(answer) for answer in answers):
            return answers
        time.sleep(0.25)
    raise AssertionError(f"{what}: {[(a.status_code, a.json()) for a in answers]}")


def test_replicas_report_the_schema_and_policy_and_take_turns_at_maintenance():
    url = postgres_database("replicas_" + uuid.uuid4().hex[:10])
    with tempfile.TemporaryDirectory(prefix="portcullis-replicas-") as a, tempfile.TemporaryDirectory(prefix="portcullis-replicas-") as b:
        replicas = [Server(a), Server(b)]
        for replica in replicas:
            replica.env.update({"PORTCULLIS_DB": url, "PORTCULLIS_JANITOR_INTERVAL": "1"})
        replicas[0].cli("migrate")
        with replicas[0], replicas[1]:
            ready = wait_for(replicas, lambda r: r.status_code == 200, "both replicas ready")
            assert all(r.json()["schema"] == "current" and r.json()["schema_migrations"] == [] for r in ready)

            # A newer release migrated the database: both replicas leave the load balancer.
            sql(replicas[0], "INSERT INTO schema_migrations (id, checksum, applied_at) VALUES ('v99-future', 'x', 0)")
            ahead = wait_for(replicas, lambda r: r.status_code == 503, "both replicas unready once the schema is ahead")
            assert all(r.json()["schema"] == "ahead" and r.json()["schema_migrations"] == ["v99-future"] for r in ahead)
            assert all(r.json()["database"] == "ok" for r in ahead)
            sql(replicas[0], "DELETE FROM schema_migrations WHERE id = 'v99-future'")
            wait_for(replicas, lambda r: r.status_code == 200 and r.json()["schema"] == "current", "both ready again")

            # Each replica says which policy it decides with; both read the same folder.
            version = ready[0].json()["policy_version"]
            for replica in replicas:
                text = requests.get(replica.url + "/metrics", timeout=10).text
                assert metric(text, "portcullis_policy_info") == {f'{{version="{version}"}}': 1.0}
                assert abs(metric(text, "portcullis_policy_loaded_timestamp_seconds")[""] - time.time()) < 120

            # Every replica's janitor runs each second; a round either sweeps or is skipped, never fails.
            time.sleep(2.5)
            swept = skipped = 0
            for replica in replicas:
                sweeps = metric(requests.get(replica.url + "/metrics", timeout=10).text, "portcullis_janitor_sweeps_total")
                swept += sweeps.get('{result="swept"}', 0)
                skipped += sweeps.get('{result="skipped"}', 0)
            assert swept >= 2 and swept + skipped >= 4, (swept, skipped)
        for replica in replicas:
            assert "janitor sweep failed" not in open(os.path.join(replica.workdir, "server.log"), errors="replace").read()
