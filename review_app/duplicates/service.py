"""Similar requirements for one requirement, duplicate groups, and the grouping runs.

``similar_to`` is what the requirement page (and review mode) shows; ``request_grouping`` is
called after an import or a seed; ``rebuild`` is the body of the RQ job in
``workers.duplicates``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import redis
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l

from review_app import permissions, queues
from review_app.auth.models import User
from review_app.duplicates import grouping
from review_app.duplicates import similarity as sim
from review_app.duplicates.models import (
    ACTIVE,
    DuplicateGroup,
    DuplicateMember,
    DuplicateRun,
    RunStatus,
    TextBand,
)
from review_app.extensions import db
from review_app.requirements.models import Requirement, State
from review_app.time import utcnow

log = logging.getLogger(__name__)

JOB = "workers.duplicates.group_duplicates"
#: Candidates read from the index per lookup (the best by shared bands), scored exactly.
CANDIDATES = 25
#: Rows read from one band's bucket per lookup.
BUCKET_LIMIT = 100
#: What the panel shows of a similar requirement (its long search text is not loaded).
SHOWN_COLUMNS = (Requirement.id, Requirement.code, Requirement.area_id, Requirement.title,
                 Requirement.text, Requirement.state, Requirement.decision,
                 Requirement.justification, Requirement.version, Requirement.proposed_by_id)
#: Texts read per query by the grouping run.
READ_CHUNK = 2_000


# Similar requirements --------------------------------------------------------------------------

@dataclass
class Similar:
    requirement: Requirement
    #: 1.0 for the same text (after normalising), else the Jaccard of word shingles.
    score: float

    @property
    def exact(self) -> bool:
        return self.score >= 1.0

    @property
    def duplicate(self) -> bool:
        return self.score >= sim.DUPLICATE_THRESHOLD


def similar_to(requirement: Requirement, viewer: User, limit: int = 5) -> list[Similar]:
    """The ``limit`` requirements most like ``requirement`` that ``viewer`` may see, in any
    area, most similar first (only those at least :data:`similarity.SIMILAR_THRESHOLD`).

    The requirement's own text is fingerprinted now, so a text changed since the last grouping
    run still finds its matches; candidates come from the band index and are scored exactly.
    """
    fingerprint = sim.Fingerprint(requirement.text)
    area_ids = permissions.visible_area_ids(viewer)
    if area_ids is not None and not area_ids:
        return []
    params: dict[str, object] = {"own": requirement.id, "per_bucket": BUCKET_LIMIT,
                                 "candidates": CANDIDATES}
    for band, bucket in enumerate(fingerprint.bands):
        params[f"k{band}"] = bucket
    statement = _CANDIDATES_ALL
    if area_ids is not None:
        statement = _CANDIDATES_IN_AREAS.bindparams(
            sa.bindparam("areas", value=sorted(area_ids), expanding=True))
    ids = [row[0] for row in db.session.execute(statement, params)]
    if not ids:
        return []
    # Score with the texts alone; only the few shown become full objects.
    words, own = fingerprint.words, fingerprint.hashes
    scores = {}
    for req_id, text in db.session.execute(
            sa.select(Requirement.id, Requirement.text).where(Requirement.id.in_(ids))):
        other_words = sim.normalise(text)
        score = 1.0 if other_words == words else sim.jaccard(own,
                                                                sim.shingle_hashes(other_words))
        if score >= sim.SIMILAR_THRESHOLD:
            scores[req_id] = score
    best = sorted(scores, key=lambda i: -scores[i])[:limit]
    if not best:
        return []
    rows = db.session.scalars(
        sa.select(Requirement).where(Requirement.id.in_(best))
        .options(so.load_only(*SHOWN_COLUMNS), so.joinedload(Requirement.proposed_by)))
    found = [Similar(row, scores[row.id]) for row in rows]
    found.sort(key=lambda s: (-s.score, s.requirement.code))
    return found


def _candidates_sql(in_areas: bool) -> sa.TextClause:
    """The candidate query as text, built once: up to ``per_bucket`` rows from each of the 16
    buckets (a bucket of boilerplate shared by thousands must not make one lookup read them
    all), counted per requirement. Building it with the expression language on every lookup
    (16 subqueries) cost more Python time than PostgreSQL took to answer it."""
    join = ("JOIN requirements r ON r.id = b.requirement_id AND r.area_id IN :areas "
            if in_areas else "")
    branches = " UNION ALL ".join(
        f"SELECT requirement_id FROM (SELECT b.requirement_id FROM requirement_text_bands b "
        f"{join}WHERE b.band = {band} AND b.bucket = :k{band} AND b.requirement_id <> :own "
        f"LIMIT :per_bucket) AS s{band}"
        for band in range(sim.BANDS))
    return sa.text(f"SELECT requirement_id, COUNT(*) AS hits FROM ({branches}) AS hit "
                   "GROUP BY requirement_id ORDER BY hits DESC, requirement_id "
                   "LIMIT :candidates")


_CANDIDATES_ALL = _candidates_sql(in_areas=False)
_CANDIDATES_IN_AREAS = _candidates_sql(in_areas=True)


# Groups ----------------------------------------------------------------------------------------

def group_of(requirement_id: int) -> DuplicateGroup | None:
    return db.session.scalar(sa.select(DuplicateGroup).join(DuplicateMember).where(
        DuplicateMember.requirement_id == requirement_id))


def visible_members(group: DuplicateGroup, viewer: User) -> list[Requirement]:
    """The group's requirements that ``viewer`` may see, by code."""
    return list(db.session.scalars(
        sa.select(Requirement).join(DuplicateMember,
                                    DuplicateMember.requirement_id == Requirement.id)
        .where(DuplicateMember.group_id == group.id, permissions.visible_area_filter(viewer))
        .options(so.joinedload(Requirement.proposed_by))
        .order_by(Requirement.code)))


def decisions_disagree(members: list[Requirement]) -> bool:
    """Two members proposed or decided differently."""
    return len({m.decision for m in members if m.decision is not None}) > 1


def has_duplicates_clause() -> sa.ColumnElement[bool]:
    """For the list filter: the requirement is in a duplicate group."""
    return Requirement.id.in_(sa.select(DuplicateMember.requirement_id))


def disagreeing_groups(viewer: User, limit: int = 200) -> list[tuple]:
    """Groups whose visible members carry different decisions: ``(group, members seen,
    distinct decisions, first code, a title)``, the most divided first."""
    visible = permissions.visible_area_filter(viewer)
    decisions = sa.func.count(sa.distinct(Requirement.decision)).label("decisions")
    stmt = (sa.select(DuplicateGroup, sa.func.count().label("seen"), decisions,
                      sa.func.min(Requirement.code), sa.func.min(Requirement.title))
            .join(DuplicateMember, DuplicateMember.group_id == DuplicateGroup.id)
            .join(Requirement, Requirement.id == DuplicateMember.requirement_id)
            .where(visible)
            .group_by(DuplicateGroup.id)
            .having(decisions > 1)
            .order_by(decisions.desc(), sa.func.count().desc(), DuplicateGroup.id)
            .limit(limit))
    return [tuple(row) for row in db.session.execute(stmt)]


def visible_groups(viewer: User, *, after: int | None = None, limit: int = 50,
                   ) -> list[tuple]:
    """Groups with at least two members ``viewer`` may see, by id: ``(group, members seen,
    first code, a title)``."""
    stmt = (sa.select(DuplicateGroup, sa.func.count().label("seen"),
                      sa.func.min(Requirement.code), sa.func.min(Requirement.title))
            .join(DuplicateMember, DuplicateMember.group_id == DuplicateGroup.id)
            .join(Requirement, Requirement.id == DuplicateMember.requirement_id)
            .where(permissions.visible_area_filter(viewer))
            .group_by(DuplicateGroup.id)
            .having(sa.func.count() > 1)
            .order_by(DuplicateGroup.id).limit(limit))
    if after is not None:
        stmt = stmt.where(DuplicateGroup.id > after)
    return [tuple(row) for row in db.session.execute(stmt)]


def can_see_disagreements(user: User) -> bool:
    """Leads (for their areas) and managers and admins (for all) follow disagreeing groups."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.sees_all_areas or bool(permissions.lead_area_ids(user)))


# Runs ------------------------------------------------------------------------------------------

class QueueUnavailable(Exception):
    """Redis did not answer: the run is saved and waits for the queue to come back."""


def latest_run() -> DuplicateRun | None:
    return db.session.scalar(sa.select(DuplicateRun).order_by(DuplicateRun.id.desc()).limit(1))


def active_run() -> DuplicateRun | None:
    return db.session.scalar(sa.select(DuplicateRun).where(DuplicateRun.status.in_(ACTIVE)))


def request_grouping(origin: str, user: User | None = None) -> tuple[DuplicateRun, bool]:
    """Ask for the register's duplicate groups to be rebuilt (after an import, a seed, or by
    an admin); return the run and whether it is new. A run still queued is returned instead
    (it reads the texts when it starts, so it covers this change too); while one runs, a new
    one is queued after it, since the running one may have read the texts already.

    :raise QueueUnavailable: saved, but Redis is down; the worker sends it when it starts.
    """
    reap_stale()
    queued = db.session.scalar(sa.select(DuplicateRun).where(
        DuplicateRun.status == RunStatus.QUEUED))
    if queued is not None:
        return queued, False
    taken = set(db.session.scalars(sa.select(DuplicateRun.active_key).where(
        DuplicateRun.status.in_(ACTIVE))))
    run = DuplicateRun(status=RunStatus.QUEUED, origin=origin,
                       requested_by_id=user.id if user else None,
                       # The unique active key admits one run; a run asked while another runs
                       # waits with the other key until that one ends.
                       active_key="next" if "all" in taken else "all")
    db.session.add(run)
    try:
        db.session.flush()
        run.job_id = f"duplicates-{run.id}"
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        existing = active_run()
        if existing is None:
            raise
        return existing, False
    enqueue(run)
    return run, True


def enqueue(run: DuplicateRun) -> None:
    """Put ``run`` (committed already) on the default queue.

    :raise QueueUnavailable: Redis did not answer; the row stays queued for later.
    """
    try:
        queues.enqueue(current_app, "default", JOB, run.id, job_id=run.job_id,
                       job_timeout=current_app.config.get("DUPLICATES_JOB_TIMEOUT", 1800),
                       result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600,
                       description=f"duplicate groups, run {run.id}")
    except (redis.RedisError, OSError) as exc:
        log.warning("duplicate run %s waits for the queue: %s", run.id, exc)
        raise QueueUnavailable(str(exc)) from exc
    db.session.execute(sa.update(DuplicateRun).where(DuplicateRun.id == run.id)
                       .values(enqueued_at=utcnow()))
    db.session.commit()


def request_quietly(origin: str, user: User | None = None) -> DuplicateRun | None:
    """:func:`request_grouping` for callers that must not fail because of it (an import, the
    seed): a Redis outage leaves the run queued for the worker to send when it starts."""
    try:
        return request_grouping(origin, user)[0]
    except QueueUnavailable:
        return active_run()


def enqueue_waiting() -> int:
    """Send runs saved while Redis was down (at worker start)."""
    sent = 0
    for run in db.session.scalars(sa.select(DuplicateRun).where(
            DuplicateRun.status == RunStatus.QUEUED, DuplicateRun.enqueued_at.is_(None))):
        try:
            enqueue(run)
        except QueueUnavailable:
            break
        sent += 1
    return sent


def claim(run_id: int, job_id: str | None) -> bool:
    """Move the run from queued to running, only if it still expects this job."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(DuplicateRun)
        .where(DuplicateRun.id == run_id, DuplicateRun.job_id == job_id,
               DuplicateRun.status == RunStatus.QUEUED)
        .values(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now,
                progress=0)).rowcount
    db.session.commit()
    return bool(claimed)


#: A running run whose heartbeat is older than this lost its worker (killed, host down).
STALE_MINUTES = 10


def reap_stale() -> int:
    """Mark runs whose worker died as failed, so they do not block new ones."""
    limit = utcnow() - timedelta(minutes=STALE_MINUTES)
    stale = list(db.session.scalars(sa.select(DuplicateRun.id).where(
        DuplicateRun.status == RunStatus.RUNNING, DuplicateRun.heartbeat_at < limit)))
    for run_id in stale:
        mark_failed(run_id, "the worker stopped sending signs of life (killed or host down)")
    return len(stale)


def mark_failed(run_id: int, message: str) -> None:
    """Record why a run failed (in its own transaction, after the caller rolled back)."""
    db.session.execute(
        sa.update(DuplicateRun)
        .where(DuplicateRun.id == run_id, DuplicateRun.status.in_(ACTIVE))
        .values(status=RunStatus.FAILED, finished_at=utcnow(), error=message[:500],
                active_key=f"failed-{run_id}"))
    db.session.commit()


def rebuild(run_id: int, progress: Callable[[int], None] | None = None) -> int:
    """Re-index every requirement's text and replace all duplicate groups; return how many
    groups. The groups are replaced in one transaction at the end.

    The band index: on PostgreSQL it is written into a fresh table without indexes, indexed
    once at the end and swapped in (one short transaction), so lookups keep using the old one
    meanwhile and 1.6 million rows are not inserted into two live B-trees. On SQLite (a single
    machine, small registers) it is rewritten in place, a committed chunk at a time.
    """
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) or 0
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        db.session.execute(sa.text(f"DROP TABLE IF EXISTS {_NEXT}"))
        db.session.execute(sa.text(f"CREATE TABLE {_NEXT} (band smallint NOT NULL, "
                                   "bucket bigint NOT NULL, requirement_id integer NOT NULL)"))
    else:
        db.session.execute(sa.delete(TextBand))
    db.session.commit()

    def store_bands(pairs: list[tuple[int, list[int]]]) -> None:
        rows = list(grouping.band_rows(pairs))
        if postgres:
            _copy_bands(rows, _NEXT)
        else:
            db.session.execute(sa.insert(TextBand), [
                {"band": b, "bucket": k, "requirement_id": r} for b, k, r in rows])
        db.session.commit()

    def read_progress(done: int) -> None:
        percent = min(90, done * 90 // total) if total else 90
        db.session.execute(sa.update(DuplicateRun).where(DuplicateRun.id == run_id)
                           .values(progress=percent, heartbeat_at=utcnow()))
        db.session.commit()
        if progress is not None:
            progress(done)

    grouped = grouping.group_texts(_texts(), on_bands=store_bands, progress=read_progress,
                                   chunk=READ_CHUNK)
    if postgres:
        _index_next_bands()
    db.session.execute(sa.delete(DuplicateMember))
    db.session.execute(sa.delete(DuplicateGroup))
    now = utcnow()
    for start in range(0, len(grouped.groups), 1_000):
        chunk = grouped.groups[start:start + 1_000]
        groups = [DuplicateGroup(run_id=run_id, size=len(ids), exact=exact, created_at=now)
                  for ids, exact in chunk]
        db.session.add_all(groups)
        db.session.flush()
        db.session.execute(sa.insert(DuplicateMember), [
            {"requirement_id": rid, "group_id": group.id}
            for group, (ids, _exact) in zip(groups, chunk, strict=True) for rid in ids])
    updated = db.session.execute(
        sa.update(DuplicateRun)
        .where(DuplicateRun.id == run_id, DuplicateRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.DONE, progress=100, finished_at=utcnow(),
                active_key=f"done-{run_id}", requirement_count=grouped.requirement_count,
                group_count=len(grouped.groups), error=None)).rowcount
    if updated != 1:
        db.session.rollback()
        raise RuntimeError(f"duplicate run {run_id} no longer expects this job")
    if postgres:
        _swap_in_next_bands()
    db.session.commit()
    return len(grouped.groups)


#: PostgreSQL: where a run writes the new band index before swapping it in.
_NEXT = "requirement_text_bands_next"
_BANDS = TextBand.__tablename__


def _index_next_bands() -> None:
    """Index the new band table as the migration indexes the live one (under other names
    until the swap); the foreign key is NOT VALID: the rows were just read from requirements,
    and checking 1.6 million of them again would cost seconds for nothing."""
    for statement in (
            f"ALTER TABLE {_NEXT} ADD CONSTRAINT pk_{_NEXT} "
            "PRIMARY KEY (band, bucket, requirement_id)",
            f"CREATE INDEX ix_text_bands_requirement_next ON {_NEXT} (requirement_id)",
            f"ALTER TABLE {_NEXT} ADD CONSTRAINT fk_{_NEXT} FOREIGN KEY (requirement_id) "
            "REFERENCES requirements (id) ON DELETE CASCADE NOT VALID"):
        db.session.execute(sa.text(statement))
    db.session.commit()
    # Freshly copied rows have no hint bits and no visibility map: every lookup read (and
    # wrote) heap pages, 50 ms a lookup at 100,000 requirements. After VACUUM the primary key
    # answers lookups from the index alone, and ANALYZE gives the planner real counts.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"VACUUM (ANALYZE) {_NEXT}"))


def _swap_in_next_bands() -> None:
    """Replace the live band table by the new one, in the caller's transaction."""
    for statement in (
            f"DROP TABLE {_BANDS}",
            f"ALTER TABLE {_NEXT} RENAME TO {_BANDS}",
            f"ALTER TABLE {_BANDS} RENAME CONSTRAINT pk_{_NEXT} TO pk_{_BANDS}",
            f"ALTER TABLE {_BANDS} RENAME CONSTRAINT fk_{_NEXT} "
            f"TO fk_{_BANDS}_requirement_id_requirements",
            "ALTER INDEX ix_text_bands_requirement_next RENAME TO ix_text_bands_requirement"):
        db.session.execute(sa.text(statement))


def _texts():
    """Every requirement's ``(id, text)``, by id, a chunk per query (keyset), so memory stays
    flat however large the register."""
    last = 0
    while True:
        rows = db.session.execute(
            sa.select(Requirement.id, Requirement.text).where(Requirement.id > last)
            .order_by(Requirement.id).limit(READ_CHUNK)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def _copy_bands(rows: list[tuple[int, int, int]], table: str) -> None:
    """PostgreSQL's COPY: ~3x an INSERT's speed for the 16 rows per requirement."""
    cursor = db.session.connection().connection.cursor()
    try:
        with cursor.copy(f"COPY {table} (band, bucket, requirement_id) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def run_status_label(status: RunStatus | str) -> str:
    return str(_RUN_STATUS.get(RunStatus(status), status))


_RUN_STATUS = {
    RunStatus.QUEUED: _l("waiting to start"),
    RunStatus.RUNNING: _l("running"),
    RunStatus.DONE: _l("done"),
    RunStatus.FAILED: _l("failed"),
}

#: States in which a member can still take a proposal.
PROPOSABLE = (State.UNREVIEWED, State.RETURNED)
