"""CPU time per request, in-process (the Flask test client), and where it goes.

On a shared machine wall-clock figures swing with the neighbours' load; CPU seconds spent by
this process per request do not, and bound the ceiling: 2 cores / CPU per request is the most
requests per second the web tier can serve (the database's own CPU comes on top).

    python bench/cpu_per_request.py --database-url postgresql://... [--profile list]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", default="", help="page name to profile")
    parser.add_argument("--only", default="", help="measure only this page (or propose)")
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url,
                      LOG_LEVEL="WARNING")
    from review_app import create_app

    app = create_app({"WTF_CSRF_ENABLED": False})
    reviewer, lead, manager = app.test_client(), app.test_client(), app.test_client()
    for client, email in ((reviewer, "reviewer01a@demo.kz"), (lead, "lead01@demo.kz"),
                          (manager, "manager@demo.kz")):
        assert client.post("/login", data={"email": email, "password": "demo12345"}
                           ).status_code == 302
    html = reviewer.get("/requirements/?area=01").get_data(as_text=True)
    req_id = re.findall(r'href="/requirements/(\d+)', html)[0]
    pages = {"list": (reviewer, "/requirements/?area=01&q=пожар"),
             "list_unfiltered": (reviewer, "/requirements/"),
             # what bench/load.py's reviewers open before each proposal
             "list_unreviewed": (reviewer, "/requirements/?area=01&state=unreviewed"),
             "requirement": (reviewer, f"/requirements/{req_id}"),
             "my_work": (reviewer, "/my-work"),
             "queue": (lead, "/queue"),
             "dashboard": (manager, "/dashboard"),
             "summaries": (manager, "/summaries/"),
             "login_page": (app.test_client(), "/login")}
    result = {}
    for name, (client, url) in pages.items():
        if args.only and name != args.only:
            continue
        for _ in range(5):
            client.get(url)
        profiler = cProfile.Profile() if name == args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for _ in range(args.requests):
            assert client.get(url).status_code == 200, url
        if profiler:
            profiler.disable()
        result[name] = {"cpu_ms": round((time.process_time() - cpu) * 1000 / args.requests, 2),
                        "wall_ms": round((time.perf_counter() - wall) * 1000 / args.requests,
                                         2)}
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
            print(out.getvalue(), file=sys.stderr)
    if args.only in ("", "propose"):
        result["propose"] = measure_proposals(app, reviewer, args)
    print(json.dumps(result))


def measure_proposals(app, reviewer, args) -> dict[str, float]:
    """The proposal POST (as bench/http_bench.py sends it), on unreviewed requirements of area
    01: CPU and wall time per POST, and the SQL statements it sends (count and their time)."""
    import sqlalchemy as sa

    from review_app.extensions import db

    unreviewed: list[int] = []
    url: str | None = "/requirements/?area=01&state=unreviewed"
    while len(unreviewed) < args.requests + 5 and url:
        html = reviewer.get(url).get_data(as_text=True)
        unreviewed += [int(i) for i in re.findall(r'class="code"><a href="/requirements/(\d+)[?"]',
                                                  html)]
        nxt = re.search(r'rel="next" href="([^"]+)"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    statements: list[tuple[str, float]] = []
    started: dict[int, float] = {}
    counting = False

    def before(conn, cursor, statement, parameters, context, executemany):
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        if counting:
            statements.append((statement, time.perf_counter() - started.pop(id(cursor))))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    profiler = cProfile.Profile() if args.profile == "propose" else None
    cpu = wall = 0.0
    posts = 0
    for number, req_id in enumerate(unreviewed[:args.requests + 5]):
        html = reviewer.get(f"/requirements/{req_id}").get_data(as_text=True)
        version = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', html)
        form = {"version": version.group(1), "legal": "no", "necessary": "yes",
                "business_friendly": "yes", "decision": "cancel",
                "justification": "Требование не основано на законе."}
        warm = number < 5
        counting = not warm
        if profiler and not warm:
            profiler.enable()
        c0, w0 = time.process_time(), time.perf_counter()
        status = reviewer.post(f"/requirements/{req_id}/propose", data=form).status_code
        c1, w1 = time.process_time(), time.perf_counter()
        if profiler and not warm:
            profiler.disable()
        counting = False
        assert status == 302, status
        if not warm:
            cpu, wall, posts = cpu + c1 - c0, wall + w1 - w0, posts + 1
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue(), file=sys.stderr)
        by_kind: dict[str, list[float]] = {}
        for statement, seconds in statements:
            by_kind.setdefault(" ".join(statement.split())[:150], []).append(seconds)
        for text, times in sorted(by_kind.items(), key=lambda kv: -sum(kv[1])):
            print(f"{len(times) / posts:5.2f}/post {sum(times) * 1000 / posts:6.2f} ms/post  "
                  f"{text}", file=sys.stderr)
    return {"cpu_ms": round(cpu * 1000 / posts, 2), "wall_ms": round(wall * 1000 / posts, 2),
            "statements": round(len(statements) / posts, 2),
            "sql_ms": round(sum(t for _, t in statements) * 1000 / posts, 2)}


if __name__ == "__main__":
    main()
