"""The amendment package as managers and leads use it: the page by issuing body and legal act,
the DOCX and XLSX built by a real RQ worker through the summary pipeline, and every way to
ask for what one may not see."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from review_app import create_app
from review_app.auth.models import GlobalRole
from review_app.extensions import db
from review_app.summaries.models import Summary, SummaryKind, SummaryStatus
from tests.conftest import login_as, page_text
from tests.package_support import approved, docx_tables
from tests.summaries_support import only_summary, run_worker, summary_row, workbook
from tests.test_migrations import scratch_url  # noqa: F401 - the fixture, used by name

KAZAKH = "Кәсіпкерлік субъектілері өрт сөндіргіштердің болуын қамтамасыз етуге міндетті."
MCHS = "Министерство по чрезвычайным ситуациям РК"
MINTRANS = "Министерство транспорта РК"


@pytest.fixture
def decided(client, world, team):
    """Fire safety: a revision and a cancellation under two acts of the emergencies ministry,
    one requirement still only proposed; transport: a cancellation of the transport ministry."""
    fire, transport = team["fire"], team["transport"]
    revised = approved(client, world, team["aigerim"], team["lead"], fire, "revise",
                       text=KAZAKH, article="п. 7", title="Өрт сөндіргіштер")
    cancelled = approved(client, world, team["bolat"], team["lead"], fire, "cancel",
                         legal_act="Технический регламент «О пожарной безопасности»",
                         legal_act_ref="№ 1 от 01.01.2020", article="ст. 3")
    kept = approved(client, world, team["aigerim"], team["lead"], fire, "keep")
    pending = world.requirement(fire, title="Ещё не решено")
    road = approved(client, world, team["outsider"], team["lead12"], transport, "cancel",
                    issuing_body=MINTRANS, legal_act="Закон «Об автомобильном транспорте»",
                    legal_act_ref="№ 476-II", article="ст. 14", title="Тахографы")
    return {"revised": revised, "cancelled": cancelled, "kept": kept, "pending": pending,
            "road": road}


def test_a_manager_sees_the_package_by_body_and_act_with_wording_and_approver(client, team,
                                                                             decided):
    login_as(client, team["manager"])
    text = page_text(client.get("/package/"))
    assert "Legal acts: 3; requirements to cancel: 2, to revise: 1." in text
    assert MCHS in text and MINTRANS in text
    assert KAZAKH in text  # the current wording, as stored
    assert "Субъекты обязаны обеспечить наличие огнетушителей на объекте." in text  # new
    assert "Требование дублирует нормы технического регламента." in text  # justification
    assert "Approved by: Erlan" in text
    assert decided["kept"].code not in text and decided["pending"].code not in text

    only_transport = page_text(client.get("/package/", query_string={"body": MINTRANS}))
    assert "Legal acts: 1; requirements to cancel: 1, to revise: 0." in only_transport
    assert decided["road"].code in only_transport and decided["revised"].code not in only_transport
    one_act = page_text(client.get("/package/", query_string={
        "area": "07", "act": "Технический регламент «О пожарной безопасности»"}))
    assert decided["cancelled"].code in one_act and decided["revised"].code not in one_act


def test_a_manager_downloads_one_ministry_as_docx_with_a_table_per_act(client, app, team,
                                                                       decided):
    login_as(client, team["manager"])
    response = client.post("/package/", data={"area": "", "body": MCHS, "act": "",
                                                "format": "docx"})
    assert response.status_code == 302
    package = only_summary()
    assert (package.kind, package.issuing_body, package.format.value) == (
        SummaryKind.PACKAGE, MCHS, "docx")
    assert "The amendment package is being prepared" in page_text(
        client.get(response.location))

    run_worker(app)
    package = summary_row(package.id)
    assert package.status == SummaryStatus.DONE and package.requirement_count == 2
    download = client.get(f"/summaries/{package.id}/download")
    assert download.status_code == 200
    assert download.mimetype.endswith("wordprocessingml.document")
    assert 'filename="amendment-package-all-areas-' in download.headers["Content-Disposition"]

    headings, tables = docx_tables(download.data)
    assert headings == [MCHS, "Правила пожарной безопасности, № 55 от 21.02.2022",
                        "Технический регламент «О пожарной безопасности», № 1 от 01.01.2020"]
    assert len(tables) == 2  # one per act
    header, revision = tables[0]
    assert header[:4] == ["No.", "Article", "Requirement", "Decision"]
    assert revision[1] == "п. 7" and revision[3] == "revise"
    assert revision[4] == KAZAKH
    assert revision[5] == "Субъекты обязаны обеспечить наличие огнетушителей на объекте."
    assert "Erlan" in revision[7]
    assert tables[1][1][3] == "cancel" and tables[1][1][5] == "(repealed: no new wording)"


def test_the_package_is_written_in_the_askers_language(client, app, world, team, decided):
    russian = world.user("rus_manager", role=GlobalRole.MANAGER, language="ru")
    login_as(client, russian)
    client.post("/package/", data={"area": "12", "format": "xlsx"})
    run_worker(app)
    package = only_summary()
    assert package.language == "ru" and package.area_id == team["transport"].id
    wb = workbook(client.get(f"/summaries/{package.id}/download").data)
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "Пакет поправок"
    assert rows[4][:4] == ("Регулирующий орган", "Нормативный правовой акт", "Номер и дата",
                           "Статья, пункт")
    assert rows[5][0] == MINTRANS and rows[5][5] == decided["road"].code
    assert rows[5][7] == "отменить"


def test_asking_twice_while_it_is_built_makes_one_package(client, team, decided):
    login_as(client, team["manager"])
    for _ in range(2):
        client.post("/package/", data={"body": MCHS, "format": "docx"})
    assert only_summary().kind == SummaryKind.PACKAGE
    text = page_text(client.get("/package/"))
    assert "The same package is already being prepared" in text


def test_a_lead_sees_and_asks_only_for_their_own_area(client, app, team, decided):
    login_as(client, team["lead"])
    text = page_text(client.get("/package/"))
    assert decided["revised"].code in text and decided["road"].code not in text
    assert client.get("/package/", query_string={"area": "12"}).status_code == 403
    assert client.post("/package/", data={"area": "12", "format": "docx"}).status_code == 403
    # Without an area, a lead's request is for their own area, never for all of them.
    assert client.post("/package/", data={"area": "", "format": "docx"}).status_code == 302
    package = only_summary()
    assert package.area_id == team["fire"].id

    run_worker(app)
    login_as(client, team["lead12"])
    assert client.get(f"/summaries/{package.id}/download").status_code == 403
    login_as(client, team["manager"])
    assert client.get(f"/summaries/{package.id}/download").status_code == 200


def test_a_lead_may_not_download_the_all_areas_package(client, app, team, decided):
    login_as(client, team["manager"])
    client.post("/package/", data={"format": "xlsx"})
    run_worker(app)
    package = only_summary()
    login_as(client, team["lead"])
    assert client.get(f"/summaries/{package.id}/download").status_code == 403


@pytest.mark.parametrize("who", ["aigerim", "outsider"])
def test_reviewers_have_no_package(client, team, decided, who):
    login_as(client, team[who])
    assert client.get("/package/").status_code == 403
    assert client.post("/package/", data={"format": "docx"}).status_code == 403
    assert 'href="/package/"' not in client.get("/summaries/").get_data(as_text=True)


def test_signed_out_people_are_sent_to_sign_in(client, decided):
    client.post("/logout", data={})
    assert client.get("/package/").status_code == 302
    assert "/login" in client.get("/package/").location
    assert client.post("/package/", data={"format": "docx"}).status_code in (302, 400)


def test_wrong_input_is_refused_with_a_reason_and_nothing_is_asked(client, team, decided):
    login_as(client, team["manager"])
    unknown = client.get("/package/", query_string={"area": "99"})
    assert unknown.status_code == 400 and "Unknown area" in page_text(unknown)
    long_body = client.get("/package/", query_string={"body": "М" * 501})
    assert long_body.status_code == 400 and "at most 500 characters" in page_text(long_body)
    assert client.post("/package/", data={"format": "pdf"}).status_code == 400
    assert client.post("/package/", data={"area": "99", "format": "docx"}).status_code == 400
    assert client.post("/package/", data={"body": "М" * 501,
                                          "format": "docx"}).status_code == 400
    assert "Choose a format" in page_text(client.post("/package/", data={"format": "pdf"}))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Summary)) == 0


def test_going_back_before_the_package_migration_drops_packages_and_their_files(
        scratch_url, redis_url):  # noqa: F811 - the fixture
    """A package (with its stored file) and a summary in place: the downgrade removes the
    package cleanly (no orphaned file chunks), keeps the summary, and the upgrade comes back."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_url, "TESTING": True,
                      "REDIS_URL": redis_url})
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="heads")
        for kind, fmt in (("summary", "xlsx"), ("package", "docx")):
            db.session.execute(sa.text(
                "INSERT INTO summaries (kind, format, language, status, dedupe_key, progress, "
                "origin, requested_at, attempt) VALUES (:kind, :fmt, 'ru', 'done', :key, 100, "
                "'cli', CURRENT_TIMESTAMP, 1)"), {"kind": kind, "fmt": fmt, "key": kind})
            db.session.execute(sa.text(
                "INSERT INTO summary_chunks (summary_id, seq, data) "
                "SELECT id, 0, :data FROM summaries WHERE kind = :kind"),
                {"kind": kind, "data": b"file"})
        db.session.commit()
        db.session.remove()
        downgrade(directory=directory, revision="0006_import_changes")
        assert db.session.execute(sa.text(
            "SELECT format FROM summaries")).scalars().all() == ["xlsx"]
        assert db.session.scalar(sa.text("SELECT count(*) FROM summary_chunks")) == 1
        db.session.remove()
        upgrade(directory=directory, revision="heads")
        db.session.remove()
        db.engine.dispose()
