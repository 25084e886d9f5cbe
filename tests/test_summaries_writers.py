"""The pure summary writers, fed by hand-made data: every format opens and says the right thing.

No database, no Flask app, no Redis: the writers take a report source and a file object.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from review_app.requirements.models import Decision, State
from review_app.summaries import report
from review_app.summaries.build import write
from review_app.summaries.csv_writer import neutralise, write_csv
from review_app.summaries.pdf_writer import write_pdf
from review_app.summaries.report import AreaTally, PendingRow, ReviewerActivity, Tally
from review_app.summaries.texts import texts_for
from review_app.summaries.xlsx_writer import write_xlsx
from tests.summaries_support import (
    ROOT,
    FakeSource,
    csv_sections,
    decided_row,
    pdf_text,
    sheet_rows,
    workbook,
)

TEXTS = texts_for("en")
PACKAGE = Path(__file__).resolve().parent.parent / "review_app" / "summaries"
KAZAKH = "Өрт қауіпсіздігі әғқңөұүһі"


def tally(**cells) -> Tally:
    """tally(approved_cancel=(3, 300), unreviewed=(5, 0))"""
    t = Tally()
    for key, (count, cost) in cells.items():
        state, _, decision = key.partition("_")
        t.add(state, decision or None, count, cost)
    return t


@pytest.fixture
def fire_area_source() -> FakeSource:
    fire = tally(approved_cancel=(2, 3_000_000), approved_revise=(1, 700_000),
                 approved_keep=(1, 0), proposed_cancel=(1, 100), returned_keep=(1, 0),
                 unreviewed=(5, 0))
    return FakeSource(
        area=("01", KAZAKH), areas=[AreaTally("01", KAZAKH, fire)],
        decided={
            "cancel": [decided_row("TR-01-00001", annual_cost_kzt=1_000_000),
                       decided_row("TR-01-00002", annual_cost_kzt=2_000_000,
                                   justification="=HYPERLINK(\"http://evil\")")],
            "revise": [decided_row("TR-01-00003", text="Старая редакция.",
                                   new_wording="Новая редакция.", annual_cost_kzt=700_000)],
            "keep": [decided_row("TR-01-00004", annual_cost_kzt=None)],
        },
        pending=[PendingRow("01", "TR-01-00005", "@SUM(A1)", "proposed", "cancel", "Айгерим",
                            "Айгерим", datetime(2026, 11, 3, 9, 0), 100)]
        + [PendingRow("01", f"TR-01-0001{i}", "Ожидает", "unreviewed", "", "", "", None, None)
           for i in range(5)],
        reviewers=[ReviewerActivity("Айгерим Сәрсенова", "aigerim@example.kz", proposals=4,
                                    comments=1, assigned_open=2,
                                    last_active=datetime(2026, 11, 3, 9, 0))])


@pytest.fixture
def country_source() -> FakeSource:
    areas = [AreaTally(f"{n:02d}", f"Сфера {n}",
                       tally(approved_cancel=(n, n * 1000), unreviewed=(10, 0)))
             for n in range(1, 45)]
    return FakeSource(areas=areas)


def test_the_writers_import_neither_flask_nor_rq_nor_the_database():
    for name in ("report.py", "xlsx_writer.py", "csv_writer.py", "pdf_writer.py"):
        tree = ast.parse((PACKAGE / name).read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"flask", "flask_babel", "rq", "redis", "sqlalchemy"}, name


def test_the_report_knows_every_state_and_decision_of_the_models():
    assert set(report.STATES) == {s.value for s in State}
    assert set(report.DECISIONS) == {d.value for d in Decision}


def test_xlsx_has_a_sheet_per_section_frozen_headers_filters_and_charts(fire_area_source):
    out = io.BytesIO()
    write_xlsx(fire_area_source, out, TEXTS)
    wb = workbook(out.getvalue())
    assert wb.sheetnames == ["Summary", "Cancelled", "Revised", "Kept", "Pending", "Reviewers"]

    summary = wb["Summary"]
    assert summary["A1"].value == f"Review summary: area 01 {KAZAKH}"
    assert summary["B2"].value == datetime(2026, 11, 26, 15, 30)   # as of, Almaty time
    numbers = {row[0]: row[1] for row in summary.iter_rows(min_row=6, max_row=15,
                                                            values_only=True)}
    assert numbers["Requirements"] == 11
    assert numbers["With an approved decision"] == 4
    assert numbers["Complete, %"] == pytest.approx(4 / 11)
    assert numbers["Cancelled"] == 2 and numbers["Revised"] == 1 and numbers["Kept"] == 1
    assert numbers["Estimated annual cost removed by cancellations, ₸"] == 3_000_000
    assert numbers["Estimated annual cost of revised requirements, ₸"] == 700_000

    cancelled = wb["Cancelled"]
    assert cancelled.freeze_panes == "D2"
    assert cancelled.auto_filter.ref == "A1:P3"  # with the four SCM cost columns
    assert [c.value for c in cancelled[1]][:3] == ["Area", "Code", "Title"]
    assert cancelled.column_dimensions["C"].width > 40       # titles get room
    rows = sheet_rows(cancelled)
    assert [r[1] for r in rows] == ["TR-01-00001", "TR-01-00002"]
    # A justification that looks like a formula stays text in the workbook.
    assert rows[1][10] == "=HYPERLINK(\"http://evil\")"
    assert cancelled["K3"].data_type == "s"
    assert rows[0][12] == "Айгерим Сәрсенова" and rows[0][14] == "Ерлан Қасымов"

    revised = sheet_rows(wb["Revised"])
    assert revised[0][3:5] == ("Старая редакция.", "Новая редакция.")
    assert sheet_rows(wb["Pending"])[0][2] == "@SUM(A1)"
    assert sheet_rows(wb["Reviewers"])[0][:3] == ("Айгерим Сәрсенова", "aigerim@example.kz", 4)

    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2  # decisions pie and states column, native Excel charts


def test_xlsx_for_all_areas_adds_the_roll_up_with_a_row_per_area_and_its_chart(country_source):
    out = io.BytesIO()
    write_xlsx(country_source, out, TEXTS)
    wb = workbook(out.getvalue())
    assert wb.sheetnames[:2] == ["Summary", "Areas"]
    areas = wb["Areas"]
    rows = sheet_rows(areas)
    assert len(rows) == 45  # 44 areas and the total
    assert rows[0][:3] == ("01", "Сфера 1", 11)
    assert rows[-1][0] == "Total"
    assert rows[-1][2] == sum(n + 10 for n in range(1, 45))
    assert rows[-1][7] == sum(range(1, 45))
    assert areas.freeze_panes == "C2"
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as package:
        assert len([n for n in package.namelist() if n.startswith("xl/charts/chart")]) == 3


def test_empty_lists_say_none(country_source):
    out = io.BytesIO()
    write_xlsx(country_source, out, TEXTS)
    assert sheet_rows(workbook(out.getvalue())["Kept"]) == [("None.",) + (None,) * 15]


def test_csv_is_utf8_with_bom_semicolons_and_neutralised_formulas(fire_area_source):
    out = io.BytesIO()
    write_csv(fire_area_source, out, TEXTS)
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    sections = csv_sections(data)
    assert list(sections) == [
        f"Review summary: area 01 {KAZAKH}", "Key figures",
        "Requirements by state and decision", "Cancelled requirements",
        "Revised requirements: current and new wording", "Kept requirements",
        "Still pending: no approved decision yet", "Reviewer activity"]
    figures = dict(sections["Key figures"])
    assert figures["Requirements"] == "11"
    assert figures["Complete, %"] == "36,4"  # decimal comma, as Excel in ru/kk expects
    cancelled = sections["Cancelled requirements"]
    assert cancelled[0][:3] == ["Area", "Code", "Title"]
    assert cancelled[2][10] == "'=HYPERLINK(\"http://evil\")"
    pending = sections["Still pending: no approved decision yet"]
    assert pending[1][2] == "'@SUM(A1)"
    assert pending[1][7] == "03.11.2026 09:00"
    assert KAZAKH in data.decode("utf-8-sig")


@pytest.mark.parametrize("text, expected", [
    ("=1+2", "'=1+2"), ("+7 701", "'+7 701"), ("-5", "'-5"), ("@cmd", "'@cmd"),
    ("\tx", "'\tx"), ("Обычный текст", "Обычный текст"), ("a=b", "a=b"), ("", ""),
])
def test_csv_neutralises_every_formula_start(text, expected):
    assert neutralise(text) == expected


def test_english_csv_uses_commas_and_decimal_points(fire_area_source):
    out = io.BytesIO()
    write("csv", fire_area_source, out, TEXTS, "en")
    assert dict(csv_sections(out.getvalue(), ",")["Key figures"])["Complete, %"] == "36.4"


def test_pdf_is_a_brief_with_cyrillic_and_kazakh_text_in_an_embedded_font(fire_area_source):
    out = io.BytesIO()
    write_pdf(fire_area_source, out, TEXTS)
    data = out.getvalue()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert f"Review summary: area 01 {KAZAKH}" in text.replace("\n", " ")
    assert "Айгерим Сәрсенова" in text
    assert "Largest cancellations by estimated annual cost" in text
    assert "2 000 000 ₸" in text.replace("\u00a0", " ")
    assert b"/FontFile2" in data and b"Roboto" in data  # the font travels inside the file
    # The chart is drawn: filled rectangles in the colours of cancel, revise and keep.
    drawing = PdfReader(io.BytesIO(data)).pages[0].get_contents().get_data()
    for colour in (b"0.7059 0.1373 0.0941 rg", b"0.698 0.4157 0 rg", b"0.1059 0.4784 0.2392 rg"):
        assert colour in drawing


def test_pdf_for_all_areas_has_the_roll_up(country_source):
    out = io.BytesIO()
    write_pdf(country_source, out, TEXTS)
    text = pdf_text(out.getvalue())
    assert "Progress by area" in text and "All areas" in text
    assert "44 Сфера 44" in text


STREAM_SCRIPT = """
import resource, sys
from review_app.summaries.report import AreaTally, Tally
from review_app.summaries.texts import texts_for
from review_app.summaries.xlsx_writer import write_xlsx
from tests.summaries_support import FakeSource, decided_row

n = int(sys.argv[1])
def rows(decision):
    for i in range(n if decision == "cancel" else 0):
        yield decided_row(f"TR-{i:07d}", justification="Обоснование решения. " * 6)
tally = Tally()
tally.add("approved", "cancel", n, 0)
source = FakeSource(areas=[AreaTally("01", "Сфера", tally)], rows_factory=rows)
with open(sys.argv[2], "wb") as out:
    write_xlsx(source, out, texts_for("en"))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_writers_stream_rows_through_bounded_memory(tmp_path):
    """Ten times more rows through the workbook writer need (almost) no more memory."""
    def peak_kb(rows: int) -> int:
        done = subprocess.run([sys.executable, "-c", STREAM_SCRIPT, str(rows),
                               str(tmp_path / f"{rows}.xlsx")], cwd=ROOT, check=True,
                              capture_output=True, text=True)
        return int(done.stdout.strip().splitlines()[-1])

    small, large = peak_kb(8_000), peak_kb(80_000)
    assert (tmp_path / "80000.xlsx").stat().st_size > 1_000_000
    assert large - small < 15 * 1024, f"{small} KB for 8,000 rows, {large} KB for 80,000"


def test_xlsx_prints_on_a4_landscape_every_column_on_the_page_header_row_on_every_page(
        country_source):
    """Printed from a spreadsheet program (LibreOffice, all areas of the demo data) the workbook
    took 1,059 pages, labels parted from their numbers; with this page setup, 323 pages, every
    list's columns side by side and every row's text readable."""
    out = io.BytesIO()
    write_xlsx(country_source, out, TEXTS)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as package:
        workbook_xml = package.read("xl/workbook.xml").decode()
        sheets = sorted(n for n in package.namelist() if n.startswith("xl/worksheets/sheet"))
        xml = {n: package.read(n).decode() for n in sheets}
    assert len(sheets) == 7
    for index, name in enumerate(sheets):
        sheet = xml[name]
        assert '<pageSetUpPr fitToPage="1"/>' in sheet, name
        assert 'paperSize="9"' in sheet and 'orientation="landscape"' in sheet, name
        # Every column on the page; the key-figures sheet also on one page in height.
        assert f'fitToHeight="{1 if index == 0 else 0}"' in sheet or (
            index == 0 and "fitToHeight" not in sheet), name
        assert "<oddHeader>&amp;L&amp;8Review summary: all areas" in sheet, name
        assert "<oddFooter>&amp;R&amp;8Page &amp;P of &amp;N</oddFooter>" in sheet, name
    # The header row of every list is printed again at the top of each page.
    titles = [line for line in workbook_xml.split("<definedName ") if "Print_Titles" in line]
    assert len(titles) == 6 and all("$1:$1" in t for t in titles)


def test_the_pdf_title_is_set_flush_left_never_justified():
    texts = dict(TEXTS, title_area="Қарау қорытындысы: %(code)s %(name)s салалық бағыты "
                                   "бойынша толық есеп")
    source = FakeSource(area=("01", "Өрт қауіпсіздігі және төтенше жағдайлардың алдын алу "
                                    "мәселелері"), areas=[])
    out = io.BytesIO()
    write_pdf(source, out, texts, language="kk")
    drawing = PdfReader(io.BytesIO(out.getvalue())).pages[0].get_contents().get_data()
    # Justified text is drawn as TJ arrays stretching the spaces; flush-left text as plain Tj.
    assert b"] TJ" not in drawing


def test_pdf_shares_use_the_decimal_mark_of_the_summarys_language(fire_area_source):
    for language, share in (("ru", "36,4"), ("kk", "36,4"), ("en", "36.4")):
        out = io.BytesIO()
        write_pdf(fire_area_source, out, TEXTS, language=language)
        text = pdf_text(out.getvalue())
        assert share in text, language
        assert ("36.4" in text) == (language == "en"), language


def test_the_csv_and_the_workbook_lists_have_the_same_columns_from_one_spec(country_source):
    """One column spec feeds both writers: each list's header row is the same in both files."""
    xlsx, csv_out = io.BytesIO(), io.BytesIO()
    write_xlsx(country_source, xlsx, TEXTS)
    write_csv(country_source, csv_out, TEXTS)
    wb, sections = workbook(xlsx.getvalue()), csv_sections(csv_out.getvalue())
    for sheet, section in (("Areas", "All areas"), ("Cancelled", "Cancelled requirements"),
                           ("Revised", "Revised requirements: current and new wording"),
                           ("Kept", "Kept requirements"),
                           ("Pending", "Still pending: no approved decision yet"),
                           ("Reviewers", "Reviewer activity")):
        assert [c.value for c in wb[sheet][1]] == sections[section][0], sheet
    # Shares: a fraction formatted as a percentage in the workbook, a percentage in the CSV.
    assert wb["Areas"]["K2"].number_format == "0.0%"
    assert sections["All areas"][1][10] == "9,1"  # area 01: 1 of 11


def test_rows_with_long_wrapped_text_are_made_tall_enough_to_show_it():
    """Spreadsheet programs do not measure rows when they open a file: printed, long wordings
    ran over the rows below them."""
    wording = "Субъекты обязаны хранить журнал проверок огнетушителей. " * 8  # 456 letters
    source = FakeSource(area=("01", KAZAKH), areas=[], decided={"revise": [
        decided_row("TR-01-00001", text=wording, new_wording="Коротко."),
        decided_row("TR-01-00002", text="Коротко.", new_wording="Тоже коротко."),
        decided_row("TR-01-00003", text="Коротко.", new_wording="Коротко.",
                    legal_basis="Закон РК № 188-V", title="Огнетушители")]})
    out = io.BytesIO()
    write_xlsx(source, out, TEXTS)
    revised = workbook(out.getvalue())["Revised"]
    # 456 letters in a column 60 characters wide (about 66 letters a line): 7 lines of 15 pt.
    assert revised.row_dimensions[2].height == 7 * 15
    # The legal basis (56 letters, 44 a line) takes two lines; short texts are left alone.
    assert revised.row_dimensions[3].height == 2 * 15
    assert revised.row_dimensions[4].height is None


def test_a_long_list_keeps_no_row_heights_it_has_written():
    """Each wrapped row gets its height in the file, but the writer forgets the heights of the
    rows already written: xlsxwriter would keep all of them (~270 MB at 1,000,000 rows)."""
    import re

    import xlsxwriter

    from review_app.summaries import xlsx_writer

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"constant_memory": True})
    ws = wb.add_worksheet("list")
    fm = xlsx_writer._Formats(wb)
    table = xlsx_writer._Table(ws, fm, [("Code", 12, fm.top), ("Text", 30, fm.wrap),
                                        ("Cost", 12, fm.money)])
    for n in range(2000):
        table.add([f"TR-{n:05d}", "Субъекты обязаны " * (1 + n % 9), n])
        assert len(ws.row_info) <= 3 and len(ws.row_sizes) <= 3
    table.close(texts_for("ru"))
    wb.close()
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    heights = dict(re.findall(r'<row r="(\d+)"[^>]*? ht="([\d.]+)"', sheet))
    assert len(re.findall(r"<row ", sheet)) == 2001
    assert set(heights) >= {str(n + 2) for n in range(2000) if n % 9 >= 3}


def test_a_list_longer_than_a_sheet_goes_on_in_the_next_sheet_never_lost(monkeypatch):
    """Excel's sheet holds 1,048,576 rows and xlsxwriter drops any past it without a word: a
    list that long goes on in "Cancelled (2)", "Cancelled (3)", each with its heading and
    filter, in order, before the next list's sheet."""
    from review_app.summaries import xlsx_writer

    monkeypatch.setattr(xlsx_writer, "SHEET_ROWS", 4)  # a heading and three rows a sheet

    def rows(decision):
        for i in range(8 if decision == "cancel" else 0):
            yield decided_row(f"TR-{i:03d}")

    tally = Tally()
    tally.add("approved", "cancel", 8, 0)
    out = io.BytesIO()
    write_xlsx(FakeSource(areas=[AreaTally("01", "Сфера", tally)], rows_factory=rows), out,
               TEXTS)
    wb = workbook(out.getvalue())
    assert wb.sheetnames == ["Summary", "Areas", "Cancelled", "Cancelled (2)", "Cancelled (3)",
                             "Revised", "Kept", "Pending", "Reviewers"]
    codes = []
    for name in ("Cancelled", "Cancelled (2)", "Cancelled (3)"):
        sheet = wb[name]
        assert sheet["A1"].value == wb["Cancelled"]["A1"].value  # its own heading
        assert sheet.freeze_panes == "D2" and sheet.auto_filter.ref
        codes += [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == [f"TR-{i:03d}" for i in range(8)]


def test_a_sheet_name_with_its_part_number_stays_within_excels_31_characters():
    from review_app.summaries.xlsx_writer import _sheet_name

    assert _sheet_name("Отменённые требования по сферам", 2) == "Отменённые требования по сф (2)"
    assert len(_sheet_name("x" * 40, 12)) == 31
    assert _sheet_name("a/b", 1) == "a b"
