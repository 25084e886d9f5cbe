"""Faults under load: the production topology as processes, and things breaking while people work.

    python bench/faults.py --database-url postgresql://postgres@127.0.0.1:5432/faults

The database must be migrated and seeded. The script starts its own Redis server (a free port,
a temporary folder, append-only file: nothing shared is touched), gunicorn (``gunicorn.conf.py``,
``--web-workers``) and two ``python -m workers``, puts reviewers and leads to work (short think
times, as in bench/load.py), and meanwhile:

1. kills a gunicorn worker process (SIGKILL) while requests are in flight;
2. asks for the all-areas XLSX summary and kills the work horse building it (SIGKILL);
3. imports ``--import-rows`` rows through the pages and kills the work horse writing them;
4. restarts Redis (shutdown, start again on the same port and data);
5. cuts every database connection of this database (``pg_terminate_backend``; the PostgreSQL
   server itself is shared and is never restarted).

Then it checks: nothing a client saw succeed is missing or doubled, no requirement's history
disagrees with its data, no summary is left "running", the import wrote all of its rows or none,
and after the faults the site answers again. Prints one JSON object; every loop is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402 - the scenario's users and checks
from http_bench import free_port  # noqa: E402


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def start_redis(folder: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--appendonly", "yes", "--save", ""], stdout=subprocess.DEVNULL,
        start_new_session=True)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                          text=True).stdout.strip() == "PONG":
            break
        time.sleep(0.1)
    return process, port


def restart_redis(process: subprocess.Popen, port: int, folder: Path) -> subprocess.Popen:
    subprocess.run(["redis-cli", "-p", str(port), "shutdown"], capture_output=True)
    process.wait(10)
    time.sleep(2)  # down for a moment, as a restart is
    return start_redis_on(port, folder)


def start_redis_on(port: int, folder: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--appendonly", "yes", "--save", ""], stdout=subprocess.DEVNULL,
        start_new_session=True)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                          text=True).stdout.strip() == "PONG":
            break
        time.sleep(0.1)
    return process


def wait_for_status(app, model, row_id: int, statuses: set[str], timeout: float) -> str:
    import sqlalchemy as sa

    from review_app.extensions import db

    deadline = time.monotonic() + timeout
    status = ""
    with app.app_context():
        while time.monotonic() < deadline:
            status = str(db.session.scalar(sa.select(model.status).where(model.id == row_id)))
            db.session.rollback()
            if status in statuses:
                break
            time.sleep(0.1)
        db.engine.dispose()
    return status


def kill_work_horse(workers: list[subprocess.Popen]) -> bool:
    """SIGKILL the forked work horses of the busy workers; False if none is busy."""
    killed = False
    for worker in workers:
        for child in children(worker.pid):
            # the scheduler is a child too; the horse is the one RQ names "rq:work-horse"
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_text()
                title = Path(f"/proc/{child}/comm").read_text()
            except OSError:
                continue
            if "scheduler" in cmdline or "scheduler" in title.lower():
                continue
            os.kill(child, signal.SIGKILL)
            killed = True
    return killed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reviewers", type=int, default=40)
    parser.add_argument("--leads", type=int, default=5)
    parser.add_argument("--think", default="0.5,2")
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--web-workers", type=int, default=3)
    args = parser.parse_args()
    span = tuple(float(x) for x in args.think.split(","))

    folder = Path(tempfile.mkdtemp(prefix="review-faults-"))
    redis_process, redis_port = start_redis(folder)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=redis_url, LOG_LEVEL="WARNING",
                      SUMMARY_STALE_SECONDS="10", SUMMARY_RETRY_INTERVALS="2,5",
                      IMPORT_SYNC_MAX_BYTES="0")  # every import file goes to a worker
    env = {**os.environ, "FLASK_APP": "wsgi"}
    from review_app import create_app
    from review_app.imports.models import ImportBatch
    from review_app.summaries.models import Summary
    from review_app.time import utcnow

    app = create_app()
    people, codes = load.setup_accounts(app, args.reviewers)
    import_path = folder / "faults-import.csv"
    prefix = f"FAULT{int(time.time()) % 100000}"
    from import_bench import make_csv

    make_csv(import_path, args.import_rows, prefix, body="Министерство", seed=11)

    opts = argparse.Namespace(web_workers=args.web_workers, worker_class="sync", threads=1,
                              rq_workers=2)
    web, workers, port = load.start_server(opts, env)
    ramp, duration = 30.0, 150.0
    window_start = time.monotonic() + ramp  # people sign in over the ramp, then faults begin
    stats = load.Stats(window_start, window_start + duration)
    deadline = stats.deadline
    started_at = utcnow()
    threads = [threading.Thread(target=load.reviewer, args=(port, stats, e, u, c, s, span, i),
                                daemon=True)
               for i, (e, u, c, s) in enumerate(people)]
    threads += [threading.Thread(target=load.lead, args=(port, stats, f"lead{n:02d}@demo.kz",
                                                         span, 100 + n), daemon=True)
                for n in range(1, args.leads + 1)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, window_start - time.monotonic()))
    faults: dict[str, object] = {}
    errors_before = 0

    def phase(name: str) -> None:
        nonlocal errors_before
        with stats.lock:
            faults[name + "_client_errors"] = len(stats.errors) - errors_before
            errors_before = len(stats.errors)

    try:
        time.sleep(15)
        phase("before_faults")
        # 1. a web worker killed mid-request
        victims = children(web.pid)
        os.kill(victims[0], signal.SIGKILL)
        faults["web_worker_killed"] = victims[0]
        time.sleep(8)
        phase("web_kill")

        # 2. a summary build killed
        admin = load.Client(port, stats)
        admin.sign_in("manager@demo.kz")
        _, html, _ = admin.get("summaries", "/summaries/")
        admin.post("ask_summary", "/summaries/", {"csrf_token": load.token(html), "area": "",
                                                  "format": "xlsx"})
        import sqlalchemy as sa

        from review_app.extensions import db
        with app.app_context():
            summary_id = db.session.scalar(sa.select(sa.func.max(Summary.id)))
            db.engine.dispose()
        status = wait_for_status(app, Summary, summary_id, {"running", "done", "failed"}, 60)
        faults["summary_killed_while"] = status
        faults["summary_horse_killed"] = kill_work_horse(workers)
        faults["summary_after_kill"] = wait_for_status(app, Summary, summary_id,
                                                       {"failed", "done"}, 60)
        phase("summary_kill")

        # 3. an import killed while it writes
        import_result: dict = {}
        importer = threading.Thread(target=load.admin_import, args=(
            port, stats, import_path, import_result), daemon=True)
        importer.start()
        for _ in range(600):
            if import_result.get("batch_id"):
                break
            time.sleep(0.1)
        batch_id = import_result.get("batch_id")
        if batch_id:
            faults["import_killed_while"] = wait_for_status(app, ImportBatch, batch_id,
                                                            {"applying", "applied", "failed"},
                                                            120)
            faults["import_horse_killed"] = kill_work_horse(workers)
        importer.join(timeout=90)
        phase("import_kill")

        # 4. Redis restarted
        redis_process = restart_redis(redis_process, redis_port, folder)
        time.sleep(8)
        phase("redis_restart")

        # 5. every database connection cut
        with app.app_context():
            cut = db.session.scalar(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            db.session.commit()
            db.engine.dispose()
        faults["database_connections_cut"] = cut
        time.sleep(8)
        phase("database_cut")

        for t in threads:
            t.join(timeout=max(1, deadline + 60 - time.monotonic()))
        phase("after_faults")
        # The site answers again.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/readyz")
        faults["readyz_after"] = conn.getresponse().status
    finally:
        load.stop(web)
        for w in workers:
            load.stop(w)
    check = load.check_database(app, started_at, stats, {})
    with app.app_context():
        from review_app.requirements.models import Requirement

        imported_rows = db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)
                                          .where(Requirement.code.like(f"{prefix}-%")))
        batch = db.session.get(ImportBatch, batch_id) if batch_id else None
        running = db.session.scalar(sa.select(sa.func.count()).select_from(Summary)
                                    .where(Summary.status == "running"))
        summary = db.session.get(Summary, summary_id)
        db.engine.dispose()
    subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"],
                   capture_output=True)
    redis_process.wait(10)
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({
        "benchmark": "faults", "faults": faults, "client_errors": len(stats.errors),
        "error_samples": random.Random(1).sample(stats.errors, min(8, len(stats.errors))),
        "database_check": check,
        "import": {"status": str(batch.status) if batch else None, "rows": imported_rows,
                   "of": args.import_rows,
                   "all_or_nothing": imported_rows in (0, args.import_rows)},
        "summary": {"status": str(summary.status), "error": summary.error},
        "summaries_left_running": running,
        "machine": "2 cores shared with other engineers' work during the run",
    }, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
