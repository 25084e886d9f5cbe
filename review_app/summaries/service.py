"""Asking for summaries and following them: the rules, in one place for the web, CLI and jobs.

A request writes and commits the summary row first and only then puts a job (which carries the
row's id, nothing else) on the queue, so a fast worker always finds its row. When Redis cannot
be reached the row stays queued and is handed to the queue as soon as Redis answers again
(:func:`enqueue_waiting`, run whenever someone looks at the summaries). A build whose worker
died is noticed by its missing heartbeat (:func:`reap`) and marked failed, so it can be retried.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from rq import Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from review_app import permissions, queues
from review_app.auth.models import User
from review_app.extensions import db
from review_app.notifications import service as notify
from review_app.redis_conn import get_redis
from review_app.requirements.models import Area, Requirement
from review_app.reviews.models import Action, ReviewEvent
from review_app.summaries.models import (
    ACTIVE,
    FailureKind,
    Summary,
    SummaryFormat,
    SummaryKind,
    SummaryStatus,
    dedupe_key,
)
from review_app.time import utcnow

log = logging.getLogger("review_app.summaries")

#: The job the workers run, by name, so the web never imports the workers package's code.
JOB = "workers.summaries.build_summary"
#: Review events that change what a summary says about decisions.
DECISION_ACTIONS = (Action.PROPOSE, Action.APPROVE, Action.RETURN, Action.REOPEN)
#: How many summaries the page lists.
LIST_LIMIT = 50


class SummaryRefused(Exception):
    """The request cannot be done; ``message`` says why and ``status_code`` how to answer."""

    def __init__(self, message, status_code: int = 400):
        super().__init__(str(message))
        self.message, self.status_code = message, status_code


class QueueUnavailable(Exception):
    """Redis did not answer: the summary is saved and waits for the queue to come back."""

    def __init__(self, summary: Summary):
        super().__init__(f"queue unavailable for summary {summary.id}")
        self.summary = summary


# Asking -------------------------------------------------------------------------------------

def active_summary(key: str) -> Summary | None:
    return db.session.scalar(sa.select(Summary).where(
        Summary.dedupe_key == key, Summary.status.in_(ACTIVE)))


def request_summary(user: User | None, area: Area | None, fmt: SummaryFormat | str,
                    language: str, *, origin: str = "web",
                    kind: SummaryKind = SummaryKind.SUMMARY, issuing_body: str | None = None,
                    legal_act: str | None = None) -> tuple[Summary, bool]:
    """Ask for the summary of ``area`` (None: all areas) in ``fmt``; return it and whether it
    is new. An identical summary already queued or running is returned instead of a new one.

    ``kind`` PACKAGE asks for the amendment package instead, narrowed to ``issuing_body`` and
    ``legal_act`` when given; who may ask for it is the same rule (the area's lead, managers
    and admins for any area and for all).

    ``user`` None means the system (nightly schedule, command line), which may ask for any.

    :raise SummaryRefused: the user may not ask for this scope (403).
    :raise QueueUnavailable: saved, but Redis is down; it starts when Redis is back.
    """
    area_id = area.id if area is not None else None
    if user is not None and not permissions.can_request_summary(user, area_id):
        permissions.log_denied(user, "request-summary", area or "all areas")
        raise SummaryRefused(_l("You may not ask for this summary: leads can ask for their own "
                                "areas, managers for any area and for all areas."), 403)
    fmt = SummaryFormat(fmt)
    key = dedupe_key(area_id, fmt, language, kind, issuing_body, legal_act)
    existing = active_summary(key)
    if existing is not None:
        return existing, False
    summary = Summary(area_id=area_id, format=fmt, language=language, dedupe_key=key,
                      status=SummaryStatus.QUEUED, requested_by_id=user.id if user else None,
                      origin=origin, kind=kind, issuing_body=issuing_body, legal_act=legal_act)
    db.session.add(summary)
    try:
        db.session.flush()
        summary.job_id = _job_id(summary)
        db.session.commit()
    except sa.exc.IntegrityError:
        # Someone asked for the same summary at the same moment; theirs won.
        db.session.rollback()
        existing = active_summary(key)
        if existing is None:
            raise
        return existing, False
    log.info("summary %s requested by %s: %s %s %s", summary.id,
             user.email if user else origin, area.code if area else "all", fmt.value, language)
    enqueue(summary)
    return summary, True


def retry_summary(user: User, summary: Summary) -> tuple[Summary, bool]:
    """Build a failed summary again; return it (or the identical one already under way).

    :raise SummaryRefused: not allowed (403) or not failed (409).
    :raise QueueUnavailable: saved, but Redis is down.
    """
    if not permissions.can_request_summary(user, summary.area_id):
        permissions.log_denied(user, "retry-summary", summary)
        raise SummaryRefused(_l("You may not ask for this summary."), 403)
    if summary.status != SummaryStatus.FAILED:
        raise SummaryRefused(_l("Only a failed summary can be retried; this one is “%(status)s”.",
                                status=status_label(summary.status)), 409)
    existing = active_summary(summary.dedupe_key)
    if existing is not None:
        return existing, False
    summary.status = SummaryStatus.QUEUED
    summary.attempt += 1
    summary.job_id = _job_id(summary)
    for column in ("enqueued_at", "started_at", "heartbeat_at", "finished_at", "worker",
                   "failure_kind", "error"):
        setattr(summary, column, None)
    summary.progress = 0
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        existing = active_summary(summary.dedupe_key)
        if existing is None:
            raise
        return existing, False
    log.info("summary %s retried by %s (attempt %s)", summary.id, user.email, summary.attempt)
    enqueue(summary)
    return summary, True


def _job_id(summary: Summary) -> str:
    return f"summary-{summary.id}-{summary.attempt}"


def retry_intervals() -> list[int]:
    """Seconds to wait before each automatic retry of a transient failure (backoff)."""
    raw = current_app.config.get("SUMMARY_RETRY_INTERVALS", "")
    return [int(part) for part in str(raw).replace(" ", "").split(",") if part]


def enqueue(summary: Summary) -> None:
    """Put the build of ``summary`` (committed already) on the summaries queue.

    :raise QueueUnavailable: Redis did not answer; the row stays queued for later.
    """
    intervals = retry_intervals()
    try:
        queues.enqueue(
            current_app, "summaries", JOB, summary.id, job_id=summary.job_id,
            job_timeout=current_app.config.get("SUMMARY_JOB_TIMEOUT", 1800),
            retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
            result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600,
            description=f"summary {summary.id}: {summary.dedupe_key}")
    except (redis.RedisError, OSError) as exc:
        log.warning("summary %s waits for the queue: %s: %s", summary.id, type(exc).__name__,
                    exc)
        raise QueueUnavailable(summary) from exc
    db.session.execute(sa.update(Summary).where(Summary.id == summary.id,
                                                Summary.job_id == summary.job_id)
                       .values(enqueued_at=utcnow()))
    db.session.commit()


def enqueue_waiting() -> int:
    """Hand summaries saved while Redis was down to the queue; return how many went."""
    waiting = list(db.session.scalars(sa.select(Summary).where(
        Summary.status == SummaryStatus.QUEUED, Summary.enqueued_at.is_(None))
        .order_by(Summary.id)))
    sent = 0
    for summary in waiting:
        try:
            enqueue(summary)
        except QueueUnavailable:
            break
        sent += 1
    return sent


# Watching over builds -----------------------------------------------------------------------

def reap(now=None) -> int:
    """Mark builds whose worker died as failed, and requeue jobs Redis lost; return how many.

    * running, but no heartbeat for ``SUMMARY_STALE_SECONDS``: the process building it was
      killed (kill -9, out of memory, host down) without a chance to say so;
    * queued, on the queue for a while, but its job is gone from Redis (Redis restarted
      without its data): handed to the queue again;
    * queued, but RQ already recorded its job as failed before our code ran.
    """
    now = now or utcnow()
    stale = timedelta(seconds=current_app.config.get("SUMMARY_STALE_SECONDS", 60))
    changed = 0
    dead = list(db.session.scalars(sa.select(Summary).where(
        Summary.status == SummaryStatus.RUNNING, Summary.heartbeat_at < now - stale)))
    for summary in dead:
        changed += mark_failed(summary.id, summary.job_id, FailureKind.STALLED,
                               f"no heartbeat from {summary.worker or 'its worker'} since "
                               f"{summary.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC")
    queued = list(db.session.scalars(sa.select(Summary).where(
        Summary.status == SummaryStatus.QUEUED, Summary.enqueued_at < now - stale)))
    if queued:
        changed += _check_queued(queued)
    return changed


def _check_queued(summaries: list[Summary]) -> int:
    try:
        connection = get_redis()
        changed = 0
        for summary in summaries:
            try:
                job = Job.fetch(summary.job_id, connection=connection)
            except NoSuchJobError:
                log.warning("summary %s: job %s is gone from Redis; queueing it again",
                            summary.id, summary.job_id)
                db.session.execute(sa.update(Summary).where(
                    Summary.id == summary.id, Summary.job_id == summary.job_id,
                    Summary.status == SummaryStatus.QUEUED).values(enqueued_at=None))
                db.session.commit()
                changed += 1
                continue
            if job.get_status() in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                result = job.latest_result()
                reason = (result.exc_string or "").strip().splitlines()[-1:] if result else []
                changed += mark_failed(summary.id, summary.job_id, FailureKind.ERROR,
                                       reason[0] if reason else "the job failed in the queue")
        return changed
    except (redis.RedisError, OSError):
        db.session.rollback()
        return 0


def mark_failed(summary_id: int, job_id: str | None, kind: FailureKind, message: str,
                *, retrying: bool = False) -> int:
    """Record that the build ``job_id`` of a summary failed, unless a newer job took it over.

    With ``retrying`` the summary goes back to "queued" (RQ will run the job again) and keeps
    the reason, so the page can say what went wrong the first time.
    """
    result = db.session.execute(
        sa.update(Summary)
        .where(Summary.id == summary_id, Summary.job_id == job_id, Summary.status.in_(ACTIVE))
        .values(status=SummaryStatus.QUEUED if retrying else SummaryStatus.FAILED,
                failure_kind=kind, error=message[:2000],
                finished_at=None if retrying else utcnow()))
    if result.rowcount and not retrying:
        notify.summary_finished(summary_id, db.session.scalar(
            sa.select(Summary.requested_by_id).where(Summary.id == summary_id)), ok=False)
    db.session.commit()
    if result.rowcount:
        log.warning("summary %s %s (%s): %s", summary_id,
                    "will be retried" if retrying else "failed", kind.value, message)
    return result.rowcount


# Reading ------------------------------------------------------------------------------------

def visible_summaries(user: User, limit: int = LIST_LIMIT,
                      kind: SummaryKind = SummaryKind.SUMMARY) -> list[Summary]:
    """The latest summaries (or packages) ``user`` may see (and so download), newest first."""
    stmt = (sa.select(Summary).where(Summary.kind == kind).order_by(Summary.id.desc())
            .limit(limit))
    area_ids = permissions.summary_area_ids(user)
    if area_ids is not None:
        stmt = stmt.where(Summary.area_id.in_(area_ids))
    return list(db.session.scalars(stmt))


def newer_decisions_exist(summary: Summary) -> bool:
    """Whether anyone proposed, approved, returned or reopened something in the summary's
    scope after the moment its data is from."""
    if summary.status != SummaryStatus.DONE or summary.as_of_event_id is None:
        return False
    stmt = (sa.select(ReviewEvent.id)
            .where(ReviewEvent.id > summary.as_of_event_id,
                   ReviewEvent.action.in_(DECISION_ACTIONS))
            .limit(1))
    if summary.area_id is not None:
        stmt = stmt.join(Requirement, Requirement.id == ReviewEvent.requirement_id).where(
            Requirement.area_id == summary.area_id)
    return db.session.scalar(stmt) is not None


# Pages ---------------------------------------------------------------------------------------

def tidy() -> bool:
    """Fail dead builds and queue what waited for Redis; False when Redis is unreachable."""
    try:
        reap()
        enqueue_waiting()
        return True
    except (redis.RedisError, OSError):
        db.session.rollback()
        return False


def workers_serving() -> bool | None:
    """Whether some worker serves the summaries queue (None when Redis cannot be asked)."""
    try:
        return Worker.count(queue=queues.queue(current_app, "summaries")) > 0
    except (redis.RedisError, OSError):
        return None


def page_state(user: User, kind: SummaryKind = SummaryKind.SUMMARY) -> dict:
    """What a page listing summaries (or amendment packages) shows: those ``user`` may see,
    which are out of date, and the queue's health. Dead builds are marked failed first."""
    queue_ok = tidy()
    summaries = visible_summaries(user, kind=kind)
    serving = workers_serving() if queue_ok else None
    return {"summaries": summaries,
            "newer": {s.id for s in summaries if newer_decisions_exist(s)},
            "queue_ok": queue_ok and serving is not None, "serving": serving}


# Words --------------------------------------------------------------------------------------

_STATUS_LABELS = {
    SummaryStatus.QUEUED: _l("queued"),
    SummaryStatus.RUNNING: _l("running"),
    SummaryStatus.DONE: _l("done"),
    SummaryStatus.FAILED: _l("failed"),
}
_FAILURES = {
    FailureKind.ERROR: _l("The build stopped with an error."),
    FailureKind.TIMEOUT: _l("The build took longer than the time limit and was stopped."),
    FailureKind.KILLED: _l("The worker process building it was killed (for example, it ran "
                           "out of memory)."),
    FailureKind.STALLED: _l("The worker building it stopped responding (it was killed or its "
                            "machine went down)."),
    FailureKind.STORAGE: _l("The finished file could not be stored."),
}


def status_label(status: SummaryStatus | str) -> str:
    return str(_STATUS_LABELS[SummaryStatus(status)])


def failure_text(summary: Summary) -> str:
    """Why the summary failed (or why its last attempt did), in the reader's language."""
    if summary.failure_kind is None:
        return ""
    return str(_FAILURES.get(summary.failure_kind, _FAILURES[FailureKind.ERROR]))
