"""The XLSX summary: a sheet per section, frozen headers, filters, native Excel charts.

Pure: takes a :class:`~review_app.summaries.report.ReportSource` and writes to a binary file
object. XlsxWriter's constant-memory mode flushes every row to a temporary file as soon as the
next one starts, so memory stays flat however many requirements there are; each sheet is
therefore written top to bottom, once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from review_app import formatting
from review_app.summaries import columns
from review_app.summaries.report import (
    APPROVED,
    DECISIONS,
    DecidedRow,
    PendingRow,
    Progress,
    ProgressCounter,
    ReportSource,
    Texts,
)

#: Colours shared by the charts (and the web page's badges).
COLOURS = {"cancel": "#B42318", "revise": "#B26A00", "keep": "#1B7A3D", "proposed": "#0B5CAD",
           "returned": "#E3A008", "unreviewed": "#9AA5B1"}
MONEY = '#,##0'
WHEN = "dd.mm.yyyy hh:mm"
#: Excel refuses longer cell text; longer wording is cut with a visible mark.
MAX_CELL = 32_767
#: Rows in a sheet, its heading included (Excel's limit; xlsxwriter ignores rows past it).
SHEET_ROWS = 1_048_576
#: Row heights for wrapped text: a line of the default 11-point font is 15 points, a column
#: "character" holds about 1.1 Cyrillic letters once words wrap (1.3 let
#: the printed demo data run into the next row), and Excel's tallest row is 409 points.
LINE_HEIGHT = 15
CHARS_PER_WIDTH = 1.1
MAX_ROW_HEIGHT = 409


class _Formats:
    def __init__(self, wb: Workbook):
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.bold = wb.add_format({"bold": True})
        self.header = wb.add_format({"bold": True, "bg_color": "#EEF1F5", "bottom": 1,
                                     "text_wrap": True, "valign": "top"})
        self.header_num = wb.add_format({"bold": True, "bg_color": "#EEF1F5", "bottom": 1,
                                         "text_wrap": True, "valign": "top", "align": "right"})
        self.money = wb.add_format({"num_format": MONEY, "valign": "top"})
        self.money_bold = wb.add_format({"num_format": MONEY, "bold": True, "top": 1})
        self.int_bold = wb.add_format({"bold": True, "top": 1})
        self.label_bold = wb.add_format({"bold": True, "top": 1})
        self.pct = wb.add_format({"num_format": "0.0%", "valign": "top"})
        self.pct_bold = wb.add_format({"num_format": "0.0%", "bold": True, "top": 1})
        self.when = wb.add_format({"num_format": WHEN, "valign": "top", "align": "left"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.top = wb.add_format({"valign": "top"})
        #: The cell format of each kind of column in the shared column spec.
        self.of_kind = {"text": self.top, "wrap": self.wrap, "number": None,
                        "money": self.money, "share": self.pct, "when": self.when}

    def columns(self, spec: Sequence[columns.Column], texts: Texts) -> list[tuple[str, float,
                                                                                  Any]]:
        """(heading, width, format) for each column of ``spec``, as :class:`_Table` takes them."""
        return [(texts[c.heading], c.width, self.of_kind[c.kind]) for c in spec]


def _print_setup(ws: Worksheet, texts: Texts, title: str, *, fit_height: int = 0,
                 repeat_header: bool = True) -> None:
    """How a sheet prints from a spreadsheet program: A4 landscape, every column on the page
    (printed without this, the all-areas workbook took 1,059 pages, a list's columns spread
    over several sheets of paper and the key figures' labels parted from their numbers),
    the header row again on every page, the summary's title and "page N of M" on each."""
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, fit_height)
    if repeat_header:
        ws.repeat_rows(0)
    page = texts["pdf_page"] % {"page": "&P", "pages": "&N"}
    ws.set_header("&L&8" + title.replace("&", "&&")[:200] + "&R&8" + ws.get_name()
                  .replace("&", "&&"))
    ws.set_footer("&R&8" + page)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_CELL:
        return value[:MAX_CELL - 1] + "…"
    return value


class _Table:
    """A sheet that is a list: header row frozen, filter over it, column widths and formats."""

    def __init__(self, ws: Worksheet, fm: _Formats, columns: Sequence[tuple[str, float, Any]],
                 freeze_cols: int = 2, continued: Callable[[int], Worksheet] | None = None):
        self.fm, self.columns, self.freeze_cols = fm, columns, freeze_cols
        self.width = len(columns)
        #: Adds the n-th sheet (2, 3, ...) the list goes on in once a sheet is full.
        self.continued = continued
        self.sheets = 1
        self.formats = [fmt for _, _, fmt in columns]
        #: (index, characters per line) of the columns whose text wraps.
        self.wrapped = [(col, width * CHARS_PER_WIDTH) for col, (_, width, fmt)
                        in enumerate(columns) if fmt is fm.wrap]
        self._begin(ws)

    def _begin(self, ws: Worksheet) -> None:
        """Headings, widths and frozen panes of a (first or continuation) sheet."""
        self.ws, fm, columns = ws, self.fm, self.columns
        for col, (heading, width, fmt) in enumerate(columns):
            ws.set_column(col, col, width, fmt)
            numeric = fmt is fm.money or fmt is fm.pct
            ws.write_string(0, col, heading, fm.header_num if numeric else fm.header)
        # Headings wrap too, and LibreOffice does not measure the row: give it their lines.
        lines = max((math.ceil(len(heading) / max(1.0, width * CHARS_PER_WIDTH))
                     for heading, width, _ in columns), default=1)
        if lines > 1:
            ws.set_row(0, min(MAX_ROW_HEIGHT, lines * LINE_HEIGHT))
        ws.freeze_panes(1, self.freeze_cols)
        self.row = 0

    def _height(self, values: Sequence[Any]) -> float | None:
        """The row's height for its longest wrapped text, in points (None: one line).

        Spreadsheet programs do not measure rows they open (LibreOffice printed the
        long wordings over each other); an estimate from the text's length keeps them apart.
        """
        lines = 1
        for col, per_line in self.wrapped:
            value = values[col]
            if isinstance(value, str) and value:
                lines = max(lines, sum(max(1, math.ceil(len(part) / per_line))
                                       for part in value[:MAX_CELL].split("\n")))
        return min(MAX_ROW_HEIGHT, lines * LINE_HEIGHT) if lines > 1 else None

    def add(self, values: Iterable[Any]) -> None:
        if self.row + 1 >= SHEET_ROWS:
            self._next_sheet()
        self.row += 1
        ws, row = self.ws, self.row
        values = list(values)
        height = self._height(values)
        if height is not None:  # before the row's cells: constant-memory mode writes rows once
            ws.set_row(row, height)
        for col, (value, fmt) in enumerate(zip(values, self.formats, strict=True)):
            if value is None or value == "":
                continue
            value = _cell(value)
            if isinstance(value, str):
                ws.write_string(row, col, value, fmt)
            elif hasattr(value, "year"):
                ws.write_datetime(row, col, value, fmt)
            else:
                ws.write_number(row, col, value, fmt)
        self._forget(row - 1)

    def _forget(self, row: int) -> None:
        """Drop what xlsxwriter keeps of a row already written out.

        Constant-memory mode writes each row to its file once the next one begins, but keeps
        every row's height (set above) to the end: at 1,000,000 rows that alone took the
        worker past 300 MB. Only charts' positions read those heights, and list sheets have
        none. The row still buffered (``previous_row``) keeps its own.
        """
        if 0 < row < getattr(self.ws, "previous_row", 0):
            for kept in (getattr(self.ws, "row_info", None), getattr(self.ws, "row_sizes", None)):
                if isinstance(kept, dict):
                    kept.pop(row, None)

    def _next_sheet(self) -> None:
        """Go on in a new sheet: xlsxwriter drops rows past a sheet's last one without a word
        (a summary of a million pending requirements would have lost the last of them)."""
        if self.continued is None:
            raise ValueError(f"more than {SHEET_ROWS - 1} rows for one sheet")
        self.ws.autofilter(0, 0, self.row, self.width - 1)
        self.sheets += 1
        self._begin(self.continued(self.sheets))

    def close(self, texts: Texts) -> None:
        if self.row == 0:
            self.row = 1
            self.ws.write_string(1, 0, texts["none"])
        self.ws.autofilter(0, 0, self.row, self.width - 1)


def write_xlsx(source: ReportSource, out: IO[bytes], texts: Texts,
               progress: Progress | None = None, tmpdir: str | None = None) -> None:
    """Write the whole summary of ``source`` to ``out`` as an Excel workbook."""
    tally = source.tally()
    counter = ProgressCounter(tally.total, progress)
    wb = xlsxwriter.Workbook(out, {
        "constant_memory": True, "tmpdir": tmpdir,
        # Text stays text: a justification starting with "=" is not a formula.
        "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
        "default_date_format": WHEN,
    })
    try:
        fm = _Formats(wb)
        _summary_sheet(wb, fm, source, texts)
        if source.scope.all_areas:
            _areas_sheet(wb, fm, source, texts)
        decided_sheets = (("cancel", "sheet_cancelled"), ("revise", "sheet_revised"),
                          ("keep", "sheet_kept"))
        for decision, sheet in decided_sheets:
            _decided_sheet(wb, texts[sheet], fm, texts, decision, source.decided(decision),
                           counter)
        _pending_sheet(wb, texts["sheet_pending"], fm, texts, source.pending(), counter)
        _reviewers_sheet(wb.add_worksheet(_sheet_name(texts["sheet_reviewers"])), fm, texts,
                         source)
        title = _title(source, texts)
        for index, ws in enumerate(wb.worksheets()):
            # The first sheet (key figures, cross-tab, charts) prints on one page.
            _print_setup(ws, texts, title, fit_height=1 if index == 0 else 0,
                         repeat_header=index > 0)
        wb.set_properties({"title": title, "comments": texts["as_of"] + " "
                           + formatting.when(source.scope.as_of)})
    except BaseException:
        _abandon(wb)
        raise
    wb.close()
    counter.finish()


def _abandon(wb: Workbook) -> None:
    """Close the row files constant-memory mode keeps open per sheet, without writing the
    workbook: a build that failed (or ran out of time) leaves no open files behind."""
    for ws in wb.worksheets():
        handle = getattr(ws, "row_data_fh", None)
        if handle is not None and not handle.closed:
            handle.close()


def _sheet_name(name: str, part: int = 1) -> str:
    """Excel's rules for sheet names: at most 31 characters, none of []:*?/\\; the ``part``-th
    sheet of a list too long for one is "Name (2)", "Name (3)" ..."""
    for char in "[]:*?/\\":
        name = name.replace(char, " ")
    suffix = f" ({part})" if part > 1 else ""
    return name[:31 - len(suffix)] + suffix


def _list_sheet(wb: Workbook, name: str, fm: _Formats,
                spec_columns: Sequence[tuple[str, float, Any]], freeze_cols: int) -> _Table:
    """A list in a sheet named ``name``, going on in "``name`` (2)" ... past a sheet's rows."""
    return _Table(wb.add_worksheet(_sheet_name(name)), fm, spec_columns, freeze_cols=freeze_cols,
                  continued=lambda part: wb.add_worksheet(_sheet_name(name, part)))


def _title(source: ReportSource, texts: Texts) -> str:
    scope = source.scope
    if scope.all_areas:
        return texts["title_all"]
    return texts["title_area"] % {"code": scope.area_code, "name": scope.area_name}


def _summary_sheet(wb: Workbook, fm: _Formats, source: ReportSource, texts: Texts) -> None:
    ws = wb.add_worksheet(_sheet_name(texts["sheet_summary"]))
    name = ws.get_name()
    tally, scope = source.tally(), source.scope
    ws.set_column(0, 0, 58)
    ws.set_column(1, 1, 18)
    ws.set_column(2, 5, 13)
    ws.write_string(0, 0, _title(source, texts), fm.title)
    ws.write_string(1, 0, texts["as_of"])
    ws.write_datetime(1, 1, scope.as_of.replace(tzinfo=None), fm.when)
    ws.write_string(2, 0, texts["generated"])
    ws.write_datetime(2, 1, scope.generated_at.replace(tzinfo=None), fm.when)

    ws.write_string(4, 0, texts["section_figures"], fm.bold)
    in_review = tally.count("proposed") + tally.count("returned")
    figures: list[tuple[str, int | float, Any]] = [
        ("fig_total", tally.total, None),
        ("fig_approved", tally.approved, None),
        ("fig_complete", tally.complete, fm.pct),
        ("fig_cancelled", tally.final("cancel"), None),   # row 8: the pie's first slice
        ("fig_revised", tally.final("revise"), None),
        ("fig_kept", tally.final("keep"), None),
        ("fig_in_review", in_review, None),
        ("fig_unreviewed", tally.count("unreviewed"), None),
        ("fig_cost_removed", tally.cost_removed, fm.money),
        ("fig_cost_touched", tally.cost_touched, fm.money),
        ("fig_cost_removed_low", tally.cost_removed_range[0], fm.money),
        ("fig_cost_removed_high", tally.cost_removed_range[1], fm.money),
        ("fig_cost_removed_imported", tally.imported_cost(APPROVED, "cancel"), fm.money),
        ("fig_cost_touched_low", tally.cost_touched_range[0], fm.money),
        ("fig_cost_touched_high", tally.cost_touched_range[1], fm.money),
        ("fig_lacking", tally.lacking_inputs(), None),
    ]
    first = 5
    for offset, (key, value, fmt) in enumerate(figures):
        ws.write_string(first + offset, 0, texts[key])
        ws.write_number(first + offset, 1, value, fmt)
    decisions_row = first + 3

    # Cross-tab: a row per state, a column per decision.
    top = first + len(figures) + 1
    ws.write_string(top, 0, texts["section_states"], fm.bold)
    header = [texts["col_state"], *(texts[f"decision_{d}"] for d in DECISIONS),
              texts["no_decision"], texts["total"]]
    for col, heading in enumerate(header):
        ws.write_string(top + 1, col, heading, fm.header if col == 0 else fm.header_num)
    states = tally.states()
    for offset, state in enumerate(states):
        row = top + 2 + offset
        ws.write_string(row, 0, texts.get(f"state_{state}", state))
        for col, decision in enumerate((*DECISIONS, ""), start=1):
            ws.write_number(row, col, tally.count(state, decision))
        ws.write_number(row, len(header) - 1, tally.count(state))
    total_row = top + 2 + len(states)
    ws.write_string(total_row, 0, texts["total"], fm.label_bold)
    for col, decision in enumerate((*DECISIONS, ""), start=1):
        ws.write_number(total_row, col, tally.count(None, decision), fm.int_bold)
    ws.write_number(total_row, len(header) - 1, tally.total, fm.int_bold)

    pie = wb.add_chart({"type": "pie"})
    pie.add_series({
        "name": texts["chart_decisions"],
        "categories": [name, decisions_row, 0, decisions_row + 2, 0],
        "values": [name, decisions_row, 1, decisions_row + 2, 1],
        "points": [{"fill": {"color": COLOURS[d]}} for d in DECISIONS],
        "data_labels": {"value": True, "percentage": True, "separator": "\n"},
    })
    pie.set_title({"name": texts["chart_decisions"]})
    ws.insert_chart(1, 3, pie, {"x_scale": 1.0, "y_scale": 1.0})

    column = wb.add_chart({"type": "column"})
    column.add_series({
        "name": texts["chart_states"],
        "categories": [name, top + 2, 0, top + 1 + len(states), 0],
        "values": [name, top + 2, len(header) - 1, top + 1 + len(states), len(header) - 1],
        "points": [{"fill": {"color": COLOURS.get(s, "#0B5CAD")}} for s in states],
        "data_labels": {"value": True},
    })
    column.set_title({"name": texts["chart_states"]})
    column.set_legend({"none": True})
    ws.insert_chart(top + len(states) + 4, 0, column, {"x_scale": 1.2})


def _areas_sheet(wb: Workbook, fm: _Formats, source: ReportSource, texts: Texts) -> None:
    ws = wb.add_worksheet(_sheet_name(texts["sheet_areas"]))
    spec = columns.AREAS
    table = _Table(ws, fm, fm.columns(spec, texts))
    areas = source.areas()
    for area in areas:
        table.add(columns.values(spec, area, texts))
    ws.autofilter(0, 0, len(areas), len(spec) - 1)
    total = source.tally()
    row = len(areas) + 1
    ws.write_string(row, 0, texts["total"], fm.label_bold)
    ws.write_blank(row, 1, None, fm.label_bold)
    values = [total.total, total.count("unreviewed"), total.count("proposed"),
              total.count("returned"), total.count(APPROVED), total.final("cancel"),
              total.final("revise"), total.final("keep")]
    for col, value in enumerate(values, start=2):
        ws.write_number(row, col, value, fm.int_bold)
    ws.write_number(row, 10, total.complete, fm.pct_bold)
    ws.write_number(row, 11, total.cost_removed, fm.money_bold)
    ws.write_number(row, 12, total.cost_touched, fm.money_bold)
    ws.write_number(row, 13, total.cost_removed_range[0], fm.money_bold)
    ws.write_number(row, 14, total.cost_removed_range[1], fm.money_bold)
    ws.write_number(row, 15, total.imported_cost(APPROVED, "cancel"), fm.money_bold)
    ws.write_number(row, 16, total.lacking_inputs(), fm.int_bold)

    name = ws.get_name()
    chart = wb.add_chart({"type": "bar", "subtype": "percent_stacked"})
    series = ((7, "cancel"), (8, "revise"), (9, "keep"), (4, "proposed"), (5, "returned"),
              (3, "unreviewed"))
    for col, colour in series:
        chart.add_series({
            "name": [name, 0, col],
            "categories": [name, 1, 0, len(areas), 0],
            "values": [name, 1, col, len(areas), col],
            "fill": {"color": COLOURS[colour]},
            "gap": 40,
        })
    chart.set_title({"name": texts["chart_areas"]})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    # On a page of its own when printed, small enough to fit one A4 page at the sheet's scale.
    chart.set_size({"width": 720, "height": max(360, 18 * len(areas) + 100)})
    ws.set_h_pagebreaks([len(areas) + 2])
    ws.insert_chart(len(areas) + 3, 1, chart)


def _decided_sheet(wb: Workbook, name: str, fm: _Formats, texts: Texts, decision: str,
                   rows: Iterable[DecidedRow], counter: ProgressCounter) -> None:
    spec = columns.decided(decision)
    table = _list_sheet(wb, name, fm, fm.columns(spec, texts), freeze_cols=3)
    for r in rows:
        table.add(columns.values(spec, r, texts))
        counter.tick()
    table.close(texts)


def _pending_sheet(wb: Workbook, name: str, fm: _Formats, texts: Texts,
                   rows: Iterable[PendingRow], counter: ProgressCounter) -> None:
    table = _list_sheet(wb, name, fm, fm.columns(columns.PENDING, texts), freeze_cols=3)
    for r in rows:
        table.add(columns.values(columns.PENDING, r, texts))
        counter.tick()
    table.close(texts)


def _reviewers_sheet(ws: Worksheet, fm: _Formats, texts: Texts, source: ReportSource) -> None:
    table = _Table(ws, fm, fm.columns(columns.REVIEWERS, texts), freeze_cols=1)
    for p in source.reviewers():
        table.add(columns.values(columns.REVIEWERS, p, texts))
    table.close(texts)
