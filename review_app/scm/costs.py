"""Which annual cost the reports use, for one requirement and summed over many.

:func:`reported_cost` is the one answer (with its SQL twin :func:`reported_cost_sql`); lists,
totals, summaries and exports all go through it, so switching a report to it is one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from review_app.requirements.models import Requirement
from review_app.scm.models import ScmCost

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Where the figure the reports use came from.
SOURCE_SCM = "scm"
SOURCE_IMPORTED = "imported"
SOURCE_NONE = "none"


@dataclass(frozen=True)
class ReportedCost:
    """The annual cost the reports use for one requirement, in whole tenge (None: unknown)."""

    central: int | None
    low: int | None
    high: int | None
    #: ``scm`` when computed from approved SCM inputs, ``imported`` when the imported estimate
    #: stands in, ``none`` when there is neither.
    source: str


def reported_cost(req: Requirement | Mapping) -> ReportedCost:
    """THE annual cost the reports, lists and totals use for ``req`` (central, low, high).

    The figure computed from the requirement's approved SCM inputs when it has one; otherwise
    the imported estimate (``annual_cost_kzt``), which has no range, so low = high = central.
    Works on a ``Requirement`` or on a row mapping with the same column names; its SQL twin is
    :func:`reported_cost_sql` (keep the two in step).
    """
    get = (req.get if hasattr(req, "get") and not isinstance(req, Requirement)
           else lambda name: getattr(req, name))
    if get("scm_cost_kzt") is not None:
        return ReportedCost(get("scm_cost_kzt"), get("scm_cost_low_kzt"),
                            get("scm_cost_high_kzt"), SOURCE_SCM)
    imported = get("annual_cost_kzt")
    if imported is not None:
        return ReportedCost(imported, imported, imported, SOURCE_IMPORTED)
    return ReportedCost(None, None, None, SOURCE_NONE)


def reported_cost_sql() -> tuple[sa.ColumnElement, sa.ColumnElement, sa.ColumnElement]:
    """SQL expressions (central, low, high) of :func:`reported_cost`, for sums and sorting."""
    return (sa.func.coalesce(Requirement.scm_cost_kzt, Requirement.annual_cost_kzt),
            sa.func.coalesce(Requirement.scm_cost_low_kzt, Requirement.annual_cost_kzt),
            sa.func.coalesce(Requirement.scm_cost_high_kzt, Requirement.annual_cost_kzt))


@dataclass(frozen=True)
class CostTotals:
    """The reported annual cost summed over some requirements, never silently partial: how many
    carry a computed cost, how many only the imported estimate, how many no cost at all."""

    central: int
    low: int
    high: int
    requirements: int
    computed: int
    imported_only: int
    unknown: int

    @property
    def without_inputs(self) -> int:
        """Requirements lacking (approved) SCM inputs: imported estimate or nothing."""
        return self.imported_only + self.unknown


#: The computed costs' table, for Core queries (``with_costs``).
COSTS = ScmCost.__table__
R = Requirement.__table__


def with_costs(requirements: sa.FromClause = R) -> sa.FromClause:
    """``requirements`` LEFT JOIN their computed costs: the FROM of :func:`totals_columns`."""
    return requirements.outerjoin(COSTS, COSTS.c.requirement_id == requirements.c.id)


def cost_columns() -> list[sa.ColumnElement]:
    """The computed cost and its range, labelled as the ``Requirement`` attributes, for Core
    selects from :func:`with_costs`."""
    return [COSTS.c.central.label("scm_cost_kzt"), COSTS.c.low.label("scm_cost_low_kzt"),
            COSTS.c.high.label("scm_cost_high_kzt")]


def totals_columns(requirements: sa.FromClause = R,
                   costs: sa.FromClause = COSTS) -> list[sa.ColumnElement]:
    """The aggregate columns of :class:`CostTotals`, in its field order, for a select from
    :func:`with_costs` (add a GROUP BY for per-area totals); ``costs``: the computed costs as
    joined there (the table, or a subquery with its columns)."""
    t, c = requirements, costs
    central = sa.func.coalesce(c.c.central, t.c.annual_cost_kzt)
    low = sa.func.coalesce(c.c.low, t.c.annual_cost_kzt)
    high = sa.func.coalesce(c.c.high, t.c.annual_cost_kzt)
    return [sa.func.coalesce(sa.func.sum(central), 0), sa.func.coalesce(sa.func.sum(low), 0),
            sa.func.coalesce(sa.func.sum(high), 0), sa.func.count(),
            sa.func.count(c.c.central),
            sa.func.sum(sa.case((sa.and_(c.c.central.is_(None),
                                         t.c.annual_cost_kzt.is_not(None)), 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(c.c.central.is_(None),
                                         t.c.annual_cost_kzt.is_(None)), 1), else_=0))]


def totals_from_row(row) -> CostTotals:
    return CostTotals(*(int(v or 0) for v in row))


def totals(session, where: list[sa.ColumnElement[bool]]) -> CostTotals:
    """:class:`CostTotals` of the requirements matching ``where`` (one aggregate query)."""
    row = session.execute(sa.select(*totals_columns()).select_from(with_costs())
                          .where(*where)).one()
    return totals_from_row(row)


def totals_of_few(session, where: list[sa.ColumnElement[bool]], up_to: int) -> CostTotals | None:
    """:class:`CostTotals` of the requirements matching ``where`` when there are at most
    ``up_to`` of them (None when there are more): at most ``up_to + 1`` rows are read.

    On PostgreSQL each matching row looks its computed cost up by key (a LATERAL join): left
    to itself the planner hashes the whole ``scm_costs`` table (362,000 rows, 50-75 ms at a
    million requirements) to join a few thousand rows; the lookups take 2,000 rows in ~5 ms.
    """
    few = (sa.select(R.c.id, R.c.annual_cost_kzt).where(*where).limit(up_to + 1)
           .subquery("few"))
    if session.get_bind().dialect.name == "postgresql":
        # LIMIT 1 keeps the planner from flattening the lookup back into a hash join.
        costs = (sa.select(COSTS.c.central, COSTS.c.low, COSTS.c.high)
                 .where(COSTS.c.requirement_id == few.c.id).limit(1).lateral("c"))
        joined = few.outerjoin(costs, sa.true())
    else:
        costs = COSTS
        joined = few.outerjoin(COSTS, COSTS.c.requirement_id == few.c.id)
    found = totals_from_row(session.execute(
        sa.select(*totals_columns(few, costs)).select_from(joined)).one())
    return None if found.requirements > up_to else found
