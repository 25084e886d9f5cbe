"""What a person typed into a refused form (or what a bulk action did), kept briefly on the
server so that the answer can be a redirect (Post/Redirect/Get): reloading the page then shows
it again instead of sending the form a second time.

Not in the session cookie: a proposed wording alone may be 50,000 characters, far beyond what a
cookie holds. A draft lives in Redis under a random token carried in the redirect's address,
is bound to the person and to what it is about (a token passed on to someone else shows them
nothing), and expires on its own.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import redis

from review_app.redis_conn import get_redis

log = logging.getLogger("review_app.reviews")

#: Long enough to fix a form after lunch; short enough that nothing lingers.
TTL_SECONDS = 3 * 3600
#: A draft keeps no more than this per value (the longest field, the new wording, is 50,000).
MAX_VALUE = 60_000


def _key(token: str) -> str:
    return f"draft:{token}"


def save(user_id: int, about: str, payload: dict[str, Any]) -> str | None:
    """Keep ``payload`` (JSON-able) for ``user_id`` on ``about`` (``requirement:12``, ``bulk``);
    its token, or None when Redis cannot take it (the caller then answers without a redirect)."""
    token = secrets.token_urlsafe(16)
    record = json.dumps({"user": user_id, "about": about, "payload": payload},
                        ensure_ascii=False)
    try:
        get_redis().set(_key(token), record, ex=TTL_SECONDS)
    except redis.RedisError:
        log.exception("could not keep a draft")
        return None
    return token


def load(token: str | None, user_id: int, about: str) -> dict[str, Any] | None:
    """The draft under ``token`` if it is this person's, about ``about``, and not expired.
    Reading does not remove it: reloading the page shows it again."""
    if not token or len(token) > 64:
        return None
    try:
        raw = get_redis().get(_key(token))
    except redis.RedisError:
        log.exception("could not read a draft")
        return None
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    if record.get("user") != user_id or record.get("about") != about:
        return None
    return record.get("payload")


def clip(values: dict[str, Any]) -> dict[str, str]:
    """Form values as a draft keeps them: text, each cut at MAX_VALUE."""
    return {k: str(v)[:MAX_VALUE] for k, v in values.items() if v is not None}
