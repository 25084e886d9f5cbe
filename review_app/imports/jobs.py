"""RQ jobs: thin adapters that open an app context and call the batch functions by id."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import has_app_context


@contextlib.contextmanager
def _app_context() -> Iterator[None]:
    """``python -m workers`` runs jobs inside the app's context; a bare ``rq worker`` does not."""
    if has_app_context():
        from review_app.database import forget_parent_connections

        forget_parent_connections()
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
