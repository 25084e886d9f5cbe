"""Background workers (RQ). ``python -m workers`` starts one on the app's configuration.

Queues are named by purpose so operators can run separate workers for slow and quick work.
"""

from __future__ import annotations

from flask import Flask
from rq import Queue

#: Queue names, by purpose, in the order a worker serves them.
QUEUES = ("summaries", "imports", "default")


def queue(app: Flask, name: str = "default") -> Queue:
    """The RQ queue ``name`` on the app's Redis."""
    from review_app.redis_conn import get_redis

    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUES)}")
    return Queue(name, connection=get_redis(app))
