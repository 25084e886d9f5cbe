"""How many requirements match a list's filter, without counting a million rows each time.

Up to ``LIST_EXACT_COUNT_UP_TO`` (10,000; above the bulk limit, so a bulk action's "all N"
is always exact) the count is exact: PostgreSQL stops counting at the limit. Above it the
list says "about N" when the filter is made of plain comparisons (area, state, decision,
assignee, issuing body), whose row estimate the planner takes from the table's statistics;
for a text search, whose estimate can be far off, it says "more than 10,000". Never a wrong
figure: an exact number, a lower bound, or an estimate said to be one.

On PostgreSQL the exact count of a text search also has a time budget
(``LIST_COUNT_BUDGET_MS``, 20 ms): at a million requirements a common word in a large area
matches tens of thousands of rows, and checking 10,000 of them against the text takes a few
hundred milliseconds. Past the budget the count gives up (:func:`count` returns None) and
the list says what the page itself proves: "more than 50" when there are further pages.
A count that gave up is not tried again for the same filter for ``GAVE_UP_FOR_S`` seconds
(in this process): the next page of the list, or the next person searching the same word,
would only spend the same budget to learn the same thing. Nothing shown depends on it but
"say what the page proves", which each page proves afresh.

Whether the count finished also tells the list how to read its rows
(:func:`review_app.requirements.listing.fetch_page`).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context
from sqlalchemy.sql import visitors as sa_visitors

from review_app.requirements.models import Requirement

DEFAULT_EXACT_UP_TO = 10_000
DEFAULT_BUDGET_MS = 20
#: PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"
#: How long a count that ran out of its budget is not tried again for the same filter.
GAVE_UP_FOR_S = 60.0
#: (SQL, parameters, budget) of counts that gave up -> when; the oldest dropped past this many.
_GAVE_UP: OrderedDict[tuple, float] = OrderedDict()
_GAVE_UP_KEPT = 512


@dataclass(frozen=True)
class Count:
    value: int
    #: "exact"; "about" (the planner's estimate, rounded); "more" (``value`` is a lower bound)
    kind: Literal["exact", "about", "more"] = "exact"
    #: Counted on PostgreSQL for a text search, within its time budget (``fetch_page`` reads
    #: its rows knowing the matches are few enough for that).
    searched: bool = False

    @property
    def exact(self) -> bool:
        return self.kind == "exact"


def exact_up_to() -> int:
    if has_app_context():
        return int(current_app.config.get("LIST_EXACT_COUNT_UP_TO") or DEFAULT_EXACT_UP_TO)
    return DEFAULT_EXACT_UP_TO


def budget_ms() -> int:
    if has_app_context():
        return int(current_app.config.get("LIST_COUNT_BUDGET_MS", DEFAULT_BUDGET_MS) or 0)
    return DEFAULT_BUDGET_MS


def count(session: so.Session, where: list[sa.ColumnElement[bool]]) -> Count | None:
    """The number of requirements matching ``where`` (see the module's docstring); None when
    counting took longer than the budget."""
    limit = exact_up_to()
    matching = sa.select(Requirement.id).where(*where)
    capped_count = sa.select(sa.func.count()).select_from(matching.limit(limit + 1).subquery())
    bind = session.get_bind()
    postgres = bind.dialect.name == "postgresql"
    compiled = (matching.compile(bind, compile_kwargs={"render_postcompile": True})
                if postgres else None)
    # Only a text search is costly to count (each row's text is checked); plain filters
    # count from an index in a few milliseconds and need no budget.
    searching = compiled is not None and searches(where)
    budget = budget_ms() if searching else 0
    if budget:
        known = (compiled.string, repr(sorted(compiled.params.items())), budget)
        if _gave_up_lately(known):
            return None
        try:
            with session.begin_nested():  # a cancelled statement rolls back to here only
                before, _ = session.execute(sa.text(
                    "SELECT current_setting('statement_timeout'), "
                    "set_config('statement_timeout', :v, true)"), {"v": f"{budget}ms"}).one()
                # the limit is armed when a statement starts: restoring it in the counting
                # statement itself spares a round trip
                capped = session.execute(sa.select(
                    capped_count.scalar_subquery(),
                    sa.func.set_config("statement_timeout", before, True))).one()[0] or 0
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != QUERY_CANCELED:
                raise
            _GAVE_UP[known] = time.monotonic()
            while len(_GAVE_UP) > _GAVE_UP_KEPT:
                _GAVE_UP.popitem(last=False)
            return None
    else:
        capped = session.scalar(capped_count) or 0
    if capped <= limit:
        return Count(capped, searched=searching)
    if compiled is not None and not searching:  # plain comparisons: good statistics
        plan = session.connection().exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params).scalar()
        plan = json.loads(plan) if isinstance(plan, str) else plan
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        if estimate > limit:
            return Count(_round(estimate), "about")
    return Count(limit, "more", searched=searching)


def searches(where: list[sa.ColumnElement[bool]]) -> bool:
    """Whether ``where`` searches the requirements' text (the list's ``q``)."""
    table = Requirement.__table__
    return any(getattr(element, "key", None) == "search_text"
               and getattr(element, "table", None) is table
               for clause in where for element in sa_visitors.iterate(clause))


def _gave_up_lately(key: tuple) -> bool:
    when = _GAVE_UP.get(key)
    if when is None:
        return False
    if time.monotonic() - when < GAVE_UP_FOR_S:
        return True
    _GAVE_UP.pop(key, None)
    return False


def _round(n: int) -> int:
    """Two significant figures: 123,456 → 120,000."""
    digits = len(str(n)) - 2
    return round(n, -digits) if digits > 0 else n
