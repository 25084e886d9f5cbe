"""Sign-in throttling: guessers are slowed down, owners are never locked out by them.

The stories: someone guessing Aigerim's password from another address cannot keep her out of
her account; a botnet guessing from many addresses cannot either, as long as she signs in
from a computer she has used before; one address trying a password on every account is
stopped; only failures count; and with Redis down people can still sign in (the log says the
protection is off). Real Redis throughout (``TEST_REDIS_URL``, or the embedded one).
"""

from __future__ import annotations

import logging
import re
import time

import pytest
import sqlalchemy as sa

from review_app import create_app
from review_app.audit.models import AuditAction, AuditEntry
from review_app.auth import throttle
from review_app.extensions import db
from review_app.redis_conn import get_redis
from tests.conftest import PASSWORD, CSRFClient, page_text

HER_OFFICE = "10.20.30.40"
ATTACKER = "203.0.113.66"
CAFE = "198.51.100.23"


@pytest.fixture
def aigerim(world, fire):
    return world.user("aigerim", reviewer_in=(fire,))


def browser_at(app, address: str) -> CSRFClient:
    """A new browser (no cookies) whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def sign_out(client) -> None:
    client.post("/logout", data={})


@pytest.fixture
def her_laptop(app, aigerim) -> CSRFClient:
    """Aigerim's own browser at her office, where she has signed in before."""
    laptop = browser_at(app, HER_OFFICE)
    assert sign_in(laptop, aigerim.email).status_code == 302
    assert laptop.get_cookie(throttle.KNOWN_BROWSER_COOKIE) is not None
    sign_out(laptop)
    return laptop


def test_an_attacker_cannot_lock_aigerim_out_from_her_own_computer(app, aigerim, her_laptop):
    attacker = browser_at(app, ATTACKER)
    answers = [sign_in(attacker, aigerim.email, f"guess {n}").status_code for n in range(30)]
    limit = app.config["LOGIN_RATE_LIMIT"]
    assert answers == [401] * limit + [429] * (30 - limit)
    # Even the right password is refused to the attacker's address now...
    assert sign_in(attacker, aigerim.email).status_code == 429
    # ...while Aigerim signs in as usual.
    assert sign_in(her_laptop, aigerim.email).status_code == 302
    assert her_laptop.get("/requirements/").status_code == 200


def test_her_usual_address_lets_her_in_even_with_a_fresh_browser(app, aigerim, her_laptop):
    """Cookies cleared, or a colleague's computer in the same office: the address is known."""
    for n in range(app.config["LOGIN_RATE_LIMIT"]):
        sign_in(browser_at(app, f"203.0.113.{n}"), aigerim.email, "guess")
    assert sign_in(browser_at(app, HER_OFFICE), aigerim.email).status_code == 302


def test_guessing_from_many_addresses_slows_strangers_but_not_her(app, aigerim, her_laptop):
    app.config["LOGIN_ACCOUNT_MAX_DELAY"] = 2
    for n in range(30):  # a botnet: one guess per address, never reaching the address limit
        sign_in(browser_at(app, f"203.0.113.{n}"), aigerim.email, f"guess {n}")
    stranger = browser_at(app, CAFE)
    refused = sign_in(stranger, aigerim.email)
    assert refused.status_code == 429
    text = page_text(refused)
    assert "Too many failed attempts to sign in to this account" in text
    assert "Try again at" in text and "a computer you have used for this account before" in text
    # Her own computer is not held up at all.
    assert sign_in(her_laptop, aigerim.email).status_code == 302
    # A stranger waits a moment (here the cap: two seconds), then may try again.
    time.sleep(2.1)
    assert sign_in(stranger, aigerim.email).status_code == 302


def test_the_account_delay_doubles_with_each_failure_up_to_the_cap(app, aigerim):
    redis = get_redis(app)
    wait_key = f"login:account-wait:{aigerim.email}"
    limit = app.config["LOGIN_ACCOUNT_LIMIT"]
    waits = []
    for n in range(limit + 8):
        redis.delete(wait_key)  # each guesser waits out the previous delay
        assert sign_in(browser_at(app, f"203.0.113.{n}"), aigerim.email, "guess").status_code \
            == 401
        # The wait as it was set (its remaining TTL shrinks while a loaded machine reads it).
        set_to = redis.get(wait_key)
        waits.append(int(set_to) if set_to is not None else -2)
        assert set_to is None or 0 < redis.ttl(wait_key) <= int(set_to)
    assert waits[:limit - 1] == [-2] * (limit - 1)  # no wait before the limit
    assert waits[limit - 1:] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_one_address_spraying_a_password_over_30_accounts_is_stopped(app, world, aigerim):
    others = [world.user(f"colleague{n}") for n in range(5)]
    emails = [aigerim.email] + [u.email for u in others] + [
        f"guessed{n}@example.kz" for n in range(24)]
    sprayer = browser_at(app, ATTACKER)
    answers = [sign_in(sprayer, email, "Spring2026!").status_code for email in emails]
    limit = app.config["LOGIN_RATE_LIMIT"]
    assert answers == [401] * limit + [429] * (30 - limit)
    refused = sign_in(sprayer, others[-1].email, PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed attempts from this network address" in page_text(refused)
    # The refusal is the same for a real and a made-up account: it reveals nobody.
    made_up = sign_in(sprayer, "nobody@example.kz", PASSWORD)
    assert without_time(page_text(made_up)) == without_time(page_text(refused))
    # Everyone else goes on signing in.
    assert sign_in(browser_at(app, CAFE), aigerim.email).status_code == 302


def without_time(text: str) -> str:
    return re.sub(r"\d{1,2}:\d\d:\d\d", "hh:mm:ss", text)


def test_a_guesser_at_her_own_office_cannot_use_up_her_tries(app, aigerim, her_laptop):
    """Same address, other browser: the guesser's failures are not her browser's."""
    guesser = browser_at(app, HER_OFFICE)
    for n in range(app.config["LOGIN_RATE_LIMIT"] + 3):
        sign_in(guesser, aigerim.email, f"guess {n}")
    refused = sign_in(guesser, aigerim.email)
    assert refused.status_code == 429
    assert "Too many failed attempts on this account from this network address" in page_text(
        refused)
    assert sign_in(her_laptop, aigerim.email).status_code == 302


def test_colleagues_typos_behind_one_office_address_do_not_add_up(app, world):
    people = [world.user(f"colleague{n}") for n in range(app.config["LOGIN_ADDRESS_ACCOUNTS"] + 2)]
    for person in people:  # everyone mistypes once, then gets it right
        browser = browser_at(app, HER_OFFICE)
        assert sign_in(browser, person.email, "typo").status_code == 401
        assert sign_in(browser, person.email).status_code == 302
    newcomer = world.user("newcomer")
    assert sign_in(browser_at(app, HER_OFFICE), newcomer.email).status_code == 302


def test_refused_attempts_are_audited_with_the_limit(app, aigerim):
    attacker = browser_at(app, ATTACKER)
    for _ in range(app.config["LOGIN_RATE_LIMIT"] + 1):
        sign_in(attacker, aigerim.email, "guess")
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == AuditAction.SIGN_IN_FAILED).order_by(AuditEntry.id.desc())).first()
    assert (entry.details["reason"], entry.details["limit"]) == ("rate_limited",
                                                                 "address_account")
    assert entry.ip_address == ATTACKER and entry.actor_id == aigerim.id


def test_only_failures_count(app, aigerim):
    laptop = browser_at(app, HER_OFFICE)
    for _ in range(app.config["LOGIN_RATE_LIMIT"] + 2):
        assert sign_in(laptop, aigerim.email).status_code == 302
        sign_out(laptop)
    assert sign_in(laptop, aigerim.email).status_code == 302


def test_a_forged_known_device_cookie_is_ignored(app, aigerim):
    for n in range(app.config["LOGIN_ACCOUNT_LIMIT"] + 5):  # the next try waits 32 seconds
        sign_in(browser_at(app, f"203.0.113.{n}"), aigerim.email, "guess")
    forger = browser_at(app, CAFE)
    forger.set_cookie(throttle.KNOWN_BROWSER_COOKIE, f"[{aigerim.id}]")
    assert sign_in(forger, aigerim.email).status_code == 429


def test_the_password_page_shares_the_limits(app, aigerim, her_laptop):
    """A borrowed session guessing the current password is held like a guesser at sign-in."""
    attacker = browser_at(app, ATTACKER)
    assert sign_in(attacker, aigerim.email).status_code == 302  # say, a session left open
    form = {"current_password": "a guess", "new_password": "a brand new password 1",
            "new_password_again": "a brand new password 1"}
    answers = [attacker.post("/account/password", data=form).status_code
               for _ in range(app.config["LOGIN_RATE_LIMIT"] + 1)]
    assert answers[-1] == 429 and set(answers[:-1]) == {401}
    assert sign_in(her_laptop, aigerim.email).status_code == 302


def test_sign_in_works_while_redis_is_down_and_the_log_says_so(database_url, aigerim, caplog):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                      "REDIS_URL": "redis://127.0.0.1:1/0", "SECRET_KEY": "x" * 40})
    app.test_client_class = CSRFClient
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="review_app.auth"):
        for _ in range(app.config["LOGIN_RATE_LIMIT"] + 2):
            assert sign_in(client, aigerim.email, "guess").status_code == 401
        assert sign_in(client, aigerim.email).status_code == 302
    with app.app_context():
        db.engine.dispose()
    assert "sign-in throttling is off" in caplog.text and "Redis is unreachable" in caplog.text


def test_the_refusal_is_in_the_readers_language(app, aigerim):
    attacker = browser_at(app, ATTACKER)
    attacker.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    for _ in range(app.config["LOGIN_RATE_LIMIT"]):
        sign_in(attacker, aigerim.email, "guess")
    text = page_text(sign_in(attacker, aigerim.email, "guess"))
    assert "Слишком много неудачных попыток войти в эту учётную запись с этого сетевого адреса" \
        in text
    assert re.search(r"Повторите попытку в \d{1,2}:\d\d:\d\d", text)


def test_a_sprayer_in_her_office_does_not_shut_her_out(app, aigerim, her_laptop):
    sprayer = browser_at(app, HER_OFFICE)
    for n in range(30):
        sign_in(sprayer, f"guessed{n}@example.kz", "Spring2026!")
    assert sign_in(sprayer, aigerim.email).status_code == 429
    assert sign_in(her_laptop, aigerim.email).status_code == 302
