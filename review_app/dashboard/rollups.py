"""Keep the dashboard's rollups current as requirements change and events are appended.

A session listener sees every Requirement inserted, changed or deleted and every ReviewEvent
added through the ORM (which is how ``reviews.workflow`` appends them), and adds the difference
to ``dashboard_tallies`` / ``dashboard_days`` in the same flush, so the same transaction: the
counts commit or roll back with the change itself, and the dashboard never scans the register
or the history. Writers that bypass the ORM (the import's bulk insert, the demo seed) call
:func:`add_requirements` or :func:`rebuild`; a tariff change's bulk recomputation calls
:func:`move_costs`.

The money in the tallies is the reported cost (``scm.costs.reported_cost``: the cost computed
from approved SCM inputs, kept in ``scm_costs``, else the imported ``annual_cost_kzt``), with its
range and the number of requirements without a computed cost. So the listener also watches the
``ScmCost`` rows: a requirement whose computed cost changes in a flush (or whose values before
the flush the session does not hold) is read from the database before the flush and again after
it, and the difference is what it adds.

:func:`differences` recounts everything from the requirements and the events and lists where
the rollups disagree (``flask check-history`` runs it).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite

from review_app.dashboard.models import NO_DECISION, AreaTally, DailyActivity, WaitingDay
from review_app.requirements.models import Requirement, State
from review_app.reviews.models import Action, ReviewEvent
from review_app.scm import costs
from review_app.scm.models import ScmCost
from review_app.time import utcnow

TallyKey = tuple[int, str, str]  # area_id, state, decision
#: The counters of ``dashboard_tallies``, in order (``stored_tallies`` and the recount).
TALLY = ("requirements", "cost_kzt", "cost_low_kzt", "cost_high_kzt", "without_inputs",
         "businesses")
DayKey = tuple[int, date]
#: The activity columns of ``dashboard_days``, in order.
KINDS = ("proposed", "approved", "returned", "reopened")
_PENDING = "dashboard_rollups"


def tally_key(area_id: int, state: Any, decision: Any) -> TallyKey:
    state = State(state) if state is not None else State.UNREVIEWED
    return (area_id, state.value, decision.value if hasattr(decision, "value")
            else (decision or NO_DECISION))


def event_kind(action: Any, from_state: Any, to_state: Any) -> str | None:
    """Which activity column an event counts in, or None."""
    action = Action(action)
    if action == Action.PROPOSE and to_state == State.PROPOSED:
        return "proposed"
    if action == Action.APPROVE:
        return "approved"
    if action == Action.RETURN:
        return "returned"
    if from_state == State.APPROVED and to_state not in (None, State.APPROVED):
        return "reopened"
    return None


def _weights(values: Mapping[str, Any], sign: int) -> tuple[int, ...]:
    """What one requirement adds to its tally, in :data:`TALLY` order: ``values`` has the
    ``_TRACKED`` columns and the computed cost (``_SCM``, None without approved inputs)."""
    cost = costs.reported_cost(values)
    return (sign, sign * (cost.central or 0), sign * (cost.low or 0), sign * (cost.high or 0),
            sign * (cost.source != costs.SOURCE_SCM),
            sign * (values.get("businesses_affected") or 0))


class _Pending:
    def __init__(self) -> None:
        self.tallies: dict[TallyKey, list[int]] = {}
        self.days: dict[DayKey, Counter] = {}
        self.waits: dict[DayKey, int] = {}
        #: Requirements read from the database before the flush, to be read again after it.
        self.recheck: set[int] = set()

    def tally(self, key: TallyKey, weights: Sequence[int]) -> None:
        sums = self.tallies.get(key)
        if sums is None:
            self.tallies[key] = list(weights)
        else:
            for i, w in enumerate(weights):
                sums[i] += w

    def day(self, key: DayKey, kind: str) -> None:
        self.days.setdefault(key, Counter())[kind] += 1

    def waiting(self, values: Mapping[str, Any], sign: int) -> None:
        if values.get("state") == State.PROPOSED and values.get("proposed_at") is not None:
            key = (values["area_id"], _day(values["proposed_at"]))
            self.waits[key] = self.waits.get(key, 0) + sign


_TRACKED = ("area_id", "state", "decision", "annual_cost_kzt", "businesses_affected",
            "proposed_at")
#: The computed cost as ``Requirement`` reads it from ``scm_costs`` (None: no approved inputs).
_SCM = ("scm_cost_kzt", "scm_cost_low_kzt", "scm_cost_high_kzt")
_NO_SCM = dict.fromkeys(_SCM)


@sa.event.listens_for(so.Session, "before_flush")
def _collect(session: so.Session, _context, _instances) -> None:
    pending: _Pending = session.info.setdefault(_PENDING, _Pending())
    # Requirements whose computed cost this flush writes (workflow.set_scm_cost): read
    # before and after the flush, with everything else about them that changes too.
    # (With any a flush read before but did not reach ``_apply``: their "before" is counted.)
    recheck = {obj.requirement_id for group in (session.new, session.dirty, session.deleted)
               for obj in group if isinstance(obj, ScmCost)} | pending.recheck
    for obj in session.new:
        if isinstance(obj, Requirement):
            if obj.id is not None and obj.id in recheck:
                continue  # inserted with its cost in one flush: counted after it
            values = {**{c: getattr(obj, c) for c in _TRACKED}, **_NO_SCM}
            pending.tally(tally_key(obj.area_id, obj.state, obj.decision),
                          _weights(values, 1))
            pending.waiting(values, 1)
        elif isinstance(obj, ReviewEvent):
            _collect_event(session, pending, obj)
    for obj in session.dirty:
        if (not isinstance(obj, Requirement) or obj.id in recheck
                or not _tracked_change(obj)):
            continue
        known = _old_and_new(obj)
        if known is None:
            # An attribute set while expired (or never loaded) has no "before" in the
            # session: what the database holds now is.
            recheck.add(obj.id)
        else:
            _move(pending, *known)
    recheck.update(obj.id for obj in session.deleted if isinstance(obj, Requirement))
    fresh = recheck - pending.recheck
    if fresh:
        # One query for the flush, not one per object; the same one after it (``_apply``).
        for values in _read(session.connection(), fresh):
            _count(pending, values, -1)
        pending.recheck |= fresh


def _read(conn: sa.Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    """The tracked values and computed cost of requirements ``ids`` as the database holds them
    (the ones that exist)."""
    table, ids = Requirement.__table__, sorted(ids)
    found = []
    for start in range(0, len(ids), 5000):
        found += [row._asdict() for row in conn.execute(
            sa.select(*(table.c[c] for c in _TRACKED), *costs.cost_columns())
            .select_from(costs.with_costs(table))
            .where(table.c.id.in_(ids[start:start + 5000])))]
    return found


def _count(pending: _Pending, values: Mapping[str, Any], sign: int) -> None:
    pending.tally(tally_key(values["area_id"], values["state"], values["decision"]),
                  _weights(values, sign))
    pending.waiting(values, sign)


def _old_and_new(obj: Requirement) -> tuple[dict, dict] | None:
    """The tracked values and the computed cost before and after, from the session's own
    history (the usual case: the workflow loaded the requirement, and its cost with it); None
    when one of them was never loaded (or was expired, as after a flush)."""
    attrs = sa.inspect(obj).attrs
    old, new = {}, {}
    for name in _TRACKED + _SCM:
        history = attrs[name].history
        if history.deleted:
            old[name], new[name] = history.deleted[0], (history.added or [None])[0]
        elif history.unchanged:
            old[name] = new[name] = history.unchanged[0]
        else:
            return None
    return old, new


def _move(pending: _Pending, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    _count(pending, old, -1)
    _count(pending, new, 1)


def _tracked_change(obj: Requirement) -> bool:
    attrs = sa.inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in _TRACKED)


def _collect_event(session: so.Session, pending: _Pending, event: ReviewEvent) -> None:
    kind = event_kind(event.action, event.from_state, event.to_state)
    if kind is None:
        return
    if event.created_at is None:
        event.created_at = utcnow()  # the column default, fixed now so the day agrees
    req = event.requirement
    if req is None and event.requirement_id is not None:  # added by id only: one lookup
        req = session.get(Requirement, event.requirement_id)
    if req is not None:
        pending.day((req.area_id, event.created_at.date()), kind)


@sa.event.listens_for(so.Session, "after_flush")
def _apply(session: so.Session, _context) -> None:
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is None:
        return
    if pending.recheck:
        for values in _read(session.connection(), pending.recheck):
            _count(pending, values, 1)
    if pending.tallies or pending.days or pending.waits:
        _write(session.connection(), pending)


@sa.event.listens_for(so.Session, "after_rollback")
def _forget(session: so.Session) -> None:
    session.info.pop(_PENDING, None)


#: Rows up to which the PostgreSQL upserts of one flush go as one statement (a workflow action:
#: two tallies, a day, a waiting day); bulk writers' hundreds of keys stay one executemany each.
_ONE_STATEMENT_ROWS = 32


def _write(conn: sa.Connection, pending: _Pending) -> None:
    """Add the differences; in key order, so two transactions lock rows in the same order."""
    tallies = [{"area_id": k[0], "state": k[1], "decision": k[2],
                **dict(zip(TALLY, w, strict=True))}
               for k, w in sorted(pending.tallies.items()) if any(w)]
    days = [{"area_id": k[0], "day": k[1], **{c: w[c] for c in KINDS}}
            for k, w in sorted(pending.days.items())]
    waits = [{"area_id": k[0], "day": k[1], "proposals": n}
             for k, n in sorted(pending.waits.items()) if n]
    parts = [(table, keys, counters, rows) for table, keys, counters, rows in (
        (AreaTally.__table__, ("area_id", "state", "decision"), TALLY, tallies),
        (DailyActivity.__table__, ("area_id", "day"), KINDS, days),
        (WaitingDay.__table__, ("area_id", "day"), ("proposals",), waits)) if rows]
    if (conn.dialect.name == "postgresql" and len(parts) > 1
            and sum(len(rows) for *_, rows in parts) <= _ONE_STATEMENT_ROWS):
        _add_together(conn, parts)
        return
    for table, keys, counters, rows in parts:
        _add(conn, table, keys, counters, rows)


@functools.cache
def _upsert(dialect, table: sa.Table, keys: tuple[str, ...], counters: tuple[str, ...]):
    """The statement for one table, built once: building its SET clause (``excluded`` is a new
    alias on each access) cost more CPU than sending it (2 ms of a proposal's 17)."""
    stmt = dialect.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: table.c[c] + stmt.excluded[c] for c in counters})


def _add(conn: sa.Connection, table: sa.Table, keys: tuple[str, ...],
         counters: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n (PostgreSQL and SQLite), one
    statement executed for all the rows (a tariff change touches hundreds of keys)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(_upsert(dialect, table, keys, counters), rows)


def _add_together(conn: sa.Connection, parts: list[tuple[sa.Table, tuple[str, ...],
                                                         tuple[str, ...], list[dict]]]) -> None:
    """PostgreSQL: the upserts of one flush as one statement, the later tables as
    data-modifying CTEs of the first: a proposal's tally, day and waiting day in one round trip
    instead of three (its POST sent 10 statements, 3 of them these)."""
    shape = tuple((table, keys, counters, len(rows)) for table, keys, counters, rows in parts)
    conn.exec_driver_sql(_together(conn.dialect, shape), {f"p{part}_{row}_{name}": value
                                    for part, (*_, rows) in enumerate(parts)
                                    for row, values in enumerate(rows)
                                    for name, value in values.items()})


@functools.cache
def _together(dialect: sa.Dialect,
              shape: tuple[tuple[sa.Table, tuple[str, ...], tuple[str, ...], int], ...]) -> str:
    """The SQL of :func:`_add_together` for so many rows of each table, with a named parameter
    per value, compiled once per shape (a proposal makes one or two). SQLAlchemy does not cache
    a statement with a data-modifying CTE: compiled for each flush it cost 1.4 ms of CPU, more
    than the three cached statements it replaces (0.55 ms) and the two round trips it saves.

    PostgreSQL runs the main statement first, then the unreferenced CTEs from the last written
    to the first (checked with a sequence on 15: main 1, second CTE 2, first CTE 3), so the CTEs
    are written in reverse: the rows are still locked tallies, days, waiting days, in key order,
    as the separate statements of the bulk writers lock them."""
    first, *later = [
        _upsert(postgresql, table, keys, counters).values(
            [{name: sa.bindparam(f"p{part}_{row}_{name}", type_=table.c[name].type)
              for name in (*keys, *counters)} for row in range(count)])
        for part, (table, keys, counters, count) in enumerate(shape)]
    return str(first.add_cte(*(upsert.cte(f"rollup_{number}")
                               for number, upsert in reversed(list(enumerate(later))))
               ).compile(dialect=dialect))


def add_requirements(session: so.Session, records: Iterable[Mapping[str, Any]]) -> None:
    """Count requirements a writer inserted without the ORM (new rows: no events yet); a
    record with a computed cost carries it as ``scm_cost_kzt``, ``scm_cost_low_kzt`` and
    ``scm_cost_high_kzt``."""
    pending = _Pending()
    for r in records:
        pending.tally(tally_key(r["area_id"], r.get("state"), r.get("decision")),
                      _weights(r, 1))
    _write(session.connection(), pending)


def move_costs(session: so.Session,
               moves: Iterable[tuple[Mapping[str, Any], Sequence[int | None],
                                     Sequence[int | None]]]) -> None:
    """Count computed costs a writer changed without the ORM (``scm.service.recompute``):
    for each requirement its ``_TRACKED`` values and its computed cost (central, low, high)
    before and after. One grouped delta per area, state and decision, whatever the number
    of requirements (10,000 after a tariff change: a few hundred keys, one statement)."""
    pending = _Pending()
    keys: dict[tuple, TallyKey] = {}
    for values, old, new in moves:
        raw = (values["area_id"], values["state"], values["decision"])
        key = keys.get(raw) or keys.setdefault(raw, tally_key(*raw))
        imported = values["annual_cost_kzt"]
        before = _weights({"annual_cost_kzt": imported, "scm_cost_kzt": old[0],
                           "scm_cost_low_kzt": old[1], "scm_cost_high_kzt": old[2]}, -1)
        after = _weights({"annual_cost_kzt": imported, "scm_cost_kzt": new[0],
                          "scm_cost_low_kzt": new[1], "scm_cost_high_kzt": new[2]}, 1)
        # The requirement stays where it is: only its money moves.
        pending.tally(key, (0, *(b + a for b, a in zip(before[1:5], after[1:5], strict=True)),
                            0))
    _write(session.connection(), pending)


def move_requirements(session: so.Session,
                      pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> None:
    """Count requirements a writer updated without the ORM: their tracked values (area_id,
    state, decision, annual_cost_kzt, businesses_affected; proposed_at if it matters) before
    and after."""
    pending = _Pending()
    for old, new in pairs:
        _move(pending, old, new)
    _write(session.connection(), pending)


# Recount -------------------------------------------------------------------------------------

def recount_tallies(session: so.Session) -> dict[TallyKey, tuple[int, ...]]:
    """The tallies counted from the requirements themselves and their computed costs, summed
    as the lists and summaries sum them (``scm.costs.totals_columns``)."""
    t = Requirement.__table__
    rows = session.execute(
        sa.select(t.c.area_id, t.c.state, t.c.decision, *costs.totals_columns(t),
                  sa.func.coalesce(sa.func.sum(t.c.businesses_affected), 0))
        .select_from(costs.with_costs(t))
        .group_by(t.c.area_id, t.c.state, t.c.decision))
    found = {}
    for a, s, d, *money, businesses in rows:
        total = costs.totals_from_row(money)
        found[tally_key(a, s, d)] = (total.requirements, total.central, total.low, total.high,
                                     total.without_inputs, int(businesses))
    return found


def recount_days(session: so.Session) -> dict[DayKey, tuple[int, int, int, int]]:
    """The daily activity counted from the events (streamed: the history may be millions)."""
    counts: dict[DayKey, Counter] = {}
    rows = session.execute(
        sa.select(Requirement.area_id, ReviewEvent.action, ReviewEvent.from_state,
                  ReviewEvent.to_state, ReviewEvent.created_at)
        .join(Requirement, Requirement.id == ReviewEvent.requirement_id)
        .where(ReviewEvent.action.in_((Action.PROPOSE, Action.APPROVE, Action.RETURN,
                                       Action.REOPEN, Action.WORDING_CHANGED)))
        .execution_options(yield_per=5000))
    for area_id, action, from_state, to_state, created_at in rows:
        kind = event_kind(action, from_state, to_state)
        if kind is not None:
            counts.setdefault((area_id, _day(created_at)), Counter())[kind] += 1
    return {k: tuple(c[kind] for kind in KINDS) for k, c in counts.items()}


def recount_waiting(session: so.Session) -> dict[DayKey, int]:
    """The waiting proposals per area and day of proposal, counted from the requirements."""
    counts: Counter = Counter()
    for area_id, proposed_at in session.execute(
            sa.select(Requirement.area_id, Requirement.proposed_at)
            .where(Requirement.state == State.PROPOSED, Requirement.proposed_at.is_not(None))
            .execution_options(yield_per=5000)):
        counts[(area_id, _day(proposed_at))] += 1
    return dict(counts)


def stored_waiting(session: so.Session) -> dict[DayKey, int]:
    return {(w.area_id, _day(w.day)): w.proposals
            for w in session.scalars(sa.select(WaitingDay)) if w.proposals}


def _day(moment: datetime | date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def stored_tallies(session: so.Session) -> dict[TallyKey, tuple[int, ...]]:
    stored = {(t.area_id, t.state, t.decision): tuple(getattr(t, c) for c in TALLY)
              for t in session.scalars(sa.select(AreaTally))}
    return {k: v for k, v in stored.items() if any(v)}


def stored_days(session: so.Session) -> dict[DayKey, tuple[int, int, int, int]]:
    return {(d.area_id, _day(d.day)): tuple(getattr(d, k) for k in KINDS)
            for d in session.scalars(sa.select(DailyActivity))
            if any(getattr(d, k) for k in KINDS)}


def differences(session: so.Session) -> list[str]:
    """Where the stored rollups disagree with a recount, in words; empty when they agree."""
    found = []
    for name, stored, counted in (
            ("tally", stored_tallies(session), recount_tallies(session)),
            ("day", stored_days(session), recount_days(session)),
            ("waiting", stored_waiting(session), recount_waiting(session))):
        for key in sorted(stored.keys() | counted.keys(), key=str):
            if stored.get(key) != counted.get(key):
                found.append(f"dashboard {name} {key}: stored {stored.get(key)}, "
                             f"recounted {counted.get(key)}")
    return found


def rebuild(session: so.Session) -> None:
    """Replace the rollups by a recount (after a bulk write that bypassed the ORM)."""
    session.flush()
    tallies, days = recount_tallies(session), recount_days(session)
    waits = recount_waiting(session)
    conn = session.connection()
    conn.execute(sa.delete(AreaTally.__table__))
    conn.execute(sa.delete(DailyActivity.__table__))
    conn.execute(sa.delete(WaitingDay.__table__))
    if waits:
        conn.execute(sa.insert(WaitingDay.__table__), [
            {"area_id": a, "day": day, "proposals": n} for (a, day), n in waits.items()])
    if tallies:
        conn.execute(sa.insert(AreaTally.__table__), [
            {"area_id": a, "state": s, "decision": d, **dict(zip(TALLY, v, strict=True))}
            for (a, s, d), v in tallies.items()])
    if days:
        conn.execute(sa.insert(DailyActivity.__table__), [
            {"area_id": a, "day": day, **dict(zip(KINDS, v, strict=True))}
            for (a, day), v in days.items()])
