"""What the summaries say matches the database exactly: a small story, then the demo data."""

from __future__ import annotations

import io
from collections import Counter

import pytest
import sqlalchemy as sa

from review_app.auth.models import GlobalRole, User
from review_app.extensions import db
from review_app.requirements.models import Area, Requirement
from review_app.reviews.models import ReviewEvent
from review_app.scm.costs import reported_cost_sql
from review_app.summaries.build import build_file
from review_app.summaries.texts import texts_for
from tests.conftest import decide, login_as, propose
from tests.summaries_support import ALMATY, csv_sections, pdf_text, sheet_rows, workbook

NEW_WORDING = "Субъекты обязаны обеспечить наличие огнетушителей на объекте."


def build(area: Area | None, fmt: str = "xlsx", language: str = "en") -> tuple[bytes, object]:
    out = io.BytesIO()
    built = build_file(db.engine, area_id=area.id if area else None, fmt=fmt,
                       language=language, texts=texts_for(language), tz=ALMATY, out=out)
    return out.getvalue(), built


def db_count(**where) -> int:
    stmt = sa.select(sa.func.count()).select_from(Requirement)
    for column, value in where.items():
        stmt = stmt.where(getattr(Requirement, column) == value)
    return db.session.scalar(stmt)


def db_cost(imported: bool = False, **where) -> int:
    """The summed cost the reports use (scm.costs.reported_cost), or the imported estimates."""
    cost = Requirement.annual_cost_kzt if imported else reported_cost_sql()[0]
    stmt = sa.select(sa.func.coalesce(sa.func.sum(cost), 0)).select_from(Requirement)
    for column, value in where.items():
        stmt = stmt.where(getattr(Requirement, column) == value)
    return db.session.scalar(stmt)


def db_codes(**where) -> list[str]:
    stmt = sa.select(Requirement.code).order_by(Requirement.code)
    for column, value in where.items():
        stmt = stmt.where(getattr(Requirement, column) == value)
    return list(db.session.scalars(stmt))


@pytest.fixture
def story(world, client):
    """Fire safety (07): every kind of decision; transport (12): one more cancellation."""
    fire, transport = world.area("07", "Пожарная безопасность"), world.area("12", "Транспорт")
    aigerim = world.user("aigerim", reviewer_in=(fire,))
    erlan = world.user("erlan", lead_in=(fire,))
    timur = world.user("timur", reviewer_in=(transport,))
    dana = world.user("dana", lead_in=(transport,))
    world.user("boss", role=GlobalRole.MANAGER)
    reqs = {name: world.requirement(fire, annual_cost_kzt=cost) for name, cost in (
        ("cancelled", 1_500_000), ("cancelled_no_cost", None), ("revised", 2_000_000),
        ("kept", 300_000), ("proposed", 50_000), ("returned", 70_000), ("untouched", 90_000))}
    reqs["other_area"] = world.requirement(transport, annual_cost_kzt=4_000_000)

    login_as(client, aigerim)
    for name, decision in (("cancelled", "cancel"), ("cancelled_no_cost", "cancel"),
                           ("revised", "revise"), ("kept", "keep"), ("proposed", "cancel"),
                           ("returned", "keep")):
        extra = {"new_wording": NEW_WORDING} if decision == "revise" else {}
        assert propose(client, reqs[name], decision, **extra).status_code == 302
    login_as(client, erlan)
    for name in ("cancelled", "cancelled_no_cost", "revised", "kept"):
        assert decide(client, reqs[name], "approve", "Согласен").status_code == 302
    assert decide(client, reqs["returned"], "return", "Уточните обоснование").status_code == 302
    login_as(client, timur)
    propose(client, reqs["other_area"], "cancel")
    login_as(client, dana)
    decide(client, reqs["other_area"], "approve")
    return {"fire": fire, "transport": transport, "reqs": reqs, "aigerim": aigerim,
            "erlan": erlan}


def test_an_area_summary_counts_exactly_what_the_database_holds(story):
    fire, reqs = story["fire"], story["reqs"]
    data, built = build(fire)
    wb = workbook(data)
    assert wb.sheetnames == ["Summary", "Cancelled", "Revised", "Kept", "Pending", "Reviewers"]
    summary = wb["Summary"]
    assert summary["A1"].value == "Review summary: area 07 Area 07"
    numbers = {row[0]: row[1] for row in summary.iter_rows(min_row=6, max_row=15,
                                                            values_only=True)}
    area = {"area_id": fire.id}
    assert numbers == {
        "Requirements": db_count(**area) == 7 and 7,
        "With an approved decision": db_count(state="approved", **area),
        "Complete, %": pytest.approx(4 / 7),
        "Cancelled": db_count(state="approved", decision="cancel", **area),
        "Revised": db_count(state="approved", decision="revise", **area),
        "Kept": db_count(state="approved", decision="keep", **area),
        "In review (proposed or returned)": 2,
        "Not reviewed yet": db_count(state="unreviewed", **area),
        "Estimated annual cost removed by cancellations, ₸": 1_500_000,
        "Estimated annual cost of revised requirements, ₸": 2_000_000,
    }
    assert numbers["Estimated annual cost removed by cancellations, ₸"] == db_cost(
        state="approved", decision="cancel", **area)
    assert built.requirement_count == 7
    assert built.as_of_event_id == db.session.scalar(sa.select(sa.func.max(ReviewEvent.id)))

    # By state and decision.
    cross = {row[0]: row[1:6] for row in summary.iter_rows(min_row=25, max_row=29,
                                                          values_only=True)}
    assert cross["proposed"] == (1, 0, 0, 0, 1)
    assert cross["returned"] == (0, 0, 1, 0, 1)
    assert cross["approved"] == (2, 1, 1, 0, 4)
    assert cross["Total"] == (3, 1, 2, 1, 7)

    cancelled = sheet_rows(wb["Cancelled"])
    assert [r[1] for r in cancelled] == db_codes(state="approved", decision="cancel", **area)
    first = cancelled[0]
    assert first[0] == "07" and first[2] == reqs["cancelled"].title
    assert first[3] == "Правила пожарной безопасности, № 55 от 21.02.2022, п. 12"
    assert first[5] == 1_500_000
    # The cost used, its range, where it comes from, the imported estimate (SCM columns).
    assert first[5:10] == (1_500_000, 1_500_000, 1_500_000, "imported estimate", 1_500_000)
    assert first[10] == "Требование дублирует нормы технического регламента."
    assert (first[12], first[14]) == ("Aigerim", "Erlan")  # proposer and approver
    assert first[13] is not None and first[15] is not None
    revised = sheet_rows(wb["Revised"])
    assert [r[1] for r in revised] == [reqs["revised"].code]
    assert revised[0][3] == reqs["revised"].text and revised[0][4] == NEW_WORDING
    assert [r[1] for r in sheet_rows(wb["Kept"])] == [reqs["kept"].code]
    pending = sheet_rows(wb["Pending"])
    assert sorted(r[1] for r in pending) == sorted(
        reqs[n].code for n in ("proposed", "returned", "untouched"))
    assert {r[1]: r[3] for r in pending}[reqs["returned"].code] == "returned"
    assert reqs["other_area"].code not in str(list(wb["Pending"].values))

    people = {r[1]: r for r in sheet_rows(wb["Reviewers"])}
    assert set(people) == {"aigerim@example.kz", "erlan@example.kz"}  # fire's people only
    assert people["aigerim@example.kz"][2] == 6       # proposals
    assert people["erlan@example.kz"][3:5] == (4, 1)  # approvals, returns


def test_the_all_areas_summary_rolls_up_a_row_per_area(story):
    data, _ = build(None)
    wb = workbook(data)
    assert wb.sheetnames[:2] == ["Summary", "Areas"]
    rows = {r[0]: r for r in sheet_rows(wb["Areas"])}
    by_area = dict(db.session.execute(
        sa.select(Area.code, sa.func.count(Requirement.id))
        .join(Requirement, Requirement.area_id == Area.id).group_by(Area.code)).all())
    assert rows["07"][2] == by_area["07"] == 7
    assert rows["12"][2] == by_area["12"] == 1
    assert rows["12"][7] == 1 and rows["12"][11] == 4_000_000  # one cancellation, its cost
    assert rows["Total"][2] == db_count() == 8
    assert rows["Total"][11] == db_cost(state="approved", decision="cancel") == 5_500_000
    assert [r[1] for r in sheet_rows(wb["Cancelled"])] == [
        *db_codes(state="approved", decision="cancel", area_id=story["fire"].id),
        story["reqs"]["other_area"].code]


def test_the_csv_and_pdf_say_the_same_as_the_workbook(story):
    data, _ = build(story["fire"], "csv")
    sections = csv_sections(data, delimiter=",")  # English: commas and decimal points
    figures = dict(sections["Key figures"])
    assert figures["Requirements"] == "7" and figures["Cancelled"] == "2"
    assert figures["Estimated annual cost removed by cancellations, ₸"] == "1500000"
    assert [r[1] for r in sections["Cancelled requirements"][1:]] == db_codes(
        state="approved", decision="cancel", area_id=story["fire"].id)

    data, _ = build(story["fire"], "pdf", language="ru")
    text = pdf_text(data).replace("\u00a0", " ")
    assert "Пожарная безопасность" in text    # the area's Russian name, in Cyrillic
    assert "1 500 000 ₸" in text
    assert "Aigerim" in text


def test_headings_are_in_the_language_asked_for(story):
    data, _ = build(story["fire"], language="ru")
    wb = workbook(data)
    assert "Пожарная безопасность" in wb.worksheets[0]["A1"].value
    assert wb.sheetnames[0] != "Summary"


def test_the_demo_data_summary_matches_the_database(runner):
    result = runner.invoke(args=["seed-demo", "--requirements", "300"])
    assert result.exit_code == 0, result.output
    data, built = build(None)
    wb = workbook(data)
    assert built.requirement_count == db_count() == 300

    rows = {r[0]: r for r in sheet_rows(wb["Areas"])}
    counts = Counter()
    for code, state, decision, n in db.session.execute(
            sa.select(Area.code, Requirement.state, Requirement.decision, sa.func.count())
            .join(Requirement, Requirement.area_id == Area.id)
            .group_by(Area.code, Requirement.state, Requirement.decision)):
        counts[(code, state.value, decision.value if decision else "")] += n
    areas = list(db.session.scalars(sa.select(Area.code).order_by(Area.code)))
    assert [code for code in rows if code != "Total"] == areas
    for code in areas:
        row = rows[code]
        total = sum(n for (c, _, _), n in counts.items() if c == code)
        approved = sum(n for (c, s, _), n in counts.items() if c == code and s == "approved")
        assert row[2] == total, code
        assert row[3:7] == tuple(sum(n for (c, s, _), n in counts.items() if c == code and s == x)
                                 for x in ("unreviewed", "proposed", "returned", "approved"))
        assert row[7:10] == tuple(counts[(code, "approved", d)]
                                  for d in ("cancel", "revise", "keep")), code
        assert row[10] == pytest.approx(approved / total if total else 0)

    for decision, sheet in (("cancel", "Cancelled"), ("revise", "Revised"), ("keep", "Kept")):
        listed = [r[1] for r in sheet_rows(wb[sheet]) if r[1]]
        assert sorted(listed) == db_codes(state="approved", decision=decision)
    pending = [r[1] for r in sheet_rows(wb["Pending"])]
    assert sorted(pending) == sorted(set(db_codes()) - set(db_codes(state="approved")))
    assert rows["Total"][11] == db_cost(state="approved", decision="cancel")
    assert rows["Total"][12] == db_cost(state="approved", decision="revise")
    assert rows["Total"][15] == db_cost(imported=True, state="approved", decision="cancel")

    proposals = dict(db.session.execute(
        sa.select(User.email, sa.func.count()).join(ReviewEvent, ReviewEvent.actor_id == User.id)
        .where(ReviewEvent.action == "propose").group_by(User.email)).all())
    people = {r[1]: r for r in sheet_rows(wb["Reviewers"])}
    for email, n in proposals.items():
        assert people[email][2] == n, email
