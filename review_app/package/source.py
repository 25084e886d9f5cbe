"""The amendment package read from the database: approved cancellations and revisions, grouped
by issuing body, legal act and article, streamed in that order.

No Flask and no RQ: the worker's build and the page both read it through a SQLAlchemy
connection (the worker's is a snapshot, so the whole file describes one moment). Rows are
streamed with ``yield_per`` (a server-side cursor on PostgreSQL), so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

import sqlalchemy as sa

from review_app.auth.models import User
from review_app.requirements.models import Area, Decision, Requirement, State

BATCH = 1_000
R = Requirement.__table__
#: The decisions that change the law: the package lists these, approved.
AMENDING = (Decision.CANCEL.value, Decision.REVISE.value)


@dataclass(frozen=True)
class PackageFilter:
    """Which part of the package: one area (None: every area), one issuing body, one act."""

    area_id: int | None = None
    issuing_body: str | None = None
    legal_act: str | None = None

    def where(self) -> sa.ColumnElement[bool]:
        clauses = [R.c.state == State.APPROVED.value, R.c.decision.in_(AMENDING)]
        if self.area_id is not None:
            clauses.append(R.c.area_id == self.area_id)
        if self.issuing_body:
            clauses.append(R.c.issuing_body == self.issuing_body)
        if self.legal_act:
            clauses.append(R.c.legal_act == self.legal_act)
        return sa.and_(*clauses)


@dataclass(frozen=True)
class PackageRow:
    """One requirement to repeal or reword, where it sits in the law and who decided it."""

    issuing_body: str
    legal_act: str
    legal_act_ref: str
    article: str
    area_code: str
    code: str
    title: str
    decision: str
    text: str
    new_wording: str
    justification: str
    approved_by: str
    approved_at: datetime | None
    requirement_id: int = 0


@dataclass(frozen=True)
class ActCount:
    """How many articles of one act of one body are cancelled and revised."""

    issuing_body: str
    legal_act: str
    legal_act_ref: str
    cancel: int
    revise: int

    @property
    def total(self) -> int:
        return self.cancel + self.revise


#: Body, then act: requirements without one sort last, under their own heading.
_ACT_ORDER = (sa.func.coalesce(R.c.issuing_body, "\uffff"),
              sa.func.coalesce(R.c.legal_act, "\uffff"), R.c.legal_act_ref)


def _ordered(stmt: sa.Select) -> sa.Select:
    return stmt.order_by(*_ACT_ORDER, R.c.article, R.c.code)


class PackageSource:
    """The package under ``flt`` as seen by ``conn``; times shown in ``tz``."""

    def __init__(self, conn: sa.Connection, flt: PackageFilter, tz: tzinfo):
        self.conn, self.filter, self.tz = conn, flt, tz
        self.as_of = datetime.now(UTC).astimezone(tz)
        self._people: dict[int, str] | None = None
        self._areas: dict[int, str] | None = None

    def _local(self, moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        return moment.replace(tzinfo=UTC).astimezone(self.tz).replace(tzinfo=None)

    def people(self) -> dict[int, str]:
        if self._people is None:
            self._people = dict(self.conn.execute(sa.select(User.id, User.display_name)).all())
        return self._people

    def area_codes(self) -> dict[int, str]:
        if self._areas is None:
            self._areas = dict(self.conn.execute(sa.select(Area.id, Area.code)).all())
        return self._areas

    def acts(self) -> list[ActCount]:
        """Per body and act, how many requirements are cancelled and revised."""
        is_cancel = sa.case((R.c.decision == Decision.CANCEL.value, 1), else_=0)
        stmt = (sa.select(R.c.issuing_body, R.c.legal_act, R.c.legal_act_ref,
                          sa.func.sum(is_cancel), sa.func.count())
                .where(self.filter.where())
                .group_by(R.c.issuing_body, R.c.legal_act, R.c.legal_act_ref)
                .order_by(*_ACT_ORDER))
        return [ActCount(body or "", act or "", ref or "", int(cancel or 0),
                         int(count) - int(cancel or 0))
                for body, act, ref, cancel, count in self.conn.execute(stmt)]

    def count(self) -> int:
        return self.conn.scalar(sa.select(sa.func.count()).select_from(R)
                                .where(self.filter.where())) or 0

    def rows(self, limit: int | None = None) -> Iterator[PackageRow]:
        """The requirements in package order, streamed (the first ``limit`` only, if given)."""
        people, areas = self.people(), self.area_codes()
        stmt = _ordered(sa.select(
            R.c.issuing_body, R.c.legal_act, R.c.legal_act_ref, R.c.article, R.c.area_id,
            R.c.code, R.c.title, R.c.decision, R.c.text, R.c.new_wording, R.c.justification,
            R.c.decided_by_id, R.c.decided_at, R.c.id).where(self.filter.where()))
        if limit is not None:
            stmt = stmt.limit(limit)
        result = self.conn.execute(stmt.execution_options(yield_per=BATCH))
        try:
            for row in result:
                yield PackageRow(
                    row.issuing_body or "", row.legal_act or "", row.legal_act_ref or "",
                    row.article or "", areas.get(row.area_id, ""), row.code, row.title,
                    row.decision, row.text, row.new_wording or "", row.justification or "",
                    people.get(row.decided_by_id, "") if row.decided_by_id else "",
                    self._local(row.decided_at), row.id)
        finally:
            result.close()


def choices(conn: sa.Connection, area_ids: set[int] | None, column: sa.Column,
            limit: int = 500) -> list[str]:
    """The distinct non-empty values of ``column`` (issuing body or act) among the approved
    cancellations and revisions in ``area_ids`` (None: all areas), for the filter lists."""
    stmt = (sa.select(column).distinct()
            .where(R.c.state == State.APPROVED.value, R.c.decision.in_(AMENDING),
                   column.is_not(None), column != "")
            .order_by(column).limit(limit))
    if area_ids is not None:
        stmt = stmt.where(R.c.area_id.in_(area_ids or {0}))
    return list(conn.scalars(stmt))
