"""An export that fails never passes for a complete file, and the audit log says how it ended.

The database is made to fail for real: before the first byte by a SQLAlchemy event on the
export's query, midway by invalidating the connection the rows are being read from.
"""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from review_app.audit import AuditEntry
from review_app.extensions import db
from review_app.requirements import export
from tests.conftest import login_as, page_text


@pytest.fixture
def rita(world):
    fire = world.area("07", "Пожарная безопасность")
    for n in range(7):
        world.requirement(fire, title=f"Требование {n}")
    return world.user("rita", reviewer_in=(fire,))


def audit_trail() -> list[tuple[str, dict]]:
    db.session.rollback()
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action.like("export%")).order_by(AuditEntry.id))
    return [(e.action, e.details) for e in entries]


@pytest.fixture
def database_fails_on_the_export_query(app):
    """Every query on the requirements joined to their areas fails, as if the server were gone."""
    def fail(conn, cursor, statement, parameters, context, executemany):
        if "FROM requirements JOIN areas" in statement:
            raise sa.exc.OperationalError(statement, parameters, Exception("server closed"))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", fail)
    yield
    sa.event.remove(engine, "before_cursor_execute", fail)


@pytest.fixture
def database_goes_away_after_two_rows(monkeypatch):
    """The rows are read two at a time; after the second, the connection is closed under them."""
    monkeypatch.setattr(export, "BATCH", 2)
    real_rows = export.rows

    def rows(where, sort, language, connection):
        for n, values in enumerate(real_rows(where, sort, language, connection), start=1):
            yield values
            if n == 2:
                connection.invalidate()

    monkeypatch.setattr(export, "rows", rows)


def read_stream(response) -> tuple[bytes, BaseException | None]:
    """What a browser would have received, and the error that broke off the connection."""
    received = b""
    try:
        for chunk in response.response:
            received += chunk
    except Exception as error:  # noqa: BLE001 - the test looks at it
        return received, error
    finally:
        response.close()
    return received, None


def test_a_complete_csv_says_so_on_its_last_line_and_in_the_log(client, rita):
    login_as(client, rita)
    response = client.get("/requirements/export.csv?area=07", buffered=False)
    received, error = read_stream(response)
    assert error is None
    lines = list(csv.reader(io.StringIO(received.decode("utf-8-sig")), delimiter=";"))
    assert len(lines) == 1 + 7 + 1
    assert lines[-1] == ["# End of export: 7 requirements."]
    assert audit_trail() == [
        ("export", {"format": "csv", "filters": {"area": "07"}}),
        ("export_completed", {"format": "csv", "total_rows": 7})]


@pytest.fixture
def as_in_production(app):
    """Unexpected errors answer with the error page instead of reaching the test."""
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False


def test_a_database_failing_before_the_first_byte_answers_an_error_page(
        client, rita, database_fails_on_the_export_query):
    login_as(client, rita)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/requirements/export.{fmt}?area=07")
        assert response.status_code == 503
        assert response.mimetype == "text/html"
        assert "attachment" not in response.headers.get("Content-Disposition", "")
        assert "The database did not answer, so nothing was exported. Try again in a minute" \
            in page_text(response)
    trail = audit_trail()
    assert [action for action, _ in trail] == ["export", "export_failed"] * 2
    assert trail[1][1]["format"] == "csv" and "OperationalError" in trail[1][1]["error"]
    assert "total_rows" not in trail[1][1]


def test_a_csv_whose_database_goes_away_midway_ends_as_failed_not_complete(
        client, rita, database_goes_away_after_two_rows):
    login_as(client, rita)
    response = client.get("/requirements/export.csv?area=07", buffered=False)
    assert response.status_code == 200  # the first rows were already on their way
    received, error = read_stream(response)
    assert error is not None  # the server breaks the connection off: a failed download
    lines = list(csv.reader(io.StringIO(received.decode("utf-8-sig")), delimiter=";"))
    sent = lines[1:-1]
    # The rows already read (two, or the few the driver had buffered) went out; not all seven.
    assert 2 <= len(sent) < 7 and all(line[0].startswith("TR-07-") for line in sent)
    assert lines[-1][0].startswith("EXPORT FAILED: this file is incomplete")
    assert not any(line and line[0].startswith("# End of export") for line in lines)
    trail = audit_trail()
    assert [action for action, _ in trail] == ["export", "export_failed"]
    assert trail[1][1]["total_rows"] == len(sent) and trail[1][1]["format"] == "csv"


def test_an_xlsx_whose_database_goes_away_midway_is_never_sent(
        client, rita, database_goes_away_after_two_rows, as_in_production):
    login_as(client, rita)
    response = client.get("/requirements/export.xlsx?area=07")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert not response.get_data().startswith(b"PK")  # not a byte of a workbook
    assert [action for action, _ in audit_trail()] == ["export", "export_failed"]


def test_a_complete_xlsx_is_logged_with_its_row_count(client, rita):
    login_as(client, rita)
    response = client.get("/requirements/export.xlsx")
    assert response.status_code == 200 and response.get_data().startswith(b"PK")
    response.close()
    assert audit_trail()[-1] == ("export_completed", {"format": "xlsx", "total_rows": 7})


def test_the_audit_log_shows_how_exports_ended_in_words(client, rita, admin,
                                                        database_goes_away_after_two_rows):
    login_as(client, rita)
    read_stream(client.get("/requirements/export.csv", buffered=False))
    login_as(client, admin)
    text = page_text(client.get("/admin/audit/?category=exports"))
    assert "export failed; the file is incomplete" in text
    assert "exported the requirements list" in text


def test_the_audit_log_csv_that_fails_midway_ends_as_failed(client, world, manager,
                                                            monkeypatch):
    from review_app.admin import auditlog

    real_iterate = auditlog.iterate

    def iterate(filters, batch=500):
        for n, item in enumerate(real_iterate(filters, batch), start=1):
            if n == 2:
                raise sa.exc.OperationalError("FETCH", {}, Exception("server closed"))
            yield item

    for name in ("ann", "ben", "cat"):
        login_as(client, world.user(name))
    login_as(client, manager)
    monkeypatch.setattr(auditlog, "iterate", iterate)
    received, error = read_stream(client.get("/admin/audit.csv", buffered=False))
    assert isinstance(error, sa.exc.OperationalError)
    lines = list(csv.reader(io.StringIO(received.decode("utf-8-sig")), delimiter=";"))
    assert len(lines) == 3 and lines[-1][0].startswith("EXPORT FAILED")


def test_the_audit_log_csv_answers_an_error_page_when_the_database_fails_at_once(
        client, manager, monkeypatch, as_in_production):
    from review_app.admin import auditlog

    def iterate(filters, batch=500):
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed"))
        yield  # a generator, like the real one

    login_as(client, manager)
    monkeypatch.setattr(auditlog, "iterate", iterate)
    response = client.get("/admin/audit.csv")
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Something went wrong" in page_text(response)


def test_a_streamed_export_whose_body_is_never_read_holds_no_database_connection(client, rita):
    """Reading its first rows before the response would hold a connection (and, on PostgreSQL,
    an open transaction blocking DDL) for a download nobody reads. (SQLite's test pool does not
    count its connections; on PostgreSQL this fails when the stream is primed eagerly.)"""
    login_as(client, rita)
    pool = db.engine.pool
    before = pool.checkedout()
    response = client.get("/requirements/export.csv")
    assert response.status_code == 200
    assert pool.checkedout() == before
    response.close()
