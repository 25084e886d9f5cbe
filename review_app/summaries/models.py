"""Summaries: files built by workers, with the state of their build, and their stored bytes."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.dbtypes import str_enum
from review_app.extensions import db
from review_app.time import utcnow

if TYPE_CHECKING:
    from review_app.auth.models import User
    from review_app.requirements.models import Area


class SummaryFormat(enum.StrEnum):
    XLSX = "xlsx"
    CSV = "csv"
    PDF = "pdf"
    #: The amendment package only: what lawyers draft amendments in.
    DOCX = "docx"


class SummaryKind(enum.StrEnum):
    """What a worker builds through this pipeline: a review summary, or the amendment package
    (per issuing body and legal act, the articles to repeal or reword)."""

    SUMMARY = "summary"
    PACKAGE = "package"


#: What each format is, for the download's Content-Type.
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class SummaryStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


#: A summary in one of these states is still being worked on: asking again returns it.
ACTIVE = (SummaryStatus.QUEUED, SummaryStatus.RUNNING)


class FailureKind(enum.StrEnum):
    """Why a build failed, so the page can say it in the reader's language."""

    ERROR = "error"            # the build raised
    TIMEOUT = "timeout"        # it ran longer than the job timeout
    KILLED = "killed"          # its work horse died (SIGKILL, out of memory)
    STALLED = "stalled"        # its worker stopped sending heartbeats (host down, kill -9)
    STORAGE = "storage"        # the file could not be stored


def dedupe_key(area_id: int | None, fmt: SummaryFormat | str, language: str,
               kind: SummaryKind | str = SummaryKind.SUMMARY, issuing_body: str | None = None,
               legal_act: str | None = None) -> str:
    """Identical requests (same kind, scope, filters, format and language) share one queued or
    running build."""
    key = f"{area_id or 'all'}:{SummaryFormat(fmt).value}:{language}"
    if SummaryKind(kind) == SummaryKind.SUMMARY:
        return key
    # The filters are free text up to 1,500 characters: a digest keeps the key within 64.
    filters = hashlib.sha256(f"{issuing_body or ''}\x1f{legal_act or ''}".encode()).hexdigest()
    return f"package:{key}:{filters[:24]}"


class Summary(db.Model):
    """One requested summary: what was asked, how its build goes, and where the file is."""

    __tablename__ = "summaries"
    __table_args__ = (
        # At most one queued-or-running summary per key: the database itself stops two
        # simultaneous requests from making two builds.
        sa.Index("uq_summaries_active_key", "dedupe_key", unique=True,
                 sqlite_where=sa.text("status IN ('queued', 'running')"),
                 postgresql_where=sa.text("status IN ('queued', 'running')")),
        sa.Index("ix_summaries_status", "status"),
        sa.Index("ix_summaries_area", "area_id", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: A review summary or the amendment package.
    kind: so.Mapped[SummaryKind] = so.mapped_column(
        str_enum(SummaryKind, "summary_kind", constrained=False), default=SummaryKind.SUMMARY,
        server_default=SummaryKind.SUMMARY.value)
    #: The amendment package's filters: one issuing body, one legal act (None: all).
    issuing_body: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    legal_act: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    #: The area summarised; None for the all-areas summary.
    area_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"))
    format: so.Mapped[SummaryFormat] = so.mapped_column(str_enum(SummaryFormat, "summary_format"))
    #: Language of the file's headings (the requester's interface language).
    language: so.Mapped[str] = so.mapped_column(sa.String(8))
    status: so.Mapped[SummaryStatus] = so.mapped_column(
        str_enum(SummaryStatus, "summary_status"), default=SummaryStatus.QUEUED)
    #: Scope + format + language; unique among queued and running summaries.
    dedupe_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    #: Percent of the rows written so far (0-100).
    progress: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    #: Who asked; None when the nightly schedule or the command line did.
    requested_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Where the request came from: web, cli or nightly.
    origin: so.Mapped[str] = so.mapped_column(sa.String(16), default="web", server_default="web")
    requested_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    #: The RQ job building it now; a new one for every (re)try asked by a person.
    job_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    #: How many times a build was asked for (the first request, then each retry).
    attempt: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    #: When the job reached the queue; None while Redis could not be reached.
    enqueued_at: so.Mapped[datetime | None]
    started_at: so.Mapped[datetime | None]
    #: Last sign of life from the process building it; a stale one means the worker died.
    heartbeat_at: so.Mapped[datetime | None]
    finished_at: so.Mapped[datetime | None]
    #: host:pid of the process that built (or is building) it, for operators.
    worker: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    #: The moment the data is from, and the last review event it includes.
    as_of: so.Mapped[datetime | None]
    as_of_event_id: so.Mapped[int | None]
    #: Requirements in scope when it was built.
    requirement_count: so.Mapped[int | None]
    size_bytes: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    sha256: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    #: "database" (chunks in summary_chunks) or "folder" (a file in SUMMARY_STORAGE_DIR).
    storage: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    #: File name inside the storage folder, for folder storage.
    storage_path: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    failure_kind: so.Mapped[FailureKind | None] = so.mapped_column(
        str_enum(FailureKind, "summary_failure_kind", constrained=False))
    #: What went wrong, in a line (for failed builds, and for a retry still to come).
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)

    area: so.Mapped[Area | None] = so.relationship(lazy="joined")
    requested_by: so.Mapped[User | None] = so.relationship(lazy="joined")

    @property
    def is_package(self) -> bool:
        return self.kind == SummaryKind.PACKAGE

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def downloadable(self) -> bool:
        return self.status == SummaryStatus.DONE and self.size_bytes is not None

    def __repr__(self) -> str:
        return f"<Summary {self.id} {self.area_id or 'all'} {self.format} {self.status}>"


class SummaryChunk(db.Model):
    """A piece of a summary file stored in the database (the default storage).

    Files are cut into pieces so that writing and serving them needs little memory whatever
    their size, and every web process on every host can serve them.
    """

    __tablename__ = "summary_chunks"

    summary_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("summaries.id", ondelete="CASCADE"), primary_key=True)
    seq: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
