"""The Standard Cost Model (SCM): what complying with a requirement costs businesses a year.

``compute`` is the pure arithmetic; ``service`` keeps tariffs and recomputes stored costs;
``reported_cost`` (here) is the one answer to "which annual cost do the reports use".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from review_app.requirements.models import Requirement

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


def totals_columns(table=None) -> list[sa.ColumnElement]:
    """The aggregate columns of :class:`CostTotals`, in its field order (add a GROUP BY for
    per-area totals). ``table`` is the requirements ``Table`` (or an alias) for Core queries."""
    t = Requirement.__table__ if table is None else table
    central = sa.func.coalesce(t.c.scm_cost_kzt, t.c.annual_cost_kzt)
    low = sa.func.coalesce(t.c.scm_cost_low_kzt, t.c.annual_cost_kzt)
    high = sa.func.coalesce(t.c.scm_cost_high_kzt, t.c.annual_cost_kzt)
    return [sa.func.coalesce(sa.func.sum(central), 0), sa.func.coalesce(sa.func.sum(low), 0),
            sa.func.coalesce(sa.func.sum(high), 0), sa.func.count(),
            sa.func.count(t.c.scm_cost_kzt),
            sa.func.sum(sa.case((sa.and_(t.c.scm_cost_kzt.is_(None),
                                         t.c.annual_cost_kzt.is_not(None)), 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(t.c.scm_cost_kzt.is_(None),
                                         t.c.annual_cost_kzt.is_(None)), 1), else_=0))]


def totals_from_row(row) -> CostTotals:
    return CostTotals(*(int(v or 0) for v in row))


def totals(session, where: list[sa.ColumnElement[bool]]) -> CostTotals:
    """:class:`CostTotals` of the requirements matching ``where`` (one aggregate query)."""
    row = session.execute(sa.select(*totals_columns()).select_from(Requirement)
                          .where(*where)).one()
    return totals_from_row(row)
