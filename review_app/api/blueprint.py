"""The API's blueprint: every request is authenticated by its token (never a cookie) before
any view runs, and every ``Problem`` becomes problem details after a rollback."""

from __future__ import annotations

from flask import Blueprint

from review_app.api.base import Problem, authenticate
from review_app.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(authenticate)


@bp.errorhandler(Problem)
def _problem(exc: Problem):
    db.session.rollback()
    return exc.response()
