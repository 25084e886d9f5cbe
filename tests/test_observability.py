"""What operators see: request ids from the request into its jobs, metrics, probes, Sentry."""

from __future__ import annotations

import gzip
import http.server
import json
import os
import subprocess
import sys
import threading
import time

import sqlalchemy as sa

from review_app.extensions import db
from review_app.queues import queue
from review_app.redis_conn import get_redis
from review_app.summaries.models import SummaryStatus
from tests.conftest import login_as
from tests.summaries_support import (
    ROOT,
    kill_group,
    only_summary,
    start_worker,
    wait_for,
    wait_until_serving,
)
from workers.observed import ObservedSimpleWorker

TOKEN = "metrics-" + "x" * 32


def test_every_response_carries_a_request_id_and_a_sane_one_is_kept(client):
    first = client.get("/login").headers["X-Request-ID"]
    second = client.get("/login").headers["X-Request-ID"]
    assert len(first) == 32 and first != second
    kept = client.get("/login", headers={"X-Request-ID": "proxy-1234abcd"})
    assert kept.headers["X-Request-ID"] == "proxy-1234abcd"
    for junk in ("short", "has space 123456", "x" * 300, "inject\"quote1234"):
        answered = client.get("/login", headers={"X-Request-ID": junk}).headers["X-Request-ID"]
        assert answered != junk and len(answered) == 32


def test_a_summary_job_logs_under_the_id_of_the_request_that_asked(client, app, manager, fire,
                                                                   tmp_path):
    """The manager's request and the worker's job (a real forking ``python -m workers``, JSON
    logs) are found by one id."""
    log_path = tmp_path / "worker.log"
    environ = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "REDIS_URL": app.config["REDIS_URL"], "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    with open(log_path, "w") as log_file:
        worker = subprocess.Popen([sys.executable, "-m", "workers", "summaries"], cwd=ROOT,
                                  env=environ, stdout=log_file, stderr=log_file,
                                  start_new_session=True)
    try:
        wait_until_serving(app, worker)
        login_as(client, manager)
        asked = client.post("/summaries/", data={"area": fire.code, "format": "csv"},
                            headers={"X-Request-ID": "manager-asks-0001"})
        assert asked.status_code == 302
        assert asked.headers["X-Request-ID"] == "manager-asks-0001"
        summary = only_summary()
        wait_for(summary.id, lambda row: row.status == SummaryStatus.DONE)
        time.sleep(0.3)  # the worker's last lines
    finally:
        kill_group(worker)
    lines = [json.loads(line) for line in log_path.read_text().splitlines()
             if line.startswith("{")]
    of_request = [line for line in lines if line.get("request_id") == "manager-asks-0001"]
    assert of_request, log_path.read_text()[-2000:]
    assert all(line["job_id"] for line in of_request)
    assert {line["level"] for line in lines} <= {"DEBUG", "INFO", "WARNING", "ERROR"}


def test_metrics_are_not_public(client, app, world, admin):
    reviewer = world.user("aigerim", reviewer_in=(world.area("07"),))
    assert client.get("/metrics").status_code == 404
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 404
    login_as(client, reviewer)
    assert client.get("/metrics").status_code == 404
    client.post("/logout")
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200 and "text/plain" in scraped.content_type
    login_as(client, admin)
    assert client.get("/metrics").status_code == 200


def test_metrics_count_requests_queues_jobs_summaries(client, app, manager, fire):
    app.config["METRICS_TOKEN"] = TOKEN
    login_as(client, manager)
    client.get("/requirements/")
    client.post("/summaries/", data={"area": fire.code, "format": "csv"})
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert ('review_http_request_duration_seconds_bucket{endpoint="requirements.index",'
            'le="0.05",method="GET"}') in text
    assert ('review_http_responses_total{endpoint="requirements.index",method="GET",'
            'status="200"}') in text
    assert 'review_queue_jobs{queue="summaries",state="queued"} 1.0' in text
    assert 'review_summaries{format="csv",status="queued"} 1.0' in text
    assert "review_redis_up 1.0" in text

    with app.app_context():
        ObservedSimpleWorker(["summaries"], connection=get_redis(app)).work(
            burst=True, logging_level="WARNING")
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert ('review_job_duration_seconds_count{job="workers.summaries.build_summary",'
            'outcome="ok"}') in text
    assert 'review_summaries{format="csv",status="done"} 1.0' in text
    assert 'review_queue_jobs{queue="summaries",state="queued"} 0.0' in text


def test_healthz_is_liveness_only(database_url):
    from review_app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none",
                      "REDIS_URL": "redis://127.0.0.1:1/0", "TESTING": True})
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_wants_a_worker_seen_recently(client, app):
    app.config["READY_WORKER_SECONDS"] = 600
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["worker"]["status"] == "error"
    assert response.json["checks"]["database"]["status"] == "ok"
    worker = start_worker(app, "summaries")
    try:
        wait_until_serving(app, worker)
        response = client.get("/readyz")
        assert response.status_code == 200, response.json
        assert response.json["checks"]["worker"]["workers"] == "1"
    finally:
        kill_group(worker)


def test_readyz_wants_the_newest_migration(client, app):
    app.config["READY_WORKER_SECONDS"] = 0
    assert client.get("/readyz").status_code == 200
    head = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0001_initial_schema'"))
    db.session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        check = response.json["checks"]["database"]
        assert check["error"] == "migrations not at head"
        assert check["current"] == "0001_initial_schema" and check["head"] == head
    finally:
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        db.session.commit()


def test_requests_and_queue_survive_without_metrics_dir(client):
    """No PROMETHEUS_MULTIPROC_DIR (one process, development): still answers."""
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    assert client.get("/login").status_code == 200


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 - the standard library's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        type(self).received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


SENTRY_SCRIPT = """
import os, sys
import sentry_sdk
from review_app import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "REDIS_URL": sys.argv[2]})
@app.get("/boom")
def boom():
    raise RuntimeError("kaboom-for-sentry")
app.config["PROPAGATE_EXCEPTIONS"] = False
print(app.test_client().get("/boom").status_code)
sentry_sdk.flush(5)
"""


def test_errors_reach_sentry_only_when_a_dsn_is_set(database_url, redis_url):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        for dsn, expect in (("", False), (f"http://public@127.0.0.1:{port}/1", True)):
            _Collector.received.clear()
            environ = {**os.environ, "SENTRY_DSN": dsn}
            done = subprocess.run([sys.executable, "-c", SENTRY_SCRIPT, database_url,
                                   redis_url], cwd=ROOT, env=environ, capture_output=True,
                                  text=True, timeout=60)
            assert done.stdout.strip() == "500", done.stderr[-2000:]
            sent = b"".join(_Collector.received)
            assert (b"kaboom-for-sentry" in sent) is expect
    finally:
        server.shutdown()
        server.server_close()


def test_the_queue_helper_puts_the_request_id_in_the_job(app, client, manager, fire):
    login_as(client, manager)
    client.post("/summaries/", data={"area": fire.code, "format": "csv"},
                headers={"X-Request-ID": "trace-me-000001"})
    jobs = queue(app, "summaries").get_jobs()
    assert [job.meta.get("request_id") for job in jobs] == ["trace-me-000001"]
