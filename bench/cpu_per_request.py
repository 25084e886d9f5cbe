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
    print(json.dumps(result))


if __name__ == "__main__":
    main()
