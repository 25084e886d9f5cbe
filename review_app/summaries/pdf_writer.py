"""The PDF summary: a printable brief with the key figures, charts and the largest decisions.

Pure: takes a :class:`~review_app.summaries.report.ReportSource` and writes to a binary file
object. The text is set in Roboto, embedded from the fonts shipped beside this module (they
cover Russian and every Kazakh letter, and the tenge sign), so the PDF reads the same on any
machine whatever fonts the host has. A brief stays short whatever the scope: the full lists are
in the XLSX and CSV summaries, and the PDF says so.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import IO

from fpdf import FPDF
from fpdf.fonts import FontFace

from review_app import formatting
from review_app.summaries.report import (
    APPROVED,
    DECISIONS,
    DecidedRow,
    Progress,
    ReportSource,
    Tally,
    Texts,
)

# fontTools logs every step of subsetting the embedded font at INFO; that is noise in a worker log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT = "Roboto"
#: How many of the largest decisions and most active people a brief shows.
LARGEST_CANCELLED = 15
LARGEST_REVISED = 10
MOST_ACTIVE = 30
#: Chart colours (RGB), the same as the workbook's and the web page's.
COLOURS = {"cancel": (180, 35, 24), "revise": (178, 106, 0), "keep": (27, 122, 61),
           "proposed": (11, 92, 173), "returned": (227, 160, 8), "unreviewed": (154, 165, 177)}
HEADINGS = FontFace(emphasis="BOLD", fill_color=(238, 241, 245))
STRIPE = (247, 249, 252)
#: Every table: light stripes on alternate rows.
TABLE = {"align": "LEFT", "cell_fill_color": STRIPE, "cell_fill_mode": "ROWS"}


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` shortened (with an ellipsis) to fit ``width`` in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


class _Brief(FPDF):
    def __init__(self, texts: Texts, title: str, language: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.texts, self.brief_title = texts, title
        self.language = language
        fonts = resources.files("review_app.summaries") / "fonts"
        for style, file in (("", "Roboto-Regular.ttf"), ("B", "Roboto-Bold.ttf")):
            with resources.as_file(fonts / file) as path:
                self.add_font(FONT, style, path)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(12, 12, 12)
        self.set_title(title)
        self.set_creator("Requirements review")

    # Numbers in the summary's language (Babel's rules): "12 345", "45,7" in ru and kk.
    def num(self, value: int) -> str:
        return formatting.number(value, self.language)

    def money(self, value: int | None) -> str:
        return formatting.money(value, self.language)

    def pct(self, fraction: float) -> str:
        return formatting.percent(fraction, self.language)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT, "", 8)
        self.set_text_color(95, 107, 122)
        self.cell(0, 5, _clip(self.brief_title, 90), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, self.texts["pdf_page"] % {"page": self.page_no(), "pages": "{nb}"},
                  align="R")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str, size: float = 12) -> None:
        if self.get_y() > self.h - 70:  # keep a heading with the start of what it heads
            self.add_page()
        self.ln(3)
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)
        self.set_font(FONT, "", 9)

    def note(self, text: str) -> None:
        self.set_font(FONT, "", 8.5)
        self.set_text_color(95, 107, 122)
        self.multi_cell(0, 4.2, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.set_font(FONT, "", 9)


def write_pdf(source: ReportSource, out: IO[bytes], texts: Texts,
              progress: Progress | None = None, language: str = "ru") -> None:
    """Write a brief of ``source`` to ``out`` as a PDF, numbers written as ``language`` writes
    them ("45,7 %" in Russian and Kazakh, "45.7" in English)."""
    scope, tally = source.scope, source.tally()
    steps = 6

    def step(n: int) -> None:
        if progress is not None:
            progress(n, steps)

    title = texts["title_all"] if scope.all_areas else texts["title_area"] % {
        "code": scope.area_code, "name": scope.area_name}
    pdf = _Brief(texts, title, language)
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    # Left-aligned: fpdf2's multi_cell justifies by default, which spread a wrapped Kazakh
    # title's few long words over the line with huge gaps.
    pdf.multi_cell(0, 8, title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9.5)
    pdf.set_text_color(95, 107, 122)
    pdf.cell(0, 5, f"{texts['as_of']}: {formatting.when(scope.as_of)}    "
                   f"{texts['generated']}: {formatting.when(scope.generated_at)}",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)

    _key_figures(pdf, texts, tally)
    pdf.note(texts["fig_cost_note"])
    step(1)
    _overall_chart(pdf, texts, tally)
    _cross_tab(pdf, texts, tally)
    step(2)
    if scope.all_areas:
        areas = source.areas()
        _areas_chart(pdf, texts, areas)
        _areas_table(pdf, texts, areas, tally)
    step(3)
    _largest(pdf, texts, texts["pdf_largest_cancelled"],
             source.largest("cancel", LARGEST_CANCELLED))
    _largest(pdf, texts, texts["pdf_largest_revised"], source.largest("revise", LARGEST_REVISED))
    step(4)
    _reviewers(pdf, texts, source)
    step(5)
    pdf.ln(4)
    pdf.note(texts["pdf_full_lists"])
    pdf.output(out)
    step(steps)


def _key_figures(pdf: _Brief, texts: Texts, tally: Tally) -> None:
    pdf.heading(texts["section_figures"])
    rows = [
        (texts["fig_total"], pdf.num(tally.total)),
        (texts["fig_approved"], pdf.num(tally.approved)),
        (texts["fig_complete"], pdf.pct(tally.complete)),
        (texts["fig_cancelled"], pdf.num(tally.final("cancel"))),
        (texts["fig_revised"], pdf.num(tally.final("revise"))),
        (texts["fig_kept"], pdf.num(tally.final("keep"))),
        (texts["fig_in_review"], pdf.num(tally.count("proposed") + tally.count("returned"))),
        (texts["fig_unreviewed"], pdf.num(tally.count("unreviewed"))),
        (texts["fig_cost_removed"], _money_range(pdf, tally.cost_removed,
                                                 tally.cost_removed_range)),
        (texts["fig_cost_removed_imported"], pdf.money(tally.imported_cost(APPROVED, "cancel"))),
        (texts["fig_cost_touched"], _money_range(pdf, tally.cost_touched,
                                                 tally.cost_touched_range)),
        (texts["fig_lacking"], pdf.num(tally.lacking_inputs())),
    ]
    pdf.set_font(FONT, "", 9.5)
    pdf.set_fill_color(*STRIPE)  # fpdf2 fills cell text with the current colour
    with pdf.table(col_widths=(120, 50), width=170, first_row_as_headings=False, **TABLE,
                   text_align=("LEFT", "RIGHT"), line_height=5.2,
                   borders_layout="HORIZONTAL_LINES") as table:
        for label, value in rows:
            row = table.row()
            row.cell(label)
            row.cell(value)


def _segments(tally: Tally) -> list[tuple[str, int, str]]:
    """(label key, count, colour) for the six parts every requirement falls into."""
    return [
        ("fig_cancelled", tally.final("cancel"), "cancel"),
        ("fig_revised", tally.final("revise"), "revise"),
        ("fig_kept", tally.final("keep"), "keep"),
        ("fig_proposed", tally.count("proposed"), "proposed"),
        ("fig_returned", tally.count("returned"), "returned"),
        ("fig_unreviewed", tally.count("unreviewed"), "unreviewed"),
    ]


def _bar(pdf: _Brief, x: float, y: float, width: float, height: float,
         parts: list[tuple[int, str]]) -> None:
    total = sum(n for n, _ in parts)
    pdf.set_draw_color(217, 222, 229)
    pdf.rect(x, y, width, height)
    if not total:
        return
    for n, colour in parts:
        if not n:
            continue
        w = width * n / total
        pdf.set_fill_color(*COLOURS[colour])
        pdf.rect(x, y, w, height, style="F")
        x += w


def _legend(pdf: _Brief, texts: Texts, items: list[tuple[str, int | None, str]]) -> None:
    pdf.set_font(FONT, "", 8.5)
    x0 = x = pdf.l_margin
    y = pdf.get_y()
    for key, n, colour in items:
        label = texts[key] + (f" — {pdf.num(n)}" if n is not None else "")
        width = 6 + pdf.get_string_width(label) + 6
        if x + width > pdf.w - pdf.r_margin:
            x, y = x0, y + 5.5
        pdf.set_fill_color(*COLOURS[colour])
        pdf.rect(x, y + 1, 3.5, 3.5, style="F")
        pdf.set_xy(x + 5, y)
        pdf.cell(width - 5, 5.5, label)
        x += width
    pdf.set_xy(x0, y + 7)
    pdf.set_font(FONT, "", 9)


def _overall_chart(pdf: _Brief, texts: Texts, tally: Tally) -> None:
    pdf.heading(texts["chart_states"])
    segments = _segments(tally)
    y = pdf.get_y()
    _bar(pdf, pdf.l_margin, y, pdf.epw, 9, [(n, c) for _, n, c in segments])
    pdf.set_y(y + 11)
    _legend(pdf, texts, segments)


def _cross_tab(pdf: _Brief, texts: Texts, tally: Tally) -> None:
    pdf.heading(texts["section_states"])
    header = [texts["col_state"], *(texts[f"decision_{d}"] for d in DECISIONS),
              texts["no_decision"], texts["total"]]
    pdf.set_fill_color(*STRIPE)  # fpdf2 fills cell text with the current colour
    with pdf.table(col_widths=(50, 24, 24, 24, 28, 24), width=174, **TABLE,
                   text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
                   headings_style=HEADINGS, line_height=5.2) as table:
        table.row(header)
        for state in tally.states():
            table.row([texts.get(f"state_{state}", state),
                       *(pdf.num(tally.count(state, d)) for d in (*DECISIONS, "")),
                       pdf.num(tally.count(state))])
        table.row([texts["total"], *(pdf.num(tally.count(None, d)) for d in (*DECISIONS, "")),
                   pdf.num(tally.total)])


def _areas_chart(pdf: _Brief, texts: Texts, areas) -> None:
    pdf.add_page()
    pdf.heading(texts["chart_areas"])
    label_width, row_height = 62, 4.4
    pdf.set_font(FONT, "", 7.5)
    for area in areas:
        if pdf.get_y() + row_height > pdf.h - 30:
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(label_width - 2, row_height, _fit(pdf, f"{area.code} {area.name}",
                                                   label_width - 3))
        _bar(pdf, pdf.l_margin + label_width, y + 0.6, pdf.epw - label_width - 14,
             row_height - 1.2, [(n, c) for _, n, c in _segments(area.tally)])
        pdf.set_xy(pdf.w - pdf.r_margin - 13, y)
        pdf.cell(13, row_height, pdf.pct(area.tally.complete) + "%", align="R")
        pdf.set_y(y + row_height)
    pdf.ln(2)
    _legend(pdf, texts, [(key, None, colour) for key, _, colour in _segments(Tally())])


def _areas_table(pdf: _Brief, texts: Texts, areas, tally: Tally) -> None:
    pdf.heading(texts["section_areas"])
    pdf.set_font(FONT, "", 7.5)
    pdf.set_fill_color(*STRIPE)  # fpdf2 fills cell text with the current colour
    with pdf.table(col_widths=(9, 53, 20, 16, 15, 15, 13, 12, 33), width=186, **TABLE,
                   text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT",
                               "RIGHT", "RIGHT"),
                   headings_style=HEADINGS, line_height=4) as table:
        table.row([texts["col_area"], texts["col_area_name"], texts["col_total"],
                   texts["col_approved"], texts["fig_cancelled"], texts["fig_revised"],
                   texts["fig_kept"], "%", texts["col_cost_removed"]])
        for area in areas:
            t = area.tally
            table.row([area.code, _clip(area.name, 60), pdf.num(t.total),
                       pdf.num(t.count(APPROVED)), pdf.num(t.final("cancel")),
                       pdf.num(t.final("revise")), pdf.num(t.final("keep")),
                       pdf.pct(t.complete), pdf.money(t.cost_removed)])
        table.row([texts["total"], "", pdf.num(tally.total), pdf.num(tally.approved),
                   pdf.num(tally.final("cancel")), pdf.num(tally.final("revise")),
                   pdf.num(tally.final("keep")), pdf.pct(tally.complete),
                   pdf.money(tally.cost_removed)])
    pdf.set_font(FONT, "", 9)


def _money_range(pdf: _Brief, central: int, low_high: tuple[int, int]) -> str:
    """"360 000 000 ₸ (192 000 000 – 600 000 000)": the central value and its range."""
    if low_high == (central, central):
        return pdf.money(central)
    return f"{pdf.money(central)}\n({pdf.num(low_high[0])} – {pdf.num(low_high[1])})"


def _largest(pdf: _Brief, texts: Texts, heading: str, rows: list[DecidedRow]) -> None:
    pdf.heading(heading)
    if not rows:
        pdf.note(texts["none"])
        return
    pdf.set_font(FONT, "", 7.5)
    pdf.set_fill_color(*STRIPE)  # fpdf2 fills cell text with the current colour
    with pdf.table(col_widths=(22, 50, 22, 64, 28), width=186, **TABLE,
                   text_align=("LEFT", "LEFT", "RIGHT", "LEFT", "LEFT"),
                   headings_style=HEADINGS, line_height=3.6) as table:
        table.row([texts["col_code"], texts["col_title"], texts["col_cost"],
                   texts["col_justification"], texts["col_approved_by"]])
        for r in rows:
            approved = r.approved_by + (f"\n{formatting.when(r.approved_at, formatting.DATE)}"
                                        if r.approved_at else "")
            table.row([r.code, _clip(r.title, 160), pdf.money(r.cost),
                       _clip(r.justification, 260), approved])
    pdf.set_font(FONT, "", 9)


def _reviewers(pdf: _Brief, texts: Texts, source: ReportSource) -> None:
    people = source.reviewers()
    pdf.heading(texts["section_reviewers"])
    if not people:
        pdf.note(texts["none"])
        return
    shown = sorted(people, key=lambda p: -(p.proposals + p.approvals + p.returns + p.reopens
                                          + p.comments))[:MOST_ACTIVE]
    shown.sort(key=lambda p: p.name)
    if len(shown) < len(people):
        pdf.note(texts["pdf_most_active"] % {"shown": len(shown), "all": len(people)})
    pdf.set_font(FONT, "", 7.5)
    pdf.set_fill_color(*STRIPE)  # fpdf2 fills cell text with the current colour
    with pdf.table(col_widths=(50, 20, 20, 20, 20, 26, 30), width=186, **TABLE,
                   text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
                   headings_style=HEADINGS, line_height=3.8) as table:
        table.row([texts["col_person"], texts["col_proposals"], texts["col_approvals"],
                   texts["col_returns"], texts["col_comments"], texts["col_assigned_open"],
                   texts["col_last_active"]])
        for p in shown:
            table.row([p.name, pdf.num(p.proposals), pdf.num(p.approvals), pdf.num(p.returns),
                       pdf.num(p.comments), pdf.num(p.assigned_open),
                       formatting.when(p.last_active) or "—"])
    pdf.set_font(FONT, "", 9)
