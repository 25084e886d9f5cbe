"""What people (and scripts) type that the app must refuse in words, never with a 500:
NUL and other control characters, digits of other scripts, numbers past 64 bits, dates at the
ends of the calendar, edited page links, and LIKE wildcards meant as letters.

Each case checks the status, the message, and that nothing was written.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from review_app import keyset
from review_app.audit import AuditEntry
from review_app.auth.models import GlobalRole, User
from review_app.extensions import db
from review_app.requirements.models import Area, Requirement, State
from review_app.reviews.models import ReviewEvent
from review_app.validation import MAX_INT32, MAX_INT64, parse_id, parse_int
from tests.conftest import login_as, page_text, propose, reload

TWENTY_DIGITS = "9" * 20


def row_counts(*, ignore_refusal_audit: bool = True) -> dict[str, int]:
    """Rows in every table, in one query; the audit log's "denied" and "failed sign-in"
    entries are left out (a refusal is meant to write those)."""
    counts = []
    for table in db.metadata.sorted_tables:
        stmt = sa.select(sa.func.count()).select_from(table)
        if ignore_refusal_audit and table.name == AuditEntry.__tablename__:
            stmt = stmt.where(table.c.action.not_in(("denied", "sign_in_failed")))
        counts.append(stmt.scalar_subquery().label(table.name))
    row = db.session.execute(sa.select(*counts)).one()
    db.session.rollback()
    return dict(row._mapping)


@pytest.fixture
def team(world):
    fire = world.area("07", "Пожарная безопасность")
    return {
        "fire": fire,
        "reviewer": world.user("aigerim", reviewer_in=(fire,)),
        "lead": world.user("erlan", lead_in=(fire,)),
        "manager": world.user("manager", role=GlobalRole.MANAGER),
        "admin": world.user("admin", role=GlobalRole.ADMIN),
        "req": world.requirement(fire),
    }


def refused(response, status: int, *words: str) -> str:
    text = page_text(response)
    assert response.status_code == status, text[:500]
    for word in words:
        assert word in text, text[:800]
    return text


# NUL and other control characters -------------------------------------------------------------

def test_a_nul_in_the_sign_in_email_is_a_400_naming_the_field(client, team):
    before = row_counts(ignore_refusal_audit=False)
    response = client.post("/login", data={"email": "a\x00@x", "password": "x"})
    refused(response, 400, "“Email” contains a control character", "Remove it")
    assert row_counts(ignore_refusal_audit=False) == before


@pytest.mark.parametrize("who,url,field", [
    ("reviewer", "/requirements/?q=%00", "Search in code, title and text"),
    ("reviewer", "/requirements/?body=%00", "Issuing body"),
    ("reviewer", "/requirements/?area=07&q=fire%01", "Search in code, title and text"),
    ("reviewer", "/requirements/export.csv?q=%00", "Search in code, title and text"),
    ("lead", "/queue?q=%00", "Search in code, title and text"),
    ("manager", "/admin/audit/?who=%00", "who"),
    ("manager", "/admin/audit.csv?who=a%00", "who"),
])
def test_a_nul_in_a_filter_is_named_beside_the_other_filters(client, team, who, url, field):
    login_as(client, team[who])
    before = row_counts()
    refused(client.get(url), 400, f"“{field}” contains a control character")
    assert row_counts() == before


@pytest.mark.parametrize("who,url,field", [
    ("admin", "/admin/users/?q=%00", "q"),
    ("reviewer", "/requirements/?after=%00", "after"),
    ("reviewer", "/requirements/?x%00y=1", "x\ufffdy"),
    ("lead", "/my-work?next=%1b", "next"),
])
def test_a_nul_elsewhere_in_the_query_string_is_a_400_naming_the_parameter(
        client, team, who, url, field):
    login_as(client, team[who])
    refused(client.get(url), 400, f"“{field}” contains a control character")


def test_a_nul_in_the_address_is_a_400_not_a_database_error(client, team):
    login_as(client, team["manager"])
    refused(client.get("/areas/%00"), 400, "The address contains a control character")
    login_as(client, team["admin"])
    refused(client.get("/admin/areas/0%007"), 400, "The address contains a control character")


def test_a_nul_in_a_justification_or_comment_saves_nothing(client, team):
    req = team["req"]
    login_as(client, team["reviewer"])
    before = row_counts()
    refused(propose(client, req, "cancel", justification="Дублирует\x00"), 400,
            "“Justification” contains a control character")
    refused(client.post(f"/requirements/{req.id}/comment", data={"text": "a\x00b"}), 400,
            "“Your comment” contains a control character")
    assert row_counts() == before
    assert reload(req).state == State.UNREVIEWED


def test_tabs_and_new_lines_in_text_are_kept(client, team):
    req = team["req"]
    login_as(client, team["reviewer"])
    text = "Первая строка\r\n\tвторая строка"
    assert propose(client, req, "cancel", justification=text).status_code == 302
    assert reload(req).justification.replace("\r\n", "\n") == text.replace("\r\n", "\n")


def test_a_nul_in_the_summary_area_or_an_admin_name_is_refused(client, team):
    login_as(client, team["manager"])
    before = row_counts()
    refused(client.post("/summaries/", data={"area": "07\x00", "format": "xlsx"}), 400,
            "“area” contains a control character")
    assert row_counts() == before
    login_as(client, team["admin"])
    before = row_counts()
    refused(client.post("/admin/areas/new", data={
        "code": "99", "name_kk": "a", "name_ru": "б\x00", "name_en": "c"}), 400,
        "“Name in Russian” contains a control character")
    refused(client.post("/admin/users/new", data={
        "email": "x@example.kz", "display_name": "X\x00", "language": "ru", "global_role": ""}),
        400, "“Name” contains a control character")
    assert row_counts() == before


def test_forms_refuse_control_characters_even_without_the_request_hook(app):
    """The shared form base checks too, whatever feeds the form."""
    from werkzeug.datastructures import MultiDict

    from review_app.reviews.forms import CommentForm

    with app.test_request_context("/", method="POST", headers={"Accept-Language": "en"}):
        form = CommentForm(MultiDict({"text": "a\x00b"}), meta={"csrf": False})
        assert not form.validate()
        assert "control character" in form.text.errors[0]


# Digits of other scripts ----------------------------------------------------------------------

def test_a_superscript_digit_as_assignee_is_an_unknown_assignee(client, team):
    login_as(client, team["reviewer"])
    refused(client.get("/requirements/?assignee=%C2%B2"), 400, "Unknown assignee “²”")
    refused(client.get(f"/requirements/?assignee={TWENTY_DIGITS}"), 400, "Unknown assignee")


@pytest.mark.parametrize("bad", ["²", "٣", "1_0", TWENTY_DIGITS, "-1", str(2**66)])
def test_bulk_items_that_are_not_plain_numbers_are_malformed(client, team, bad):
    req = team["req"]
    login_as(client, team["reviewer"])
    propose(client, req, "cancel")
    login_as(client, team["lead"])
    before = row_counts()
    for item in (bad, f"{req.id}:{bad}"):
        response = client.post("/queue/decide", data={"action": "approve", "item": [item]})
        # The queue's bulk refusals answer by Post/Redirect/Get, so a reload decides nothing.
        assert response.status_code == 303 and "/bulk/" in response.location
        refused(client.get(response.location), 200, "The selection is malformed",
                "Nothing was changed")
        response = client.post("/requirements/assign", data={"give_to": str(team["lead"].id),
                                                              "item": [item]})
        refused(response, 422, "The selection is malformed")
    assert row_counts() == before


@pytest.mark.parametrize("bad", ["²", TWENTY_DIGITS, str(MAX_INT64), str(MAX_INT32 + 1)])
def test_giving_work_to_a_person_who_is_not_a_number_is_an_unknown_person(client, team, bad):
    req = team["req"]
    login_as(client, team["lead"])
    before = row_counts()
    refused(client.post("/requirements/assign", data={"give_to": bad, "item": [str(req.id)]}),
            422, f"Unknown person “{bad[:20]}”")
    # The requirement page's refusals answer by Post/Redirect/Get with what was typed kept.
    response = client.post(f"/requirements/{req.id}/assign", data={"assignee": bad})
    assert response.status_code == 303 and "draft=" in response.location
    refused(client.get(response.location), 200, "Unknown person")
    assert row_counts() == before


def test_a_chosen_proposal_that_is_not_a_number_is_ignored(client, team):
    req = team["req"]
    login_as(client, team["reviewer"])
    propose(client, req, "cancel")
    login_as(client, team["lead"])
    response = client.post(f"/requirements/{req.id}/decide", data={
        "action": "approve", "version": str(reload(req).version), "chosen_proposal": "²"})
    assert response.status_code == 302
    assert reload(req).state == State.APPROVED


@pytest.mark.parametrize("ids", ["²", TWENTY_DIGITS, "1,٣"])
def test_summary_progress_ids_must_be_plain_numbers(client, team, ids):
    login_as(client, team["manager"])
    response = client.get(f"/summaries/rows?ids={ids}")
    assert response.status_code == 400 and "summary numbers" in response.json["message"]


@pytest.mark.parametrize("key", ["area-²", f"area-{TWENTY_DIGITS}"])
def test_an_admin_form_with_an_odd_area_key_names_it(client, team, key):
    login_as(client, team["admin"])
    before = row_counts()
    refused(client.post("/admin/users/new", data={
        "email": "new@example.kz", "display_name": "New", "language": "ru", "global_role": "",
        key: "reviewer"}), 400, "Unknown area in the form")
    assert row_counts() == before


# Numbers out of range --------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/requirements/99999999999999999999", f"/requirements/{MAX_INT64}",
    f"/requirements/{MAX_INT64 + 1}", f"/requirements/{MAX_INT32 + 1}", "/requirements/²",
    "/requirements/٣",
    "/admin/users/99999999999999999999", "/summaries/99999999999999999999/download",
])
def test_ids_past_64_bits_or_in_other_scripts_are_not_found(client, team, path):
    login_as(client, team["admin"])
    refused(client.get(path), 404, "Not found")


def test_a_real_id_still_opens(client, team):
    login_as(client, team["reviewer"])
    assert client.get(f"/requirements/{team['req'].id}").status_code == 200


@pytest.mark.parametrize("sort,cursor", [
    ("code", keyset.encode("TR", 2**66)),
    ("code", keyset.encode("TR", MAX_INT32 + 1)),
    ("-cost", keyset.encode(2**66, 1)),
    ("cost", keyset.encode(-(2**66), 1)),
    ("cost", keyset.encode(True, 1)),
    ("cost", keyset.encode(1.5, 1)),
    ("code", keyset.encode("TR\x00", 1)),
    ("-updated", keyset.encode("0000-01-01T00:00:00", 1)),
    ("-updated", keyset.encode("2026-01-01T00:00:00+05:00", 1)),
    ("code", keyset.encode("TR", 1, 2)),
    ("code", "W" * 5000),
    ("code", "W" * 300 + "1dd"),
])
def test_an_edited_page_link_is_a_400_with_a_way_back(client, team, sort, cursor):
    login_as(client, team["reviewer"])
    for direction in ("after", "before"):
        refused(client.get(f"/requirements/?sort={sort}&{direction}={cursor}"), 400,
                "This page link is broken; start again from the first page")
    login_as(client, team["lead"])
    refused(client.get(f"/queue?after={cursor}"), 400, "page link is broken")


@pytest.mark.parametrize("cursor", [
    keyset.encode("2026-01-01T00:00:00", "a", 2**66),
    keyset.encode("2026-01-01T00:00:00", "x", 1),
    keyset.encode("9999-99-99", "a", 1),
    keyset.encode("2026-01-01T00:00:00", "a"),
])
def test_an_edited_audit_link_is_a_400(client, team, cursor):
    login_as(client, team["manager"])
    refused(client.get(f"/admin/audit/?after={cursor}"), 400, "page link is broken")


def test_cursors_at_the_ends_of_the_calendar_still_work(client, team):
    login_as(client, team["reviewer"])
    for when in ("0001-01-01T00:00:00", "9999-12-31T23:59:59"):
        assert client.get("/requirements/?sort=-updated&after="
                          + keyset.encode(when, 1)).status_code == 200
    login_as(client, team["manager"])
    assert client.get("/admin/audit/?after=" + keyset.encode(
        "9999-12-31T00:00:00", "r", MAX_INT32)).status_code == 200


def test_costs_and_ids_at_the_top_of_their_columns_page_without_error(client, team):
    login_as(client, team["reviewer"])
    for sort, cursor in (("-cost", keyset.encode(MAX_INT64, MAX_INT32)),
                         ("cost", keyset.encode(-MAX_INT64 - 1, 0)),
                         ("code", keyset.encode("TR", MAX_INT32))):
        assert client.get(f"/requirements/?sort={sort}&after={cursor}").status_code == 200


# Dates out of range ----------------------------------------------------------------------------

@pytest.mark.parametrize("query,label", [
    ("from=0001-01-01&to=9999-12-31", "From"),
    ("to=9999-12-31", "To"),
    ("from=0001-01-01", "From"),
])
def test_audit_dates_at_the_ends_of_the_calendar_are_named(client, team, query, label):
    login_as(client, team["manager"])
    refused(client.get(f"/admin/audit/?{query}"), 400,
            f"“{label}” must be a date between 1900-01-01 and 2999-12-31")
    refused(client.get(f"/admin/audit.csv?{query}"), 400, f"“{label}” must be a date")


def test_audit_dates_inside_the_range_work(client, team):
    login_as(client, team["manager"])
    assert client.get("/admin/audit/?from=1900-01-01&to=2999-12-31").status_code == 200


# LIKE wildcards are letters ----------------------------------------------------------------------

def test_percent_and_underscore_in_the_people_search_match_literally(client, world, team):
    world.user("percent")  # "Percent", percent@example.kz
    for email, name in (("odd@example.kz", "Odd 100% Name"), ("under_score@example.kz",
                                                                "Under")):
        person = User(email=email, display_name=name)
        person.set_password("not used here 42")
        db.session.add(person)
    db.session.commit()
    login_as(client, team["admin"])

    def found(q: str) -> set[str]:
        text = page_text(client.get("/admin/users/", query_string={"q": q}))
        return {e for e in ("percent@", "odd@", "under_score@", "aigerim@") if e in text}

    assert found("%") == {"odd@"}
    assert found("_") == {"under_score@"}
    assert found("0%") == {"odd@"}
    assert found("nd_r") == set()  # as a wildcard, "_" would match "Under"


def test_percent_and_underscore_in_the_list_search_match_literally(client, world, team):
    fire = team["fire"]
    world.requirement(fire, title="Скидка 100% на взнос")
    world.requirement(fire, title="Поле snake_case")
    login_as(client, team["reviewer"])

    def titles(q: str) -> int:
        return page_text(client.get("/requirements/", query_string={"q": q})).count("TR-07-")

    assert titles("%") == 1
    assert titles("_") == 1
    assert titles("e_c") == 1
    assert titles("k%c") == 0


def test_percent_in_the_audit_person_filter_matches_literally(client, team):
    login_as(client, team["manager"])
    client.post("/logout", data={})
    client.post("/login", data={"email": "x%y@example.kz", "password": "nope"})
    client.post("/login", data={"email": "xzy@example.kz", "password": "nope"})
    login_as(client, team["manager"])
    text = page_text(client.get("/admin/audit/", query_string={"who": "x%y",
                                                               "kind": "failed_sign_ins"}))
    assert "x%y@example.kz" in text and "xzy@example.kz" not in text


# The helpers themselves -------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("42", 42), (" 7 ", 7), ("0", None), ("²", None), ("٣", None), ("1_0", None),
    ("-1", None), ("+1", None), ("", None), (None, None),
    (str(MAX_INT32), MAX_INT32), (str(MAX_INT32 + 1), None), (str(MAX_INT64), None),
    (TWENTY_DIGITS, None), ("0" * 25 + "1", None),
])
def test_parse_id_takes_only_plain_ascii_numbers_that_fit_an_id_column(text, expected):
    assert parse_id(text) == expected


def test_parse_int_honours_its_bounds():
    assert parse_int("0") == 0
    assert parse_int("5", minimum=6) is None
    assert parse_int("2147483648") is None
    assert parse_int(str(MAX_INT64), maximum=MAX_INT64) == MAX_INT64


def test_every_table_is_counted(app):
    assert {"requirements", "review_events", "audit_entries", "users"} <= set(row_counts())
    assert Area.__tablename__ in row_counts() and Requirement.__tablename__ in row_counts()
    assert ReviewEvent.__tablename__ in row_counts()


def test_an_upload_past_the_app_wide_limit_still_reaches_the_import(client, app, team):
    """The import raises the size limit for itself; the control-character check must not read
    (and refuse) the body before it does."""
    from tests.test_imports import upload

    login_as(client, team["admin"])
    size = app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024
    response = upload(client, b"x" * size, "big.csv")
    assert "What you sent is too large" not in page_text(response)
    assert response.status_code in (200, 302, 400, 422)
