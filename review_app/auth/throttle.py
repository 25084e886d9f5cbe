"""Sign-in throttling that slows guessers down without letting them lock anyone out.

Three limits, all counting failures only (a wrong password, or a wrong current password on
the password page), all in Redis so every web host shares them, each over
``LOGIN_WINDOW_SECONDS`` (15 minutes) from the last failure it counted:

* **One account from one address.** After ``LOGIN_RATE_LIMIT`` failures on an account from an
  address, that address may not try that account again until the window has passed. Browsers
  that have signed in to the account before (a signed cookie set at sign-in) count apart from
  everyone else there, so a guesser in the same office cannot use up the owner's tries.
* **Many accounts from one address.** An address that failed on ``LOGIN_ADDRESS_ACCOUNTS``
  different accounts is refused for every account it has not signed in to before: one address
  cannot try a password on every account. An account leaves that count when someone signs in
  to it from the address, so colleagues' typos behind one office address do not add up.
* **One account from everywhere.** Failures on an account from browsers and addresses that
  never signed in to it add up; past ``LOGIN_ACCOUNT_LIMIT`` each further try from such a
  stranger waits 1, 2, 4... seconds (at most ``LOGIN_ACCOUNT_MAX_DELAY``) after the last. The
  owner's browsers and recent good addresses are never held by it, so guessing from a botnet
  cannot lock the owner out, and is held to about one try a minute per account.

Unknown email addresses are counted exactly like real ones, so answers reveal nobody. When
Redis is unreachable the limits are skipped with a warning in the log: people can still sign
in, and the log says the protection is off.
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

KNOWN_BROWSER_COOKIE = "known_browser"
KNOWN_BROWSER_DAYS = 180
#: Accounts one browser remembers (a shared office computer), most recent first.
KNOWN_BROWSER_ACCOUNTS = 5
#: Good addresses remembered per account, and for how long after the last sign-in from them.
KNOWN_ADDRESSES = 10
KNOWN_ADDRESS_SECONDS = 90 * 24 * 3600


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused before the password is even checked, and until when."""

    #: ``"address_account"``, ``"address"`` or ``"account"``: which limit refused it.
    limit: str
    retry_at: datetime


@dataclass(frozen=True)
class Attempt:
    """One try at an account's password: from where, and whether that is the owner's place."""

    email: str
    #: The client's address (its own, not the proxy's, once TRUSTED_PROXY_HOPS is set).
    address: str
    #: This browser has signed in to the account before (signed cookie).
    own_browser: bool
    #: The account signed in from this address recently.
    own_address: bool

    @property
    def stranger(self) -> bool:
        return not (self.own_browser or self.own_address)


def attempt(email: str, user_id: int | None, *, trust_browser: bool = True) -> Attempt:
    """Describe this request's try at ``email`` (``user_id`` None: there is no such account).

    ``trust_browser=False`` on the password page: a session someone borrowed carries the
    owner's cookies too, so every try there counts as a stranger's.
    """
    address = request.remote_addr or "unknown"
    if user_id is None or not trust_browser:
        return Attempt(email, address, own_browser=False, own_address=False)
    own_browser = user_id in _cookie_accounts()
    own_address = False
    if not own_browser:
        try:
            own_address = get_redis().zscore(_known_addresses_key(user_id), address) is not None
        except redis.RedisError as exc:
            _unavailable(exc)
    return Attempt(email, address, own_browser=own_browser, own_address=own_address)


def check(a: Attempt) -> Refusal | None:
    """Is this attempt allowed now? ``None`` if it is, else the limit that refuses it."""
    config = current_app.config
    window_ms = config["LOGIN_WINDOW_SECONDS"] * 1000
    try:
        pipe = get_redis().pipeline()
        pipe.get(_pair_key(a))
        pipe.pttl(_pair_key(a))
        pipe.scard(_address_accounts_key(a.address))
        pipe.pttl(_address_accounts_key(a.address))
        pipe.pttl(_account_wait_key(a.email))
        pair_failures, pair_ttl, accounts, accounts_ttl, account_wait = pipe.execute()
    except redis.RedisError as exc:
        _unavailable(exc)
        return None
    if pair_failures is not None and int(pair_failures) >= config["LOGIN_RATE_LIMIT"]:
        return Refusal("address_account", _later(pair_ttl if pair_ttl > 0 else window_ms))
    if not a.own_browser and accounts >= config["LOGIN_ADDRESS_ACCOUNTS"]:
        return Refusal("address", _later(accounts_ttl if accounts_ttl > 0 else window_ms))
    if a.stranger and account_wait > 0:
        return Refusal("account", _later(account_wait))
    return None


def note_failure(a: Attempt) -> None:
    """Count a wrong password against each limit this attempt is under."""
    config = current_app.config
    window = config["LOGIN_WINDOW_SECONDS"]
    try:
        client = get_redis()
        pipe = client.pipeline()
        pipe.incr(_pair_key(a))
        pipe.expire(_pair_key(a), window)
        if not a.own_browser:
            pipe.sadd(_address_accounts_key(a.address), a.email)
            pipe.expire(_address_accounts_key(a.address), window)
        if a.stranger:
            pipe.incr(_account_key(a.email))
            pipe.expire(_account_key(a.email), window)
        results = pipe.execute()
        if a.stranger:
            over = int(results[-2]) - config["LOGIN_ACCOUNT_LIMIT"]
            if over >= 0:
                delay = min(2 ** min(over, 30), config["LOGIN_ACCOUNT_MAX_DELAY"])
                seconds = max(int(delay), 1)  # kept as the value too: what this wait was set to
                client.set(_account_wait_key(a.email), str(seconds), ex=seconds)
    except redis.RedisError as exc:
        _unavailable(exc)


def note_success(a: Attempt, user_id: int) -> None:
    """After a good sign-in: forgive this address its failures on the account (a typo, not a
    guesser), and count this browser and this address as the account's own from now on."""
    accounts = [user_id] + [i for i in _cookie_accounts() if i != user_id]
    value = _serializer().dumps(accounts[:KNOWN_BROWSER_ACCOUNTS])

    @after_this_request
    def _set_cookie(response: Response) -> Response:
        response.set_cookie(KNOWN_BROWSER_COOKIE, value, max_age=KNOWN_BROWSER_DAYS * 24 * 3600,
                            httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
        return response

    key = _known_addresses_key(user_id)
    try:
        pipe = get_redis().pipeline()
        pipe.srem(_address_accounts_key(a.address), a.email)
        pipe.zadd(key, {a.address: time.time()})
        pipe.zremrangebyrank(key, 0, -KNOWN_ADDRESSES - 1)  # keep the most recent ones
        pipe.expire(key, KNOWN_ADDRESS_SECONDS)
        pipe.execute()
    except redis.RedisError as exc:
        _unavailable(exc)


def _pair_key(a: Attempt) -> str:
    return f"login:pair:{a.address}:{'own' if a.own_browser else 'other'}:{a.email}"


def _address_accounts_key(address: str) -> str:
    return f"login:address-accounts:{address}"


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
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-browser")


def _cookie_accounts() -> list[int]:
    raw = request.cookies.get(KNOWN_BROWSER_COOKIE)
    if not raw:
        return []
    try:
        ids = _serializer().loads(raw, max_age=KNOWN_BROWSER_DAYS * 24 * 3600)
    except BadSignature:
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def _later(milliseconds: int) -> datetime:
    return utcnow() + timedelta(milliseconds=max(milliseconds, 1000))
