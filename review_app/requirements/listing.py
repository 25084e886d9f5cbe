"""The requirements list: filters parsed from the query string, and keyset pagination.

Keyset ("seek") pagination keeps late pages as fast as the first one: each page asks for rows
after the last (sort value, id) seen, which an index answers directly, instead of skipping
OFFSET rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context

from review_app import keyset
from review_app.duplicates.models import DuplicateMember
from review_app.requirements import cost_order, counting
from review_app.requirements.models import Decision, Requirement, State, search_key
from review_app.scm.costs import CostTotals, reported_cost, totals, totals_of_few

MAX_QUERY = 200


@dataclass(frozen=True)
class SortKey:
    column: Any
    descending: bool
    kind: str  # how cursor values are encoded: "str", "int" or "datetime"
    #: The row's value of ``column``, as the database compares it.
    value: Callable[[Requirement], Any]
    #: The id that breaks ties, from the same table as ``column`` (so one index serves both).
    row_key: Any = field(default_factory=lambda: Requirement.id)  # a descriptor: no plain default
    #: Conditions joining the table ``column`` comes from when it is not ``requirements``
    #: (the list, review mode's "next" and the export add them to their filter).
    joins: tuple[sa.ColumnElement[bool], ...] = ()


#: Stands in for "never proposed" so the proposal-age sort has no NULLs to trip keyset pages.
NEVER = datetime(9999, 12, 31)

_proposed = sa.func.coalesce(Requirement.proposed_at, NEVER)


def _cost_of(row: Requirement) -> int:
    central = reported_cost(row).central
    return cost_order.NO_COST if central is None else central


def _by_cost(descending: bool) -> SortKey:
    """The cost the reports use (computed from approved SCM inputs, else the imported
    estimate), read from its indexed copy in ``cost_order``: over the two tables it comes from
    no index serves the sort (120-370 ms an area's page at a million requirements)."""
    return SortKey(cost_order.T.c.reported, descending, "int", _cost_of,
                   cost_order.T.c.requirement_id, (cost_order.JOIN_ON,))


def _proposed_of(row: Requirement) -> datetime:
    return row.proposed_at or NEVER


SORTS: dict[str, SortKey] = {
    "code": SortKey(Requirement.code, False, "str", lambda r: r.code),
    "-code": SortKey(Requirement.code, True, "str", lambda r: r.code),
    "title": SortKey(Requirement.title, False, "str", lambda r: r.title),
    "-title": SortKey(Requirement.title, True, "str", lambda r: r.title),
    "-cost": _by_cost(True),
    "cost": _by_cost(False),
    "-updated": SortKey(Requirement.updated_at, True, "datetime", lambda r: r.updated_at),
    "updated": SortKey(Requirement.updated_at, False, "datetime", lambda r: r.updated_at),
    "waiting": SortKey(_proposed, False, "datetime", _proposed_of),
}
DEFAULT_SORT = "code"


#: Raised by :func:`fetch_page` for a cursor this list did not make (one codec for all lists).
BadCursor = keyset.BadCursor


@dataclass
class Filters:
    """Parsed, validated filters. Each ``*_id`` is already checked against what exists."""

    area_id: int | None = None
    state: State | None = None
    decision: Decision | None = None
    assignee: str | None = None  # "me", "none" or a user id as text
    assignee_id: int | None = None
    issuing_body: str | None = None
    query: str = ""
    #: Only requirements whose reported annual cost is at least this many tenge.
    cost_min: int | None = None
    #: "with" / "without" approved SCM inputs (a computed cost).
    scm: str | None = None
    sort: str = DEFAULT_SORT
    #: "yes": in a duplicate group; "no": in none; None: either.
    duplicates: str | None = None
    #: Sum the cost line over every matching requirement, however many (``cost_totals``).
    all_totals: bool = False
    errors: list[str] = field(default_factory=list)

    def where(self, current_user_id: int) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if self.area_id is not None:
            clauses.append(Requirement.area_id == self.area_id)
        if self.state is not None:
            clauses.append(Requirement.state == self.state)
        if self.decision is not None:
            clauses.append(Requirement.decision == self.decision)
        if self.assignee == "me":
            clauses.append(Requirement.assignee_id == current_user_id)
        elif self.assignee == "none":
            clauses.append(Requirement.assignee_id.is_(None))
        elif self.assignee_id is not None:
            clauses.append(Requirement.assignee_id == self.assignee_id)
        if self.issuing_body:
            clauses.append(Requirement.issuing_body == self.issuing_body)
        if self.cost_min is not None:
            clauses.append(cost_order.at_least(self.cost_min))
        if self.scm == "with":
            clauses.append(Requirement.scm_cost_kzt.is_not(None))
        elif self.scm == "without":
            clauses.append(Requirement.scm_cost_kzt.is_(None))
        if self.duplicates is not None:
            grouped = Requirement.id.in_(sa.select(DuplicateMember.requirement_id))
            clauses.append(grouped if self.duplicates == "yes" else ~grouped)
        for word in search_key(self.query).split():
            clauses.append(Requirement.search_text.contains(word, autoescape=True))
        return clauses


@dataclass
class Page:
    rows: list[Requirement]
    total: int
    next_cursor: str | None
    prev_cursor: str | None
    #: "exact", or "about"/"more" above the exact-count limit (requirements/counting.py)
    total_kind: str = "exact"


LIST_COLUMNS = (
    Requirement.id, Requirement.code, Requirement.area_id, Requirement.title,
    Requirement.issuing_body, Requirement.annual_cost_kzt, Requirement.scm_cost_kzt,
    Requirement.scm_cost_low_kzt, Requirement.scm_cost_high_kzt, Requirement.state,
    Requirement.decision, Requirement.assignee_id, Requirement.updated_at, Requirement.version,
)


def fetch_page(session: so.Session, where: list[sa.ColumnElement[bool]], sort: str, *,
               after: str | None, before: str | None, size: int,
               whole_rows: bool = False) -> Page:
    """One page of requirements matching ``where``, plus the total count (exact up to a limit,
    see ``counting``).

    Only the list's columns are loaded unless ``whole_rows`` (the lead's queue shows texts).

    :raise BadCursor: when ``after``/``before`` is malformed.
    """
    key = SORTS[sort]
    total = counting.count(session, where)

    backwards = before is not None and after is None
    token = before if backwards else after
    ascending = key.descending == backwards  # reading backwards flips the direction
    stmt = sa.select(Requirement)
    column, row_key = key.column, key.row_key
    if key.joins:
        # Sorted by cost's indexed copy: the area read from it too, so that the (area, cost,
        # id) index hands the page over in order.
        stmt = stmt.join(cost_order.T, sa.and_(*key.joins))
        where = [cost_order.on_cost_order(clause) for clause in where]
    stmt = stmt.where(*where).options(so.joinedload(Requirement.assignee))
    if whole_rows:
        stmt = stmt.options(so.joinedload(Requirement.proposed_by))
    else:
        stmt = stmt.options(so.load_only(*LIST_COLUMNS, Requirement.proposed_at))
    if token:
        value, row_id = keyset.decode(token, key.kind, "id")
        bound = sa.tuple_(column, row_key)
        # Typed like the column: PostgreSQL would cast a bare int to ``integer`` and a cost
        # past 2^31 would fail.
        seen = sa.tuple_(sa.literal(value, column.type), sa.literal(row_id, sa.Integer))
        stmt = stmt.where(bound > seen if ascending else bound < seen)
    order = (column.asc(), row_key.asc()) if ascending else (column.desc(), row_key.desc())
    stmt = stmt.order_by(*order).limit(size + 1)
    if (total is None or total.searched) and session.get_bind().dialect.name == "postgresql":
        rows = _searched_rows(session, stmt, counted=total is not None)
    else:
        rows = list(session.scalars(stmt).unique())
    has_more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def cursor(row: Requirement) -> str:
        return keyset.encode(key.value(row), row.id)

    has_next = bool(rows) and (backwards or has_more)
    has_prev = bool(rows) and (has_more if backwards else bool(token))
    if total is None:  # counting took too long: say what this page proves
        total = (counting.Count(len(rows)) if not has_more and not token
                 else counting.Count(size, "more"))
    return Page(rows=rows, total=total.value, total_kind=total.kind,
                next_cursor=cursor(rows[-1]) if has_next else None,
                prev_cursor=cursor(rows[0]) if has_prev else None)


#: How long a searched list's rows may take in the planner's own plan before it is read the
#: other way (``LIST_ROWS_BUDGET_MS``; see ``_searched_rows``).
DEFAULT_ROWS_BUDGET_MS = 40
#: Planner settings that read the rows by bitmap (the text index, then sort what matched) ...
_BY_BITMAP = {"enable_indexscan": "off"}
#: ... and that walk an index in the list's order, checking each row's text until a page is full.
_BY_WALK = {"enable_bitmapscan": "off", "enable_seqscan": "off", "enable_sort": "off"}


def _searched_rows(session: so.Session, stmt: sa.Select, *, counted: bool) -> list[Requirement]:
    """The rows of a text-searched page on PostgreSQL, robust to the planner's guess.

    PostgreSQL must guess how many rows ``LIKE '%word%'`` matches, and at a million
    requirements its guess swings with each ANALYZE's sample, and is blind to a word being
    common in one area and rare elsewhere. A guess too low for a common word chose to fetch
    all 35,000 matches and sort them (184 ms) instead of walking the (area, code) index until
    51 matched (0.9 ms); one too high for a rare word walks a million rows for a few matches.

    So the planner's plan runs under a time budget; when it overruns, the count just taken
    says which way is right. A count that finished within its own budget proves the matches
    are few enough to fetch by the text index and sort; one that gave up proves they are many,
    and a page of them is quickly found in the list's order. Either way the rows are the same;
    only the time differs.
    """
    def read() -> list[Requirement]:
        return list(session.scalars(stmt).unique())

    budget = rows_budget_ms()
    if not budget:  # switched off: the planner's plan, however long it takes
        return read()
    try:
        return _with_settings(session, {"statement_timeout": f"{budget}ms"}, read)
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != counting.QUERY_CANCELED:
            raise
    return _with_settings(session, _BY_BITMAP if counted else _BY_WALK, read)


def _with_settings(session: so.Session, settings: dict[str, str], read: Callable[[], Any]) -> Any:
    """``read()`` with PostgreSQL ``settings`` in force for it alone: set for the transaction
    inside a savepoint (a cancelled statement rolls back to it, settings included) and put
    back afterwards."""
    names = list(settings)
    with session.begin_nested():
        previous = session.execute(sa.select(
            *(sa.func.current_setting(n) for n in names),
            *(sa.func.set_config(n, v, True) for n, v in settings.items()))).one()[:len(names)]
        result = read()
        session.execute(sa.select(
            *(sa.func.set_config(n, v, True) for n, v in zip(names, previous, strict=True))))
    return result


def rows_budget_ms() -> int:
    if has_app_context():
        return int(current_app.config.get("LIST_ROWS_BUDGET_MS", DEFAULT_ROWS_BUDGET_MS) or 0)
    return DEFAULT_ROWS_BUDGET_MS


#: The list sums its cost line over at most this many requirements (``LIST_TOTALS_UP_TO``).
DEFAULT_TOTALS_UP_TO = 2_000


def totals_up_to() -> int:
    if has_app_context():
        return int(current_app.config.get("LIST_TOTALS_UP_TO") or DEFAULT_TOTALS_UP_TO)
    return DEFAULT_TOTALS_UP_TO


def cost_totals(session: so.Session, where: list[sa.ColumnElement[bool]], page: Page, *,
                everything: bool = False) -> CostTotals | None:
    """The list's cost line: the reported cost summed over the requirements matching ``where``,
    or None when more than ``LIST_TOTALS_UP_TO`` match (the page then offers to sum them
    all, ``everything``). Never a partial sum shown as a total.

    Summing reads every matching row and its computed cost: at a million requirements one
    area's 46,000 took 365 ms, a text search in it 1.2 s, on every page of the list. Up to
    2,000 rows take a few milliseconds. The one place the list's totals come from, so that
    broad filters can later be answered from maintained per-area rollups instead.
    """
    if everything:
        return totals(session, where)
    up_to = totals_up_to()
    if page.total_kind != "exact" or page.total > up_to:
        return None
    return totals_of_few(session, where, up_to)
