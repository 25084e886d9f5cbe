"""Per-connection settings: SQLite gets WAL, foreign keys and a busy timeout; COPY for bulk
writers on PostgreSQL."""

from __future__ import annotations

import enum
import json
import logging
import os
from typing import Any

import sqlalchemy as sa
from flask import Flask

from review_app.extensions import db

log = logging.getLogger(__name__)


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


def configure_engine(app: Flask) -> None:
    """Per-database engine settings; call before the engine is made.

    PostgreSQL through psycopg: no automatic server-side prepared statements. psycopg
    prepares a query after its fifth run on a connection, and PostgreSQL may then keep a
    generic plan made from the table statistics of that moment. An import into an empty
    register got a sequential scan that way for its look-up of existing codes, and kept it
    while 10,000 rows went in: 0.8 s of a 2.4 s confirm. Our queries plan in well under a
    millisecond, so planning each one afresh costs nothing noticeable.

    And no JIT compilation: PostgreSQL compiles any query its planner costs above 100,000
    (``jit_above_cost``) — at a million requirements, the list sorted by cost — and spent
    84 ms of a 330 ms query compiling it (EXPLAIN ANALYZE, the list by area and cost). Our
    queries are short; none gains from it.
    """
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"prepare_threshold": None, "options": "-c jit=off",
                                   **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def init_app(app: Flask) -> None:
    # Registered after Flask-SQLAlchemy's own teardown, so it runs before it (teardowns run in
    # reverse order).
    app.teardown_appcontext(lambda _exc: end_session())
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        sa.event.listen(db.engine, "connect", _sqlite_pragmas)


def end_session() -> None:
    """Close the request's session, as Flask-SQLAlchemy's teardown would, except that a
    connection cut after the request's last statement (PostgreSQL restarted, connections
    terminated) does not turn a page already made into a 500: the closing ROLLBACK fails on the
    dead connection, which the pool then drops. Nothing is lost: the server ended that
    transaction itself, and a request's writes are committed before its response is made."""
    try:
        db.session.remove()
    except sa.exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        log.warning("database connection lost while closing the session: %s",
                    type(error.orig).__name__)
        db.session.remove()  # the broken connection is invalidated: this one closes cleanly


def copy_rows(table: sa.Table, records: list[dict[str, Any]]) -> None:
    """Add rows with PostgreSQL's COPY, in the session's transaction: ~3x an INSERT's speed
    (the import's new requirements, a tariff change's history events).

    Only for columns given in the records; the others get their server defaults, so the records
    must carry every column whose default is set in Python.
    """
    if not records:
        return
    names = list(records[0])
    columns = ", ".join(table.c[name].name for name in names)  # KeyError for a wrong name
    cursor = db.session.connection().connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
            for record in records:
                copy.write_row([_plain(record[name]) for name in names])
    finally:
        cursor.close()


def _plain(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)  # a JSON column, as COPY reads it
    return value.value if isinstance(value, enum.Enum) else value
