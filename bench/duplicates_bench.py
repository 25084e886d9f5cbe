"""Duplicates benchmark: the background grouping of a whole register (time, peak memory) and
the similar-requirements lookup (p50 / p95), on a database seeded with ``flask seed-demo``.

    DATABASE_URL=postgresql://... REDIS_URL=redis://... \\
        .venv/bin/flask --app wsgi seed-demo --requirements 100000
    .venv/bin/python bench/duplicates_bench.py --database-url postgresql://... \\
        --redis-url redis://... [--lookups 300] [--no-group]

Grouping: asks for a run as the seed does (``service.request_grouping``), then runs
``python -m workers --burst default`` (a real worker with a forked work horse); the time is
the run row's (claimed -> done), the memory the largest resident size among the worker and its
work horse, and their CPU time (``RUSAGE_CHILDREN``; PostgreSQL's own work is not in it).
Lookup: ``similar_to(requirement, manager, 5)`` (a manager sees every area, the widest
search) for random requirements, timed one by one in-process.
Prints one JSON object. The database is not emptied; the seed's data is read as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {10_000: {"lookup_p95_ms": 50.0}, 100_000: {"lookup_p95_ms": 150.0,
                                                       "group_s": 60.0, "group_peak_mb": 300.0}}


def group(env: dict[str, str]) -> dict[str, float]:
    from review_app import create_app
    from review_app.duplicates import service
    from review_app.duplicates.models import DuplicateRun
    from review_app.extensions import db

    app = create_app()
    with app.app_context():
        run, _created = service.request_grouping("cli")
        run_id = run.id
    worker = subprocess.run([sys.executable, "-m", "workers", "--burst", "default"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb = children.ru_maxrss
    with app.app_context():
        run = db.session.get(DuplicateRun, run_id)
        if run.status.value != "done":
            raise SystemExit(f"run {run_id} ended {run.status}: {run.error}\n"
                             f"{worker.stderr.decode()[-2000:]}")
        return {"group_s": round((run.finished_at - run.started_at).total_seconds(), 1),
                "group_peak_mb": round(peak_kb / 1024, 1),
                # CPU the worker and its work horse used: on a shared, loaded machine the wall
                # time above says more about the neighbours than about the job.
                "group_worker_cpu_s": round(children.ru_utime + children.ru_stime, 1),
                "requirements": run.requirement_count, "groups": run.group_count}


def lookups(count: int, seed: int) -> dict[str, float]:
    import sqlalchemy as sa

    from review_app import create_app
    from review_app.auth.models import User
    from review_app.duplicates import service
    from review_app.extensions import db
    from review_app.requirements.models import Requirement

    app = create_app()
    with app.app_context():
        manager = db.session.scalar(sa.select(User).where(User.email == "manager@demo.kz"))
        top = db.session.scalar(sa.select(sa.func.max(Requirement.id)))
        rng = random.Random(seed)
        timings, found = [], []
        for _ in range(count):
            req = db.session.get(Requirement, rng.randint(1, top))
            if req is None:
                continue
            started = time.perf_counter()
            similar = service.similar_to(req, manager, 5)
            timings.append((time.perf_counter() - started) * 1000)
            found.append(len(similar))
            db.session.expunge_all()
        timings.sort()
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Requirement))
        return {"requirements": total, "lookups": len(timings),
                "lookup_p50_ms": round(statistics.median(timings), 1),
                "lookup_p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
                "lookup_max_ms": round(timings[-1], 1),
                "similar_found_mean": round(statistics.mean(found), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-group", action="store_true",
                        help="only time lookups (the index of a previous run is used)")
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
           "LOG_LEVEL": "WARNING"}
    os.environ.update(env)
    result: dict[str, object] = {}
    if not args.no_group:
        result.update(group(env))
    result.update(lookups(args.lookups, args.seed))
    result["load_average"] = os.getloadavg()[0]  # the machine may be shared
    scale = 100_000 if int(result.get("requirements") or 0) >= 50_000 else 10_000
    result["targets"] = TARGETS[scale]
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
