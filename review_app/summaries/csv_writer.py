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
from review_app.summaries import columns
from review_app.summaries.report import (
    APPROVED,
    DECISIONS,
    AreaTally,
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


def _values(spec, row, texts: Texts) -> list[Any]:
    """A list's row as the CSV writes it: shares as percentages ("36,4"), the rest as given."""
    return [value * 100 if column.kind == "share" and value is not None else value
            for column, value in zip(spec, columns.values(spec, row, texts), strict=True)]


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
        ("fig_cost_removed_low", tally.cost_removed_range[0]),
        ("fig_cost_removed_high", tally.cost_removed_range[1]),
        ("fig_cost_removed_imported", tally.imported_cost(APPROVED, "cancel")),
        ("fig_cost_touched_low", tally.cost_touched_range[0]),
        ("fig_cost_touched_high", tally.cost_touched_range[1]),
        ("fig_lacking", tally.lacking_inputs()),
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
        w.row(columns.headings(columns.AREAS, texts))
        for area in source.areas():
            w.row(_values(columns.AREAS, area, texts))
        w.row(_values(columns.AREAS, AreaTally(texts["total"], "", tally), texts))

    for decision, section in (("cancel", "section_cancelled"), ("revise", "section_revised"),
                              ("keep", "section_kept")):
        w.blank()
        w.row([texts[section]])
        decided = columns.decided(decision)
        w.row(columns.headings(decided, texts))
        for r in source.decided(decision):
            w.row(_values(decided, r, texts))
            counter.tick()

    w.blank()
    w.row([texts["section_pending"]])
    w.row(columns.headings(columns.PENDING, texts))
    for r in source.pending():
        w.row(_values(columns.PENDING, r, texts))
        counter.tick()

    w.blank()
    w.row([texts["section_reviewers"]])
    w.row(columns.headings(columns.REVIEWERS, texts))
    for p in source.reviewers():
        w.row(_values(columns.REVIEWERS, p, texts))
    w.close()
    counter.finish()
