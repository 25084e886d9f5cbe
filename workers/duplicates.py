"""The duplicate-grouping job: a thin adapter between RQ and ``review_app.duplicates.service``.

It claims the run row (queued -> running) only if the row still expects this job, lets the
rebuild write its progress into the row, and on failure records why and re-raises, so RQ
records the failure too.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from flask import has_app_context
from rq import get_current_job

from review_app import create_app
from review_app.database import forget_parent_connections
from review_app.duplicates import service
from review_app.extensions import db

log = logging.getLogger("workers.duplicates")


@contextlib.contextmanager
def _app_context() -> Iterator[None]:
    """``python -m workers`` runs jobs inside the app's context; a bare ``rq worker`` does not."""
    if has_app_context():
        # A forked work horse must not share the parent's pooled database connections.
        forget_parent_connections()
        yield
        return
    with create_app().app_context():
        yield


def group_duplicates(run_id: int) -> str:
    """Rebuild the text index and the duplicate groups for run ``run_id``; the RQ job."""
    job = get_current_job()
    job_id = job.id if job is not None else None
    with _app_context():
        try:
            if not service.claim(run_id, job_id):
                log.info("duplicate run %s: nothing to do for job %s", run_id, job_id)
                return "skipped"
            try:
                groups = service.rebuild(run_id)
            except Exception as exc:
                db.session.rollback()
                lines = str(exc).strip().splitlines()
                service.mark_failed(run_id, f"{type(exc).__name__}: {lines[0] if lines else ''}")
                raise
            log.info("duplicate run %s: %s groups", run_id, groups)
            return f"{groups} groups"
        finally:
            db.session.remove()


def recover() -> None:
    """At worker start: send runs that were saved while Redis was down."""
    try:
        service.enqueue_waiting()
    except Exception:  # noqa: BLE001 - a worker that cannot tidy up should still work
        db.session.rollback()
        log.exception("could not send waiting duplicate runs")
    finally:
        db.session.remove()
