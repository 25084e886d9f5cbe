"""The summary job: a thin adapter between RQ and the pure summary builder.

It claims the summary row (queued -> running) only if the row still expects this job, keeps a
heartbeat and the progress in the row from a small thread, builds the file into a temporary
directory, stores it and marks the row done in one transaction. On failure it records why and
re-raises, so RQ records the failure too: transient errors (database or Redis connection, file
system) are retried by RQ with backoff, anything else fails at once. A work horse killed by a
signal is reported by the worker (:func:`on_work_horse_killed`); a whole worker killed is found
by its silent heartbeat (``review_app.summaries.service.reap``).
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from zoneinfo import ZoneInfo

import redis
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from rq import get_current_job
from rq.job import Job
from rq.timeouts import JobTimeoutException

from review_app import create_app
from review_app.database import forget_parent_connections
from review_app.extensions import db
from review_app.notifications import service as notify
from review_app.package import build as package_build
from review_app.package import texts as package_texts
from review_app.package.source import PackageFilter
from review_app.summaries import build, service, storage
from review_app.summaries.models import FailureKind, Summary, SummaryKind, SummaryStatus
from review_app.summaries.texts import texts_for
from review_app.time import local_zone, utcnow

log = logging.getLogger("workers.summaries")

#: Failures worth another try: the database, Redis or the shared folder was briefly away.
TRANSIENT = (sa.exc.OperationalError, sa.exc.InterfaceError, redis.ConnectionError,
             redis.TimeoutError, OSError)
#: Seconds between heartbeats (which also carry the progress shown on the page).
HEARTBEAT_SECONDS = 1.0
_app: Flask | None = None


class Abandoned(Exception):
    """The row no longer expects this job (marked failed meanwhile, or retried)."""


class StorageFailed(Exception):
    """The file was built but could not be stored."""


def app() -> Flask:
    """The app of the worker process (its context is pushed by ``python -m workers``)."""
    global _app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
            _app = create_app()
    return _app


def build_summary(summary_id: int) -> str:
    """Build summary ``summary_id``; the RQ job. Returns what happened, for RQ's records."""
    with app().app_context():
        try:
            return _build(summary_id)
        finally:
            db.session.remove()


class Heartbeat(threading.Thread):
    """Writes "still alive" and the progress into the summary row every second.

    A separate thread, so the heartbeat keeps coming while the main thread is deep in a query
    or in zipping the workbook; it stops when the process dies, which is how a killed worker
    is noticed. If the row stops expecting this job, the next progress report stops the build.
    """

    def __init__(self, engine: sa.Engine, summary_id: int, job_id: str | None,
                 time_limit: float | None = None):
        super().__init__(name=f"heartbeat-{summary_id}", daemon=True)
        self.engine, self.summary_id, self.job_id = engine, summary_id, job_id
        self.done = self.total = 0
        self.abandoned = False
        self.deadline = time.monotonic() + time_limit if time_limit and time_limit > 0 else None
        self._stopping = threading.Event()

    def progress(self, done: int, total: int) -> None:
        """The writers' progress callback (main thread).

        It also enforces the job's time limit. RQ's limit is a SIGALRM that raises inside
        whatever Python code runs at that instant; when that is a garbage-collector callback,
        Python swallows the exception ("Exception ignored in ...") and the build would run on
        past its limit. Checking the deadline here makes the limit hold all the same.
        """
        self.done, self.total = done, total
        if self.abandoned:
            raise Abandoned(f"summary {self.summary_id} no longer expects job {self.job_id}")
        self.check_deadline()

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise JobTimeoutException(
                "Task exceeded maximum timeout value (the build passed its time limit)")

    def run(self) -> None:
        while not self._stopping.wait(HEARTBEAT_SECONDS):
            self.beat()

    def beat(self) -> None:
        percent = min(99, self.done * 100 // self.total) if self.total else 0
        try:
            with self.engine.begin() as conn:
                updated = conn.execute(
                    sa.update(Summary)
                    .where(Summary.id == self.summary_id, Summary.job_id == self.job_id,
                           Summary.status == SummaryStatus.RUNNING)
                    .values(heartbeat_at=utcnow(), progress=percent)).rowcount
        except sa.exc.DBAPIError as exc:  # a hiccup: the next beat tries again
            log.warning("summary %s: heartbeat not written: %s", self.summary_id, exc)
            return
        if not updated:
            self.abandoned = True

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join()


def _build(summary_id: int) -> str:
    job = get_current_job()
    job_id = job.id if job is not None else None
    forget_parent_connections()
    config = current_app.config
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Summary)
        .where(Summary.id == summary_id, Summary.job_id == job_id,
               Summary.status == SummaryStatus.QUEUED)
        .values(status=SummaryStatus.RUNNING, started_at=now, heartbeat_at=now, progress=0,
                worker=f"{socket.gethostname()}:{os.getpid()}")).rowcount
    db.session.commit()
    if not claimed:
        log.info("summary %s: nothing to do for job %s (the row does not expect it)",
                 summary_id, job_id)
        return "skipped"
    summary = db.session.get(Summary, summary_id)
    log.info("summary %s: building %s (job %s)", summary_id, summary.dedupe_key, job_id)
    heartbeat = Heartbeat(db.engine, summary_id, job_id,
                          time_limit=job.timeout if job is not None else None)
    heartbeat.start()
    try:
        with tempfile.TemporaryDirectory(prefix="summary-") as tmpdir:
            path = os.path.join(tmpdir, f"summary.{summary.format.value}")
            with open(path, "wb") as out:
                built = _write(summary, out, local_zone(config), heartbeat.progress)
            heartbeat.check_deadline()  # the last rows or the zipping may have passed it
            heartbeat.stop()
            if heartbeat.abandoned:
                raise Abandoned(f"summary {summary_id} no longer expects job {job_id}")
            _finish(summary, path, built, job_id, config.get("SUMMARY_STORAGE_DIR") or None)
    except Abandoned as exc:
        heartbeat.stop()
        db.session.rollback()
        log.warning("summary %s: build abandoned: %s", summary_id, exc)
        return "abandoned"
    except Exception as exc:
        heartbeat.stop()
        db.session.rollback()
        kind, retrying = _classify(exc, job)
        service.mark_failed(summary_id, job_id, kind, _describe(exc), retrying=retrying)
        raise
    log.info("summary %s: done", summary_id)
    return "done"


def _write(summary: Summary, out, tz, progress) -> build.Built:
    """The file of a summary row: a review summary, or the amendment package."""
    if summary.kind == SummaryKind.PACKAGE:
        return package_build.build_package(
            db.engine, PackageFilter(summary.area_id, summary.issuing_body, summary.legal_act),
            fmt=summary.format.value, language=summary.language,
            texts=package_texts.texts_for(summary.language), tz=tz, out=out, progress=progress)
    return build.build_file(
        db.engine, area_id=summary.area_id, fmt=summary.format.value,
        language=summary.language, texts=texts_for(summary.language), tz=tz, out=out,
        progress=progress)


def _finish(summary: Summary, path: str, built: build.Built, job_id: str | None,
            folder: str | None) -> None:
    """Store the file and mark the row done in one transaction: downloadable all at once."""
    stored = None
    try:
        stored = storage.store(db.session, summary, path, folder)
        updated = db.session.execute(
            sa.update(Summary)
            .where(Summary.id == summary.id, Summary.job_id == job_id,
                   Summary.status == SummaryStatus.RUNNING)
            .values(status=SummaryStatus.DONE, progress=100, finished_at=utcnow(),
                    heartbeat_at=utcnow(), storage=stored.storage,
                    storage_path=stored.storage_path, size_bytes=stored.size_bytes,
                    sha256=stored.sha256,
                    as_of=built.as_of.astimezone(ZoneInfo("UTC")).replace(tzinfo=None),
                    as_of_event_id=built.as_of_event_id,
                    requirement_count=built.requirement_count, failure_kind=None,
                    error=None)).rowcount
        if updated != 1:
            raise Abandoned(f"summary {summary.id} no longer expects job {job_id}")
        notify.summary_finished(summary.id, summary.requested_by_id, ok=True)
        db.session.commit()
    except Abandoned:
        db.session.rollback()
        storage.discard(stored, folder)
        raise
    except Exception as exc:
        db.session.rollback()
        storage.discard(stored, folder)
        raise StorageFailed(f"{type(exc).__name__}: {exc}") from exc


def _classify(exc: BaseException, job: Job | None) -> tuple[FailureKind, bool]:
    """What kind of failure, and whether RQ will try again (only transient ones)."""
    if any(isinstance(e, JobTimeoutException) for e in _chain(exc)):
        kind, transient = FailureKind.TIMEOUT, False
    elif isinstance(exc, StorageFailed):
        kind, transient = FailureKind.STORAGE, isinstance(exc.__cause__, TRANSIENT)
    else:
        kind, transient = FailureKind.ERROR, isinstance(exc, TRANSIENT)
    if job is None:
        return kind, False
    if not transient:
        job.retries_left = 0  # RQ retries what has retries left; this one should not
    return kind, bool(job.should_retry)


def _chain(exc: BaseException | None):
    """The exception and those it was raised from or during."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _describe(exc: BaseException) -> str:
    # A time limit that struck mid-query surfaces as a database error; name the real cause.
    exc = next((e for e in _chain(exc) if isinstance(e, JobTimeoutException)), exc)
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:500]


def on_work_horse_killed(job: Job, retpid: int, ret_val: int, rusage) -> None:
    """The worker saw its work horse die (SIGKILL, out of memory): mark the summary failed.

    Runs in the worker's main process, before RQ decides about retrying: a killed build is not
    retried automatically (it may well be killed again); a person can retry it.
    """
    if job.func_name != service.JOB or not job.args:
        return
    job.retries_left = 0
    signal_number = os.WTERMSIG(ret_val) if ret_val and os.WIFSIGNALED(ret_val) else None
    reason = (f"work horse {retpid} was killed by signal {signal_number}" if signal_number
              else f"work horse {retpid} exited unexpectedly (status {ret_val})")
    with app().app_context():
        try:
            service.mark_failed(job.args[0], job.id, FailureKind.KILLED, reason)
        finally:
            db.session.remove()


def nightly_summary() -> str:
    """The nightly all-areas XLSX (run by RQ's cron scheduler: ``python -m workers --cron``)."""
    with app().app_context():
        try:
            summary, created = service.request_summary(
                None, None, "xlsx", current_app.config["BABEL_DEFAULT_LOCALE"],
                origin="nightly")
            return f"summary {summary.id} {'requested' if created else 'already under way'}"
        finally:
            db.session.remove()


def recover() -> None:
    """At worker start: fail builds whose worker died, queue what waited for Redis."""
    try:
        failed = service.reap()
        queued = service.enqueue_waiting()
    except Exception:  # noqa: BLE001 - a worker that cannot tidy up should still work
        db.session.rollback()
        log.exception("could not check for abandoned summaries")
        return
    finally:
        db.session.remove()
    if failed or queued:
        log.info("summaries: %s marked failed or requeued, %s sent to the queue", failed, queued)
