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
