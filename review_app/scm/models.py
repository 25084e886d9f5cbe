"""Named hourly tariffs the Standard Cost Model prices people's time with, kept by admins."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.extensions import db
from review_app.time import utcnow


class Tariff(db.Model):
    """An hourly cost of labour (by OKED section, by profession ...), with where it comes from."""

    __tablename__ = "scm_tariffs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Stable short name the SCM inputs refer to (and import files write): ``ACCOUNTANT``.
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    #: What it is, as people read it: "Бухгалтер, средняя зарплата (ОКЭД M)".
    name: so.Mapped[str] = so.mapped_column(sa.String(300))
    #: Hourly cost in whole tenge.
    hourly_kzt: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    #: Where the figure comes from (statistics bureau table, survey ...).
    source: so.Mapped[str] = so.mapped_column(sa.String(1000))
    #: The date the source gives the figure for.
    as_of: so.Mapped[date]
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    audit_type = "tariff"

    @property
    def audit_label(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"<Tariff {self.code}>"


class ScmCost(db.Model):
    """The annual cost computed from a requirement's approved SCM inputs (whole tenge), kept
    apart from the wide requirements row, which reads it as ``Requirement.scm_cost_kzt`` etc.

    Apart because a tariff change rewrites thousands of them at once: on PostgreSQL an UPDATE
    of a requirements row also writes new entries into its trigram search index, and 10,000 of
    them took 16 s on the test machine; these narrow rows take 0.1 s. No row: no computed cost.
    """

    __tablename__ = "scm_costs"

    requirement_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("requirements.id"),
                                                      primary_key=True)
    central: so.Mapped[int] = so.mapped_column(sa.BigInteger, index=True)
    low: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    high: so.Mapped[int] = so.mapped_column(sa.BigInteger)
