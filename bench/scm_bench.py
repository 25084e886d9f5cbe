"""SCM benchmark: recompute every requirement's cost after a tariff change.

Seeds a fresh database with ``flask seed-demo`` (10,000 requirements by default), gives every
requirement approved SCM inputs that use one tariff (one or two actions, ranges on the hours
and the share), then times what an admin's save of a new hourly tariff does in its request:
``scm.service.save_tariff`` -> ``recompute`` (read the inputs, compute, one UPDATE per changed
requirement in executemany batches, one history event each), committed. The issue's target:
under 2 s for 10,000 requirements, on SQLite and on PostgreSQL.

Prints one JSON object. Rerun: ``python bench/scm_bench.py [--requirements N]
[--database-url URL] [--repeat N]``. The PostgreSQL database, if given, is emptied first.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
TARGET_S = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requirements", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="scm-bench-") as tmp:
        env = {**os.environ, "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING"}
        if args.database_url:
            from bench.summary_bench import reset_postgres

            reset_postgres(args.database_url)
            env["DATABASE_URL"] = args.database_url
        else:
            env["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'scm.db'}"
        env.setdefault("REDIS_URL", "")
        for command in (["db", "upgrade", "heads"],
                        ["seed-demo", "--requirements", str(args.requirements)]):
            subprocess.run([str(BIN / "flask"), *command], cwd=ROOT, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.environ.update(env)
        print(json.dumps(measure(env["DATABASE_URL"], args.repeat), ensure_ascii=False))


def measure(database_url: str, repeat: int) -> dict:
    import sqlalchemy as sa

    from review_app import create_app
    from review_app.auth.models import GlobalRole, User
    from review_app.extensions import db
    from review_app.requirements.models import Requirement
    from review_app.scm import compute
    from review_app.scm import service as scm_service
    from review_app.scm.models import Tariff

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.global_role == GlobalRole.ADMIN))
        tariff = db.session.scalar(sa.select(Tariff).where(Tariff.code == "ACCOUNTANT"))
        rng = random.Random(14)
        table = Requirement.__table__
        ids = list(db.session.scalars(sa.select(table.c.id)))
        params = []
        for req_id in ids:
            actions = [compute.Action(
                name="Отчёт", tariff="ACCOUNTANT",
                hours=compute.parse_estimate(f"{rng.randint(2, 6)} (1–9)"),
                per_year=compute.parse_estimate(str(rng.choice((1, 4, 12)))),
                share=compute.parse_estimate("80 (60–100)", percent=True))
                for _ in range(rng.choice((1, 2)))]
            params.append({"b_id": req_id, "b_inputs": compute.dump(actions),
                           "b_n": rng.randint(10, 50_000)})
        db.session.execute(sa.update(table).where(table.c.id == sa.bindparam("b_id"))
                           .values(scm_inputs=sa.bindparam("b_inputs", type_=sa.JSON),
                                   businesses_affected=sa.bindparam("b_n")), params)
        db.session.commit()
        timings, cpu, moved = [], [], 0
        for n in range(repeat):
            data = scm_service.TariffInput(code="ACCOUNTANT", name=tariff.name,
                                           hourly_kzt=2_600 + 100 * (n + 1),
                                           source=tariff.source, as_of=date(2026, 12, 1))
            profile = cProfile.Profile() if os.environ.get("SCM_BENCH_PROFILE") else None
            started, started_cpu = time.perf_counter(), time.process_time()
            if profile:
                profile.enable()
            moved = scm_service.save_tariff(admin, data, tariff)
            db.session.commit()
            timings.append(round(time.perf_counter() - started, 3))
            cpu.append(round(time.process_time() - started_cpu, 3))
            if profile:
                profile.disable()
                pstats.Stats(profile, stream=sys.stderr).sort_stats("cumtime").print_stats(25)
            tariff = db.session.get(Tariff, tariff.id)
        missing = db.session.scalar(sa.select(sa.func.count()).select_from(Requirement).where(
            Requirement.scm_cost_kzt.is_(None)))
    return {"database": "postgresql" if database_url.startswith("postgres") else "sqlite",
            "requirements": len(ids), "recomputed": moved, "without_cost_after": missing,
            "seconds": timings, "best_s": min(timings), "target_s": TARGET_S,
            # This process's own CPU time: what the 2 cores' other users do not inflate.
            "cpu_seconds": cpu, "load_average": os.getloadavg()[0],
            "meets_target": max(timings) < TARGET_S}


if __name__ == "__main__":
    main()
