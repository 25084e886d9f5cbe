"""The CSV summary: the same sections as the workbook, one after another, in one file.

Pure: takes a :class:`~review_app.summaries.report.ReportSource` and writes to a binary file
object, row by row. UTF-8 with a byte-order mark, so Excel reads Cyrillic and Kazakh letters
correctly; semicolons between fields and decimal commas by default, as Excel expects them in
Kazakhstan. Text that starts like a formula is neutralised so a spreadsheet never runs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

from review_app import formatting
from review_app.summaries.report import (
    APPROVED,
    DECISIONS,
    Progress,
    ProgressCounter,
    ReportSource,
    Texts,
)
from review_app.tabular import CsvEncoder, neutralise, plain_cell

__all__ = ["neutralise", "write_csv"]

class _Writer:
    """Rows to ``out`` through the app's one CSV encoder (BOM, neutralised formulas)."""

    def __init__(self, out: IO[bytes], delimiter: str, decimal: str):
        self.out = out
        self.encoder = CsvEncoder(delimiter, self.cell)
        self.decimal = decimal
        self.pending = 0

    def cell(self, value: Any) -> str:
        if isinstance(value, datetime):
            return formatting.when(value)
        if isinstance(value, float):
            return f"{value:.1f}".replace(".", self.decimal)
        return plain_cell(value)

    def row(self, values: Iterable[Any]) -> None:
        self.encoder.row(values)
        self.pending += 1
        if self.pending >= 500:  # written out in slices: memory stays flat
            self.out.write(self.encoder.take())
            self.pending = 0

    def blank(self) -> None:
        self.row([])

    def close(self) -> None:
        self.out.write(self.encoder.take())


def write_csv(source: ReportSource, out: IO[bytes], texts: Texts,
              progress: Progress | None = None, *, delimiter: str = ";",
              decimal: str = ",") -> None:
    """Write the whole summary of ``source`` to ``out`` as one CSV file of sections."""
    tally, scope = source.tally(), source.scope
    counter = ProgressCounter(tally.total, progress)
    w = _Writer(out, delimiter, decimal)

    title = texts["title_all"] if scope.all_areas else texts["title_area"] % {
        "code": scope.area_code, "name": scope.area_name}
    w.row([title])
    w.row([texts["as_of"], scope.as_of.replace(tzinfo=None)])
    w.row([texts["generated"], scope.generated_at.replace(tzinfo=None)])

    w.blank()
    w.row([texts["section_figures"]])
    for key, value in (
        ("fig_total", tally.total), ("fig_approved", tally.approved),
        ("fig_complete", tally.complete * 100), ("fig_cancelled", tally.final("cancel")),
        ("fig_revised", tally.final("revise")), ("fig_kept", tally.final("keep")),
        ("fig_in_review", tally.count("proposed") + tally.count("returned")),
        ("fig_unreviewed", tally.count("unreviewed")),
        ("fig_cost_removed", tally.cost_removed), ("fig_cost_touched", tally.cost_touched),
    ):
        w.row([texts[key], value])

    w.blank()
    w.row([texts["section_states"]])
    w.row([texts["col_state"], *(texts[f"decision_{d}"] for d in DECISIONS),
           texts["no_decision"], texts["total"]])
    for state in tally.states():
        w.row([texts.get(f"state_{state}", state),
               *(tally.count(state, d) for d in (*DECISIONS, "")), tally.count(state)])
    w.row([texts["total"], *(tally.count(None, d) for d in (*DECISIONS, "")), tally.total])

    if scope.all_areas:
        w.blank()
        w.row([texts["section_areas"]])
        w.row([texts["col_area"], texts["col_area_name"], texts["col_total"],
               texts["state_unreviewed"], texts["state_proposed"], texts["state_returned"],
               texts["state_approved"], texts["fig_cancelled"], texts["fig_revised"],
               texts["fig_kept"], texts["col_complete"], texts["col_cost_removed"],
               texts["col_cost_touched"]])
        for area in source.areas():
            t = area.tally
            w.row([area.code, area.name, t.total, t.count("unreviewed"), t.count("proposed"),
                   t.count("returned"), t.count(APPROVED), t.final("cancel"),
                   t.final("revise"), t.final("keep"), t.complete * 100, t.cost_removed,
                   t.cost_touched])
        w.row([texts["total"], "", tally.total, tally.count("unreviewed"),
               tally.count("proposed"), tally.count("returned"), tally.approved,
               tally.final("cancel"), tally.final("revise"), tally.final("keep"),
               tally.complete * 100, tally.cost_removed, tally.cost_touched])

    for decision, section in (("cancel", "section_cancelled"), ("revise", "section_revised"),
                              ("keep", "section_kept")):
        w.blank()
        w.row([texts[section]])
        revise = decision == "revise"
        header = [texts["col_area"], texts["col_code"], texts["col_title"]]
        if revise:
            header += [texts["col_old_wording"], texts["col_new_wording"]]
        w.row([*header, texts["col_legal_basis"], texts["col_issuing_body"], texts["col_cost"],
               texts["col_justification"], texts["col_deviation"], texts["col_proposed_by"],
               texts["col_proposed_at"], texts["col_approved_by"], texts["col_approved_at"]])
        for r in source.decided(decision):
            head = [r.area_code, r.code, r.title]
            if revise:
                head += [r.text, r.new_wording]
            w.row([*head, r.legal_basis, r.issuing_body, r.annual_cost_kzt, r.justification,
                   r.deviation_reason, r.proposed_by, r.proposed_at, r.approved_by,
                   r.approved_at])
            counter.tick()

    w.blank()
    w.row([texts["section_pending"]])
    w.row([texts["col_area"], texts["col_code"], texts["col_title"], texts["col_state"],
           texts["col_decision"], texts["col_assignee"], texts["col_proposed_by"],
           texts["col_updated"], texts["col_cost"]])
    decisions = {d: texts[f"decision_{d}"] for d in DECISIONS}
    for r in source.pending():
        w.row([r.area_code, r.code, r.title, texts.get(f"state_{r.state}", r.state),
               decisions.get(r.decision, r.decision), r.assignee, r.proposed_by, r.updated_at,
               r.annual_cost_kzt])
        counter.tick()

    w.blank()
    w.row([texts["section_reviewers"]])
    w.row([texts["col_person"], texts["col_email"], texts["col_proposals"],
           texts["col_approvals"], texts["col_returns"], texts["col_reopens"],
           texts["col_comments"], texts["col_assigned_open"], texts["col_last_active"]])
    for p in source.reviewers():
        w.row([p.name, p.email, p.proposals, p.approvals, p.returns, p.reopens, p.comments,
               p.assigned_open, p.last_active])
    w.close()
    counter.finish()
