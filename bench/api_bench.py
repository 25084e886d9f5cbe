"""HTTP benchmark of the API and the open data, served by gunicorn on this machine.

Seeds a fresh database with the demo data (10,000 requirements by default), makes a token for
a demo reviewer, starts gunicorn and measures over HTTP, the token's rate limit on (set high,
so each request still pays for the Redis count):

* ``GET /api/v1/requirements`` (50 rows) filtered to one area, and with a text search too,
* ``GET /api/v1/requirements/{id}`` (the requirement with its history),
* the full open-data CSV, once every requirement has a final decision and every area is
  published (the bench sets that directly in the database: it is data, not workflow), streamed
  to the end, and the conditional request a harvester repeats (304).

Prints one JSON object. Rerun: ``REDIS_URL=redis://127.0.0.1:6379/0 python bench/api_bench.py
[--database-url URL]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_bench import BIN, ROOT, run, start_gunicorn, stop, summarise  # noqa: E402

PREPARE = """
import json, sqlalchemy as sa
from review_app import create_app
from review_app.api import tokens
from review_app.auth.models import User
from review_app.extensions import db
from review_app.requirements.models import Area, Requirement
from review_app.time import utcnow
app = create_app()
with app.app_context():
    user = db.session.scalar(sa.select(User).where(User.email == {reviewer!r}))
    _row, secret = tokens.create(user, name="bench", scope="read")
    area = db.session.scalar(sa.select(Area).where(Area.code == {area!r}))
    ids = list(db.session.scalars(sa.select(Requirement.id).where(Requirement.area_id == area.id)))
    now = utcnow()
    # Bench data: every requirement decided and every area published, set in one statement.
    db.session.execute(sa.update(Requirement).values(
        state="approved", decision=sa.func.coalesce(Requirement.decision, "keep"),
        justification=sa.func.coalesce(Requirement.justification, "Обоснование"),
        decided_at=sa.func.coalesce(Requirement.decided_at, now)))
    db.session.execute(sa.update(Area).values(published_at=now))
    db.session.commit()
    print(json.dumps({{"token": secret, "ids": ids}}))
"""


class Client:
    def __init__(self, port: int, token: str):
        self.port, self.token = port, token

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes, float, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        started = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {self.token}",
                                           "Accept-Language": "ru", **(headers or {})})
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        conn.close()
        return response.status, body, elapsed, dict(response.getheaders())


def measure(client: Client, paths: list[str], n: int) -> dict:
    samples = []
    for i in range(n):
        status, _body, elapsed, _ = client.get(paths[i % len(paths)])
        if status != 200:
            raise RuntimeError(f"{paths[i % len(paths)]} answered {status}")
        samples.append(elapsed)
    return summarise(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--requirements", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="samples per measurement")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--reviewer", default="reviewer01a@demo.kz")
    parser.add_argument("--area", default="01")
    parser.add_argument("--query", default="пожар")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="review-api-bench-"))
    env = {**os.environ, "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING",
           "DATABASE_URL": args.database_url or f"sqlite:///{workdir}/bench.db",
           "REDIS_URL": os.environ.get("REDIS_URL", ""), "API_RATE_LIMIT": "1000000"}
    server = None
    try:
        run([str(BIN / "flask"), "db", "upgrade"], env)
        run([str(BIN / "flask"), "seed-demo", "--requirements", str(args.requirements)], env)
        prepared = json.loads(subprocess.run(
            [str(BIN / "python"), "-c", PREPARE.format(reviewer=args.reviewer, area=args.area)],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1])
        server, _browser = start_gunicorn(env, args.workers)
        client = Client(_browser.port, prepared["token"])
        area_list = "/api/v1/requirements?" + urlencode({"area": args.area, "limit": 50})
        search_list = "/api/v1/requirements?" + urlencode({"area": args.area, "q": args.query,
                                                          "limit": 50})
        for path in (area_list, search_list):  # warm both workers
            for _ in range(4):
                client.get(path)
        rng = random.Random(1)
        one = [f"/api/v1/requirements/{rng.choice(prepared['ids'])}" for _ in range(50)]
        result = {
            "requirements": args.requirements, "workers": args.workers,
            "database": "postgresql" if args.database_url.startswith("postgres") else "sqlite",
            "api_list_area": measure(client, [area_list], args.requests),
            "api_list_search": measure(client, [search_list], args.requests),
            "api_one_requirement": measure(client, one, args.requests),
        }
        csv_times, size, rows = [], 0, 0
        for _ in range(5):
            status, body, elapsed, headers = client.get("/open/decisions.csv")
            assert status == 200
            csv_times.append(elapsed)
            size, rows = len(body), body.count(b"\r\n") - 1
        status, _, poll, _ = client.get("/open/decisions.csv",
                                        {"If-None-Match": headers["ETag"]})
        result["open_data_csv"] = {**summarise(csv_times), "rows": rows, "bytes": size}
        result["open_data_poll_304"] = {"status": status, "ms": round(poll * 1000, 2)}
        print(json.dumps(result))
    finally:
        stop(server)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
