"""An import: the uploaded file (kept in the database, so any web host or worker can read it)
and what its analysis found, from upload through preview to the admin's confirmation."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.dbtypes import str_enum
from review_app.extensions import db
from review_app.time import utcnow

if TYPE_CHECKING:
    from review_app.auth.models import User


class ImportStatus(enum.StrEnum):
    #: Waiting for a background worker to analyse it.
    QUEUED = "queued"
    ANALYSING = "analysing"
    #: Analysed, no errors: the admin may confirm.
    READY = "ready"
    #: Analysed, with errors: nothing can be imported from this file.
    INVALID = "invalid"
    #: Confirmed; being written (in one transaction).
    APPLYING = "applying"
    APPLIED = "applied"
    #: Something unexpected stopped the analysis or the import; nothing was written.
    FAILED = "failed"
    DISCARDED = "discarded"


#: States in which a worker or request is still busy with the file.
BUSY = frozenset({ImportStatus.QUEUED, ImportStatus.ANALYSING, ImportStatus.APPLYING})


class ImportBatch(db.Model):
    __tablename__ = "import_batches"

    audit_type = "import"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: The file name as uploaded (shown, never used as a path).
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    size_bytes: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    #: SHA-256 of the file, to recognise the same file uploaded again.
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    #: What the admin chose on the form: "auto" or a specific encoding / separator.
    encoding_choice: so.Mapped[str] = so.mapped_column(sa.String(16), default="auto")
    delimiter_choice: so.Mapped[str] = so.mapped_column(sa.String(16), default="auto")
    status: so.Mapped[ImportStatus] = so.mapped_column(
        str_enum(ImportStatus, "import_status", constrained=False), default=ImportStatus.QUEUED,
        index=True)
    #: Counts from the latest analysis (or, once applied, from the import itself).
    total_rows: so.Mapped[int | None]
    new_count: so.Mapped[int | None]
    changed_count: so.Mapped[int | None]
    unchanged_count: so.Mapped[int | None]
    #: Requirements with a decision whose text changes: they go back to review.
    rereview_count: so.Mapped[int | None]
    error_count: so.Mapped[int | None]
    #: Format, encoding, header, the errors and warnings (capped) and samples of the changes.
    report: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    #: Why the analysis or import failed unexpectedly.
    failure: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    analysed_at: so.Mapped[datetime | None]
    #: When the current analysis or import began (to notice one whose request was cut off).
    started_at: so.Mapped[datetime | None]
    applied_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    applied_at: so.Mapped[datetime | None]

    created_by: so.Mapped[User] = so.relationship(foreign_keys=[created_by_id])
    applied_by: so.Mapped[User | None] = so.relationship(foreign_keys=[applied_by_id])

    @property
    def audit_label(self) -> str:
        return f"#{self.id} {self.filename}"

    @property
    def busy(self) -> bool:
        return self.status in BUSY

    def __repr__(self) -> str:
        return f"<ImportBatch {self.id} {self.status}>"


class ImportFileChunk(db.Model):
    """One piece (up to 1 MiB) of an uploaded file, so neither side holds it whole in memory."""

    __tablename__ = "import_file_chunks"

    batch_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("import_batches.id", ondelete="CASCADE"), primary_key=True)
    seq: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
