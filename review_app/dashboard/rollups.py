"""Keep the dashboard's rollups current as requirements change and events are appended.

A session listener sees every Requirement inserted, changed or deleted and every ReviewEvent
added through the ORM (which is how ``reviews.workflow`` appends them), and adds the difference
to ``dashboard_tallies`` / ``dashboard_days`` in the same flush, so the same transaction: the
counts commit or roll back with the change itself, and the dashboard never scans the register
or the history. Writers that bypass the ORM (the import's bulk insert, the demo seed) call
:func:`add_requirements` or :func:`rebuild`.

:func:`differences` recounts everything from the requirements and the events and lists where
the rollups disagree (``flask check-history`` runs it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite

from review_app.dashboard.models import NO_DECISION, AreaTally, DailyActivity, WaitingDay
from review_app.requirements.models import Requirement, State
from review_app.reviews.models import Action, ReviewEvent
from review_app.time import utcnow

TallyKey = tuple[int, str, str]  # area_id, state, decision
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


def _weights(cost: int | None, businesses: int | None, sign: int) -> Counter:
    return Counter({"requirements": sign, "cost_kzt": sign * (cost or 0),
                    "businesses": sign * (businesses or 0)})


class _Pending:
    def __init__(self) -> None:
        self.tallies: dict[TallyKey, Counter] = {}
        self.days: dict[DayKey, Counter] = {}
        self.waits: dict[DayKey, int] = {}

    def tally(self, key: TallyKey, weights: Counter) -> None:
        self.tallies.setdefault(key, Counter()).update(weights)

    def day(self, key: DayKey, kind: str) -> None:
        self.days.setdefault(key, Counter())[kind] += 1

    def waiting(self, values: Mapping[str, Any], sign: int) -> None:
        if values.get("state") == State.PROPOSED and values.get("proposed_at") is not None:
            key = (values["area_id"], _day(values["proposed_at"]))
            self.waits[key] = self.waits.get(key, 0) + sign


_TRACKED = ("area_id", "state", "decision", "annual_cost_kzt", "businesses_affected",
            "proposed_at")


@sa.event.listens_for(so.Session, "before_flush")
def _collect(session: so.Session, _context, _instances) -> None:
    pending: _Pending = session.info.setdefault(_PENDING, _Pending())
    changed: list[Requirement] = []  # whose values before this flush must be read
    for obj in session.new:
        if isinstance(obj, Requirement):
            pending.tally(tally_key(obj.area_id, obj.state, obj.decision),
                          _weights(obj.annual_cost_kzt, obj.businesses_affected, 1))
            pending.waiting({c: getattr(obj, c) for c in _TRACKED}, 1)
        elif isinstance(obj, ReviewEvent):
            _collect_event(session, pending, obj)
    for obj in session.dirty:
        if not isinstance(obj, Requirement) or not _tracked_change(obj):
            continue
        known = _old_and_new(obj)
        if known is None:
            changed.append(obj)
        else:
            _move(pending, *known)
    deleted = [obj for obj in session.deleted if isinstance(obj, Requirement)]
    if changed or deleted:
        # What the database holds now: an attribute set while expired (or never loaded) has
        # no "before" in the session. One query for the flush, not one per object.
        ids = [o.id for o in changed + deleted]
        before = {row.id: row._asdict() for row in session.connection().execute(
            sa.select(Requirement.id, *(getattr(Requirement, c) for c in _TRACKED))
            .where(Requirement.id.in_(ids)))}
        for obj in changed:
            if obj.id in before:
                _move(pending, before[obj.id], {c: getattr(obj, c) for c in _TRACKED})
        for obj in deleted:
            if obj.id in before:
                _move(pending, before[obj.id], None)


def _old_and_new(obj: Requirement) -> tuple[dict, dict] | None:
    """The tracked values before and after, from the session's own history (the usual case:
    the workflow loaded the requirement); None when one of them was never loaded."""
    attrs = sa.inspect(obj).attrs
    old, new = {}, {}
    for name in _TRACKED:
        history = attrs[name].history
        if history.deleted:
            old[name], new[name] = history.deleted[0], (history.added or [None])[0]
        elif history.unchanged:
            old[name] = new[name] = history.unchanged[0]
        else:
            return None
    return old, new


def _move(pending: _Pending, old: Mapping[str, Any], new: Mapping[str, Any] | None) -> None:
    pending.tally(tally_key(old["area_id"], old["state"], old["decision"]),
                  _weights(old["annual_cost_kzt"], old["businesses_affected"], -1))
    pending.waiting(old, -1)
    if new is not None:
        pending.tally(tally_key(new["area_id"], new["state"], new["decision"]),
                      _weights(new["annual_cost_kzt"], new["businesses_affected"], 1))
        pending.waiting(new, 1)


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
    if pending is None or not (pending.tallies or pending.days or pending.waits):
        return
    _write(session.connection(), pending)


@sa.event.listens_for(so.Session, "after_rollback")
def _forget(session: so.Session) -> None:
    session.info.pop(_PENDING, None)


def _write(conn: sa.Connection, pending: _Pending) -> None:
    """Add the differences; in key order, so two transactions lock rows in the same order."""
    tallies = [{"area_id": k[0], "state": k[1], "decision": k[2], **{
        c: w[c] for c in ("requirements", "cost_kzt", "businesses")}}
        for k, w in sorted(pending.tallies.items()) if any(w.values())]
    days = [{"area_id": k[0], "day": k[1], **{c: w[c] for c in KINDS}}
            for k, w in sorted(pending.days.items())]
    if tallies:
        _add(conn, AreaTally.__table__, ("area_id", "state", "decision"),
             ("requirements", "cost_kzt", "businesses"), tallies)
    if days:
        _add(conn, DailyActivity.__table__, ("area_id", "day"), KINDS, days)
    waits = [{"area_id": k[0], "day": k[1], "proposals": n}
             for k, n in sorted(pending.waits.items()) if n]
    if waits:
        _add(conn, WaitingDay.__table__, ("area_id", "day"), ("proposals",), waits)


def _add(conn: sa.Connection, table: sa.Table, keys: tuple[str, ...],
         counters: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n (PostgreSQL and SQLite)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    for row in rows:  # one statement per key: a flush touches a handful of keys
        stmt = dialect.insert(table).values(**row)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: table.c[c] + stmt.excluded[c] for c in counters}))


def add_requirements(session: so.Session, records: Iterable[Mapping[str, Any]]) -> None:
    """Count requirements a writer inserted without the ORM (new rows: no events yet)."""
    pending = _Pending()
    for r in records:
        pending.tally(tally_key(r["area_id"], r.get("state"), r.get("decision")),
                      _weights(r.get("annual_cost_kzt"), r.get("businesses_affected"), 1))
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

def recount_tallies(session: so.Session) -> dict[TallyKey, tuple[int, int, int]]:
    """The tallies counted from the requirements themselves."""
    rows = session.execute(
        sa.select(Requirement.area_id, Requirement.state, Requirement.decision,
                  sa.func.count(), sa.func.coalesce(sa.func.sum(Requirement.annual_cost_kzt), 0),
                  sa.func.coalesce(sa.func.sum(Requirement.businesses_affected), 0))
        .group_by(Requirement.area_id, Requirement.state, Requirement.decision))
    return {tally_key(a, s, d): (int(n), int(c), int(b)) for a, s, d, n, c, b in rows}


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


def stored_tallies(session: so.Session) -> dict[TallyKey, tuple[int, int, int]]:
    return {(t.area_id, t.state, t.decision): (t.requirements, t.cost_kzt, t.businesses)
            for t in session.scalars(sa.select(AreaTally))
            if (t.requirements, t.cost_kzt, t.businesses) != (0, 0, 0)}


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
            {"area_id": a, "state": s, "decision": d, "requirements": n, "cost_kzt": c,
             "businesses": b} for (a, s, d), (n, c, b) in tallies.items()])
    if days:
        conn.execute(sa.insert(DailyActivity.__table__), [
            {"area_id": a, "day": day, **dict(zip(KINDS, v, strict=True))}
            for (a, day), v in days.items()])
