"""HTTP benchmark of the core pages, served by gunicorn on this machine.

Seeds a fresh database with the demo data (10,000 requirements by default), starts gunicorn,
signs in as a demo reviewer and measures over HTTP:

* the requirements list (50 rows) with an area filter and a text search,
* the requirement page,
* a proposal POST (each on a different unreviewed requirement),
* My work, the list unfiltered and by area + state, and (signed in as a lead) the lead's queue,

and, in-process, the number of SQL statements one list page runs at several page sizes.
Prints one JSON object. Rerun: ``python bench/http_bench.py [--database-url URL]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A minimal HTTP client that keeps the session cookie, like a browser tab."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str, float]:
        headers = {"Accept-Language": "ru", "Cookie": "; ".join(
            f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        started = time.perf_counter()
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        elapsed = time.perf_counter() - started
        conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, text, elapsed

    def get(self, path: str) -> tuple[int, str, float]:
        return self.request("GET", path)

    def post(self, path: str, body: dict) -> tuple[int, str, float]:
        return self.request("POST", path, body)


def token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def start_gunicorn(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, Browser]:
    """Serve the app with gunicorn on a free port; return the process and a client for it
    once /healthz answers."""
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(workers), "--timeout", "120", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, start_new_session=True)
    browser = Browser(port)
    for _ in range(100):
        try:
            if browser.get("/healthz")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.1)
    return server, browser


def sign_in(browser: Browser, email: str) -> None:
    """Sign in through the real form (demo password)."""
    _, html, _ = browser.get("/login")
    status, _, _ = browser.post("/login", {"email": email, "password": "demo12345",
                                           "csrf_token": token_from(html)})
    if status != 302:
        raise RuntimeError(f"sign-in as {email} failed: {status}")


def stop(server: subprocess.Popen | None) -> None:
    if server is not None:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summarise(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(percentile(ms, 95), 2), "max_ms": round(max(ms), 2)}


def run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def count_list_queries(env: dict[str, str], reviewer: str) -> dict[str, int]:
    """SQL statements for one list page at several page sizes, counted in-process."""
    code = f"""
import json, sqlalchemy as sa
from review_app import create_app
from review_app.extensions import db
from review_app.auth.models import User
app = create_app({{"WTF_CSRF_ENABLED": False}})
with app.app_context():
    user = db.session.scalar(sa.select(User).where(User.email == {reviewer!r}))
    ident = user.get_id()
counts = {{}}
for size in (10, 50, 200):
    app.config["PAGE_SIZE"] = size
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = ident; s["_fresh"] = True
    client.get("/requirements/")
    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda *a: seen.append(1)
    sa.event.listen(engine, "before_cursor_execute", listener)
    client.get("/requirements/?sort=-cost")
    sa.event.remove(engine, "before_cursor_execute", listener)
    counts[str(size)] = len(seen)
print(json.dumps(counts))
"""
    out = subprocess.run([str(BIN / "python"), "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--requirements", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="samples per measurement")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--reviewer", default="reviewer01a@demo.kz")
    parser.add_argument("--area", default="01")
    parser.add_argument("--query", default="пожар")
    parser.add_argument("--lead", default="lead01@demo.kz")
    parser.add_argument("--existing", action="store_true",
                        help="measure the database as it is (already migrated and seeded, e.g. "
                             "grown by bench/replicate.py); no seeding")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="review-bench-"))
    env = {**os.environ, "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING",
           "DATABASE_URL": args.database_url or f"sqlite:///{workdir}/bench.db",
           "REDIS_URL": os.environ.get("REDIS_URL", "")}
    server = None
    try:
        started = time.perf_counter()
        if not args.existing:
            run([str(BIN / "flask"), "db", "upgrade"], env)
            run([str(BIN / "flask"), "seed-demo", "--requirements", str(args.requirements)],
                env)
        seed_seconds = time.perf_counter() - started

        server, browser = start_gunicorn(env, args.workers)
        sign_in(browser, args.reviewer)

        list_url = "/requirements/?" + urlencode({"area": args.area, "q": args.query})
        status, html, _ = browser.get(list_url)
        total = int(re.sub(r"\D", "", re.search(r'data-testid="total">([^<]+)<', html).group(1)))
        ids = [int(i) for i in re.findall(r'href="/requirements/(\d+)[?"]', html)]
        for _ in range(10):  # warm up
            browser.get(list_url)

        list_times = []
        for _ in range(args.requests):
            status, _, elapsed = browser.get(list_url)
            assert status == 200, status
            list_times.append(elapsed)

        page_times = []
        rng = random.Random(1)
        for _ in range(args.requests):
            status, _, elapsed = browser.get(f"/requirements/{rng.choice(ids)}")
            assert status == 200, status
            page_times.append(elapsed)

        # Proposals: walk the unreviewed requirements of the area, one POST each.
        unreviewed: list[int] = []
        cursor_url = f"/requirements/?area={args.area}&state=unreviewed"
        while len(unreviewed) < args.requests and cursor_url:
            _, html, _ = browser.get(cursor_url)
            unreviewed += [int(i) for i in re.findall(
                r'class="code"><a href="/requirements/(\d+)[?"]', html)]
            nxt = re.search(r'rel="next" href="([^"]+)"', html)
            cursor_url = nxt.group(1).replace("&amp;", "&") if nxt else None
        post_times = []
        for req_id in unreviewed[:args.requests]:
            _, html, _ = browser.get(f"/requirements/{req_id}")
            version = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', html)
            status, _, elapsed = browser.post(f"/requirements/{req_id}/propose", {
                "csrf_token": token_from(html), "version": version.group(1), "legal": "no",
                "necessary": "yes", "business_friendly": "yes", "decision": "cancel",
                "justification": "Требование не основано на законе."})
            assert status == 302, status
            post_times.append(elapsed)

        # My work (the reviewer's) and the lead's queue, and the list with no filter at all.
        extra = {}
        for name, url in (("my_work", "/my-work"), ("list_unfiltered", "/requirements/"),
                          ("list_area_state", f"/requirements/?area={args.area}"
                                              "&state=unreviewed&sort=-cost")):
            times = []
            for _ in range(args.requests // 3):
                status, _, elapsed = browser.get(url)
                assert status == 200, (url, status)
                times.append(elapsed)
            extra[name] = summarise(times)
        lead = Browser(browser.port)
        sign_in(lead, args.lead)
        times = []
        for _ in range(args.requests // 3):
            status, _, elapsed = lead.get("/queue")
            assert status == 200, status
            times.append(elapsed)
        extra["lead_queue"] = summarise(times)

        queries = count_list_queries(env, args.reviewer)
        result = {
            "benchmark": "http",
            "database": env["DATABASE_URL"].split(":")[0],
            "requirements": "existing" if args.existing else args.requirements,
            "gunicorn_workers": args.workers,
            "seed_and_migrate_s": round(seed_seconds, 2),
            "list_filter_search": {**summarise(list_times), "url": list_url, "matches": total},
            "requirement_page": summarise(page_times),
            "proposal_post": summarise(post_times),
            **extra,
            "sql_queries_per_list_page": queries,
        }
        print(json.dumps(result, ensure_ascii=False))
    finally:
        stop(server)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
