"""Similar and duplicate requirements: the text index, the groups, and the grouping runs.

All of it is derived from the requirements' texts and can be rebuilt at any time by a grouping
run (``workers.duplicates.group_duplicates``); the review history stays the source of truth.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.dbtypes import str_enum
from review_app.extensions import db
from review_app.time import utcnow

if TYPE_CHECKING:
    from review_app.auth.models import User
    from review_app.requirements.models import Requirement


class TextBand(db.Model):
    """One LSH band of a requirement's text signature: requirements sharing a (band, bucket)
    are candidates for being similar. 16 rows per requirement."""

    __tablename__ = "requirement_text_bands"
    __table_args__ = (sa.Index("ix_text_bands_requirement", "requirement_id"),)

    band: so.Mapped[int] = so.mapped_column(sa.SmallInteger, primary_key=True,
                                            autoincrement=False)
    bucket: so.Mapped[int] = so.mapped_column(sa.BigInteger, primary_key=True,
                                              autoincrement=False)
    requirement_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("requirements.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)


class DuplicateGroup(db.Model):
    """Requirements whose texts are the same or nearly the same (built by a grouping run)."""

    __tablename__ = "duplicate_groups"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: The run that built it; a newer run replaces all groups.
    run_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("duplicate_runs.id"))
    size: so.Mapped[int]
    #: True when every member's text is the same after normalising; else near duplicates.
    exact: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    members: so.Mapped[list[DuplicateMember]] = so.relationship(
        back_populates="group", order_by="DuplicateMember.requirement_id", viewonly=True)


class DuplicateMember(db.Model):
    """A requirement's place in a duplicate group (at most one group each)."""

    __tablename__ = "duplicate_members"
    __table_args__ = (sa.Index("ix_duplicate_members_group", "group_id"),)

    requirement_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("requirements.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    group_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("duplicate_groups.id", ondelete="CASCADE"))

    group: so.Mapped[DuplicateGroup] = so.relationship(back_populates="members")
    requirement: so.Mapped[Requirement] = so.relationship()


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


class DuplicateRun(db.Model):
    """One grouping of the whole register, asked after an import or a seed (or by an admin).

    Shaped like a summary: the row is committed before the job is queued, the job claims it
    with a conditional UPDATE, writes its progress, and records a failure before re-raising.
    """

    __tablename__ = "duplicate_runs"
    __table_args__ = (
        # At most one queued-or-running grouping: asking again while one waits joins it.
        sa.Index("uq_duplicate_runs_active", "active_key", unique=True,
                 sqlite_where=sa.text("status IN ('queued', 'running')"),
                 postgresql_where=sa.text("status IN ('queued', 'running')")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    status: so.Mapped[RunStatus] = so.mapped_column(
        str_enum(RunStatus, "duplicate_run_status"), default=RunStatus.QUEUED)
    #: Constant; with the partial unique index it allows one active run.
    active_key: so.Mapped[str] = so.mapped_column(sa.String(16), default="all")
    #: What asked for it: import, seed, admin or cli.
    origin: so.Mapped[str] = so.mapped_column(sa.String(16), default="admin")
    requested_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    job_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    enqueued_at: so.Mapped[datetime | None]
    started_at: so.Mapped[datetime | None]
    heartbeat_at: so.Mapped[datetime | None]
    finished_at: so.Mapped[datetime | None]
    #: Percent done (0-100).
    progress: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    requirement_count: so.Mapped[int | None]
    group_count: so.Mapped[int | None]
    #: What went wrong, in a line.
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)

    requested_by: so.Mapped[User | None] = so.relationship()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE
