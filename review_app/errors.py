"""Error pages in the app's layout, with words a user can act on; JSON for JSON clients."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from review_app.extensions import db

log = logging.getLogger("review_app.errors")

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Check what you entered.")),
    403: (_l("Not allowed"),
          _l("You do not have permission for this. If you think you should, ask your area lead "
             "or an administrator.")),
    401: (_l("Not signed in"),
          _l("This needs a personal access token: send it as “Authorization: Bearer <token>”.")),
    404: (_l("Not found"), _l("There is nothing at this address. It may have been mistyped.")),
    405: (_l("Not allowed"), _l("This address does not accept this kind of request.")),
    409: (_l("Conflict"), _l("Someone else changed this in the meantime. Nothing was saved.")),
    412: (_l("Changed meanwhile"),
          _l("Someone else changed this requirement since you read it. Nothing was saved; its "
             "current state is included.")),
    413: (_l("Too large"), _l("What you sent is too large. Shorten the text or split the file.")),
    415: (_l("Unsupported media type"), _l("Send the body as JSON (application/json).")),
    422: (_l("Not possible"), _l("The request was understood, but it cannot be done.")),
    428: (_l("Version needed"),
          _l("Send the ETag you read in If-Match, so that no one else's change is overwritten.")),
    429: (_l("Too many requests"), _l("Too many attempts. Wait a few minutes and try again.")),
    503: (_l("Temporarily unavailable"),
          _l("The service is briefly unavailable. Nothing you entered was saved; please try "
             "again in a minute.")),
    500: (_l("Something went wrong"),
          _l("An unexpected error occurred and was logged. Nothing you entered was saved; "
             "please try again.")),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json")


def problem(code: int, detail: str | None = None, *, headers: dict | None = None, **extra):
    """An RFC 9457 problem details response (the API's every error), in the request's
    language; ``extra`` members (``errors``, ``current``) are added as they are."""
    title, default = MESSAGES.get(code, MESSAGES[400 if code < 500 else 500])
    body = {"type": "about:blank", "title": str(title), "status": code,
            "detail": str(detail or default), **extra}
    response = jsonify(body)
    response.status_code = code
    response.mimetype = "application/problem+json"
    response.headers["Content-Language"] = str(get_locale() or "ru")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def render_error(code: int, message: str | None = None):
    title, default = MESSAGES.get(code, MESSAGES[400 if code < 500 else 500])
    text = message or str(default)
    if request.path.startswith("/api/"):
        return problem(code, text)
    if _wants_json():
        return jsonify(error=str(title), message=text), code
    return render_template("errors/error.html", code=code, title=title, message=text), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return render_error(400, str(_l("Your form expired or did not come from this site. "
                                        "Go back, reload the page and submit it again.")))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(sa.exc.DBAPIError)
    def _database(error: sa.exc.DBAPIError):
        """The database connection broke under the request (server restarted, connection
        cut): the transaction was rolled back by the server, so nothing was half-written.
        Say so with a 503 the person can act on; the pool forgets the broken connection."""
        if not error.connection_invalidated:
            raise error  # any other database error is a bug: the 500 below
        db.session.rollback()
        log.warning("database connection lost on %s %s: %s", request.method, request.path,
                    type(error.orig).__name__)
        return render_error(503, str(_l("The database was briefly unavailable. Nothing you "
                                        "entered was saved; please try again.")))

    @app.errorhandler(InternalServerError)
    def _internal(error: InternalServerError):
        log.error("unhandled error on %s %s", request.method, request.path,
                  exc_info=error.original_exception)
        db.session.rollback()
        return render_error(500)
