"""The RQ worker with our observability: each job runs under the id of the request that
enqueued it (``job.meta["request_id"]``, set by ``review_app.queues.enqueue``), so its log
lines carry it, and its duration and outcome go to the Prometheus metrics."""

from __future__ import annotations

import time

from rq import SimpleWorker, Worker

from review_app.observability import JOB_ID, REQUEST_ID, observe_job


class Observed:
    """Mixed into an RQ worker class: each job logged under its request id, and timed."""

    def perform_job(self, job, queue, execution) -> bool:  # type: ignore[override]
        request_token = REQUEST_ID.set((job.meta or {}).get("request_id") or job.id)
        job_token = JOB_ID.set(job.id)
        started = time.perf_counter()
        ok = False
        try:
            ok = super().perform_job(job, queue, execution)
            return ok
        finally:
            observe_job(job.func_name, time.perf_counter() - started, ok)
            JOB_ID.reset(job_token)
            REQUEST_ID.reset(request_token)


class ObservedWorker(Observed, Worker):
    """What ``python -m workers`` runs: a forking worker, observed."""


class ObservedSimpleWorker(Observed, SimpleWorker):
    """The same in one process (tests)."""
