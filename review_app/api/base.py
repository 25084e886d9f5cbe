"""What every API view shares: the bearer token, the scope, the rate limit, JSON bodies, ETags,
problem details, and the ``operation`` marker the OpenAPI document is generated from.

Session cookies never authenticate here: the user is set from the ``Authorization`` header
alone before any view runs (so there is no CSRF to forge), and Flask-Login never looks at the
session for an API request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis
from flask import current_app, g, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, current_user
from pydantic import BaseModel, ValidationError

from review_app import permissions
from review_app.api import tokens
from review_app.api.models import ApiToken, TokenScope
from review_app.errors import problem
from review_app.extensions import db
from review_app.redis_conn import get_redis
from review_app.requirements.models import Requirement
from review_app.validation import control_character_message, has_control_characters

log = logging.getLogger("review_app.api")


class Problem(Exception):
    """Answer with problem details: ``status``, ``detail`` and extra members."""

    def __init__(self, status: int, detail: Any = None, *, headers: dict | None = None,
                 **extra: Any):
        super().__init__(str(detail))
        self.status, self.detail, self.headers, self.extra = status, detail, headers, extra

    def response(self):
        return problem(self.status, str(self.detail) if self.detail else None,
                       headers=self.headers, **self.extra)


# Documentation markers --------------------------------------------------------------------------

def operation(*, summary: str, body: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, status: int = 200,
              scope: str | None = "read", query: list[dict] | None = None,
              problems: tuple[int, ...] = (), etag: bool = False, if_match: bool = False,
              media: str | None = None, tag: str = "requirements",
              upload: bool = False) -> Callable:
    """Mark a view with what the OpenAPI document says of it (see ``api/openapi.py``).

    ``scope`` None: no token needed. The marks are data only; the view enforces them."""
    def mark(view):
        view.api_operation = {"summary": summary, "body": body, "response": response,
                              "status": status, "scope": scope, "query": query or [],
                              "problems": problems, "etag": etag, "if_match": if_match,
                              "media": media, "tag": tag, "upload": upload}
        return view
    return mark


# Authentication ---------------------------------------------------------------------------------

def authenticate() -> None:
    """``before_request`` of the API: the token's owner becomes the current user, or nobody.

    Never the session cookie: a browser signed in to the pages is anonymous here.
    """
    g._login_user = AnonymousUserMixin()  # Flask-Login will not load the session's user
    g.api_token = None
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return
    token = tokens.bearer(secret.strip())
    if token is not None:
        g._login_user = token.user
        g.api_token = token


def token() -> ApiToken:
    """The request's token.

    :raise Problem 401: none, or not usable (revoked, expired, its owner deactivated).
    """
    if g.get("api_token") is None:
        raise Problem(401, headers={"WWW-Authenticate": 'Bearer realm="api"'})
    return g.api_token


def require_token(scope: str = "read") -> ApiToken:
    """The request's token, rate-limited, with at least ``scope``.

    :raise Problem 401/403/429:
    """
    current = token()
    _rate_limit(current)
    if scope == TokenScope.WRITE and current.scope != TokenScope.WRITE:
        raise Problem(403, _("This token may only read. Create a token with the “write” scope "
                             "to change anything."))
    return current


def _rate_limit(current: ApiToken) -> None:
    """At most ``API_RATE_LIMIT`` requests a minute per token, counted in Redis so every web
    process shares the count. Without Redis the limit is skipped (and the log says so)."""
    limit = current_app.config.get("API_RATE_LIMIT", 600)
    if not limit:
        return
    key = f"api:rate:{current.id}"
    try:
        pipe = get_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 60, nx=True)
        pipe.ttl(key)
        count, _set, ttl = pipe.execute()
    except (redis.RedisError, OSError) as exc:
        log.warning("API rate limit skipped, Redis unreachable: %s", exc)
        return
    if count > limit:
        wait = max(int(ttl), 1)
        raise Problem(429, _("This token made more than %(n)d requests in a minute. Wait "
                             "%(s)d seconds.", n=limit, s=wait),
                      headers={"Retry-After": str(wait)})


def deny(action: str, target: object, message: str | None = None) -> Problem:
    """Log (and audit) a refusal, as the pages do, and the 403 to raise."""
    permissions.log_denied(current_user, action, target)
    return Problem(403, message)


# Bodies ------------------------------------------------------------------------------------------

def _bad_string(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if has_control_characters(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if has_control_characters(str(key)):
                return str(key)
            if found := _bad_string(item, f"{path}.{key}" if path else str(key)):
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if found := _bad_string(item, f"{path}[{index}]"):
                return found
    return None


def body(model: type[BaseModel]) -> Any:
    """The JSON body as ``model``.

    :raise Problem 415: not JSON. 400: not parseable, or a control character in a string.
        422: a field missing or of the wrong type or value, each named in ``errors``.
    """
    if not request.is_json:
        raise Problem(415)
    data = request.get_json(silent=True)
    if data is None:
        raise Problem(400, _("The body is not valid JSON."))
    if bad := _bad_string(data, ""):
        raise Problem(400, control_character_message(bad or "body"))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "body"
            if error["type"] == "missing":
                message = _("“%(field)s” is required.", field=where)
            elif error["type"] == "extra_forbidden":
                message = _("“%(field)s” is not a field of this request.", field=where)
            else:
                message = _("“%(field)s” has a value of the wrong type or out of range.",
                            field=where)
            errors.append({"field": where, "message": message})
        raise Problem(422, errors[0]["message"] if errors else None, errors=errors) from None


# Versions ----------------------------------------------------------------------------------------

def etag_of(req: Requirement) -> str:
    return f"v{req.version}"


def seen_version(req: Requirement, present: Callable[[Requirement], dict]) -> int:
    """The version the caller read, from ``If-Match``.

    :raise Problem 428: no ``If-Match``. 412: it names another version (with the current
        state, as ``present`` shows it).
    """
    if not request.if_match:
        raise Problem(428)
    if request.if_match.star_tag or request.if_match.contains(etag_of(req)):
        return req.version
    raise Problem(412, current=present(req), headers={"ETag": f'"{etag_of(req)}"'})


def commit() -> None:
    db.session.commit()
