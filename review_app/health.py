"""Probes for load balancers and orchestrators, JSON, no sign-in.

* ``/healthz`` (liveness): the process answers. It touches nothing else, so a database or
  Redis outage does not get every web process restarted.
* ``/readyz`` (readiness): this process can do its work: the database answers and its schema
  is at the newest migration, Redis answers, and a worker has been seen within
  ``READY_WORKER_SECONDS`` (0: not required). 503 with the failing checks otherwise.
"""

from __future__ import annotations

import functools
import os
import time

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify

from review_app.extensions import csrf, db
from review_app.redis_conn import get_redis

bp = Blueprint("health", __name__)

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "..", "migrations")


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@functools.cache
def migration_heads() -> frozenset[str]:
    """The newest revisions in migrations/ (read once per process: they change on deploy)."""
    # lazy: alembic's script machinery is only needed by this probe
    from alembic.config import Config
    from alembic.script import ScriptDirectory  # (lazy, see above)

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _check_database() -> dict[str, str]:
    try:
        current = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    except Exception as exc:  # noqa: BLE001 - report any failure, never raise from a probe
        db.session.rollback()
        return {"status": "error", "error": type(exc).__name__}
    heads = migration_heads()
    if current != heads:
        return {"status": "error", "error": "migrations not at head",
                "current": ",".join(sorted(current)) or "none", "head": ",".join(sorted(heads))}
    return {"status": "ok", "dialect": db.engine.dialect.name}


def _check_redis() -> dict[str, str]:
    try:
        get_redis().ping()
    except Exception as exc:  # noqa: BLE001
        return {"status": "error", "error": type(exc).__name__}
    return {"status": "ok"}


def _check_worker() -> dict[str, str]:
    limit = current_app.config.get("READY_WORKER_SECONDS", 600)
    if not limit:
        return {"status": "ok", "required": "no"}
    # lazy: RQ's worker registry is only needed by this probe
    from rq import Worker

    try:
        workers = Worker.all(connection=get_redis())
    except Exception as exc:  # noqa: BLE001
        return {"status": "error", "error": type(exc).__name__}
    now = time.time()
    ages = [now - w.last_heartbeat.timestamp() for w in workers if w.last_heartbeat]
    if not ages or min(ages) > limit:
        return {"status": "error", "error": f"no worker seen in the last {limit} s",
                "workers": str(len(workers))}
    return {"status": "ok", "workers": str(len(workers)), "last_seen_s": str(int(min(ages)))}


@bp.get("/readyz")
def readyz():
    checks = {"database": _check_database(), "redis": _check_redis()}
    checks["worker"] = (_check_worker() if checks["redis"]["status"] == "ok"
                        else {"status": "error", "error": "redis unreachable"})
    ready = all(c["status"] == "ok" for c in checks.values())
    return jsonify(status="ok" if ready else "error", checks=checks), 200 if ready else 503


def init_app(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
