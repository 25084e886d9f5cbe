"""Every SQL statement the core pages run, each with its time in PostgreSQL (EXPLAIN ANALYZE).

In-process (the Flask test client) against an existing database: signs in as a demo reviewer
and a lead, opens each page once to warm up, then records the statements of one more request
and replays each SELECT under ``EXPLAIN (ANALYZE, BUFFERS)``. On a shared machine wall-clock
figures swing with the neighbours' load; the planner's execution time is the database's own
work and does not swing nearly as much.

    python bench/sql_per_page.py --database-url postgresql+psycopg://.../db [--page list]
        [--plans]    # print each plan too

Prints one JSON object: per page, its statements (first line, rows, execution ms) and the sum.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--page", action="append", default=[], help="only these pages")
    parser.add_argument("--plans", action="store_true", help="print each plan to stderr")
    parser.add_argument("--reviewer", default="reviewer01a@demo.kz")
    parser.add_argument("--lead", default="lead01@demo.kz")
    parser.add_argument("--area", default="01")
    parser.add_argument("--query", default="пожар")
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url,
                      LOG_LEVEL="WARNING")
    import sqlalchemy as sa

    from review_app import create_app
    from review_app.extensions import db

    app = create_app({"WTF_CSRF_ENABLED": False})
    reviewer, lead = app.test_client(), app.test_client()
    for client, email in ((reviewer, args.reviewer), (lead, args.lead)):
        assert client.post("/login", data={"email": email, "password": "demo12345"}
                           ).status_code == 302
    html = reviewer.get(f"/requirements/?area={args.area}").get_data(as_text=True)
    req_id = re.findall(r'href="/requirements/(\d+)', html)[0]
    area = f"area={args.area}"
    pages = {"list_filter_search": (reviewer, f"/requirements/?{area}&q={args.query}"),
             "list_unfiltered": (reviewer, "/requirements/"),
             "list_area_state_cost": (reviewer,
                                      f"/requirements/?{area}&state=unreviewed&sort=-cost"),
             "list_cost": (reviewer, "/requirements/?sort=-cost"),
             "requirement": (reviewer, f"/requirements/{req_id}"),
             "my_work": (reviewer, "/my-work"),
             "queue": (lead, "/queue")}
    with app.app_context():
        engine = db.engine
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        seen.append((statement, parameters))

    result = {}
    for name, (client, url) in pages.items():
        if args.page and name not in args.page:
            continue
        client.get(url)
        seen.clear()
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            assert client.get(url).status_code == 200, url
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        statements = []
        with engine.connect() as conn:
            for statement, parameters in list(seen):
                first = " ".join(statement.split())[:110]
                if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    statements.append({"sql": first})
                    continue
                # the count's time budget would cancel the replay: lift it for each statement
                conn.exec_driver_sql("SET statement_timeout = 0")
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement,
                                            parameters).scalar()
                plan = json.loads(plan) if isinstance(plan, str) else plan
                if args.plans:
                    text = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement,
                                                parameters).scalars().all()
                    print(f"--- {name}: {first}\n" + "\n".join(text), file=sys.stderr)
                statements.append({"sql": first, "rows": plan[0]["Plan"]["Actual Rows"],
                                   "ms": round(plan[0]["Execution Time"], 2)})
            conn.rollback()
        result[name] = {"statements": len(statements),
                        "sql_ms": round(sum(s.get("ms", 0) for s in statements), 2),
                        "each": statements}
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
