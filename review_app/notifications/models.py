"""Notifications: what is new for a person, written in the transaction of the event itself."""

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
    from review_app.imports.models import ImportBatch
    from review_app.requirements.models import Requirement
    from review_app.summaries.models import Summary


class NotificationKind(enum.StrEnum):
    ASSIGNED = "assigned"            # a requirement was given to you
    RETURNED = "returned"            # your proposal came back, with the lead's comment
    TO_APPROVE = "to_approve"        # a proposal waits for your approval
    SUMMARY_READY = "summary_ready"  # a summary or amendment package you asked for is ready
    SUMMARY_FAILED = "summary_failed"  # ... or its build failed
    IMPORT_DONE = "import_done"      # an import you started has finished


class Notification(db.Model):
    """One thing new for one person; read once they have seen it in the bell or the list."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The bell: "my unread ones, newest first" and "how many", on every page.
        sa.Index("ix_notifications_user_read", "user_id", "read_at", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Whom it is for.
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: so.Mapped[NotificationKind] = so.mapped_column(
        str_enum(NotificationKind, "notification_kind", constrained=False))
    #: Who caused it (the lead who returned, assigned...); None for the system.
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    requirement_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("requirements.id", ondelete="CASCADE"))
    summary_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("summaries.id", ondelete="CASCADE"))
    import_batch_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("import_batches.id", ondelete="CASCADE"))
    #: How many requirements a bulk assignment gave (one notification for all of them).
    item_count: so.Mapped[int | None]
    #: The lead's comment on a return.
    comment: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    #: When the person saw it; None while it is new.
    read_at: so.Mapped[datetime | None]

    actor: so.Mapped[User | None] = so.relationship(foreign_keys=[actor_id])
    requirement: so.Mapped[Requirement | None] = so.relationship()
    summary: so.Mapped[Summary | None] = so.relationship()
    import_batch: so.Mapped[ImportBatch | None] = so.relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} for {self.user_id}>"
