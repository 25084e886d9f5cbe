"""RQ jobs: thin adapters that open an app context and call the batch functions by id."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from flask import has_app_context

#: Set by ``python -m workers`` to the worker's pid (see workers/__main__.py): a job running in
#: another process is in a forked work horse.
WORKER_PID = "REVIEW_WORKER_PID"


@contextlib.contextmanager
def _app_context() -> Iterator[None]:
    """``python -m workers`` runs jobs inside the app's context; a bare ``rq worker`` does not."""
    if has_app_context():
        if os.environ.get(WORKER_PID, str(os.getpid())) != str(os.getpid()):
            from review_app.extensions import db

            # A forked work horse must not use the database connections of its parent.
            db.engine.dispose(close=False)
        yield
        return
    from review_app import create_app

    with create_app().app_context():
        yield


def analyse_job(batch_id: int) -> None:
    from review_app.imports import batches

    with _app_context():
        try:
            batches.run_analysis(batch_id)
        finally:
            _close_session()


def apply_job(batch_id: int) -> None:
    from review_app.imports import batches

    with _app_context():
        try:
            batches.run_apply(batch_id)
        finally:
            _close_session()


def _close_session() -> None:
    from review_app.extensions import db

    db.session.remove()
