"""``/healthz``: is the database reachable, is Redis reachable? JSON for load balancers."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, jsonify

from review_app.extensions import csrf, db
from review_app.redis_conn import get_redis

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    checks: dict[str, dict[str, str]] = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = {"status": "ok", "dialect": db.engine.dialect.name}
    except Exception as exc:  # noqa: BLE001 - report any failure, never raise from a probe
        db.session.rollback()
        checks["database"] = {"status": "error", "error": type(exc).__name__}
    try:
        get_redis().ping()
        checks["redis"] = {"status": "ok"}
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = {"status": "error", "error": type(exc).__name__}
    healthy = all(c["status"] == "ok" for c in checks.values())
    return jsonify(status="ok" if healthy else "error", checks=checks), 200 if healthy else 503


def init_app(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
