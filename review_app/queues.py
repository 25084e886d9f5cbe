"""The RQ queues, named by purpose, and the one way the app hands work to them.

Jobs are enqueued by name (a dotted string such as ``workers.summaries.build_summary``), so the
app never imports the ``workers`` package: ``workers`` imports ``review_app``, never the reverse.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from rq import Queue
from rq.job import Job

from review_app.observability import current_request_id
from review_app.redis_conn import get_redis

#: Queue names, by purpose, in the order a worker serves them.
QUEUES = ("summaries", "imports", "default")


def queue(app: Flask, name: str = "default") -> Queue:
    """The RQ queue ``name`` on the app's Redis."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUES)}")
    return Queue(name, connection=get_redis(app))


def enqueue(app: Flask, queue_name: str, job: str, *args: Any, **options: Any) -> Job:
    """Put ``job`` (the dotted name of a function in ``workers``) on queue ``queue_name``.

    ``options`` are RQ's (``job_id``, ``job_timeout``, ``retry``, ...); the current request's
    id goes into the job's ``meta`` (``request_id``). The caller commits the
    rows the job reads first, so a fast worker always finds them.
    :raise redis.RedisError: Redis did not answer.
    """
    if not isinstance(job, str) or not job.startswith("workers."):
        raise ValueError(f"enqueue jobs by their dotted name in workers, not {job!r}")
    request_id = current_request_id()
    if request_id:  # the worker logs the job under the id of the request that asked for it
        options["meta"] = {"request_id": request_id, **(options.get("meta") or {})}
    return queue(app, queue_name).enqueue(job, *args, **options)
