"""Writing the audit log.

Two ways in, because some events must outlive the transaction they happen in:

* :func:`record` adds the entry to the current session, so it is committed (or rolled back)
  together with the change it describes — a user created, an import applied.
* :func:`record_detached` is for refusals: a failed sign-in or a denied action is followed by a
  rollback, yet must stay in the log. Inside a request it is written after the request's
  session has been closed (so an SQLite write lock held by the request can never block it);
  elsewhere (CLI, workers) at once, on a connection of its own.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request

from review_app.audit.models import AuditAction, AuditEntry
from review_app.auth.models import User
from review_app.database import end_session
from review_app.extensions import db
from review_app.requirements.models import Area, Requirement

log = logging.getLogger("review_app.audit")

__all__ = ["AuditAction", "AuditEntry", "record", "record_detached", "describe_target"]


def describe_target(target: object) -> dict[str, Any]:
    """``target_type``, ``target_id``, ``target_label`` and ``area_id`` for a model object."""
    if target is None:
        return {}
    if isinstance(target, User):
        return {"target_type": "user", "target_id": target.id, "target_label": target.email}
    if isinstance(target, Requirement):
        return {"target_type": "requirement", "target_id": target.id,
                "target_label": target.code, "area_id": target.area_id}
    if isinstance(target, Area):
        return {"target_type": "area", "target_id": target.id, "target_label": target.code,
                "area_id": target.id}
    kind = getattr(target, "audit_type", None)
    if kind:
        return {"target_type": kind, "target_id": getattr(target, "id", None),
                "target_label": str(getattr(target, "audit_label", ""))[:300] or None}
    return {"target_type": type(target).__name__.lower()[:40], "target_label": repr(target)[:300]}


def _values(action: AuditAction | str, actor: object | None, actor_email: str | None,
            target: object | None, details: dict[str, Any] | None) -> dict[str, Any]:
    values: dict[str, Any] = {"action": str(action), "details": details or None}
    if isinstance(actor, User):
        values["actor_id"] = actor.id
        values["actor_email"] = actor.email
    if actor_email:
        values["actor_email"] = actor_email[:254]
    if has_request_context():
        values["ip_address"] = (request.remote_addr or "")[:64] or None
    values.update(describe_target(target))
    return values


def record(action: AuditAction | str, *, actor: object | None = None,
           actor_email: str | None = None, target: object | None = None,
           details: dict[str, Any] | None = None) -> AuditEntry:
    """Add an entry to the current session; the caller's commit writes it with its change."""
    entry = AuditEntry(**_values(action, actor, actor_email, target, details))
    db.session.add(entry)
    return entry


def record_detached(action: AuditAction | str, *, actor: object | None = None,
                    actor_email: str | None = None, target: object | None = None,
                    details: dict[str, Any] | None = None) -> None:
    """Write an entry that survives the caller's rollback (refusals, failed sign-ins).

    Never raises: a log that cannot be written is reported in the application log instead.
    """
    if has_request_context() and action == AuditAction.DENIED:
        details = {**(details or {}), "path": request.full_path.rstrip("?")[:500],
                   "method": request.method}
    try:
        values = _values(action, actor, actor_email, target, details)
    except Exception:  # noqa: BLE001 - describing the target must not turn a 403 into a 500
        log.exception("audit entry could not be described: %s", action)
        return
    if has_request_context():
        g.setdefault("_audit_pending", []).append(values)
    else:
        _write([values], quick=True)


def _write(rows: list[dict[str, Any]], *, quick: bool = False) -> None:
    try:
        with db.engine.begin() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite and quick:
                # Outside a request the caller's own session may hold SQLite's write lock:
                # give up quickly rather than stall for the full busy timeout.
                conn.exec_driver_sql("PRAGMA busy_timeout=500")
            try:
                conn.execute(sa.insert(AuditEntry.__table__), rows)
            finally:
                if sqlite and quick:
                    conn.exec_driver_sql("PRAGMA busy_timeout=10000")
    except Exception:  # noqa: BLE001 - see record_detached
        log.exception("audit entries could not be written: %s", [r["action"] for r in rows])


def _flush_pending(_exc: BaseException | None) -> None:
    pending = g.pop("_audit_pending", None)
    if not pending:
        return
    # The request's transaction is over: end it first, so its locks are gone.
    end_session()
    _write(pending)


def init_app(app: Flask) -> None:
    # Registered after Flask-SQLAlchemy's own teardown, so it runs before it (teardowns run in
    # reverse order); _flush_pending closes the session itself before writing.
    app.teardown_appcontext(_flush_pending)
