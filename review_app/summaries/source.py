"""The database as a summary's data source: exact counts from SQL, lists streamed in batches.

Works on one SQLAlchemy ``Connection`` whose transaction is a snapshot (see :func:`snapshot`),
so every section of a summary describes the same moment even while people keep deciding.
Lists are read area by area in code order with ``yield_per``: a server-side cursor on
PostgreSQL, incremental fetching on SQLite — memory stays flat at a million rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo

import sqlalchemy as sa

from review_app.auth.models import AreaMembership, User
from review_app.requirements.models import Area, Requirement, State
from review_app.reviews.models import Action, ReviewEvent
from review_app.scm import costs as scm
from review_app.summaries.report import (
    AreaTally,
    DecidedRow,
    PendingRow,
    ReviewerActivity,
    Scope,
    Tally,
    legal_basis,
)
from review_app.time import utcnow

BATCH = 1_000
R = Requirement.__table__
E = ReviewEvent.__table__


@contextmanager
def snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read-only connection whose queries all see the database as of its first read.

    PostgreSQL: a REPEATABLE READ transaction. SQLite (WAL): an explicit BEGIN, so the
    reads share one read transaction instead of each SELECT seeing the latest commit.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        elif engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            try:
                conn.rollback()
            except sa.exc.DBAPIError:
                # A query was cut off mid-flight (the job's time limit): this connection is
                # unusable, and its error must not hide the one that stopped the build.
                conn.invalidate()


class DatabaseSource:
    """A :class:`~review_app.summaries.report.ReportSource` reading one snapshot connection."""

    def __init__(self, conn: sa.Connection, area_id: int | None, language: str, tz: tzinfo):
        self.conn, self.area_id, self.tz = conn, area_id, tz
        #: The last review event the snapshot contains: "newer decisions" are those after it.
        self.as_of_event_id: int = conn.scalar(sa.select(sa.func.max(E.c.id))) or 0
        as_of = utcnow().replace(tzinfo=UTC).astimezone(tz)
        name_column = getattr(Area, f"name_{language}", Area.name_ru)
        self._areas = [tuple(row) for row in conn.execute(
            sa.select(Area.id, Area.code, sa.func.coalesce(name_column, Area.name_ru))
            .where(sa.true() if area_id is None else Area.id == area_id)
            .order_by(Area.code))]
        if area_id is not None and not self._areas:
            raise LookupError(f"area {area_id} does not exist")
        self._people = {id_: (name, email) for id_, name, email in conn.execute(
            sa.select(User.id, User.display_name, User.email))}
        self._tallies: dict[int, Tally] | None = None
        self.scope = Scope(
            area_code=None if area_id is None else self._areas[0][1],
            area_name=None if area_id is None else self._areas[0][2],
            as_of=as_of, generated_at=as_of, tz=tz)

    # Helpers ---------------------------------------------------------------------------------
    def _name(self, user_id: int | None) -> str:
        return self._people.get(user_id, ("", ""))[0] if user_id else ""

    def _local(self, moment: datetime | None) -> datetime | None:
        return self.scope.local(moment)

    def _in_scope(self) -> sa.ColumnElement[bool]:
        return sa.true() if self.area_id is None else R.c.area_id == self.area_id

    def _stream(self, stmt: sa.Select) -> Iterator[sa.Row]:
        # On the statement, not the connection: Connection.execution_options() changes the
        # connection for good, and the aggregates would then run through server-side cursors
        # with plans tuned for the first rows (many times slower on PostgreSQL).
        result = self.conn.execute(stmt.execution_options(yield_per=BATCH))
        try:
            yield from result
        finally:
            result.close()

    # Counts ----------------------------------------------------------------------------------
    def _area_tallies(self) -> dict[int, Tally]:
        if self._tallies is None:
            tallies = {area_id: Tally() for area_id, _, _ in self._areas}
            # The cost the reports use (scm.reported_cost), its range, the imported estimates
            # beside it, and how many lack SCM inputs: scm.totals_columns, grouped.
            stmt = (sa.select(R.c.area_id, R.c.state, R.c.decision, *scm.totals_columns(R),
                              sa.func.sum(R.c.annual_cost_kzt))
                    .select_from(scm.with_costs(R))
                    .where(self._in_scope())
                    .group_by(R.c.area_id, R.c.state, R.c.decision))
            for row in self.conn.execute(stmt):
                area_id, state, decision = row[:3]
                t = scm.totals_from_row(row[3:10])
                tallies[area_id].add(state, decision, t.requirements, t.central, t.low, t.high,
                                     int(row[10] or 0), t.without_inputs)
            self._tallies = tallies
        return self._tallies

    def tally(self) -> Tally:
        total = Tally()
        for tally in self._area_tallies().values():
            total.merge(tally)
        return total

    def areas(self) -> list[AreaTally]:
        tallies = self._area_tallies()
        return [AreaTally(code, name, tallies[area_id]) for area_id, code, name in self._areas]

    def reviewers(self) -> list[ReviewerActivity]:
        """Everyone who works in the scope's areas or acted on its requirements, by name."""
        events = (sa.select(E.c.actor_id, E.c.action, sa.func.count(), sa.func.max(E.c.created_at))
                  .select_from(E.join(R, R.c.id == E.c.requirement_id))
                  .where(self._in_scope())
                  .group_by(E.c.actor_id, E.c.action))
        counts: dict[int, dict[str, int]] = {}
        last: dict[int, datetime] = {}
        for actor_id, action, count, latest in self.conn.execute(events):
            counts.setdefault(actor_id, {})[action] = count
            if latest is not None and (actor_id not in last or latest > last[actor_id]):
                last[actor_id] = latest
        assigned = dict(self.conn.execute(
            sa.select(R.c.assignee_id, sa.func.count())
            .where(self._in_scope(), R.c.state != State.APPROVED.value,
                   R.c.assignee_id.is_not(None))
            .group_by(R.c.assignee_id)).all())
        members = sa.select(AreaMembership.user_id)
        if self.area_id is not None:
            members = members.where(AreaMembership.area_id == self.area_id)
        people = set(self.conn.scalars(members)) | set(counts) | set(assigned)
        rows = []
        for user_id in people:
            name, email = self._people.get(user_id, ("", ""))
            did = counts.get(user_id, {})
            rows.append(ReviewerActivity(
                name=name, email=email, proposals=did.get(Action.PROPOSE.value, 0),
                approvals=did.get(Action.APPROVE.value, 0), returns=did.get(Action.RETURN.value, 0),
                reopens=did.get(Action.REOPEN.value, 0), comments=did.get(Action.COMMENT.value, 0),
                assigned_open=assigned.get(user_id, 0), last_active=self._local(last.get(user_id))))
        rows.sort(key=lambda p: (p.name.casefold(), p.email))
        return rows

    # Lists -----------------------------------------------------------------------------------
    def _decided_columns(self, with_wording: bool) -> list:
        columns = [R.c.code, R.c.title, R.c.legal_act, R.c.legal_act_ref, R.c.article,
                   R.c.issuing_body, R.c.annual_cost_kzt, R.c.justification,
                   R.c.deviation_reason, R.c.proposed_by_id, R.c.proposed_at, R.c.decided_by_id,
                   R.c.decided_at, *scm.cost_columns()]
        if with_wording:
            columns += [R.c.text, R.c.new_wording]
        return columns

    def _decided_row(self, area_code: str, row: sa.Row, with_wording: bool) -> DecidedRow:
        return DecidedRow(
            area_code, row.code, row.title,
            legal_basis(row.legal_act, row.legal_act_ref, row.article), row.issuing_body or "",
            row.annual_cost_kzt, row.justification or "", row.deviation_reason or "",
            self._name(row.proposed_by_id), self._local(row.proposed_at),
            self._name(row.decided_by_id), self._local(row.decided_at),
            row.text if with_wording else "", (row.new_wording or "") if with_wording else "",
            row.scm_cost_kzt, row.scm_cost_low_kzt, row.scm_cost_high_kzt)

    def decided(self, decision: str) -> Iterator[DecidedRow]:
        wording = decision == "revise"
        columns = self._decided_columns(wording)
        for area_id, code, _ in self._areas:
            stmt = (sa.select(*columns).select_from(scm.with_costs(R))
                    .where(R.c.area_id == area_id, R.c.state == State.APPROVED.value,
                           R.c.decision == decision)
                    .order_by(R.c.code))
            for row in self._stream(stmt):
                yield self._decided_row(code, row, wording)

    def pending(self) -> Iterator[PendingRow]:
        for area_id, code, _ in self._areas:
            stmt = (sa.select(R.c.code, R.c.title, R.c.state, R.c.decision, R.c.assignee_id,
                              R.c.proposed_by_id, R.c.updated_at, R.c.annual_cost_kzt,
                              *scm.cost_columns())
                    .select_from(scm.with_costs(R))
                    .where(R.c.area_id == area_id, R.c.state != State.APPROVED.value)
                    .order_by(R.c.code))
            for row in self._stream(stmt):
                proposed = row.proposed_by_id if row.state != State.UNREVIEWED.value else None
                yield PendingRow(code, row.code, row.title, row.state, row.decision or "",
                                 self._name(row.assignee_id), self._name(proposed),
                                 self._local(row.updated_at), row.annual_cost_kzt,
                                 row.scm_cost_kzt, row.scm_cost_low_kzt, row.scm_cost_high_kzt)

    def largest(self, decision: str, limit: int) -> list[DecidedRow]:
        codes = {area_id: code for area_id, code, _ in self._areas}
        cost = sa.func.coalesce(scm.COSTS.c.central, R.c.annual_cost_kzt)  # reported_cost
        stmt = (sa.select(R.c.area_id, *self._decided_columns(False))
                .select_from(scm.with_costs(R))
                .where(self._in_scope(), R.c.state == State.APPROVED.value,
                       R.c.decision == decision, cost.is_not(None))
                .order_by(cost.desc(), R.c.code)
                .limit(limit))
        return [self._decided_row(codes[row.area_id], row, False)
                for row in self.conn.execute(stmt)]
