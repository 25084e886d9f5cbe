"""Import batches: the upload kept in the database, its analysis and its confirmation, run in
the request for small files and by an RQ worker (queue ``imports``) for large ones.

A batch moves queued → analysing → ready | invalid → applying → applied; failed when something
unexpected stopped it (nothing written), discarded when the admin drops it. The batch row is
committed before any job is enqueued; the job re-raises on failure so RQ records it too.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from typing import IO

import redis
import sqlalchemy as sa
from flask import current_app
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from review_app import audit, queues
from review_app.audit import AuditAction
from review_app.auth.models import User
from review_app.duplicates import service as duplicates
from review_app.extensions import db
from review_app.imports import service
from review_app.imports.models import ImportBatch, ImportFileChunk, ImportStatus
from review_app.imports.reader import Limits
from review_app.imports.validate import Problem
from review_app.notifications import service as notify
from review_app.redis_conn import get_redis
from review_app.time import utcnow

log = logging.getLogger("review_app.imports")

CHUNK_BYTES = 1024 * 1024
PROGRESS_TTL = 24 * 3600
#: The RQ jobs, by name (``workers.imports``), as every job is enqueued.
JOBS = {"analyse": "workers.imports.analyse_job", "apply": "workers.imports.apply_job"}


class UploadRefused(Exception):
    """The upload itself is unacceptable (empty, too large); ``problem`` says why."""

    def __init__(self, problem: Problem):
        super().__init__(problem.code)
        self.problem = problem


def limits() -> Limits:
    return Limits(max_rows=current_app.config["IMPORT_MAX_ROWS"],
                  max_uncompressed=current_app.config["IMPORT_MAX_UNCOMPRESSED"])


# Upload ----------------------------------------------------------------------------------------

def store_upload(stream: IO[bytes], filename: str, actor: User, *, encoding: str,
                 delimiter: str) -> ImportBatch:
    """Keep the uploaded file in the database, in chunks; commit the new batch.

    :raise UploadRefused: the file is empty or larger than ``IMPORT_MAX_BYTES``.
    """
    max_bytes = current_app.config["IMPORT_MAX_BYTES"]
    name = os.path.basename(filename.replace("\\", "/"))[:255] or "file"
    batch = ImportBatch(filename=name, size_bytes=0, sha256="", encoding_choice=encoding,
                        delimiter_choice=delimiter, status=ImportStatus.QUEUED,
                        created_by_id=actor.id)
    db.session.add(batch)
    db.session.flush()
    digest = hashlib.sha256()
    size = seq = 0
    while chunk := stream.read(CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            db.session.rollback()
            raise UploadRefused(Problem("too_large", params={"limit": max_bytes}))
        digest.update(chunk)
        db.session.execute(sa.insert(ImportFileChunk), [
            {"batch_id": batch.id, "seq": seq, "data": chunk}])
        seq += 1
    if size == 0:
        db.session.rollback()
        raise UploadRefused(Problem("empty_file"))
    batch.size_bytes, batch.sha256 = size, digest.hexdigest()
    db.session.commit()
    return batch


@contextlib.contextmanager
def local_copy(batch_id: int) -> Iterator[str]:
    """The batch's file as a temporary local file (streamed from the database, then deleted)."""
    fd, path = tempfile.mkstemp(prefix=f"import-{batch_id}-")
    try:
        with os.fdopen(fd, "wb") as out:
            result = db.session.execute(
                sa.select(ImportFileChunk.data).where(ImportFileChunk.batch_id == batch_id)
                .order_by(ImportFileChunk.seq).execution_options(yield_per=4))
            for (data,) in result:
                out.write(data)
        yield path
    finally:
        os.unlink(path)


def same_file_before(batch: ImportBatch) -> ImportBatch | None:
    """The latest earlier applied import of the very same file, if any."""
    return db.session.scalar(
        sa.select(ImportBatch).where(ImportBatch.sha256 == batch.sha256,
                                     ImportBatch.id != batch.id,
                                     ImportBatch.status == ImportStatus.APPLIED)
        .order_by(ImportBatch.id.desc()).limit(1))


# Progress (in Redis: an import's own transaction may hold the database's write lock) -----------

def _progress_key(batch_id: int) -> str:
    return f"import-progress:{batch_id}"


def set_progress(batch_id: int, phase: str, done: int, estimate: int | None = None) -> None:
    try:
        pipe = get_redis().pipeline()
        pipe.hset(_progress_key(batch_id), mapping={"phase": phase, "done": done,
                                                    "estimate": estimate or 0})
        pipe.expire(_progress_key(batch_id), PROGRESS_TTL)
        pipe.execute()
    except redis.RedisError:
        log.warning("import %s: progress not recorded (Redis unavailable)", batch_id)


def get_progress(batch_id: int) -> dict[str, int | str]:
    try:
        raw = get_redis().hgetall(_progress_key(batch_id))
    except redis.RedisError:
        return {}
    return {k.decode(): (int(v) if v.isdigit() else v.decode()) for k, v in raw.items()}


def _estimate_rows(path: str) -> int:
    """About how many rows a CSV has (lines), for the progress bar; 0 for XLSX."""
    with open(path, "rb") as f:
        if f.read(2) == b"PK":
            return 0
        f.seek(0)
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


# Analysis --------------------------------------------------------------------------------------

def wants_background(batch: ImportBatch) -> bool:
    return batch.size_bytes > current_app.config["IMPORT_SYNC_MAX_BYTES"]


def start_analysis(batch: ImportBatch) -> None:
    """Analyse now (small file) or hand it to a worker (large file)."""
    if wants_background(batch):
        _enqueue("analyse", batch)
    else:
        run_analysis(batch.id)


def _options(batch: ImportBatch) -> service.ImportOptions:
    return service.ImportOptions(encoding=batch.encoding_choice,
                                 delimiter=batch.delimiter_choice, limits=limits())


def run_analysis(batch_id: int) -> ImportBatch:
    """Analyse the batch's file and store the report. Re-raises unexpected errors."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status not in (ImportStatus.QUEUED, ImportStatus.ANALYSING):
        log.info("import %s: nothing to analyse (%s)", batch_id, batch and batch.status)
        return batch
    batch.status = ImportStatus.ANALYSING
    batch.started_at = utcnow()
    db.session.commit()
    try:
        with local_copy(batch_id) as path:
            estimate = _estimate_rows(path)
            set_progress(batch_id, "analyse", 0, estimate)
            outcome = service.analyse(path, _options(batch), progress=lambda n: set_progress(
                batch_id, "analyse", n, estimate))
    except Exception as exc:
        _fail(batch_id, exc)
        raise
    batch = db.session.get(ImportBatch, batch_id)
    _store(batch, outcome)
    batch.status = ImportStatus.READY if outcome.ok else ImportStatus.INVALID
    batch.analysed_at = utcnow()
    db.session.commit()
    log.info("import %s analysed: %s", batch_id, outcome.counts)
    return batch


def _store(batch: ImportBatch, outcome: service.Outcome) -> None:
    batch.total_rows, batch.new_count, batch.changed_count = (
        outcome.total_rows, outcome.new, outcome.changed)
    batch.unchanged_count, batch.rereview_count = outcome.unchanged, outcome.rereview
    batch.error_count = outcome.error_count
    batch.report = outcome.to_report()


def _fail(batch_id: int, exc: BaseException, message: str | None = None) -> None:
    """Mark the batch failed (in a fresh transaction) with the reason."""
    db.session.rollback()
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        return
    batch.status = ImportStatus.FAILED
    batch.failure = message or f"{type(exc).__name__}: {exc}"[:2000]
    db.session.commit()
    log.error("import %s failed: %s", batch_id, batch.failure)


# Confirmation ----------------------------------------------------------------------------------

class NotConfirmable(Exception):
    """The batch is not (or no longer) waiting for confirmation."""


def confirm(batch: ImportBatch, actor: User) -> None:
    """Start importing a previewed batch: now (small file) or in a worker (large file).

    The status moves ready → applying with a conditional update, so a double click or two
    admins confirming at once import it once.

    :raise NotConfirmable: the batch is not ready (has errors, already imported, busy).
    """
    claimed = db.session.execute(
        sa.update(ImportBatch).where(ImportBatch.id == batch.id,
                                     ImportBatch.status == ImportStatus.READY)
        .values(status=ImportStatus.APPLYING, applied_by_id=actor.id, started_at=utcnow())
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise NotConfirmable(batch.id)
    db.session.commit()
    db.session.refresh(batch)
    if wants_background(batch):
        _enqueue("apply", batch)
    else:
        run_apply(batch.id)


def run_apply(batch_id: int) -> ImportBatch:
    """Write the batch's file into the register in one transaction, and record it."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status != ImportStatus.APPLYING:
        log.info("import %s: nothing to apply (%s)", batch_id, batch and batch.status)
        return batch
    actor = db.session.get(User, batch.applied_by_id)
    try:
        with local_copy(batch_id) as path:
            estimate = batch.total_rows or 0
            set_progress(batch_id, "apply", 0, estimate)
            outcome = service.apply(path, actor, _options(batch), progress=lambda n: set_progress(
                batch_id, "apply", n, estimate))
            batch = db.session.get(ImportBatch, batch_id)
            _store(batch, outcome)
            batch.status = ImportStatus.APPLIED
            batch.applied_at = utcnow()
            audit.record(AuditAction.IMPORT_APPLIED, actor=actor, target=batch,
                         details={"file": batch.filename, **outcome.counts})
            notify.import_finished(batch.id, batch.created_by_id, batch.applied_by_id)
            db.session.commit()
    except service.ImportRejected as rejected:
        # The register changed since the preview in a way that makes the file wrong now.
        db.session.rollback()
        batch = db.session.get(ImportBatch, batch_id)
        _store(batch, rejected.outcome)
        batch.status = ImportStatus.INVALID
        audit.record(AuditAction.IMPORT_FAILED, actor=actor, target=batch,
                     details={"file": batch.filename, **rejected.outcome.counts})
        notify.import_finished(batch.id, batch.created_by_id, batch.applied_by_id)
        db.session.commit()
        return batch
    except (IntegrityError, StaleDataError) as exc:
        _fail(batch_id, exc, "changed-meanwhile")
        _record_failure(batch_id, actor)
        return db.session.get(ImportBatch, batch_id)
    except Exception as exc:
        _fail(batch_id, exc)
        _record_failure(batch_id, actor)
        raise
    log.info("import %s applied by %s: %s", batch_id, actor.email, outcome.counts)
    if outcome.new or outcome.changed:
        # New and changed texts: the duplicate groups are rebuilt in the background.
        duplicates.request_quietly("import", actor)
    return batch


def _record_failure(batch_id: int, actor: User | None) -> None:
    batch = db.session.get(ImportBatch, batch_id)
    audit.record(AuditAction.IMPORT_FAILED, actor=actor, target=batch,
                 details={"file": batch.filename, "failure": batch.failure})
    notify.import_finished(batch.id, batch.created_by_id, batch.applied_by_id)
    db.session.commit()


def discard(batch: ImportBatch) -> None:
    """Drop a batch that will not be imported, and its file."""
    if batch.status in (ImportStatus.APPLYING, ImportStatus.APPLIED, ImportStatus.ANALYSING):
        raise NotConfirmable(batch.id)
    batch.status = ImportStatus.DISCARDED
    db.session.execute(sa.delete(ImportFileChunk).where(ImportFileChunk.batch_id == batch.id))
    db.session.commit()


# Background ------------------------------------------------------------------------------------

def _enqueue(kind: str, batch: ImportBatch) -> None:
    """Hand the batch to a worker. The batch row is committed already."""
    try:
        queues.enqueue(
            current_app, "imports", JOBS[kind], batch.id, job_id=f"import-{kind}-{batch.id}",
            job_timeout=3600, result_ttl=3600, failure_ttl=7 * 24 * 3600,
            description=f"import {kind} #{batch.id} {batch.filename}")
    except redis.RedisError as exc:
        _fail(batch.id, exc, "queue-unavailable")
        if kind == "apply":
            _record_failure(batch.id, db.session.get(User, batch.applied_by_id))


#: A batch checked or imported in a request that has shown no result for this long was
#: interrupted (the web process stopped); its transaction was rolled back.
REQUEST_STALE_SECONDS = 15 * 60


def reconcile(batch: ImportBatch) -> None:
    """Mark a batch failed whose worker (or request) died without saying so.

    A killed work horse cannot update the row; RQ still knows the job failed (or no longer
    has it). Nothing was written in either case: the import is one transaction.
    """
    if not batch.busy:
        return
    lost = False
    if wants_background(batch):
        kind = "apply" if batch.status == ImportStatus.APPLYING else "analyse"
        try:
            job = Job.fetch(f"import-{kind}-{batch.id}", connection=get_redis())
            lost = job.get_status() in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
        except NoSuchJobError:
            lost = True
        except redis.RedisError:
            return
    elif batch.status in (ImportStatus.ANALYSING, ImportStatus.APPLYING):
        started = batch.started_at or batch.created_at
        lost = (utcnow() - started).total_seconds() > REQUEST_STALE_SECONDS
    if lost:
        was_applying = batch.status == ImportStatus.APPLYING
        _fail(batch.id, RuntimeError("lost"),
              "worker-lost" if wants_background(batch) else "request-lost")
        if was_applying:
            applied_by = batch.applied_by_id
            _record_failure(batch.id, applied_by and db.session.get(User, applied_by))


def workers_listening() -> int | None:
    """How many workers serve the imports queue (None when Redis cannot say)."""
    try:
        return Worker.count(connection=get_redis(), queue=queues.queue(current_app, "imports"))
    except redis.RedisError:
        return None
