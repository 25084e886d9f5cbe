"""Per-connection settings: SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask

from review_app.extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


#: Environment variable holding the pid of the worker process (set by ``python -m workers``);
#: a job running in another process is in a forked work horse.
WORKER_PID = "REVIEW_WORKER_PID"


def forget_parent_connections() -> None:
    """In a forked RQ work horse, drop the pooled connections inherited from the worker
    (without closing them: they still belong to the parent)."""
    if os.environ.get(WORKER_PID, str(os.getpid())) != str(os.getpid()):
        db.engine.dispose(close=False)


def init_app(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        sa.event.listen(db.engine, "connect", _sqlite_pragmas)
