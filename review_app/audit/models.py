"""The audit log: who signed in, who was refused, who changed people, areas or the register.

Review decisions are already recorded in ``review_events``; the audit log holds everything else
an auditor asks about. Both are append-only, in the ORM and in the database itself.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.extensions import db
from review_app.time import utcnow


class AuditAction(enum.StrEnum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    DENIED = "denied"
    IMPORT_APPLIED = "import_applied"
    IMPORT_FAILED = "import_failed"
    EXPORT = "export"
    #: How an export ended: complete (with its row count) or failed (with the reason).
    EXPORT_COMPLETED = "export_completed"
    EXPORT_FAILED = "export_failed"
    USER_CREATED = "user_created"
    USER_UPDATED = "user_updated"
    USER_DEACTIVATED = "user_deactivated"
    USER_REACTIVATED = "user_reactivated"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"
    AREA_CREATED = "area_created"
    AREA_UPDATED = "area_updated"
    TARIFF_CREATED = "tariff_created"
    TARIFF_UPDATED = "tariff_updated"
    #: The programme deadline, an area's deadline or the approval waiting limit changed.
    DEADLINES_CHANGED = "deadlines_changed"
    JUSTIFICATION_CREATED = "justification_created"
    JUSTIFICATION_UPDATED = "justification_updated"
    JUSTIFICATION_RETIRED = "justification_retired"
    JUSTIFICATION_RESTORED = "justification_restored"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    AREA_PUBLISHED = "area_published"
    AREA_UNPUBLISHED = "area_unpublished"


class AuditEntry(db.Model):
    """One thing that happened, outside the review workflow. Inserted, never changed."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        sa.Index("ix_audit_entries_action_created", "action", "created_at"),
        sa.Index("ix_audit_entries_actor_created", "actor_id", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    #: The signed-in person, when there was one (a failed sign-in may name no real account).
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    #: The email as it was at that moment, or as typed on the sign-in form.
    actor_email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    #: What happened: an ``AuditAction`` value (free text, so new kinds need no migration).
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    #: What it happened to: ``user``, ``area``, ``requirement``, ``import`` …, with its id.
    target_type: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    target_id: so.Mapped[int | None]
    #: A human-readable name of the target at that moment (an email, a code).
    target_label: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    #: The area the target belongs to, so the log can be filtered by area.
    area_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("areas.id"), index=True)
    #: Specifics: changed fields (before and after), counts, the refused action, the reason.
    details: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    #: The client's address as the web server saw it.
    ip_address: so.Mapped[str | None] = so.mapped_column(sa.String(64))


class AuditAppendOnlyError(RuntimeError):
    """Someone tried to change or remove an audit entry."""


@sa.event.listens_for(AuditEntry, "before_update")
@sa.event.listens_for(AuditEntry, "before_delete")
def _refuse_rewriting_the_log(_mapper, _connection, target: AuditEntry) -> None:
    raise AuditAppendOnlyError(f"audit entry {target.id} is append-only")
