"""The amendment package as DOCX (one table per legal act, under a heading per issuing body)
and as XLSX (one row per requirement, and a sheet of acts). Pure: plain data in, a file out.

DOCX: python-docx makes the frame, the body is streamed (see below), so memory stays flat.
XLSX: XlsxWriter's constant-memory mode, as the summaries, so memory stays flat.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from xml.sax.saxutils import escape

import xlsxwriter
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from review_app.package.source import ActCount, PackageRow

#: ``progress(rows_written, rows_total)``; it may raise to stop the build.
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
#
# python-docx keeps a whole document in memory: with every one of 10,000 requirements in the
# package the worker peaked at 335 MB (bench/package_bench.py). So python-docx makes the frame
# (styles, page setup, the title block) around a placeholder paragraph, and the body -- the
# headings and tables -- is streamed into word/document.xml in its place: memory stays flat
# and the build is twice as quick.

PLACEHOLDER = "PACKAGE-BODY-7f3c"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#: Characters XML 1.0 cannot carry (imported text could hold them); they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _act_title(texts, act_name: str, ref: str) -> str:
    title = act_name or texts["no_act"]
    return f"{title}, {ref}" if ref else title


def _x(text: str) -> str:
    return escape(_NOT_XML.sub("", text))


def _paragraph(text: str, style: str | None = None, bold: bool = False) -> str:
    p_pr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    if not text:
        return f"<w:p>{p_pr}</w:p>"
    r_pr = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return (f'<w:p>{p_pr}<w:r>{r_pr}<w:t xml:space="preserve">{_x(text)}</w:t></w:r></w:p>')


def _row(values: list[str], widths: list[int], header: bool = False) -> str:
    cells = "".join(
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
        + "".join(_paragraph(line, bold=header) for line in value.split("\n"))
        + "</w:tc>"
        for value, width in zip(values, widths, strict=True))
    # Long wording may run over a page break; the header row repeats on the next page.
    tr_pr = "<w:trPr><w:tblHeader/></w:trPr>" if header else ""
    return f"<w:tr>{tr_pr}{cells}</w:tr>"


def _table_start(header: list[str], widths: list[int]) -> str:
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for width in widths)
    return ('<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
            '<w:jc w:val="center"/><w:tblLayout w:type="fixed"/>'
            '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" '
            'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr>'
            f"<w:tblGrid>{grid}</w:tblGrid>{_row(header, widths, header=True)}")


def _frame(package: Package, texts) -> bytes:
    """The document around the body, made by python-docx, with the placeholder inside."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = doc.styles[name]
        style.font.name = "Times New Roman"
        # The theme's fonts would win over the named one; complex scripts get it too.
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for theme in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
            fonts.attrib.pop(qn(f"w:{theme}"), None)
        fonts.set(qn("w:cs"), "Times New Roman")
    doc.styles["Normal"].font.size = Pt(10)
    doc.styles["Normal"].paragraph_format.space_after = Pt(2)
    doc.add_paragraph(texts["title"], style="Title")
    doc.add_paragraph(texts["subtitle"])
    for label, value in package.scope:
        doc.add_paragraph(f"{label}: {value}")
    doc.add_paragraph(f"{texts['as_of']}: {_when(package.as_of)}")
    doc.add_paragraph(_counts(texts, package.acts))
    if not package.total:
        doc.add_paragraph(texts["none"])
    doc.add_paragraph(PLACEHOLDER)
    frame = io.BytesIO()
    doc.save(frame)
    return frame.getvalue()


def _body(package: Package, texts, progress) -> Iterator[str]:
    """The headings and tables, as XML text, one requirement at a time."""
    per_act = {(a.issuing_body, a.legal_act, a.legal_act_ref): a for a in package.acts}
    widths = [int(Cm(w).twips) for _, w in DOCX_COLUMNS]
    header = [texts[key] for key, _ in DOCX_COLUMNS]
    body = act = None
    in_table = False
    number = 0
    for done, row in enumerate(package.rows, start=1):
        if row.issuing_body != body or (row.legal_act, row.legal_act_ref) != act:
            if in_table:
                yield "</w:tbl>" + _paragraph("")
            if row.issuing_body != body:
                body = row.issuing_body
                yield _paragraph(body or texts["no_body"], "Heading1")
            act = (row.legal_act, row.legal_act_ref)
            yield _paragraph(_act_title(texts, *act), "Heading2")
            counts = per_act.get((body, *act))
            if counts is not None:
                yield _paragraph(texts["act_totals"] % {"cancel": counts.cancel,
                                                        "revise": counts.revise})
            yield _table_start(header, widths)
            in_table, number = True, 0
        number += 1
        new_wording = row.new_wording if row.decision == "revise" else texts["repeal"]
        approved = "\n".join(part for part in (row.approved_by, _when(row.approved_at)) if part)
        yield _row([str(number), row.article, f"{row.code}\n{row.title}",
                    _decision(texts, row.decision), row.text, new_wording, row.justification,
                    approved], widths)
        if progress is not None and done % 200 == 0:
            progress(done, package.total)
    if in_table:
        yield "</w:tbl>" + _paragraph("")


def write_docx(package: Package, out: IO[bytes], texts, progress=None) -> None:
    """One heading per issuing body, one table per legal act; wording exactly as stored."""
    with zipfile.ZipFile(io.BytesIO(_frame(package, texts))) as frame, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as docx:
        document = frame.read("word/document.xml").decode("utf-8")
        marker = document.index(PLACEHOLDER)
        start = max(document.rfind("<w:p>", 0, marker), document.rfind("<w:p ", 0, marker))
        end = document.index("</w:p>", marker) + len("</w:p>")
        for item in frame.infolist():
            if item.filename != "word/document.xml":
                docx.writestr(item, frame.read(item.filename))
        with docx.open("word/document.xml", "w") as xml:
            xml.write(document[:start].encode("utf-8"))
            batch: list[str] = []
            for part in _body(package, texts, progress):
                batch.append(part)
                if len(batch) >= 100:
                    xml.write("".join(batch).encode("utf-8"))
                    batch.clear()
            xml.write("".join(batch).encode("utf-8"))
            xml.write(document[end:].encode("utf-8"))
    if progress is not None:
        progress(package.total, package.total)


# XLSX ---------------------------------------------------------------------------------------

XLSX_COLUMNS = (("col_body", 20), ("col_act", 30), ("col_act_ref", 14), ("col_article", 11),
                ("col_area", 6), ("col_code", 13), ("col_title", 28), ("col_decision", 10),
                ("col_current", 50), ("col_new", 50), ("col_justification", 36),
                ("col_approved_by", 16), ("col_approved_at", 16))
#: Row heights for wrapped text, as the summaries measure them: a line of the default font is
#: 15 points, a column "character" holds about 1.1 Cyrillic letters once words wrap, and
#: Excel's tallest row is 409 points. (In constant-memory mode nobody else sizes the rows.)
LINE_HEIGHT = 15
CHARS_PER_WIDTH = 1.1
MAX_ROW_HEIGHT = 409


def _height(values, widths) -> float:
    lines = 1
    for value, width in zip(values, widths, strict=False):
        if value:
            per_line = max(1, int(width * CHARS_PER_WIDTH))
            lines = max(lines, sum(-(-max(len(part), 1) // per_line)
                                   for part in value.split("\n")))
    return min(MAX_ROW_HEIGHT, LINE_HEIGHT * lines)


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
    widths = [width for _, width in XLSX_COLUMNS]
    for col, (key, width) in enumerate(XLSX_COLUMNS):
        ws.set_column(col, col, width, top)
        ws.write_string(first, col, texts[key], header)
    ws.set_row(first, 2 * LINE_HEIGHT)  # two-line headings ("Number and date")
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
        ws.set_row(r, _height(values, widths))
        for col, value in enumerate(values):
            if value:
                ws.write_string(r, col, _cell(value), wrap)
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
