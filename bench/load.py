"""Load scenario: many reviewers, leads, managers and an admin at once, over HTTP on loopback.

    python bench/load.py --database-url postgresql://postgres@127.0.0.1:5432/load \\
        --redis-url redis://127.0.0.1:6380/4 [--think 10,60] [--ramp 60] [--duration 180]

The database must be migrated and seeded (``flask seed-demo``); the script adds the reviewer
accounts it needs (``load-rNNN@bench.kz``, password ``demo12345``), starts gunicorn with
``gunicorn.conf.py`` (``--web-workers``, ``--worker-class``, ``--threads``) and ``--rq-workers``
``python -m workers``, and runs:

* ``--reviewers`` reviewers (300): list their area, open an unreviewed requirement, read it
  (think time, uniform in ``--think``), propose; now and then look at My work. Each reviewer
  proposes only on its own share of the area's unreviewed requirements, so no two collide.
* ``--leads`` leads (10): open the queue, approve up to 20 proposals at once, think.
* ``--managers`` managers (2): ask for a summary (an area's XLSX, or all areas' CSV), look
  at the summaries page, think.
* one admin imports ``--import-rows`` (10,000) new requirements from CSV through the web
  pages (upload, preview by a worker, confirm) a few seconds into the measured window.

**Signing in.** People arrive over ``--ramp`` seconds (each at a random moment in it), sign in
and start working at once, as a morning does. Sign-in is deliberately expensive (scrypt, ~50-100
ms of CPU each), so it is reported on its own (``sign_in``: latency of each sign-in POST)
and kept out of the page figures: requests/s, the per-page p50/p95 and ``p95_ms_all_pages``
cover only the ``--duration`` seconds that follow the ramp (requests started in that window).
Errors count over the whole run.

``--think 0`` removes the think time: the ceiling of requests per second. Then the figures
also say how much of the machine's CPU went to the load generator itself (it shares the
cores with the server), to gunicorn, to the RQ workers and to this database's PostgreSQL
backends during the measured window (``cpu_share``: CPU seconds / (window x cores)).

**Worker models.** ``--variants sync:5,gthread:3x4,gevent:3x16`` runs the scenario once per
variant, back to back (class:workers[xthreads, or greenlets per worker for gevent]), each on a
fresh copy of ``--template-db`` (``createdb -T``; the database in ``--database-url`` is dropped
and made again, so it must be a throw-away one), and prints one JSON line per variant and a
table at the end. Without ``--variants`` it runs once with ``--worker-class`` etc.

Afterwards it checks the database: every proposal the clients saw succeed is there exactly
once, no requirement has two events of one version, every approved requirement has one approval
after its last proposal, the import's rows are all there, and the review history replays
(``flask check-history``). Prints one JSON object. Traffic goes to 127.0.0.1 only; every loop
stops at the deadline.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PASSWORD = "demo12345"
JUSTIFICATION = "Требование не основано на законе и дублирует норму Кодекса."


#: Requests kept out of the page figures: signing in is measured on its own.
SIGN_IN = ("login_page", "sign_in")


class Stats:
    def __init__(self, window_start: float, deadline: float) -> None:
        self.lock = threading.Lock()
        #: The measured window (time.monotonic()): after the ramp of arrivals, to the deadline.
        self.window_start, self.deadline = window_start, deadline
        #: Seconds per request, by page: requests started in the measured window only.
        self.times: dict[str, list[float]] = defaultdict(list)
        #: Seconds per request while signing in (the whole ramp), by step.
        self.sign_in: dict[str, list[float]] = defaultdict(list)
        self.before_window = 0
        self.errors: list[str] = []
        self.proposed: dict[int, int] = {}  # requirement id -> reviewer user id
        self.approve_sent = 0
        self.sent = self.answered = 0

    def in_flight(self) -> int:
        with self.lock:
            return self.sent - self.answered

    def record(self, name: str, started: float, seconds: float) -> None:
        with self.lock:
            if name in SIGN_IN:
                self.sign_in[name].append(seconds)
            elif started >= self.window_start:
                self.times[name].append(seconds)
            else:
                self.before_window += 1

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


class Client:
    """One browser: a keep-alive connection, the session cookie, a request id per request."""

    def __init__(self, port: int, stats: Stats):
        self.port, self.stats = port, stats
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, name: str, method: str, path: str, body: bytes | None = None,
                content_type: str | None = None, expect=(200,)) -> tuple[int, str, dict]:
        headers = {"Accept-Language": "ru", "X-Request-ID": f"load-{uuid.uuid4().hex[:16]}",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            started = time.perf_counter()
            started_at = time.monotonic()
            with self.stats.lock:
                self.stats.sent += 1
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
            except (http.client.HTTPException, OSError) as exc:
                # A timeout is an error too (it used to end the person's thread unseen, and a
                # proposal saved after it showed up only as "unexpected" in the check).
                with self.stats.lock:
                    self.stats.answered += 1
                self.conn.close()
                self.conn = None
                lost = isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError,
                                        BrokenPipeError))
                if attempt == 2 or method != "GET" or not lost:
                    self.stats.error(f"{name}: {'connection lost' if lost else repr(exc)}")
                    return 0, "", {}
                continue
            elapsed = time.perf_counter() - started
            with self.stats.lock:
                self.stats.answered += 1
            break
        self.stats.record(name, started_at, elapsed)
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        if response.status not in expect:
            self.stats.error(f"{name}: {response.status} on {method} {path}")
        return response.status, text, dict(response.headers)

    def get(self, name: str, path: str, expect=(200,)):
        return self.request(name, "GET", path, expect=expect)

    def post(self, name: str, path: str, form: dict, expect=(302, 303)):
        return self.request(name, "POST", path, urlencode(form, doseq=True).encode(),
                            "application/x-www-form-urlencoded", expect=expect)

    def sign_in(self, email: str) -> bool:
        _, html, _ = self.get("login_page", "/login")
        status, _, _ = self.post("sign_in", "/login", {
            "email": email, "password": PASSWORD, "csrf_token": token(html)})
        return status == 302


def token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1) if match else ""


def think(rng: random.Random, span: tuple[float, float], deadline: float) -> bool:
    """Sleep a think time; False when the run is over."""
    pause = rng.uniform(*span) if span[1] else 0
    if time.monotonic() + pause >= deadline:
        time.sleep(max(0.0, deadline - time.monotonic()))
        return False
    time.sleep(pause)
    return True


def arrive(rng: random.Random, stats: Stats, c: Client, email: str) -> bool:
    """Come in at a random moment of the ramp and sign in; False if that failed."""
    time.sleep(max(0.0, rng.uniform(0, stats.window_start - time.monotonic())))
    return c.sign_in(email)


def reviewer(port, stats, email, user_id, area_code, todo, span, seed):
    rng = random.Random(seed)
    c = Client(port, stats)
    if not arrive(rng, stats, c, email):
        return
    deadline = stats.deadline
    while time.monotonic() < deadline and todo:
        c.get("list", f"/requirements/?area={area_code}&state=unreviewed")
        req_id = todo.pop()
        _, html, _ = c.get("requirement", f"/requirements/{req_id}")
        version = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', html)
        if not think(rng, span, deadline):
            return
        if not version:
            stats.error(f"requirement page {req_id} has no proposal form")
            continue
        status, _, _ = c.post("propose", f"/requirements/{req_id}/propose", {
            "csrf_token": token(html), "version": version.group(1), "legal": "no",
            "necessary": "yes", "business_friendly": "yes", "decision": "cancel",
            "justification": JUSTIFICATION})
        if status == 302:
            with stats.lock:
                stats.proposed[req_id] = user_id
        if rng.random() < 0.2:
            c.get("my_work", "/my-work")


def lead(port, stats, email, span, seed):
    rng = random.Random(seed)
    c = Client(port, stats)
    if not arrive(rng, stats, c, email):
        return
    deadline = stats.deadline
    while time.monotonic() < deadline:
        _, html, _ = c.get("queue", "/queue")
        items = re.findall(r'name="item" value="(\d+:\d+)" >', html)[:20]
        if items:
            # 200: Redis was away, so the result is answered in place rather than kept
            status, _, headers = c.post("bulk_approve", "/queue/decide", {
                "csrf_token": token(html), "action": "approve", "item": items},
                expect=(303, 200))
            if status == 303:
                with stats.lock:
                    stats.approve_sent += len(items)
                # 302: the kept result is gone (Redis restarted without it): back to the queue
                c.get("bulk_result", headers.get("Location", "/queue"), expect=(200, 302))
        if not think(rng, (span[0] / 2, span[1] / 2) if span[1] else span, deadline):
            return


def manager(port, stats, email, codes, span, seed):
    rng = random.Random(seed)
    c = Client(port, stats)
    if not arrive(rng, stats, c, email):
        return
    deadline = stats.deadline
    while time.monotonic() < deadline:
        _, html, _ = c.get("summaries", "/summaries/")
        area, fmt = (rng.choice(codes), "xlsx") if rng.random() < 0.7 else ("", "csv")
        c.post("ask_summary", "/summaries/", {"csrf_token": token(html), "area": area,
                                              "format": fmt})
        if not think(rng, (span[0] * 2, span[1] * 2), deadline):
            return
        c.get("summaries", "/summaries/")


def admin_import(port, stats, path: Path, result: dict):
    c = Client(port, stats)
    if not c.sign_in("admin@demo.kz"):
        return
    deadline = stats.deadline
    time.sleep(max(0.0, stats.window_start + 5 - time.monotonic()))  # in the measured window
    _, html, _ = c.get("import_page", "/admin/imports/")
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for name, value in (("csrf_token", token(html)), ("encoding", "auto"),
                        ("delimiter", "auto")):
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                   f"{value}\r\n".encode())
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
               f'filename="{path.name}"\r\nContent-Type: text/csv\r\n\r\n'.encode())
    body.write(path.read_bytes() + f"\r\n--{boundary}--\r\n".encode())
    started = time.monotonic()
    status, _, headers = c.request("import_upload", "POST", "/admin/imports/", body.getvalue(),
                                   f"multipart/form-data; boundary={boundary}",
                                   expect=(302, 303))
    if status not in (302, 303):
        return
    batch_url = headers["Location"]
    result["batch_id"] = int(batch_url.rstrip("/").rsplit("/", 1)[1])
    confirmed = False
    while time.monotonic() < deadline + 120:  # the import may finish after the others
        _, html, _ = c.get("import_status", batch_url)
        if not confirmed and f'action="{batch_url}/confirm"' in html:
            c.post("import_confirm", f"{batch_url}/confirm", {"csrf_token": token(html)})
            confirmed = True
        if "import-applied" in html or "import-failed" in html:  # the status badge's class
            result["outcome"] = "applied" if "import-applied" in html else "failed"
            break
        result["status_page"] = html[-300:]
        time.sleep(2)
    result["seconds"] = round(time.monotonic() - started, 1)


def setup_accounts(app, reviewers: int) -> tuple[list[tuple[str, int, str, list[int]]], list[str]]:
    """Reviewer accounts (adding ``load-rNNN@bench.kz`` up to ``reviewers``), each with its own
    share of its area's unreviewed requirements; the area codes."""
    import sqlalchemy as sa

    from review_app.auth.models import AreaMembership, AreaRole, User
    from review_app.extensions import db
    from review_app.requirements.models import Area, Requirement, State

    with app.app_context():
        template = db.session.scalar(sa.select(User).where(User.email == "reviewer01a@demo.kz"))
        areas = list(db.session.scalars(sa.select(Area).order_by(Area.code)))
        existing = list(db.session.execute(
            sa.select(User.email, User.id, AreaMembership.area_id).join(AreaMembership)
            .where(AreaMembership.role == AreaRole.REVIEWER, User.active,
                   User.email.like("reviewer%"))
            .order_by(User.email)).all())
        seen: set[str] = set()
        people = []
        for email, uid, area_id in existing:
            if email not in seen:
                seen.add(email)
                people.append((email, uid, area_id))
        n = 0
        while len(people) < reviewers:
            n += 1
            email = f"load-r{n:03d}@bench.kz"
            user = db.session.scalar(sa.select(User).where(User.email == email))
            area = areas[n % len(areas)]
            if user is None:
                user = User(email=email, display_name=f"Нагрузка {n:03d}",
                            password_hash=template.password_hash, language="ru",
                            active=True, must_change_password=False,
                            session_nonce=uuid.uuid4().hex[:16])
                db.session.add(user)
                db.session.flush()
                db.session.add(AreaMembership(user_id=user.id, area_id=area.id,
                                              role=AreaRole.REVIEWER))
            people.append((email, user.id, area.id))
        db.session.commit()
        people = people[:reviewers]
        by_area: dict[int, list[int]] = defaultdict(list)
        for _, _, area_id in people:
            by_area[area_id].append(0)
        shares: dict[int, list[list[int]]] = {}
        for area_id, members in by_area.items():
            ids = list(db.session.scalars(
                sa.select(Requirement.id).where(Requirement.area_id == area_id,
                                                Requirement.state == State.UNREVIEWED,
                                                Requirement.assignee_id.is_(None))
                .order_by(Requirement.id).limit(200 * len(members))))
            shares[area_id] = [ids[i::len(members)] for i in range(len(members))]
        codes = {a.id: a.code for a in areas}
        taken: dict[int, int] = defaultdict(int)
        result = []
        for email, uid, area_id in people:
            share = shares[area_id][taken[area_id]]
            taken[area_id] += 1
            result.append((email, uid, codes[area_id], share))
        db.engine.dispose()
    return result, [a.code for a in areas]


def check_database(app, started_at, stats: Stats, import_result: dict) -> dict:
    """Nothing lost, nothing doubled."""
    import sqlalchemy as sa

    from review_app import consistency
    from review_app.extensions import db
    from review_app.imports.models import ImportBatch
    from review_app.requirements.models import Requirement, State
    from review_app.reviews.models import Action, ReviewEvent

    with app.app_context():
        proposals = db.session.execute(
            sa.select(ReviewEvent.requirement_id, ReviewEvent.actor_id)
            .where(ReviewEvent.action == Action.PROPOSE,
                   ReviewEvent.created_at >= started_at)).all()
        by_req: dict[int, list[int]] = defaultdict(list)
        for req_id, actor in proposals:
            by_req[req_id].append(actor)
        lost = [r for r, u in stats.proposed.items() if by_req.get(r) != [u]]
        unexpected = [r for r in by_req if r not in stats.proposed]
        doubled_versions = db.session.execute(
            sa.select(ReviewEvent.requirement_id, ReviewEvent.version, sa.func.count())
            .where(ReviewEvent.created_at >= started_at, ReviewEvent.action != Action.ASSIGN)
            .group_by(ReviewEvent.requirement_id, ReviewEvent.version)
            .having(sa.func.count() > 1)).all()
        approvals = db.session.execute(
            sa.select(ReviewEvent.requirement_id, sa.func.count())
            .where(ReviewEvent.action == Action.APPROVE, ReviewEvent.created_at >= started_at)
            .group_by(ReviewEvent.requirement_id)).all()
        doubled_approvals = [r for r, n in approvals if n > 1]
        not_approved = db.session.scalar(
            sa.select(sa.func.count()).select_from(Requirement).where(
                Requirement.id.in_([r for r, _ in approvals]),
                Requirement.state != State.APPROVED)) if approvals else 0
        touched = set(by_req) | {r for r, _ in approvals}
        history_problems = consistency.check(db.session, sorted(touched)) if touched else []
        imported = None
        if import_result.get("batch_id"):
            batch = db.session.get(ImportBatch, import_result["batch_id"])
            imported = {"status": str(batch.status), "new": batch.new_count}
        db.engine.dispose()
    return {"proposals_seen_by_clients": len(stats.proposed),
            "proposal_events_in_db": len(proposals), "lost_proposals": len(lost),
            "unexpected_proposals": len(unexpected),
            "events_with_a_doubled_version": len(doubled_versions),
            "approvals": len(approvals), "doubled_approvals": len(doubled_approvals),
            "approved_but_not_in_state_approved": not_approved,
            "history_mismatches": len(history_problems), "import": imported}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def start_server(args, env) -> tuple[subprocess.Popen, list[subprocess.Popen], int]:
    from http_bench import free_port

    port = free_port()
    web_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}",
               "GUNICORN_WORKERS": str(args.web_workers),
               "GUNICORN_WORKER_CLASS": args.worker_class, "GUNICORN_THREADS": str(args.threads),
               # gevent: --threads is the greenlets a worker serves at once
               "GUNICORN_WORKER_CONNECTIONS": str(args.threads if args.worker_class == "gevent"
                                                  else 1000),
               "GUNICORN_LOGLEVEL": "warning", "LOG_LEVEL": "WARNING"}
    web = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                           cwd=ROOT, env=web_env, start_new_session=True)
    workers = [subprocess.Popen([sys.executable, "-m", "workers"], cwd=ROOT,
                                env={**env, "LOG_LEVEL": "WARNING"}, start_new_session=True,
                                stdout=subprocess.DEVNULL)
               for _ in range(args.rq_workers)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.2)
    return web, workers, port


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


# CPU accounting (Linux /proc): who used the cores during the measured window -----------------

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> tuple[int, float] | None:
    """(process group, CPU seconds so far) of ``pid``, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / _TICK


def _cpu_by_pid(groups: set[int], pids: set[int]) -> dict[int, tuple[int, float]]:
    """CPU seconds of every process in ``groups`` (gunicorn's, each RQ worker's) and of the
    ``pids`` (PostgreSQL backends)."""
    seen = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _cpu_of(int(entry))
            if found and (found[0] in groups or int(entry) in pids):
                seen[int(entry)] = found
    return seen


def _backend_pids(database_url: str) -> set[int]:
    import psycopg

    name = database_url.rsplit("/", 1)[1].split("?")[0]
    try:
        with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"),
                             autocommit=True) as conn:
            return {pid for (pid,) in conn.execute(
                "select pid from pg_stat_activity where datname = %s and pid <> "
                "pg_backend_pid()", (name,))}
    except psycopg.Error:
        return set()


class CpuMeter:
    """CPU seconds spent in the measured window by this process (the load generator), the
    gunicorn processes, the RQ workers and this database's PostgreSQL backends (those that
    exist at both ends of the window: the pool keeps them)."""

    def __init__(self, web: subprocess.Popen, workers: list[subprocess.Popen], url: str):
        self.web, self.workers, self.url = web.pid, {w.pid for w in workers}, url

    def start(self) -> None:
        self.wall, self.own = time.monotonic(), time.process_time()
        self.pg = _backend_pids(self.url)
        self.before = _cpu_by_pid({self.web, *self.workers}, self.pg)

    def stop(self) -> dict:
        own = time.process_time() - self.own
        wall = time.monotonic() - self.wall
        after = _cpu_by_pid({self.web, *self.workers}, self.pg | _backend_pids(self.url))
        used = defaultdict(float)
        for pid, (group, seconds) in after.items():
            start = self.before.get(pid, (group, 0.0 if group in (self.web, *self.workers)
                                          else None))[1]
            if start is None:
                continue  # a backend that appeared during the window: its start is unknown
            kind = ("web" if group == self.web else "rq_workers" if group in self.workers
                    else "postgres")
            used[kind] += seconds - start
        used["load_generator"] = own
        cores = os.cpu_count() or 1
        return {"cores": cores, "window_s": round(wall, 1),
                **{kind: round(seconds / (wall * cores), 3) for kind, seconds in used.items()},
                "cpu_seconds": {kind: round(v, 1) for kind, v in used.items()}}


def run(args, span: tuple[float, float]) -> dict:
    """The scenario once, with ``args.worker_class`` etc.; its figures and database check."""
    env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
           "FLASK_APP": "wsgi"}
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url,
                      LOG_LEVEL="WARNING")
    from review_app import create_app
    from review_app.time import utcnow

    app = create_app()
    people, codes = setup_accounts(app, args.reviewers)
    import_path = Path(tempfile.mkdtemp(prefix="review-load-")) / "load-import.csv"
    if args.import_rows:
        from import_bench import make_csv

        make_csv(import_path, args.import_rows, f"LOAD{int(time.time()) % 100000}",
                 body="Министерство", seed=7)

    web, workers, port = start_server(args, env)
    meter = CpuMeter(web, workers, args.database_url)
    ramp_start = time.monotonic()
    stats = Stats(ramp_start + args.ramp, ramp_start + args.ramp + args.duration)
    import_result: dict = {}
    started_at = utcnow()
    threads = [threading.Thread(target=reviewer, args=(port, stats, email, uid, code, share,
                                                       span, i), daemon=True)
               for i, (email, uid, code, share) in enumerate(people)]
    threads += [threading.Thread(target=lead, args=(port, stats, f"lead{n:02d}@demo.kz", span,
                                                    1000 + n), daemon=True)
                for n in range(1, args.leads + 1)]
    threads += [threading.Thread(target=manager, args=(port, stats, email, codes, span,
                                                       2000 + n), daemon=True)
                for n, email in enumerate(["manager@demo.kz", "admin@demo.kz"][:args.managers])]
    if args.import_rows:
        threads.append(threading.Thread(target=admin_import, args=(
            port, stats, import_path, import_result), daemon=True))
    for t in threads:
        t.start()
    time.sleep(max(0.0, stats.window_start - time.monotonic()))
    meter.start()
    time.sleep(max(0.0, stats.deadline - time.monotonic()))
    cpu = meter.stop()
    elapsed = time.monotonic() - stats.window_start
    for t in threads:
        t.join(timeout=max(1, stats.deadline + 150 - time.monotonic()))
    try:
        metrics = {}
        token_env = os.environ.get("METRICS_TOKEN")
        if token_env:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {token_env}"})
            metrics["lines"] = len(conn.getresponse().read().splitlines())
    finally:
        stop(web)
        for w in workers:
            stop(w)
    measured = {name: ts for name, ts in stats.times.items()
                if name not in ("import_upload", "import_status")}
    all_times = [t for ts in measured.values() for t in ts]
    pages = {name: {"n": len(ts), "per_s": round(len(ts) / elapsed, 1),
                    "p50_ms": round(statistics.median(ts) * 1000, 1),
                    "p95_ms": round(percentile(ts, 95) * 1000, 1)}
             for name, ts in sorted(stats.times.items())}
    sign_ins = stats.sign_in["sign_in"]
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {
        "benchmark": "load", "think_s": list(span), "ramp_s": args.ramp,
        "duration_s": round(elapsed, 1),
        "reviewers": len(people), "leads": args.leads, "managers": args.managers,
        "web": {"workers": args.web_workers, "class": args.worker_class,
                "threads": args.threads}, "rq_workers": args.rq_workers,
        "requests": len(all_times), "requests_per_s": round(len(all_times) / elapsed, 1),
        "requests_during_ramp": stats.before_window,
        "responses_not_received_before_the_end": stats.in_flight(),
        "p95_ms_all_pages": round(percentile(all_times, 95) * 1000, 1) if all_times else None,
        "errors": len(stats.errors), "error_samples": stats.errors[:10], "pages": pages,
        "import": import_result.get("seconds"), "approvals_sent": stats.approve_sent,
        "sign_in": {"signed_in": len(sign_ins), "people": len(threads),
                    "p50_ms": round(statistics.median(sign_ins) * 1000, 1) if sign_ins else None,
                    "p95_ms": round(percentile(sign_ins, 95) * 1000, 1) if sign_ins else None},
        "cpu_share": cpu,
        "database_check": check_database(app, started_at, stats, import_result),
        "load_average_at_end": load,
        "machine": f"{os.cpu_count()} cores, shared with other work during the run",
    }


def parse_variant(text: str) -> tuple[str, int, int]:
    """``gthread:3x4`` -> ("gthread", 3 workers, 4 threads); ``sync:5`` -> ("sync", 5, 1)."""
    kind, _, size = text.partition(":")
    workers, _, threads = size.partition("x")
    return kind, int(workers or 5), int(threads or 1)


def fresh_database(url: str, template: str) -> None:
    """Make the throw-away database in ``url`` again as a copy of ``template``."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    server = url.rsplit("/", 1)[0].replace("postgresql+psycopg", "postgresql") + "/postgres"
    if name == template:
        raise SystemExit("--template-db must differ from the database being run on")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}" template "{template}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--duration", type=float, default=180,
                        help="seconds measured, after the ramp")
    parser.add_argument("--ramp", type=float, default=60,
                        help="seconds over which people arrive and sign in")
    parser.add_argument("--think", default="10,60", help="min,max seconds; 0 for none")
    parser.add_argument("--reviewers", type=int, default=300)
    parser.add_argument("--leads", type=int, default=10)
    parser.add_argument("--managers", type=int, default=2)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--web-workers", type=int, default=5)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (gthread), greenlets per worker (gevent)")
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--variants", default="",
                        help="e.g. sync:5,gthread:3x2,gthread:3x4,gthread:3x8,gevent:3x16")
    parser.add_argument("--template-db", default="",
                        help="with --variants: each run starts on a fresh copy of this database")
    args = parser.parse_args()
    span = (0.0, 0.0) if args.think == "0" else tuple(float(x) for x in args.think.split(","))
    if not args.variants:
        print(json.dumps(run(args, span), ensure_ascii=False))
        return
    if not args.template_db:
        parser.error("--variants needs --template-db (each run starts on the same data)")
    rows = []
    for text in args.variants.split(","):
        args.worker_class, args.web_workers, args.threads = parse_variant(text)
        fresh_database(args.database_url, args.template_db)
        result = run(args, span)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        check = result["database_check"]
        rows.append((text, result["requests_per_s"], result["p95_ms_all_pages"],
                     result["errors"], check["lost_proposals"] + check["unexpected_proposals"]
                     + check["doubled_approvals"] + check["events_with_a_doubled_version"],
                     result["cpu_share"].get("load_generator"),
                     " ".join(result["load_average_at_end"])))
        time.sleep(5)
    print(f"{'variant':<14}{'req/s':>8}{'p95 ms':>9}{'errors':>8}{'lost+dup':>10}"
          f"{'loadgen':>9}  load average", file=sys.stderr)
    for row in rows:
        print(f"{row[0]:<14}{row[1]:>8}{row[2]!s:>9}{row[3]:>8}{row[4]:>10}{row[5]!s:>9}  "
              f"{row[6]}", file=sys.stderr)


if __name__ == "__main__":
    main()
