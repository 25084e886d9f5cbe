"""The append-only history of every change to a requirement's review data."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.dbtypes import str_enum
from review_app.extensions import db
from review_app.requirements.models import Decision, State
from review_app.time import utcnow

if TYPE_CHECKING:
    from review_app.auth.models import User
    from review_app.requirements.models import Requirement


class Action(enum.StrEnum):
    PROPOSE = "propose"
    APPROVE = "approve"
    RETURN = "return"
    REOPEN = "reopen"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    COMMENT = "comment"
    #: An import replaced the text; the event keeps the old one (``text``) and the new one.
    WORDING_CHANGED = "wording_changed"
    #: An import changed other fields (cost, title, legal basis ...) but not the text; the
    #: event's ``changes`` holds each one, old and new.
    IMPORT_CHANGED = "import_changed"
    #: Standard Cost Model inputs proposed (``changes["scm_inputs"]``: [current, proposed]).
    SCM_PROPOSE = "scm_propose"
    #: Proposed SCM inputs approved on their own (``changes``: the cost, old and new).
    SCM_APPROVE = "scm_approve"
    #: A tariff changed and the computed cost with it (``changes``: the cost, old and new).
    SCM_RECOMPUTE = "scm_recompute"


class AppendOnlyError(RuntimeError):
    """Someone tried to change or remove history."""


class ReviewEvent(db.Model):
    """One thing that happened to a requirement. Inserted, never updated or deleted."""

    __tablename__ = "review_events"
    __table_args__ = (sa.Index("ix_review_events_requirement", "requirement_id", "id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    requirement_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("requirements.id"))
    #: Who did it.
    actor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    #: What was done (free-form string column so new actions need no schema change).
    action: so.Mapped[Action] = so.mapped_column(
        str_enum(Action, "action", constrained=False))
    from_state: so.Mapped[State | None] = so.mapped_column(str_enum(State, "from_state"))
    to_state: so.Mapped[State | None] = so.mapped_column(str_enum(State, "to_state"))
    decision: so.Mapped[Decision | None] = so.mapped_column(str_enum(Decision, "event_decision"))
    #: The proposer's justification, or the lead's / commenter's comment.
    text: so.Mapped[str | None] = so.mapped_column(sa.Text)
    new_wording: so.Mapped[str | None] = so.mapped_column(sa.Text)
    test_legal: so.Mapped[bool | None]
    test_necessary: so.Mapped[bool | None]
    test_business_friendly: so.Mapped[bool | None]
    deviation_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: For assignment events: who the requirement was given to.
    assignee_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    #: What an import changed besides the text: ``{column name: [old, new]}`` in the import
    #: file's column order (``area_code`` for the area). The text itself is in ``text`` (old)
    #: and ``new_wording`` (new) of a WORDING_CHANGED event, as before.
    changes: so.Mapped[dict[str, list[Any]] | None] = so.mapped_column(sa.JSON)
    #: The requirement's version this event produced.
    version: so.Mapped[int | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)

    requirement: so.Mapped[Requirement] = so.relationship(back_populates="events")
    actor: so.Mapped[User] = so.relationship(foreign_keys=[actor_id], lazy="joined")
    assignee: so.Mapped[User | None] = so.relationship(foreign_keys=[assignee_id])


class IndependentProposal(db.Model):
    """One reviewer's own proposal in a dual-review round, kept apart until both are in.

    The review event records the same proposal for history; this row is what the lead compares
    and what agreement statistics are computed from.
    """

    __tablename__ = "independent_proposals"
    __table_args__ = (sa.UniqueConstraint("requirement_id", "review_round", "reviewer_id",
                                          name="uq_independent_proposal_round_reviewer"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    requirement_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("requirements.id"),
                                                      index=True)
    #: The requirement's review round this proposal belongs to.
    review_round: so.Mapped[int]
    reviewer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    decision: so.Mapped[Decision] = so.mapped_column(str_enum(Decision, "blind_decision"))
    test_legal: so.Mapped[bool]
    test_necessary: so.Mapped[bool]
    test_business_friendly: so.Mapped[bool]
    justification: so.Mapped[str] = so.mapped_column(sa.Text)
    new_wording: so.Mapped[str | None] = so.mapped_column(sa.Text)
    deviation_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    reviewer: so.Mapped[User] = so.relationship(lazy="joined")


@sa.event.listens_for(ReviewEvent, "before_update")
@sa.event.listens_for(ReviewEvent, "before_delete")
def _refuse_rewriting_history(_mapper, _connection, target: ReviewEvent) -> None:
    raise AppendOnlyError(f"review event {target.id} is append-only")
