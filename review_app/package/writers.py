"""The amendment package as DOCX (one table per legal act, under a heading per issuing body)
and as XLSX (one row per requirement, and a sheet of acts). Pure: plain data in, a file out.

DOCX: python-docx keeps the document in memory until it is saved; at 10,000 requirements that
is about 120 MB (bench/package_bench.py), within the worker's budget. Rows are added through
prepared XML rather than python-docx's cell API, which was five times slower.
XLSX: XlsxWriter's constant-memory mode, as the summaries, so memory stays flat.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

import xlsxwriter
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from lxml import etree

from review_app.package.source import ActCount, PackageRow

#: ``progress(rows_written, rows_total)``; it may raise to stop the build.
Progress = object
#: Excel refuses longer cell text.
MAX_CELL = 32_767
WHEN = "dd.mm.yyyy hh:mm"
#: DOCX columns: key and width in centimetres (A4 landscape leaves 26.7 cm between margins).
DOCX_COLUMNS = (("col_no", 1.0), ("col_article", 2.2), ("col_requirement", 4.3),
                ("col_decision", 1.9), ("col_current", 5.3), ("col_new", 5.3),
                ("col_justification", 4.0), ("col_approved_by", 2.7))


@dataclass
class Package:
    """What a package file says: its scope, its moment, the acts and the rows (streamed)."""

    scope: list[tuple[str, str]]   # (label, value) lines: area, body, act
    as_of: datetime
    acts: list[ActCount]
    rows: Iterator[PackageRow]
    total: int


def _when(moment: datetime | None) -> str:
    return f"{moment:%d.%m.%Y %H:%M}" if moment else ""


def _decision(texts, decision: str) -> str:
    return texts.get(f"decision_{decision}", decision)


def _counts(texts, acts: list[ActCount]) -> str:
    return texts["totals"] % {"acts": len(acts), "cancel": sum(a.cancel for a in acts),
                              "revise": sum(a.revise for a in acts)}


# DOCX ---------------------------------------------------------------------------------------

def _act_title(texts, act_name: str, ref: str) -> str:
    title = act_name or texts["no_act"]
    return f"{title}, {ref}" if ref else title


class _RowMaker:
    """Table rows from a prepared template row: deep-copying a small XML tree and setting its
    texts is much quicker than python-docx building each cell."""

    def __init__(self, widths: list[int]):
        tr = OxmlElement("w:tr")
        for width in widths:
            tc = OxmlElement("w:tc")
            tc_pr = OxmlElement("w:tcPr")
            tc_w = OxmlElement("w:tcW")
            tc_w.set(qn("w:w"), str(width))
            tc_w.set(qn("w:type"), "dxa")
            tc_pr.append(tc_w)
            tc.append(tc_pr)
            tc.append(OxmlElement("w:p"))
            tr.append(tc)
        self.template = tr

    def row(self, values: list[str], bold: bool = False) -> etree._Element:
        tr = copy.deepcopy(self.template)
        for tc, value in zip(tr.iterchildren(qn("w:tc")), values, strict=True):
            p = tc.find(qn("w:p"))
            for n, line in enumerate(value.split("\n")):
                if n:
                    p = OxmlElement("w:p")
                    tc.append(p)
                if not line:
                    continue
                r = OxmlElement("w:r")
                if bold:
                    r_pr = OxmlElement("w:rPr")
                    r_pr.append(OxmlElement("w:b"))
                    r.append(r_pr)
                t = OxmlElement("w:t")
                t.text = line
                t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                r.append(t)
                p.append(r)
        return tr


def write_docx(package: Package, out: IO[bytes], texts, progress=None) -> None:
    """One heading per issuing body, one table per legal act; wording exactly as stored."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(9)
    doc.add_heading(texts["title"], level=0)
    doc.add_paragraph(texts["subtitle"])
    for label, value in package.scope:
        doc.add_paragraph(f"{label}: {value}")
    doc.add_paragraph(f"{texts['as_of']}: {_when(package.as_of)}")
    doc.add_paragraph(_counts(texts, package.acts))
    if not package.total:
        doc.add_paragraph(texts["none"])
    per_act = {(a.issuing_body, a.legal_act, a.legal_act_ref): a for a in package.acts}
    widths = [int(Cm(w).twips) for _, w in DOCX_COLUMNS]
    maker = _RowMaker(widths)
    header = [texts[key] for key, _ in DOCX_COLUMNS]
    body = act = None
    tbl = None
    done = 0
    for row in package.rows:
        if row.issuing_body != body:
            body, act = row.issuing_body, None
            doc.add_heading(body or texts["no_body"], level=1)
        if (row.legal_act, row.legal_act_ref) != act:
            act = (row.legal_act, row.legal_act_ref)
            doc.add_heading(_act_title(texts, *act), level=2)
            counts = per_act.get((body, *act))
            if counts is not None:
                doc.add_paragraph(texts["act_totals"] % {"cancel": counts.cancel,
                                                         "revise": counts.revise})
            table = doc.add_table(rows=0, cols=len(DOCX_COLUMNS))
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            table.autofit = False
            tbl = table._tbl
            for grid_col, (_, width) in zip(tbl.tblGrid.gridCol_lst, DOCX_COLUMNS, strict=True):
                grid_col.w = Cm(width)
            head = maker.row(header, bold=True)
            tr_pr = OxmlElement("w:trPr")
            tr_pr.append(OxmlElement("w:tblHeader"))  # repeated on every page
            head.insert(0, tr_pr)
            tbl.append(head)
            number = 0
        number += 1
        new_wording = (row.new_wording if row.decision == "revise"
                       else texts["repeal"])
        approved = "\n".join(part for part in (row.approved_by, _when(row.approved_at)) if part)
        tbl.append(maker.row([str(number), row.article, f"{row.code}\n{row.title}",
                              _decision(texts, row.decision), row.text, new_wording,
                              row.justification, approved]))
        done += 1
        if progress is not None and done % 200 == 0:
            progress(done, package.total)
    doc.save(out)
    if progress is not None:
        progress(done, package.total)


# XLSX ---------------------------------------------------------------------------------------

XLSX_COLUMNS = (("col_body", 28), ("col_act", 36), ("col_act_ref", 18), ("col_article", 14),
                ("col_area", 7), ("col_code", 14), ("col_title", 36), ("col_decision", 11),
                ("col_current", 60), ("col_new", 60), ("col_justification", 40),
                ("col_approved_by", 22), ("col_approved_at", 17))


def _cell(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def write_xlsx(package: Package, out: IO[bytes], texts, progress=None, *, tmpdir: str) -> None:
    """A sheet of every requirement (frozen header, filters), then a sheet of the acts."""
    wb = xlsxwriter.Workbook(out, {"constant_memory": True, "tmpdir": tmpdir,
                                   "strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True})
    title = wb.add_format({"bold": True, "font_size": 14})
    header = wb.add_format({"bold": True, "bg_color": "#EEF1F5", "bottom": 1, "text_wrap": True,
                            "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    top = wb.add_format({"valign": "top"})
    when = wb.add_format({"num_format": WHEN, "valign": "top", "align": "left"})

    ws = wb.add_worksheet(texts["sheet_package"][:31])
    ws.write_string(0, 0, texts["title"], title)
    line = " · ".join(f"{label}: {value}" for label, value in package.scope)
    ws.write_string(1, 0, f"{line} · {texts['as_of']}: {_when(package.as_of)}")
    ws.write_string(2, 0, _counts(texts, package.acts), bold)
    first = 4
    for col, (key, width) in enumerate(XLSX_COLUMNS):
        ws.set_column(col, col, width, wrap if width >= 30 else top)
        ws.write_string(first, col, texts[key], header)
    ws.freeze_panes(first + 1, 0)
    ws.set_landscape()
    ws.set_paper(9)
    ws.repeat_rows(first)
    ws.fit_to_pages(1, 0)
    r = first
    for row in package.rows:
        r += 1
        values = (row.issuing_body, row.legal_act, row.legal_act_ref, row.article,
                  row.area_code, row.code, row.title, _decision(texts, row.decision), row.text,
                  row.new_wording, row.justification, row.approved_by)
        for col, value in enumerate(values):
            if value:
                ws.write_string(r, col, _cell(value))
        if row.approved_at is not None:
            ws.write_datetime(r, len(values), row.approved_at, when)
        if progress is not None and (r - first) % 500 == 0:
            progress(r - first, package.total)
    ws.autofilter(first, 0, max(r, first), len(XLSX_COLUMNS) - 1)

    acts = wb.add_worksheet(texts["sheet_acts"][:31])
    for col, (key, width) in enumerate((("col_body", 36), ("col_act", 50), ("col_act_ref", 20),
                                        ("col_cancel", 12), ("col_revise", 12),
                                        ("col_total", 12))):
        acts.set_column(col, col, width)
        acts.write_string(0, col, texts[key], header)
    acts.freeze_panes(1, 0)
    for n, act in enumerate(package.acts, start=1):
        acts.write_string(n, 0, act.issuing_body or texts["no_body"])
        acts.write_string(n, 1, act.legal_act or texts["no_act"])
        acts.write_string(n, 2, act.legal_act_ref)
        acts.write_number(n, 3, act.cancel)
        acts.write_number(n, 4, act.revise)
        acts.write_number(n, 5, act.total)
    acts.autofilter(0, 0, max(len(package.acts), 1), 5)
    wb.close()
    if progress is not None:
        progress(r - first, package.total)
