"""Regulatory areas and the mandatory requirements under review."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.dbtypes import str_enum
from review_app.extensions import db
from review_app.scm.models import ScmCost
from review_app.time import utcnow

if TYPE_CHECKING:
    from review_app.auth.models import User
    from review_app.reviews.models import ReviewEvent


class State(enum.StrEnum):
    UNREVIEWED = "unreviewed"
    PROPOSED = "proposed"
    RETURNED = "returned"
    APPROVED = "approved"


class Decision(enum.StrEnum):
    CANCEL = "cancel"
    REVISE = "revise"
    KEEP = "keep"


def search_key(text: str) -> str:
    """Fold text for search the same way on every database: Unicode case-folding, ё as е.

    SQLite's ``lower()`` only knows ASCII, so we fold in Python and store the result.
    """
    return text.casefold().replace("ё", "е")


class Area(db.Model):
    __tablename__ = "areas"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Two-digit code, ``01``..``44``.
    code: so.Mapped[str] = so.mapped_column(sa.String(8), unique=True)
    name_kk: so.Mapped[str] = so.mapped_column(sa.String(300))
    name_ru: so.Mapped[str] = so.mapped_column(sa.String(300))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    description: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: Dual review: a requirement reaches the lead only after two different reviewers proposed
    #: independently (neither sees the other's proposal before submitting their own).
    dual_review: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    #: Open data: when an admin published the area's final decisions (None: not published).
    published_at: so.Mapped[datetime | None]

    def name(self, language: str) -> str:
        """The area's name in ``language``, falling back to Russian."""
        return getattr(self, f"name_{language}", None) or self.name_ru

    def __repr__(self) -> str:
        return f"<Area {self.code}>"


class Requirement(db.Model):
    __tablename__ = "requirements"
    __table_args__ = (
        sa.Index("ix_requirements_area_state", "area_id", "state"),
        sa.Index("ix_requirements_area_code", "area_id", "code"),
        sa.Index("ix_requirements_area_state_proposed", "area_id", "state", "proposed_at"),
        sa.Index("ix_requirements_area_assignee", "area_id", "assignee_id"),
        # The dashboard: the oldest proposals nationally and the late ones per area (covering),
        # and the ones sent back repeatedly.
        sa.Index("ix_requirements_state_proposed", "state", "proposed_at", "area_id"),
        sa.Index("ix_requirements_review_round", "review_round"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Stable external identifier from the ministries' inventories.
    code: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"))
    title: so.Mapped[str] = so.mapped_column(sa.String(1000))
    #: Full wording of the requirement as given.
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    #: Legal basis: the act's name, its number and date, and the article.
    legal_act: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    legal_act_ref: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    article: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    #: State body that imposes the requirement.
    issuing_body: so.Mapped[str | None] = so.mapped_column(sa.String(500), index=True)
    #: Business activity (OKED code).
    oked: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    #: Estimated annual compliance cost for all affected businesses, in tenge.
    annual_cost_kzt: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    businesses_affected: so.Mapped[int | None]
    # Standard Cost Model (review_app/scm). -----------------------------------------------------
    #: The approved SCM inputs (``scm.compute.Action.to_json`` dicts); the reports use the cost
    #: computed from them (``scm.reported_cost``).
    scm_inputs: so.Mapped[list | None] = so.mapped_column(sa.JSON)
    #: The cost computed from them lives in ``scm_costs`` (see ``ScmCost``); read here as
    #: ``scm_cost_kzt``, ``scm_cost_low_kzt``, ``scm_cost_high_kzt`` (below the class).
    #: Inputs proposed by a reviewer or lead, waiting for a lead's approval.
    scm_proposal: so.Mapped[list | None] = so.mapped_column(sa.JSON)
    scm_proposed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    #: Case-folded code + title + text, for search that works on Cyrillic everywhere.
    search_text: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    # Review data: a cache of the latest review events. ---------------------------------------
    state: so.Mapped[State] = so.mapped_column(str_enum(State, "state"), default=State.UNREVIEWED,
                                               index=True)
    decision: so.Mapped[Decision | None] = so.mapped_column(str_enum(Decision, "decision"),
                                                            index=True)
    justification: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: The three guillotine tests: is it legal, necessary, business-friendly?
    test_legal: so.Mapped[bool | None]
    test_necessary: so.Mapped[bool | None]
    test_business_friendly: so.Mapped[bool | None]
    #: Why the decision differs from what the tests suggest, when it does.
    deviation_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    #: Proposed new wording, for *revise*.
    new_wording: so.Mapped[str | None] = so.mapped_column(sa.Text)
    proposed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    proposed_at: so.Mapped[datetime | None]
    #: The lead who approved or returned the latest proposal.
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    decided_at: so.Mapped[datetime | None]
    assignee_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    #: Counts review rounds: a return or reopen starts a new one (dual review collects two
    #: independent proposals per round).
    review_round: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    #: Dual review: the two independent proposals of this round disagree; the lead resolves it.
    conflict: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    #: Optimistic concurrency: bumped on every change; forms carry the version they showed.
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow,
                                                       index=True)

    area: so.Mapped[Area] = so.relationship(lazy="joined", innerjoin=True)
    assignee: so.Mapped[User | None] = so.relationship(foreign_keys=[assignee_id])
    proposed_by: so.Mapped[User | None] = so.relationship(foreign_keys=[proposed_by_id])
    decided_by: so.Mapped[User | None] = so.relationship(foreign_keys=[decided_by_id])
    scm_proposed_by: so.Mapped[User | None] = so.relationship(foreign_keys=[scm_proposed_by_id])
    events: so.Mapped[list[ReviewEvent]] = so.relationship(
        back_populates="requirement", order_by="ReviewEvent.id", viewonly=True
    )

    __mapper_args__ = {"version_id_col": version}

    def refresh_search_text(self) -> None:
        self.search_text = search_key(f"{self.code}\n{self.title}\n{self.text}")

    def __repr__(self) -> str:
        return f"<Requirement {self.code}>"


def _computed_cost(column: sa.Column) -> so.ColumnProperty:
    return so.column_property(
        sa.select(column).where(ScmCost.requirement_id == Requirement.id)
        .correlate_except(ScmCost).scalar_subquery())


#: The annual cost computed from the approved SCM inputs and its range (None: no computed cost);
#: written by ``workflow.set_scm_cost`` and ``scm.service.recompute`` into ``scm_costs``.
Requirement.scm_cost_kzt = _computed_cost(ScmCost.central)
Requirement.scm_cost_low_kzt = _computed_cost(ScmCost.low)
Requirement.scm_cost_high_kzt = _computed_cost(ScmCost.high)


@sa.event.listens_for(Requirement, "before_insert")
@sa.event.listens_for(Requirement, "before_update")
def _keep_search_text(_mapper, _connection, target: Requirement) -> None:
    target.refresh_search_text()
