"""In a real Chromium: an administrator imports a ministry's spreadsheet full of mistakes,
reads the problems, fixes the file, imports it; a reviewer of the area then sees the new
requirements. Uses the live server and browser fixtures of tests/browser_support.py."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from review_app.auth.models import GlobalRole
from review_app.extensions import db
from review_app.requirements.models import Requirement, State
from tests.browser_support import (
    pytestmark,  # noqa: F401 - skips the module without a browser (fails in CI)
    sign_in,
    sign_out,
)
from tests.conftest import World

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the module is skipped (pytestmark) without Playwright
    Page = object

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ["№ п/п", "Код требования", "Код сферы", "Наименование", "Текст требования",
           "Нормативный правовой акт", "Статья, пункт", "Государственный орган",
           "Годовые издержки, тенге", "Количество субъектов"]
MCS = "Министерство по чрезвычайным ситуациям РК"
ACT = "Приказ Министра по чрезвычайным ситуациям РК «Об утверждении Правил пожарной безопасности»"


def ministry_workbook(*, fixed: bool) -> bytes:
    """What a ministry sends: a title row, Russian headers, a numbering column — and, unless
    ``fixed``, a wrong area code, a code used twice, a cost in words and a formula."""
    from openpyxl import Workbook

    rows = [
        ("МЧС-07-0101", "07", "Огнетушители в торговых центрах",
         "Собственники торговых центров обязаны обеспечить наличие огнетушителей у каждого "
         "эвакуационного выхода.", "п. 14", 2_400_000, 1800),
        ("МЧС-07-0102", "07" if fixed else "7А", "Противопожарный инструктаж",
         "Руководители организаций обязаны проводить противопожарный инструктаж работников "
         "не реже одного раза в полугодие.", "п. 31", 950_000, 52000),
        ("МЧС-07-0103", "07", "Журнал учёта огнетушителей",
         "Организации обязаны вести журнал учёта огнетушителей по установленной форме.",
         "п. 40", "1 200 000" if fixed else "около 1,2 млн", 52000),
        ("МЧС-07-0104" if fixed else "МЧС-07-0101", "07", "План эвакуации",
         "Собственники зданий обязаны разместить план эвакуации на каждом этаже.", "п. 52",
         300_000, 9000),
        ("МЧС-07-0105", "07", "Пожарная сигнализация",
         "Собственники зданий обязаны ежеквартально проверять автоматическую пожарную "
         "сигнализацию." if fixed else '=HYPERLINK("http://example.org/doc";"см. документ")',
         "п. 61", 5_100_000, 3400),
        ("МЧС-12-0106", "12" if fixed else "99", "Огнетушители в автобусах",
         "Перевозчики обязаны оснащать автобусы двумя огнетушителями.", "п. 77", 640_000, 2100),
    ]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Перечень"
    sheet.append(["Перечень обязательных требований МЧС РК (волна 2)"])
    sheet.append(HEADERS)
    for n, (code, area, title, text, article, cost, count) in enumerate(rows, start=1):
        sheet.append([n, code, area, title, text, ACT, article, MCS, cost, count])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(tab: Page, data: bytes, name: str) -> None:
    tab.get_by_label("File (XLSX or CSV)").set_input_files(
        {"name": name, "mimeType": XLSX, "buffer": data})
    tab.get_by_role("button", name="Check the file").click()


@pytest.mark.browser
def test_admin_imports_a_messy_ministry_file_and_reviewers_see_it(
        page: Page, world: World, screenshot):  # noqa: F811 - the imported fixtures
    fire = world.area("07", "Пожарная безопасность")
    world.area("12", "Автомобильный транспорт")
    admin = world.user("admin", role=GlobalRole.ADMIN)
    rita = world.user("rita", reviewer_in=(fire,))

    sign_in(page, admin)
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import requirements")).to_be_visible()
    expect(page.get_by_test_id("columns")).to_contain_text("Код сферы")
    expect(page.get_by_test_id("example-xlsx")).to_be_visible()
    screenshot(page, "import-01-upload")

    # The file with mistakes: every one is listed by row and column, nothing is imported.
    upload(page, ministry_workbook(fixed=False), "МЧС-волна-2.xlsx")
    expect(page.get_by_test_id("error")).to_contain_text("The file has 5 problems")
    table = page.get_by_test_id("problem-table")
    expect(table.locator("tbody tr")).to_have_count(5)
    expect(table).to_contain_text("7А")
    expect(table).to_contain_text("No area has this code")
    expect(table).to_contain_text("already used on row 3")
    expect(table).to_contain_text("около 1,2 млн")
    expect(table).to_contain_text("A spreadsheet formula, not a value")
    expect(page.get_by_test_id("warning")).to_contain_text("№ п/п")
    expect(page.get_by_test_id("file-facts")).to_contain_text("column names on row 2")
    expect(page.get_by_test_id("confirm")).to_have_count(0)
    screenshot(page, "import-02-problems")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) == 0

    # The corrected file: a preview, then the import.
    page.get_by_role("link", name="Check a corrected file").click()
    upload(page, ministry_workbook(fixed=True), "МЧС-волна-2-исправлено.xlsx")
    expect(page.get_by_test_id("count-new")).to_have_text("6")
    expect(page.get_by_test_id("problems")).to_have_count(0)
    screenshot(page, "import-03-preview")
    page.get_by_test_id("confirm-button").click()
    expect(page.get_by_test_id("applied")).to_contain_text("Imported by Admin")
    expect(page.get_by_role("status")).to_contain_text("Imported: 6 new, 0 changed.")
    screenshot(page, "import-04-imported")

    db.session.expire_all()
    imported = db.session.scalar(sa.select(Requirement).where(Requirement.code == "МЧС-07-0103"))
    assert (imported.annual_cost_kzt, imported.state, imported.article) == (
        1_200_000, State.UNREVIEWED, "п. 40")

    # A reviewer of area 07 finds the new requirements (and not area 12's).
    sign_out(page)
    sign_in(page, rita)
    page.goto("/requirements/")
    rows = page.get_by_test_id("requirements").locator("tbody tr")
    expect(rows).to_have_count(5)
    expect(page.get_by_test_id("requirements")).to_contain_text("Огнетушители в торговых центрах")
    expect(page.get_by_test_id("requirements")).not_to_contain_text("автобусах")
    screenshot(page, "import-05-reviewer-list")
