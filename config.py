"""Settings come from environment variables only, so one build runs anywhere.

Development gets safe defaults (SQLite in the instance folder, an embedded Redis); production
(``APP_ENV=production``) refuses to start without a real ``SECRET_KEY``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DEV_SECRET_KEY = "dev-only-not-secret"
LANGUAGES = ("ru", "kk", "en")


class ConfigError(RuntimeError):
    """The environment does not describe a configuration we can safely run with."""


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from ``environ`` (``os.environ`` by default).

    :raise ConfigError: in production without a real secret key.
    """
    env = os.environ if environ is None else environ
    app_env = env.get("APP_ENV", "development").strip().lower()
    production = app_env == "production"

    secret_key = env.get("SECRET_KEY", "")
    if production and (not secret_key or secret_key == DEV_SECRET_KEY or len(secret_key) < 32):
        raise ConfigError(
            "APP_ENV=production needs SECRET_KEY set to a random value of at least 32 characters "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )

    if production and not env.get("REDIS_URL", "").strip():
        raise ConfigError(
            "APP_ENV=production needs REDIS_URL set to the Redis server the web processes and "
            "workers share (for example redis://redis.internal:6379/0); the embedded Redis is "
            "for development only."
        )

    database_url = env.get("DATABASE_URL", "")
    return {
        "APP_ENV": app_env,
        "SECRET_KEY": secret_key or DEV_SECRET_KEY,
        # Empty means "SQLite file in the instance folder"; create_app fills it in.
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url) if database_url else "",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": env.get("REDIS_URL", ""),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag(env.get("SESSION_COOKIE_SECURE"), default=production),
        "PERMANENT_SESSION_LIFETIME": int(env.get("SESSION_LIFETIME_SECONDS", 8 * 3600)),
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,  # the session lifetime bounds the token already
        # Generous for forms; imports will stream large files separately.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)),
        "MAX_FORM_MEMORY_SIZE": 512 * 1024,
        "BABEL_DEFAULT_LOCALE": env.get("DEFAULT_LANGUAGE", "ru") if env.get(
            "DEFAULT_LANGUAGE", "ru") in LANGUAGES else "ru",
        "BABEL_DEFAULT_TIMEZONE": env.get("TIMEZONE", "Asia/Almaty"),
        "LANGUAGES": LANGUAGES,
        "PAGE_SIZE": 50,
        # Lists count matches exactly up to this many, within this time on PostgreSQL; past
        # either they say "about N" or "more than N" (review_app/requirements/counting.py).
        "LIST_EXACT_COUNT_UP_TO": int(env.get("LIST_EXACT_COUNT_UP_TO", 10_000)),
        "LIST_COUNT_BUDGET_MS": int(env.get("LIST_COUNT_BUDGET_MS", 20)),
        # A text-searched page's rows get this long in PostgreSQL's own plan before they are
        # read the way the count showed is right (listing._searched_rows); 0: no limit.
        "LIST_ROWS_BUDGET_MS": int(env.get("LIST_ROWS_BUDGET_MS", 40)),
        # The list sums its cost line over at most this many matches; past it the line offers
        # to sum them all on request (review_app/requirements/listing.py cost_totals).
        "LIST_TOTALS_UP_TO": int(env.get("LIST_TOTALS_UP_TO", 2_000)),
        # Sign-in throttling (review_app/auth/throttle.py, README "Sign-in limits"), all in
        # the window: failures on one account from one address; accounts one address may fail
        # on; failures on one account from strangers, after which each further try waits
        # 1, 2, 4... seconds up to the cap. The account limit is as high as the first, so a
        # single guesser meets the first (a 15-minute wait), the delay is for botnets.
        "LOGIN_RATE_LIMIT": int(env.get("LOGIN_RATE_LIMIT", 10)),
        # API requests per token per minute (review_app/api/base.py); 0 turns the limit off.
        "API_RATE_LIMIT": int(env.get("API_RATE_LIMIT", 600)),
        "LOGIN_WINDOW_SECONDS": int(env.get("LOGIN_WINDOW_SECONDS", 15 * 60)),
        "LOGIN_ADDRESS_ACCOUNTS": int(env.get("LOGIN_ADDRESS_ACCOUNTS", 10)),
        "LOGIN_ACCOUNT_LIMIT": int(env.get("LOGIN_ACCOUNT_LIMIT", 10)),
        "LOGIN_ACCOUNT_MAX_DELAY": int(env.get("LOGIN_ACCOUNT_MAX_DELAY", 60)),
        # Proxies in front whose X-Forwarded-For/-Proto we believe (0: none, the client's own
        # address is the socket's); HSTS only in production, where TLS is certain.
        "TRUSTED_PROXY_HOPS": int(env.get("TRUSTED_PROXY_HOPS", 0)),
        "HSTS_SECONDS": int(env.get("HSTS_SECONDS", 365 * 24 * 3600 if production else 0)),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # Observability (review_app/observability.py, docs/operations.md): log lines as JSON
        # (production's default) or text; the bearer token that may read /metrics (empty:
        # administrators only); Sentry, switched on by its DSN; how long /readyz accepts
        # without a worker's heartbeat (0: a worker is not required).
        "LOG_FORMAT": env.get("LOG_FORMAT", "json" if production else "text"),
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "SENTRY_DSN": env.get("SENTRY_DSN", ""),
        "SENTRY_TRACES_SAMPLE_RATE": env.get("SENTRY_TRACES_SAMPLE_RATE", "0"),
        "READY_WORKER_SECONDS": int(env.get("READY_WORKER_SECONDS", 600)),
        # Summaries: a shared folder for the files (empty: in the database), the job's time
        # limit, the pauses before each retry of a transient failure, how long a running build
        # may go without a heartbeat before it counts as dead, and an optional nightly
        # all-areas summary (a cron line, in the worker host's local time).
        "SUMMARY_STORAGE_DIR": env.get("SUMMARY_STORAGE_DIR", ""),
        "SUMMARY_JOB_TIMEOUT": int(env.get("SUMMARY_JOB_TIMEOUT", 1800)),
        "SUMMARY_RETRY_INTERVALS": env.get("SUMMARY_RETRY_INTERVALS", "10,60,300"),
        "SUMMARY_STALE_SECONDS": int(env.get("SUMMARY_STALE_SECONDS", 60)),
        "NIGHTLY_SUMMARY_CRON": env.get("NIGHTLY_SUMMARY_CRON", ""),
        # Imports: the largest upload, what is analysed in the request rather than by a
        # worker, the most rows per file, and the most an XLSX may unpack to (zip bombs).
        # A whole national register in one file: 1,000,000 rows (Excel's sheet holds
        # 1,048,575 below its header) of about 900 bytes each, as bench/import_bench.py
        # --rows measures them (issue 13); reading streams, so memory does not follow these.
        "IMPORT_MAX_BYTES": int(env.get("IMPORT_MAX_BYTES", 1024 * 1024 * 1024)),
        "IMPORT_SYNC_MAX_BYTES": int(env.get("IMPORT_SYNC_MAX_BYTES", 2 * 1024 * 1024)),
        "IMPORT_MAX_ROWS": int(env.get("IMPORT_MAX_ROWS", 1_000_000)),
        "IMPORT_MAX_UNCOMPRESSED": int(env.get("IMPORT_MAX_UNCOMPRESSED",
                                               2 * 1024 * 1024 * 1024)),
        # Rows checked, compared and written together (one statement each per chunk).
        "IMPORT_CHUNK_ROWS": int(env.get("IMPORT_CHUNK_ROWS", 1000)),
        # The daily e-mail digest: sent only when SMTP_HOST is set (so never in development
        # unless configured), by RQ's cron scheduler at DIGEST_CRON (``python -m workers
        # --cron``); "overdue" uses the waiting limit admins set on the Deadlines page;
        # APP_URL makes the links in it absolute.
        "SMTP_HOST": env.get("SMTP_HOST", "").strip(),
        "SMTP_PORT": int(env.get("SMTP_PORT", 587 if _flag(env.get("SMTP_STARTTLS")) else 25)),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _flag(env.get("SMTP_STARTTLS")),
        "SMTP_SSL": _flag(env.get("SMTP_SSL")),
        "SMTP_TIMEOUT": int(env.get("SMTP_TIMEOUT", 30)),
        "MAIL_FROM": env.get("MAIL_FROM", "noreply@localhost"),
        "DIGEST_CRON": env.get("DIGEST_CRON", ""),
        "APP_URL": env.get("APP_URL", "").rstrip("/"),
    }
