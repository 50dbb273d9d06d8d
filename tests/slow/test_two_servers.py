"""Two app servers on one PostgreSQL database and one S3 bucket (issue 15): what a user does
through one server, the other one sees, as behind a load balancer.

Both servers start the way the image's entrypoint starts them (`boot.sh`: the advisory-locked
`flask db upgrade`, then gunicorn with gunicorn.conf.py), at the same moment, on an empty
database: the test holds the migrations' advisory lock until both are waiting for it, so they
really race, and the schema must be migrated once. Both servers share SECRET_KEY (sessions are
signed cookies) and DOCUMENT_STORE (the bucket on moto's S3 server, over HTTP on loopback).
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid

import psycopg
import pytest
import requests
from alembic.script import ScriptDirectory
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from app.extensions import db
from app.models import Document, DocumentVersion, Notification
from tests.document_support import pdf_bytes
from tests.s3_support import CREDENTIALS, S3Endpoint, s3_server  # noqa: F401  (fixture)
from tests.slow.clients import Api, Web
from tests.slow.data import Seeder
from tests.slow.server import ROOT, BootedServer, postgres_available, scratch_database

pytestmark = [pytest.mark.slow, pytest.mark.s3]

MIGRATION_LOCK = 72741001  # migrations/env.py
WORKERS = 2  # per server: two servers share two cores with the test


class Pair:
    """The two servers, the bucket and a Seeder writing to the shared database."""

    def __init__(self, one: BootedServer, other: BootedServer, bucket: S3Endpoint, seed: Seeder):
        self.one, self.other, self.bucket, self.seed = one, other, bucket, seed

    def web(self, server: BootedServer, person) -> Web:
        return Web(server.base_url).login(person.email, person.password, person.totp_secret)


@pytest.fixture(scope="module")
def pair(s3_server):  # noqa: F811  (the fixture imported above)
    if not postgres_available():
        pytest.skip("needs a PostgreSQL server (TEST_DATABASE_URL or HTA_SLOW_PG_URL)")
    bucket = S3Endpoint(url=s3_server, bucket=f"hta-two-{uuid.uuid4().hex[:10]}")
    with pytest.MonkeyPatch.context() as env:
        for name, value in CREDENTIALS.items():
            env.setenv(name, value)  # the Seeder's documents go to the bucket too
        bucket.client().create_bucket(
            Bucket=bucket.bucket,
            CreateBucketConfiguration={"LocationConstraint": CREDENTIALS["AWS_DEFAULT_REGION"]},
        )
        shared = CREDENTIALS | {
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "DOCUMENT_STORE": bucket.store_url,
            "S3_ENDPOINT_URL": bucket.url,
        }
        with scratch_database("postgresql") as url:
            one = BootedServer(url, workers=WORKERS, env=shared)
            other = BootedServer(url, workers=WORKERS, env=shared)
            try:
                _boot_together(url, one, other)
                seed = Seeder(one)
                seed.app.config.update(DOCUMENT_STORE=bucket.store_url, S3_ENDPOINT_URL=bucket.url)
                seed.app.extensions.pop("document_store", None)
                try:
                    yield Pair(one, other, bucket, seed)
                finally:
                    seed.close()
                for server in (one, other):
                    assert server.server_errors() == [], server.log()[-5000:]
                audit = one.flask("audit", "verify")
                assert audit.returncode == 0, audit.stdout + audit.stderr
            finally:
                one.stop()
                other.stop()


def _boot_together(url: str, *servers: BootedServer) -> None:
    """Start every server while the test holds the migrations' lock; let go once all of them
    wait for it, so their `flask db upgrade` runs really overlap."""
    libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        for server in servers:
            server.launch()
        deadline = time.monotonic() + 90
        while _waiting_for_lock(holder) < len(servers):
            for server in servers:
                assert server.process.poll() is None, server.log()[-3000:]
            assert time.monotonic() < deadline, [s.log()[-2000:] for s in servers]
            time.sleep(0.2)
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    for server in servers:
        server.wait_until_ready(timeout=120)


def _waiting_for_lock(conn) -> int:
    return conn.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        " WHERE d.datname = current_database() AND l.locktype = 'advisory'"
        " AND l.objid = %s AND NOT l.granted",
        (MIGRATION_LOCK,),
    ).fetchone()[0]


def test_both_servers_migrate_at_boot_and_the_schema_is_migrated_once(pair):
    revisions = [
        script.revision for script in ScriptDirectory(str(ROOT / "migrations")).walk_revisions()
    ]
    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    logs = [pair.one.log(), pair.other.log()]
    # Each server ran the upgrade (alembic's context line) ...
    assert all("Will assume transactional DDL" in log for log in logs), logs
    applied = [re.findall(r"Running upgrade \S* -> (\w+)", log) for log in logs]
    # ... and between them every revision was applied exactly once, by one of them.
    assert sorted(applied[0] + applied[1]) == sorted(revisions), applied
    assert [] in applied, applied
    libpq = pair.one.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq) as conn:
        versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
    assert versions == [head]


def test_a_document_uploaded_through_one_downloads_through_the_other(pair):
    people = pair.seed.people()
    [request_id] = pair.seed.requests(people, "draft")
    content = pdf_bytes(f"Study {uuid.uuid4().hex}")
    digest = hashlib.sha256(content).hexdigest()
    title = "Two-server study " + uuid.uuid4().hex[:6]

    uploader = pair.web(pair.one, people.manufacturer)
    page = f"/requests/{request_id}/documents/upload"
    fields = uploader.form(page, "/documents/upload") | {"doc_type": "study", "title": title}
    files = {"file": ("study.pdf", content, "application/pdf")}
    assert uploader.post(page, data=fields, files=files).status_code == 302

    # The bytes are in the shared bucket under their digest, on no server's disk.
    in_bucket = pair.bucket.keys()
    assert pair.bucket.key_for(digest) in in_bucket
    for server in (pair.one, pair.other):
        assert not list(server.instance_dir.rglob(digest)), server.instance_dir

    reader = pair.web(pair.other, people.colleague)
    listing = reader.get(f"/requests/{request_id}/documents")
    assert listing.status_code == 200 and title in listing.text
    links = re.findall(rf"/requests/{request_id}/documents/\d+/versions/\d+/download", listing.text)
    assert len(set(links)) == 1, links
    download = reader.get(links[0])
    assert download.status_code == 200, download.text[:500]
    assert hashlib.sha256(download.content).hexdigest() == digest
    assert download.headers["ETag"].strip('W/"') == digest
    with pair.seed.app.app_context():
        stored = db.session.scalars(
            select(DocumentVersion.sha256).join(Document).where(Document.title == title)
        ).all()
        db.session.remove()
    assert stored == [digest]


def test_a_logout_on_one_ends_the_session_on_the_other(pair):
    people = pair.seed.people()
    on_one = pair.web(pair.one, people.manufacturer)
    on_other = Web(pair.other.base_url)
    on_other.http.cookies = on_one.http.cookies.copy()  # the same browser, another server
    assert on_other.get("/requests/", allow_redirects=False).status_code == 200

    logout = on_one.form("/requests/", "/auth/logout")
    assert on_one.post("/auth/logout", data=logout).status_code in (302, 303)

    # The copy of the session cookie the other server accepted a moment ago is refused now.
    answer = on_other.get("/requests/", allow_redirects=False)
    assert answer.status_code in (302, 303)
    assert "/auth/login" in answer.headers["Location"]


def test_a_transition_through_one_is_seen_by_the_other(pair):
    people = pair.seed.people()
    [request_id] = pair.seed.requests(people, "intake_review")
    api_one = Api(pair.one.base_url, people.agency.token)
    api_other = Api(pair.other.base_url, people.agency.token)
    before = api_other.version(request_id)

    admitted = api_one.fire(request_id, "admit", if_match=before)
    assert admitted.status_code == 200, admitted.text
    seen = api_other.get(f"/requests/{request_id}")
    assert seen.json()["state"] == "awaiting_prioritisation"
    assert api_other.version(request_id) > before

    # And back the other way.
    started = api_other.fire(request_id, "start_prioritisation")
    assert started.status_code == 200, started.text
    assert api_one.get(f"/requests/{request_id}").json()["state"] == "prioritisation"
    moves = [e["action"] for e in pair.seed.audit_entries(request_id) if e["to_state"]]
    assert moves[-2:] == ["admit", "start_prioritisation"]

    # /metrics under gunicorn's multiprocess mode: each server counts the transitions its own
    # workers committed, and both show the one notification backlog of the shared database.
    one, other = metrics(pair.one), metrics(pair.other)
    assert one[("hta_transitions_total", "request", "admit")] >= 1
    assert other[("hta_transitions_total", "request", "start_prioritisation")] >= 1
    assert ("hta_transitions_total", "request", "admit") not in other
    unsent = sum(pair.seed.count(Notification, email_status=s) for s in ("pending", "digest"))
    assert unsent > 0  # the manufacturer was told of each move; no worker sends here
    assert one[("hta_notifications_pending",)] == other[("hta_notifications_pending",)] == unsent


def metrics(server: BootedServer) -> dict[tuple, float]:
    """The server's /metrics (asked from loopback), keyed by name and workflow labels."""
    answer = requests.get(server.base_url + "/metrics", timeout=30)
    assert answer.status_code == 200, answer.text[:500]
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            labels = sample.labels
            key = (
                (sample.name, labels["workflow"], labels["transition"])
                if "transition" in labels
                else (sample.name,)
            )
            found[key] = found.get(key, 0) + sample.value
    return found
