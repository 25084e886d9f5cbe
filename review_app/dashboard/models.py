"""The dashboard's data: rollups derived from the review history, and the deadlines.

The rollups are caches, like a requirement's review data: ``rollups.rebuild`` recounts them from
the requirements and their events, and ``rollups.differences`` proves they agree.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.extensions import db
from review_app.time import utcnow

#: ``AreaTally.decision`` for requirements without a decision (SQL NULL cannot be in a key).
NO_DECISION = ""


class AreaTally(db.Model):
    """How many requirements of an area are in a state with a decision, and what they weigh.

    At most 44 areas x 4 states x 4 decisions rows: the dashboard's totals are a sum over a few
    hundred rows instead of a scan of every requirement.
    """

    __tablename__ = "dashboard_tallies"

    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), primary_key=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    #: The decision value, or :data:`NO_DECISION`.
    decision: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    requirements: so.Mapped[int] = so.mapped_column(default=0)
    #: Sum of the reported annual compliance cost (tenge) of these requirements, the figure
    #: every report uses (``scm.costs.reported_cost``: computed from approved SCM inputs where
    #: there are some, else the imported estimate), with its low and high ends.
    cost_kzt: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    cost_low_kzt: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    cost_high_kzt: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    #: How many of them have no computed cost (no approved SCM inputs): their share of the
    #: sums is the imported estimate, or nothing; a total says so rather than being silently
    #: partial.
    without_inputs: so.Mapped[int] = so.mapped_column(default=0)
    #: Sum of the businesses affected by these requirements.
    businesses: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


class DailyActivity(db.Model):
    """Review events of one area on one day (UTC), by what they did to the requirement."""

    __tablename__ = "dashboard_days"

    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), primary_key=True)
    day: so.Mapped[date] = so.mapped_column(primary_key=True)
    #: Proposals that reached the lead (a first independent proposal under dual review waits
    #: for the second one and is not counted).
    proposed: so.Mapped[int] = so.mapped_column(default=0)
    approved: so.Mapped[int] = so.mapped_column(default=0)
    returned: so.Mapped[int] = so.mapped_column(default=0)
    #: Approved decisions taken back (reopened, or sent back by a new wording from an import):
    #: approved minus reopened, summed over all days, is the number approved now.
    reopened: so.Mapped[int] = so.mapped_column(default=0)


class WaitingDay(db.Model):
    """Proposals of an area now waiting for the lead, by the (UTC) day they were proposed:
    "waiting longer than N days" is a sum over the days before a cutoff, not a count of the
    register's waiting rows (141,600 of them at 1,000,000 requirements took 57 ms)."""

    __tablename__ = "dashboard_waiting"

    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), primary_key=True)
    day: so.Mapped[date] = so.mapped_column(primary_key=True)
    proposals: so.Mapped[int] = so.mapped_column(default=0)


class AreaDeadline(db.Model):
    """When an area's review must be complete (set by admins, audited)."""

    __tablename__ = "area_deadlines"

    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id"), primary_key=True)
    deadline: so.Mapped[date]
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)


class ProgrammeSettings(db.Model):
    """The programme's one row of settings: its deadline and when a lead's approval is late."""

    __tablename__ = "programme_settings"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: The whole programme's deadline; an area without its own deadline has this one.
    deadline: so.Mapped[date | None]
    #: A proposal waiting longer than this many days for the lead is flagged as late.
    approval_wait_days: so.Mapped[int] = so.mapped_column(default=5, server_default="5")
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
