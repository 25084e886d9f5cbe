"""The columns of the summary's lists, once, for the CSV and the XLSX writers alike.

A column is its heading (a key of the summary texts), how its values read (``kind``: the
workbook picks a cell format by it, the CSV a text form), its width in the workbook, and how
a row gives its value. Adding or reordering a column here changes both files together, so the
CSV and the workbook can never disagree about what a list holds.

Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from review_app.summaries.report import (
    APPROVED,
    DECISIONS,
    AreaTally,
    DecidedRow,
    PendingRow,
    ReviewerActivity,
    Texts,
)

#: How a column's values read: plain ``text``, ``wrap``ped long text, a whole ``number``,
#: ``money`` in tenge, a ``share`` (0.0-1.0, shown as a percentage) or a moment (``when``).
KINDS = ("text", "wrap", "number", "money", "share", "when")


@dataclass(frozen=True)
class Column:
    heading: str  #: key in the summary texts
    kind: str
    width: float  #: in the workbook, in characters
    value: Callable[[Any, Texts], Any]


def _field(name: str) -> Callable[[Any, Texts], Any]:
    return lambda row, _texts: getattr(row, name)


def _cost_source(row: DecidedRow | PendingRow, texts: Texts) -> str:
    if row.scm_cost_kzt is not None:
        return texts["cost_source_scm"]
    return texts["cost_source_imported"] if row.annual_cost_kzt is not None else ""


def _reported(low_or_high: str) -> Callable[[Any, Texts], Any]:
    """The cost the reports use (``scm.reported_cost``): the computed one and its range when
    there is one, else the imported estimate (no range)."""
    def value(row, _texts):
        if row.scm_cost_kzt is None:
            return row.annual_cost_kzt
        return getattr(row, f"scm_cost_{low_or_high}kzt")
    return value


#: The cost columns of every list: the figure used, its range, where it comes from, and the
#: imported estimate beside it.
COST: Sequence[Column] = (
    Column("col_cost", "money", 17, _reported("")),
    Column("col_cost_low", "money", 17, _reported("low_")),
    Column("col_cost_high", "money", 17, _reported("high_")),
    Column("col_cost_source", "text", 22, _cost_source),
    Column("col_cost_imported", "money", 17, _field("annual_cost_kzt")),
)


def decided(decision: str) -> Sequence[Column]:
    """The cancelled, revised (with the current and the new wording) or kept requirements."""
    columns = [Column("col_area", "text", 7, _field("area_code")),
               Column("col_code", "text", 15, _field("code")),
               Column("col_title", "wrap", 48, _field("title"))]
    if decision == "revise":
        columns += [Column("col_old_wording", "wrap", 60, _field("text")),
                    Column("col_new_wording", "wrap", 60, _field("new_wording"))]
    return [*columns,
            Column("col_legal_basis", "wrap", 40, _field("legal_basis")),
            Column("col_issuing_body", "wrap", 30, _field("issuing_body")),
            *COST,
            Column("col_justification", "wrap", 55, _field("justification")),
            Column("col_deviation", "wrap", 30, _field("deviation_reason")),
            Column("col_proposed_by", "text", 22, _field("proposed_by")),
            Column("col_proposed_at", "when", 16, _field("proposed_at")),
            Column("col_approved_by", "text", 22, _field("approved_by")),
            Column("col_approved_at", "when", 16, _field("approved_at"))]


def _state(row: PendingRow, texts: Texts) -> str:
    return texts.get(f"state_{row.state}", row.state)


def _decision(row: PendingRow, texts: Texts) -> str:
    return texts[f"decision_{row.decision}"] if row.decision in DECISIONS else row.decision


PENDING: Sequence[Column] = (
    Column("col_area", "text", 7, _field("area_code")),
    Column("col_code", "text", 15, _field("code")),
    Column("col_title", "wrap", 60, _field("title")),
    Column("col_state", "text", 14, _state),
    Column("col_decision", "text", 14, _decision),
    Column("col_assignee", "text", 22, _field("assignee")),
    Column("col_proposed_by", "text", 22, _field("proposed_by")),
    Column("col_updated", "when", 16, _field("updated_at")),
    *COST,
)

REVIEWERS: Sequence[Column] = (
    Column("col_person", "text", 30, _field("name")),
    Column("col_email", "text", 28, _field("email")),
    Column("col_proposals", "number", 12, _field("proposals")),
    Column("col_approvals", "number", 12, _field("approvals")),
    Column("col_returns", "number", 12, _field("returns")),
    Column("col_reopens", "number", 12, _field("reopens")),
    Column("col_comments", "number", 12, _field("comments")),
    Column("col_assigned_open", "number", 16, _field("assigned_open")),
    Column("col_last_active", "when", 16, _field("last_active")),
)


def _tally(read: Callable[[Any], Any]) -> Callable[[AreaTally, Texts], Any]:
    return lambda area, _texts: read(area.tally)


AREAS: Sequence[Column] = (
    Column("col_area", "text", 8, _field("code")),
    Column("col_area_name", "text", 44, _field("name")),
    Column("col_total", "number", 13, _tally(lambda t: t.total)),
    Column("state_unreviewed", "number", 13, _tally(lambda t: t.count("unreviewed"))),
    Column("state_proposed", "number", 13, _tally(lambda t: t.count("proposed"))),
    Column("state_returned", "number", 13, _tally(lambda t: t.count("returned"))),
    Column("state_approved", "number", 13, _tally(lambda t: t.count(APPROVED))),
    Column("fig_cancelled", "number", 13, _tally(lambda t: t.final("cancel"))),
    Column("fig_revised", "number", 13, _tally(lambda t: t.final("revise"))),
    Column("fig_kept", "number", 13, _tally(lambda t: t.final("keep"))),
    Column("col_complete", "share", 13, _tally(lambda t: t.complete)),
    Column("col_cost_removed", "money", 20, _tally(lambda t: t.cost_removed)),
    Column("col_cost_touched", "money", 20, _tally(lambda t: t.cost_touched)),
    Column("col_cost_removed_low", "money", 20, _tally(lambda t: t.cost_removed_range[0])),
    Column("col_cost_removed_high", "money", 20, _tally(lambda t: t.cost_removed_range[1])),
    Column("col_cost_removed_imported", "money", 20,
           _tally(lambda t: t.imported_cost(APPROVED, "cancel"))),
    Column("col_lacking", "number", 16, _tally(lambda t: t.lacking_inputs())),
)


def headings(columns: Sequence[Column], texts: Texts) -> list[str]:
    return [texts[c.heading] for c in columns]


def values(columns: Sequence[Column], row: AreaTally | DecidedRow | PendingRow |
           ReviewerActivity, texts: Texts) -> list[Any]:
    return [c.value(row, texts) for c in columns]
