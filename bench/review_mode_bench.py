"""Review mode over HTTP with gunicorn: the time from submitting a decision to the next item
rendered -- the proposal POST (saved, 303 to the next item) plus the GET of the page it
redirects to, as the browser does -- at 10,000 requirements.

Seeds a fresh database with the demo data, starts gunicorn, signs in as a demo reviewer and
works through a filtered list (the reviewer's area, unreviewed, by code) in review mode, one
proposal after another. Also times opening review mode with no place (resume) and a late
item's page. Prints one JSON object.

Rerun: ``.venv/bin/python bench/review_mode_bench.py [--database-url URL] [--requests N]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_bench import (  # noqa: E402 - a sibling script, found through the path above
    BIN,
    Browser,
    run,
    sign_in,
    start_gunicorn,
    stop,
    summarise,
    token_from,
)


class LocatingBrowser(Browser):
    """The benchmark's client, also keeping the last redirect's ``Location``."""

    last_location = ""

    def request(self, method: str, path: str, body: dict | None = None):
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
        self.last_location = response.getheader("Location") or ""
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        return response.status, text, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--requirements", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="decisions to time")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reviewer", default="reviewer01a@demo.kz")
    parser.add_argument("--area", default="01")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="review-mode-bench-"))
    env = {**os.environ, "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING",
           "DATABASE_URL": args.database_url or f"sqlite:///{workdir}/bench.db",
           "REDIS_URL": os.environ.get("REDIS_URL", "")}
    server = None
    try:
        run([str(BIN / "flask"), "db", "upgrade"], env)
        run([str(BIN / "flask"), "seed-demo", "--requirements", str(args.requirements)], env)
        server, browser = start_gunicorn(env, args.workers)
        browser.__class__ = LocatingBrowser
        sign_in(browser, args.reviewer)
        origin = quote(f"list?area={args.area}&state=unreviewed", safe="")

        status, html, _ = browser.get(f"/review?from={origin}&start=1")
        assert status == 200, status
        total = re.search(r'data-testid="position">\s*<strong>([^<]+)</strong>', html)
        for _ in range(10):  # warm up
            browser.get(f"/review?from={origin}")

        open_times, submit_to_next = [], []
        for _ in range(args.requests):
            status, html, elapsed = browser.get(f"/review?from={origin}")
            assert status == 200, status
            open_times.append(elapsed)
            req_id = re.search(r'action="/requirements/(\d+)/propose"', html)
            if req_id is None:
                break
            version = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
            started = time.perf_counter()
            status, _, _ = browser.post(f"/requirements/{req_id.group(1)}/propose", {
                "csrf_token": token_from(html), "version": version, "legal": "no",
                "necessary": "yes", "business_friendly": "yes", "decision": "cancel",
                "justification": "Требование не основано на законе.",
                "from": f"list?area={args.area}&state=unreviewed", "mode": "review"})
            assert status == 303, status
            # The redirect's target: the next item, rendered.
            status, html, _ = browser.get(browser.last_location)
            assert status == 200 and "propose" in html, status
            submit_to_next.append(time.perf_counter() - started)
        print(json.dumps({
            "benchmark": "review_mode",
            "database": env["DATABASE_URL"].split(":")[0],
            "requirements": args.requirements,
            "gunicorn_workers": args.workers,
            "list": f"list?area={args.area}&state=unreviewed",
            "position_at_start": total.group(1).strip() if total else None,
            "submit_to_next_rendered": summarise(submit_to_next),
            "open_review_mode_resume": summarise(open_times),
        }, ensure_ascii=False))
    finally:
        stop(server)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
