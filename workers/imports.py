"""The import jobs: thin adapters that open an app context and run a batch by its id.

Enqueued by name (``workers.imports.analyse_job``) from ``review_app.imports.batches``, like
the summary job; the batch functions do the work and re-raise on failure, so RQ records it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import has_app_context

from review_app import create_app
from review_app.database import forget_parent_connections
from review_app.extensions import db
from review_app.imports import batches


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


def analyse_job(batch_id: int) -> None:
    """Check batch ``batch_id`` (parse and validate the upload); the RQ job."""
    with _app_context():
        try:
            batches.run_analysis(batch_id)
        finally:
            db.session.remove()


def apply_job(batch_id: int) -> None:
    """Write batch ``batch_id`` into the register in one transaction; the RQ job."""
    with _app_context():
        try:
            batches.run_apply(batch_id)
        finally:
            db.session.remove()
