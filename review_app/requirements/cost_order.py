"""Every requirement's reported cost in one narrow, indexed table, so the list sorts by it.

The cost the reports use (``scm.costs.reported_cost``: the one computed from approved SCM
inputs, in ``scm_costs``, else the imported ``annual_cost_kzt``) spans two tables, and no index
serves an ORDER BY over both: at 1,000,000 requirements one area's unreviewed requirements
sorted by cost took 120-370 ms to list (p95 224 ms over HTTP), every page. Here each
requirement has one row, (requirement, area, reported cost), indexed as the list reads it.

The cost is not a column of ``requirements`` on purpose: a tariff change moves the cost of
thousands of requirements at once, and on PostgreSQL every rewritten requirements row also
rewrites its trigram index entries (``ScmCost`` says what that cost).

It is a cache, like the dashboard's rollups, and every writer keeps it: a session listener
refreshes the rows of requirements whose area or imported estimate changes, or whose computed
cost is written, in the same flush (so the same transaction); writers that bypass the ORM (the
import's COPY and bulk UPDATE, a tariff change's recompute) call :func:`refresh`; the demo seed
calls :func:`rebuild`. :func:`differences` recomputes it and says where it disagrees
(``flask check-history``); :func:`rebuild` replaces it (``flask rebuild-dashboard``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import BinaryExpression
from sqlalchemy.sql.visitors import replacement_traverse

from review_app.extensions import db
from review_app.requirements.models import Requirement
from review_app.scm.models import ScmCost

#: ``CostOrder.reported`` of a requirement with no cost at all: first in an ascending sort,
#: last in a descending one (no NULLs, which keyset pages would trip on).
NO_COST = -1


class CostOrder(db.Model):
    """A requirement's reported annual cost (whole tenge, :data:`NO_COST` when unknown) and its
    area, as the list sorts and filters by them."""

    __tablename__ = "cost_order"
    __table_args__ = (
        # One area sorted by cost (the usual list), and every area sorted by cost or filtered
        # by a minimum cost; the requirement id breaks ties, as the keyset pages do.
        sa.Index("ix_cost_order_area_reported", "area_id", "reported", "requirement_id"),
        sa.Index("ix_cost_order_reported", "reported", "requirement_id"),
    )

    requirement_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("requirements.id", ondelete="CASCADE"), primary_key=True)
    #: A copy of ``Requirement.area_id``: the list's area filter and its sort in one index.
    area_id: so.Mapped[int]
    #: ``coalesce(scm_costs.central, requirements.annual_cost_kzt, -1)``.
    reported: so.Mapped[int] = so.mapped_column(sa.BigInteger)


T = CostOrder.__table__
R = Requirement.__table__
C = ScmCost.__table__

#: Joins a requirement to its row here.
JOIN_ON = T.c.requirement_id == Requirement.id


def at_least(cost: int) -> sa.ColumnElement[bool]:
    """Requirements whose reported cost is at least ``cost`` (the list's ``cost_min``), from
    the indexed copy rather than from the two tables it comes from.

    The area is equated too, so that with the list's area filter PostgreSQL may start from
    the (area, cost, id) index: at 1,000,000 requirements one area's 31 costliest took 0.6 ms
    so, 219 ms walking the whole area checking each (as the cost over two tables did, 195 ms).
    Its own alias: the list sorted by cost joins the table as well.
    """
    row = T.alias("at_least")
    return sa.exists().where(row.c.requirement_id == Requirement.id,
                             row.c.area_id == Requirement.area_id, row.c.reported >= cost)


def on_cost_order(clause: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """``clause`` with the requirement's area read from its row here, when it is a comparison
    of ``Requirement.area_id`` (the list's area filter, the areas a person may see); any
    other clause as it is.

    For a list joined here and sorted by cost: the planner then walks the (area, cost, id)
    index in order, and knows how many rows it meets. With the area filtered on both tables
    (or equated between them) it multiplied the two selectivities, expected 1,127 of an area's
    23,280 unreviewed requirements instead of ~25,000, thought 51 of them far away and started
    two parallel workers to find them: 30 ms of start-up for 9 ms of work.
    """
    left = getattr(clause, "left", None)
    if (isinstance(clause, BinaryExpression) and isinstance(left, sa.ColumnElement)
            and left.shares_lineage(R.c.area_id)):
        return replacement_traverse(clause, {},
                                    lambda element: T.c.area_id if element is left else None)
    return clause


def reported_sql(requirements: sa.FromClause = R, costs: sa.FromClause = C) -> sa.ColumnElement:
    """The value this table keeps, from the tables it is derived from (joined as
    ``scm.costs.with_costs`` joins them)."""
    return sa.func.coalesce(costs.c.central, requirements.c.annual_cost_kzt, NO_COST)


def _derived(where: sa.ColumnElement[bool]) -> sa.Select:
    return (sa.select(R.c.id, R.c.area_id, reported_sql().label("reported"))
            .select_from(R.outerjoin(C, C.c.requirement_id == R.c.id)).where(where))


def _upsert(conn: sa.Connection, where: sa.ColumnElement[bool]) -> None:
    """Write the rows of the requirements matching ``where`` as they are derived now: an
    INSERT ... SELECT ... ON CONFLICT DO UPDATE (PostgreSQL and SQLite) that leaves alone the
    rows already right (no dead row versions for nothing)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(T).from_select(["requirement_id", "area_id", "reported"],
                                         _derived(where))
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["requirement_id"],
        set_={"area_id": stmt.excluded.area_id, "reported": stmt.excluded.reported},
        where=sa.or_(T.c.area_id != stmt.excluded.area_id,
                     T.c.reported != stmt.excluded.reported)))


#: Requirements per statement of :func:`refresh` (their ids travel as one parameter).
CHUNK = 20_000


def _one_of(conn: sa.Connection, column: sa.Column, values: list) -> sa.ColumnElement[bool]:
    """``column IN values`` with the values as one parameter: an array on PostgreSQL, a JSON
    list on SQLite. An expanded IN of 10,000 parameters spent 0.4 s of CPU in SQLAlchemy's
    compiler per tariff change (``bench/scm_bench.py``); one parameter costs nothing."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.literal(values, postgresql.ARRAY(column.type)))
    listed = sa.func.json_each(sa.literal(json.dumps(values))).table_valued("value")
    return column.in_(sa.select(listed.c.value))


def refresh(conn: sa.Connection, requirement_ids: Iterable[int]) -> None:
    """Bring the rows of ``requirement_ids`` in line with their requirement and computed cost
    (after a write that bypassed the ORM). Ids of requirements that no longer exist are
    skipped; their rows went with them (ON DELETE CASCADE, or the session listener)."""
    ids = sorted(set(requirement_ids))
    for start in range(0, len(ids), CHUNK):
        _upsert(conn, _one_of(conn, R.c.id, ids[start:start + CHUNK]))


def refresh_codes(conn: sa.Connection, codes: Iterable[str]) -> None:
    """:func:`refresh` for requirements known by code (the import's new rows, COPYed without
    their ids coming back)."""
    found = sorted(set(codes))
    for start in range(0, len(found), CHUNK):
        _upsert(conn, _one_of(conn, R.c.code, found[start:start + CHUNK]))


# The session listener ------------------------------------------------------------------------

#: The requirement columns the row is derived from (the computed cost comes from ``ScmCost``).
_SOURCES = ("area_id", "annual_cost_kzt")
_PENDING = "cost_order_gone"


@sa.event.listens_for(so.Session, "before_flush")
def _drop_deleted(session: so.Session, _context, _instances) -> None:
    """Delete the rows of requirements the flush deletes, before it does: SQLite enforces no
    ON DELETE CASCADE unless told to."""
    gone = [obj.id for obj in session.deleted
            if isinstance(obj, Requirement) and obj.id is not None]
    if gone:
        session.connection().execute(sa.delete(T).where(T.c.requirement_id.in_(gone)))
        session.info[_PENDING] = set(gone)


@sa.event.listens_for(so.Session, "after_flush")
def _refresh_flushed(session: so.Session, _context) -> None:
    """Refresh the rows of the requirements this flush inserted, moved to another area, gave
    another imported estimate, or whose computed cost it wrote (``workflow.set_scm_cost``)."""
    gone = session.info.pop(_PENDING, set())
    ids: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Requirement):
            ids.add(obj.id)
        elif isinstance(obj, ScmCost):
            ids.add(obj.requirement_id)
    for obj in session.dirty:
        if isinstance(obj, Requirement):
            attrs = sa.inspect(obj).attrs
            if any(attrs[name].history.has_changes() for name in _SOURCES):
                ids.add(obj.id)
        elif isinstance(obj, ScmCost):
            ids.add(obj.requirement_id)
    ids.update(obj.requirement_id for obj in session.deleted if isinstance(obj, ScmCost))
    ids -= gone
    ids.discard(None)  # type: ignore[arg-type]
    if ids:
        refresh(session.connection(), ids)


@sa.event.listens_for(so.Session, "after_rollback")
def _forget(session: so.Session) -> None:
    session.info.pop(_PENDING, None)


# Check and rebuild ---------------------------------------------------------------------------

def differences(session: so.Session, limit: int = 50) -> list[str]:
    """Where the stored rows disagree with the requirements and their computed costs, in
    words (at most ``limit``, and a count of the rest); empty when they agree."""
    derived = _derived(sa.true()).subquery("d")
    stored = T.alias("s")
    wrong = (sa.select(sa.func.coalesce(derived.c.id, stored.c.requirement_id),
                       derived.c.area_id, derived.c.reported, stored.c.area_id,
                       stored.c.reported)
             .select_from(derived.join(stored, stored.c.requirement_id == derived.c.id,
                                       full=True))
             .where(sa.or_(derived.c.id.is_(None), stored.c.requirement_id.is_(None),
                           derived.c.area_id != stored.c.area_id,
                           derived.c.reported != stored.c.reported))
             .order_by(sa.func.coalesce(derived.c.id, stored.c.requirement_id)))
    rows = session.execute(wrong.limit(limit + 1)).all()
    found = [f"cost order of requirement {req_id}: stored "
             f"{'nothing' if s_area is None else f'area {s_area}, cost {s_cost}'}, derived "
             f"{'nothing' if d_area is None else f'area {d_area}, cost {d_cost}'}"
             for req_id, d_area, d_cost, s_area, s_cost in rows[:limit]]
    if len(rows) > limit:
        more = session.scalar(sa.select(sa.func.count()).select_from(wrong.subquery()))
        found.append(f"cost order: {more - limit} more rows disagree")
    return found


def rebuild(session: so.Session) -> None:
    """Replace every row by one derived now (after a bulk write that bypassed the ORM)."""
    session.flush()
    conn = session.connection()
    conn.execute(sa.delete(T))
    conn.execute(sa.insert(T).from_select(["requirement_id", "area_id", "reported"],
                                          _derived(sa.true())))
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ANALYZE cost_order"))
