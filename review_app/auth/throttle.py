"""Sign-in throttling that slows guessers down without letting them lock anyone out.

Two separate limits, both counting failures only, both in Redis so every web host shares them:

* **Per address.** After ``LOGIN_RATE_LIMIT`` failed sign-ins (or wrong current passwords) from
  one address within ``LOGIN_WINDOW_SECONDS``, that address is refused until the window has
  passed, whichever accounts it tried: one address cannot spray a password over every account.
* **Per account, from strangers only.** Failures on one account from devices that have never
  signed in to it are counted; past ``LOGIN_ACCOUNT_LIMIT`` each further attempt from such a
  device must wait 1, 2, 4... seconds (at most ``LOGIN_ACCOUNT_MAX_DELAY``) after the last.
  A device that has signed in to the account before (a signed cookie set at sign-in, or one of
  the account's recent good addresses) is never held by this limit, so guessing from elsewhere
  cannot keep the owner out; and it bounds a guesser spread over many addresses to about one
  try a minute per account.

Unknown email addresses are counted exactly like real ones, so the answers reveal nobody.
When Redis is unreachable the limits are skipped with a warning in the log: people can still
sign in, and the log says the protection is off.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from flask import Response, after_this_request, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from review_app.redis_conn import get_redis
from review_app.time import utcnow

log = logging.getLogger("review_app.auth")

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_DAYS = 180
#: Accounts one browser remembers (a shared office computer), most recent first.
KNOWN_DEVICE_ACCOUNTS = 5
#: Good addresses remembered per account, and for how long after the last sign-in from them.
KNOWN_ADDRESSES = 10
KNOWN_ADDRESS_SECONDS = 90 * 24 * 3600


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused before the password is even checked, and until when."""

    #: ``"address"`` or ``"account"``: which limit refused it.
    limit: str
    retry_at: datetime


def _address() -> str:
    # request.remote_addr is the client's, not the proxy's, once TRUSTED_PROXY_HOPS is set.
    return request.remote_addr or "unknown"


def _address_key(address: str) -> str:
    return f"login:address:{address}"


def _account_key(email: str) -> str:
    return f"login:account:{email}"


def _account_wait_key(email: str) -> str:
    return f"login:account-wait:{email}"


def _known_addresses_key(user_id: int) -> str:
    return f"login:known-addresses:{user_id}"


def _unavailable(exc: Exception) -> None:
    log.warning("sign-in throttling is off for this request: Redis is unreachable (%s: %s)",
                type(exc).__name__, exc)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-device")


def _cookie_accounts() -> list[int]:
    raw = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if not raw:
        return []
    try:
        ids = _serializer().loads(raw, max_age=KNOWN_DEVICE_DAYS * 24 * 3600)
    except BadSignature:
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def is_known_device(user_id: int | None) -> bool:
    """Has this browser, or this address recently, signed in to the account before?"""
    if user_id is None:
        return False
    if user_id in _cookie_accounts():
        return True
    try:
        return get_redis().zscore(_known_addresses_key(user_id), _address()) is not None
    except redis.RedisError as exc:
        _unavailable(exc)
        return False


def check(email: str, *, known: bool) -> Refusal | None:
    """Is an attempt on ``email`` from this request allowed now? ``None`` if it is.

    ``known``: the request comes from a device that has signed in to this account before.
    """
    config = current_app.config
    try:
        client = get_redis()
        pipe = client.pipeline()
        pipe.get(_address_key(_address()))
        pipe.pttl(_address_key(_address()))
        pipe.pttl(_account_wait_key(email))
        failures, address_ttl, account_wait = pipe.execute()
    except redis.RedisError as exc:
        _unavailable(exc)
        return None
    if failures is not None and int(failures) >= config["LOGIN_RATE_LIMIT"]:
        return Refusal("address", _later(address_ttl if address_ttl > 0
                                         else config["LOGIN_WINDOW_SECONDS"] * 1000))
    if not known and account_wait > 0:
        return Refusal("account", _later(account_wait))
    return None


def note_failure(email: str, *, known: bool) -> None:
    """Count a wrong password from this request against its address and, from a stranger,
    against the account."""
    config = current_app.config
    window = config["LOGIN_WINDOW_SECONDS"]
    try:
        client = get_redis()
        pipe = client.pipeline()
        pipe.incr(_address_key(_address()))
        pipe.expire(_address_key(_address()), window)
        if not known:
            pipe.incr(_account_key(email))
            pipe.expire(_account_key(email), window)
        results = pipe.execute()
        if not known:
            over = int(results[2]) - config["LOGIN_ACCOUNT_LIMIT"]
            if over >= 0:
                delay = min(2 ** min(over, 30), config["LOGIN_ACCOUNT_MAX_DELAY"])
                client.set(_account_wait_key(email), "1", ex=max(int(delay), 1))
    except redis.RedisError as exc:
        _unavailable(exc)


def remember_device(user_id: int) -> None:
    """After a good sign-in: this browser (a cookie on this request's response) and this
    address count as the account's own from now on."""
    accounts = [user_id] + [i for i in _cookie_accounts() if i != user_id]
    value = _serializer().dumps(accounts[:KNOWN_DEVICE_ACCOUNTS])

    @after_this_request
    def _set_cookie(response: Response) -> Response:
        response.set_cookie(KNOWN_DEVICE_COOKIE, value, max_age=KNOWN_DEVICE_DAYS * 24 * 3600,
                            httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
        return response

    key = _known_addresses_key(user_id)
    try:
        pipe = get_redis().pipeline()
        pipe.zadd(key, {_address(): time.time()})
        pipe.zremrangebyrank(key, 0, -KNOWN_ADDRESSES - 1)  # keep the most recent ones
        pipe.expire(key, KNOWN_ADDRESS_SECONDS)
        pipe.execute()
    except redis.RedisError as exc:
        _unavailable(exc)


def _later(milliseconds: int) -> datetime:
    return utcnow() + timedelta(milliseconds=max(milliseconds, 1000))
