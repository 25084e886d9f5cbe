"""The national dashboard: who sees it, what it counts, and that its rollups always equal a
recount from the requirements and their history."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from review_app import formatting
from review_app.audit.models import AuditEntry
from review_app.dashboard import charts, figures, rollups
from review_app.dashboard.figures import Outlook, Progress
from review_app.dashboard.models import AreaDeadline, AreaTally, DailyActivity, ProgrammeSettings
from review_app.dashboard.numbers import Numbers
from review_app.extensions import db
from review_app.imports import service
from review_app.requirements.models import Requirement, State
from review_app.time import utcnow
from tests.conftest import login_as, page_text, reload
from tests.dashboard_support import decided_by, proposed_by, rollups_agree
from tests.importing import csv_bytes, row

# Who may look ---------------------------------------------------------------------------------

def test_anonymous_people_are_sent_to_sign_in(client, team):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.location


def test_a_reviewer_may_not_see_the_dashboard_and_the_refusal_is_logged(client, team):
    login_as(client, team["aigerim"])
    assert client.get("/dashboard").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "denied")) >= 1
    assert "/dashboard" not in client.get("/requirements").get_data(as_text=True)


def test_managers_and_admins_see_every_area(client, team, world):
    world.requirement(team["fire"])
    world.requirement(team["transport"])
    for person in (team["manager"], team["admin"]):
        login_as(client, person)
        page = client.get("/dashboard")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert 'data-area="07"' in html and 'data-area="12"' in html
        assert 'href="/dashboard"' in html  # the menu link


def test_a_lead_sees_only_their_own_areas(client, team, world):
    world.requirement(team["fire"])
    world.requirement(team["transport"])
    login_as(client, team["lead"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'data-area="07"' in html and 'data-area="12"' not in html


def test_a_lead_may_not_open_another_areas_trend(client, team):
    login_as(client, team["lead"])
    assert client.get("/dashboard?area=12").status_code == 403
    assert client.get("/dashboard?area=07").status_code == 200
    assert client.get("/dashboard?area=99").status_code == 404


def test_a_wrong_sort_is_refused_with_a_message(client, team):
    login_as(client, team["manager"])
    response = client.get("/dashboard?sort=salary")
    assert response.status_code == 400 and "progress" in page_text(response)
    assert client.get("/dashboard?sort=pace&dir=sideways").status_code == 400


# What it counts -------------------------------------------------------------------------------

def test_the_totals_follow_the_workflow_and_agree_with_a_recount(client, team, world):
    fire = team["fire"]
    reqs = [world.requirement(fire, annual_cost_kzt=1_000_000, businesses_affected=10)
            for _ in range(5)]
    world.requirement(team["transport"], annual_cost_kzt=7)
    proposed_by(client, team["aigerim"], reqs[:2], "cancel")
    proposed_by(client, team["aigerim"], reqs[2:3], "revise")
    proposed_by(client, team["aigerim"], reqs[3:4], "keep")
    decided_by(client, team["lead"], reqs[:3], "approve")
    decided_by(client, team["lead"], reqs[3:4], "return", "Обоснуйте.")
    assert rollups_agree() == []

    login_as(client, team["manager"])
    page = client.get("/dashboard")
    text = page_text(page)
    assert page.status_code == 200
    # 3 of 6 decided: 50%; 2 cancelled (2,000,000 removed), 1 revised (1,000,000 touched).
    assert "50.0%" in text and "3 of 6" in text
    html = page.get_data(as_text=True).replace("\u00a0", " ").replace("&nbsp;", " ")
    assert '<p class="kpi-value" title="2,000,000 ₸">2M ₸</p>' in html
    assert '<p class="kpi-value" title="1,000,000 ₸">1M ₸</p>' in html
    # The week's activity: 4 proposed (3 kept + the returned one), 3 approved, 1 returned.
    week = figures.week_of(utcnow().date()).strftime("%d.%m.%Y")
    assert f"{week} 4 3 1 0 3 / 6" in text


def test_reopening_an_approval_takes_it_off_the_burn_up(client, team, world):
    req = world.requirement(team["fire"])
    proposed_by(client, team["aigerim"], [req])
    decided_by(client, team["lead"], [req])
    login_as(client, team["lead"])
    response = client.post(f"/requirements/{req.id}/reopen",
                           data={"reason": "Новые сведения.", "version": str(reload(req).version)})
    assert response.status_code in (302, 303)
    assert reload(req).state == State.RETURNED
    assert rollups_agree() == []
    days = db.session.scalars(sa.select(DailyActivity)).all()
    assert sum(d.approved - d.reopened for d in days) == 0


def test_a_refused_change_leaves_the_rollups_as_they_were(client, team, world):
    req = world.requirement(team["fire"])
    before = rollups.stored_tallies(db.session)
    login_as(client, team["aigerim"])
    client.post(f"/requirements/{req.id}/propose", data={"version": "1", "decision": "cancel"})
    assert reload(req).state == State.UNREVIEWED
    assert rollups.stored_tallies(db.session) == before
    assert rollups_agree() == []


def test_a_rebuild_equals_the_rollups_kept_as_events_happen(client, team, world):
    reqs = [world.requirement(team["fire"]) for _ in range(3)]
    proposed_by(client, team["aigerim"], reqs)
    decided_by(client, team["lead"], reqs[:2])
    kept = rollups.stored_tallies(db.session), rollups.stored_days(db.session)
    rollups.rebuild(db.session)
    db.session.commit()
    assert (rollups.stored_tallies(db.session), rollups.stored_days(db.session)) == kept


def test_check_history_reports_rollups_that_disagree(app, runner, team, world):
    world.requirement(team["fire"])
    assert runner.invoke(args=["check-history"]).exit_code == 0
    db.session.execute(sa.update(AreaTally).values(requirements=AreaTally.requirements + 5))
    db.session.commit()
    result = runner.invoke(args=["check-history"])
    assert result.exit_code == 1 and "dashboard tally" in result.output


def test_the_oldest_waiting_proposals_are_flagged_after_the_waiting_limit(client, team, world):
    old, fresh = world.requirement(team["fire"]), world.requirement(team["fire"])
    proposed_by(client, team["aigerim"], [old, fresh])
    # Nine days ago, written beside the ORM as a data fix would be: the rollups are rebuilt.
    db.session.execute(sa.update(Requirement).where(Requirement.id == old.id).values(
        proposed_at=utcnow() - timedelta(days=9)))
    rollups.rebuild(db.session)
    db.session.commit()
    assert rollups_agree() == []
    login_as(client, team["lead"])
    html = client.get("/dashboard").get_data(as_text=True)
    oldest = html[html.index('data-testid="oldest"'):]
    assert oldest.index(old.code) < oldest.index(fresh.code)
    assert "too long" in oldest.split(fresh.code)[0]
    queue = client.get("/queue").get_data(as_text=True)
    assert "waiting 9 days" in " ".join(re.sub(r"<[^>]+>", " ", queue).split())
    login_as(client, team["manager"])
    row = client.get("/dashboard").get_data(as_text=True).split('data-area="07"')[1]
    assert ">1</a>" in row.split("</tr>")[0]  # one proposal waiting too long in area 07


def test_items_sent_back_twice_are_listed(client, team, world):
    req = world.requirement(team["fire"])
    for _ in range(2):
        proposed_by(client, team["aigerim"], [req])
        decided_by(client, team["lead"], [req], "return", "Доработать.")
    login_as(client, team["manager"])
    html = client.get("/dashboard").get_data(as_text=True)
    listed = html[html.index('data-testid="returned-often"'):]
    assert req.code in listed


def test_the_areas_sort_by_each_column(client, team, world):
    for _ in range(2):
        world.requirement(team["transport"])
    world.requirement(team["fire"])
    login_as(client, team["manager"])
    for key in ("area", "progress", "remaining", "pace", "forecast", "overdue", "cost"):
        for direction in ("asc", "desc"):
            assert client.get(f"/dashboard?sort={key}&dir={direction}").status_code == 200
    html = client.get("/dashboard?sort=remaining&dir=desc").get_data(as_text=True)
    assert html.index('data-area="12"') < html.index('data-area="07"')
    # Every link of a row leads somewhere that answers.
    row = html[html.index('data-area="12"'):].split("</tr>")[0]
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', row)]
    assert len(links) == 4
    for link in links + ["/requirements/?area=12&state=proposed&sort=waiting"]:
        assert client.get(link).status_code == 200, link


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_charts_are_the_same_in_every_language(client, team, world, language):
    reqs = [world.requirement(team["fire"]) for _ in range(2)]
    proposed_by(client, team["aigerim"], reqs)
    login_as(client, team["manager"])
    client.post("/language", data={"language": language})
    html = client.get("/dashboard").get_data(as_text=True)
    main = html.split("<main")[1]  # the header has icons of its own (the bell)
    assert main.count("<svg class=\"chart\"") == 3 and main.count("<table") >= 3
    assert "https://" not in html.split("<main")[1]  # nothing fetched from outside
    assert 'role="img"' in html and "<title" in html


# Deadlines ------------------------------------------------------------------------------------

def test_an_admin_sets_deadlines_and_each_change_is_audited(client, team):
    login_as(client, team["admin"])
    response = client.post("/dashboard/deadlines", data={
        "deadline": "2027-06-30", "wait_days": "3", "area-07": "2027-03-31", "area-12": ""})
    assert response.status_code == 302
    settings = db.session.get(ProgrammeSettings, 1)
    assert settings.deadline == date(2027, 6, 30) and settings.approval_wait_days == 3
    assert db.session.get(AreaDeadline, team["fire"].id).deadline == date(2027, 3, 31)
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "deadlines_changed")).all()
    assert len(entries) == 2
    assert {e.target_label for e in entries} == {None, "07"}
    html = client.get("/dashboard").get_data(as_text=True)
    assert "31.03.2027" in html and "30.06.2027" in html


def test_a_wrong_deadline_is_named_and_nothing_is_saved(client, team):
    login_as(client, team["admin"])
    response = client.post("/dashboard/deadlines", data={
        "deadline": "2027-02-30", "wait_days": "0", "area-07": "tomorrow"})
    assert response.status_code == 422
    text = page_text(response)
    assert "Programme deadline" in text and "from 1 to 365" in text
    assert db.session.get(ProgrammeSettings, 1) is None


@pytest.mark.parametrize("who", ["manager", "lead", "aigerim"])
def test_only_admins_may_set_deadlines(client, team, who):
    login_as(client, team[who])
    assert client.get("/dashboard/deadlines").status_code == 403
    assert client.post("/dashboard/deadlines", data={"deadline": "2027-01-01",
                                                     "wait_days": "5"}).status_code == 403
    assert db.session.get(ProgrammeSettings, 1) is None


# The arithmetic -------------------------------------------------------------------------------

TODAY = date(2026, 12, 7)


def _progress(total=100, approved=40, pace=2.0, deadline=None) -> Progress:
    return Progress(total=total, approved=approved, pace=pace, deadline=deadline)


def test_the_forecast_divides_what_remains_by_the_pace():
    when, outlook = figures.forecast(_progress(deadline=TODAY + timedelta(days=60)), TODAY)
    assert when == TODAY + timedelta(days=30) and outlook == Outlook.ON_TRACK


def test_an_area_whose_forecast_passes_its_deadline_is_at_risk():
    assert figures.forecast(_progress(deadline=TODAY + timedelta(days=20)),
                            TODAY)[1] == Outlook.AT_RISK
    assert figures.forecast(_progress(pace=0, deadline=TODAY + timedelta(days=999)),
                            TODAY) == (None, Outlook.AT_RISK)


def test_a_passed_deadline_with_work_left_is_overdue_and_finished_work_is_complete():
    assert figures.forecast(_progress(deadline=TODAY - timedelta(days=1)),
                            TODAY)[1] == Outlook.OVERDUE
    assert figures.forecast(_progress(approved=100, deadline=TODAY - timedelta(days=1)),
                            TODAY)[1] == Outlook.COMPLETE
    assert figures.forecast(_progress(), TODAY)[1] == Outlook.NO_DEADLINE


def test_the_pace_counts_the_last_fourteen_days_net_of_reopened():
    days = {TODAY: (10, 2), TODAY - timedelta(days=13): (20, 0),
            TODAY - timedelta(days=14): (1000, 0)}
    assert figures.pace(days, TODAY) == 28 / 14


def test_the_burn_up_ends_at_what_is_approved_now():
    days = {TODAY - timedelta(days=7): {"approved": 5, "reopened": 1},
            TODAY: {"approved": 3, "proposed": 4}}
    weeks = figures.weeks(days, TODAY, approved_now=20)
    assert [w.cumulative for w in weeks] == [17, 20]
    assert weeks[-1].proposed == 4 and weeks[0].reopened == 1


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_quick_number_formats_are_babels(language):
    fast = Numbers(language)
    for value in (0, 7, 1234, 1_234_567, 123_201_640_000):
        assert fast.n(value) == formatting.number(value, language)
        assert fast.money(value) == formatting.money(value, language)
    for value in (0.0, 0.1, 2.0, 2.5, 28.6, 1234.5):
        assert fast.one(value) == formatting.number(round(value, 1), language)
    for fraction in (0, 0.0712, 0.4567, 1):
        assert fast.pct(fraction) == formatting.percent(fraction, language)


@pytest.mark.parametrize("value", [1, 3, 5, 10, 616, 10_000, 999_999])
def test_chart_axes_step_in_whole_numbers_to_a_top_at_or_above_the_value(value):
    top, step = charts._scale(value)
    assert top >= value and step == int(step) and top % step == 0 and 1 <= top / step <= 8


# Every writer keeps the rollups current ---------------------------------------------------------

def test_an_import_that_adds_moves_and_rewords_requirements_keeps_the_rollups(
        client, team, world, tmp_path):
    reviewed = world.requirement(team["fire"], annual_cost_kzt=10)
    proposed_by(client, team["aigerim"], [reviewed])
    decided_by(client, team["lead"], [reviewed])
    moved = world.requirement(team["fire"], annual_cost_kzt=5)
    path = tmp_path / "import.csv"
    path.write_bytes(csv_bytes([
        row("NEW-1", "07", annual_cost_kzt="700", businesses_affected="3"),
        row("NEW-2", "12", annual_cost_kzt="800"),
        row(moved.code, "12", title=moved.title, text=moved.text, annual_cost_kzt="6"),
        row(reviewed.code, "07", title=reviewed.title, text="Новая редакция текста требования.",
            annual_cost_kzt="11"),
    ]))
    service.apply(path, team["admin"])
    db.session.commit()
    assert reload(reviewed).state == State.RETURNED
    assert rollups_agree() == []


def test_bulk_approval_and_dual_review_keep_the_rollups(client, team, world):
    reqs = [world.requirement(team["fire"]) for _ in range(3)]
    proposed_by(client, team["aigerim"], reqs)
    login_as(client, team["lead"])
    response = client.post("/queue/decide", data={
        "action": "approve", "item": [f"{r.id}:{reload(r).version}" for r in reqs]})
    assert response.status_code in (302, 303)
    assert all(reload(r).state == State.APPROVED for r in reqs)

    fire = reload(reqs[0]).area
    fire.dual_review = True
    db.session.commit()
    dual = world.requirement(team["fire"])
    proposed_by(client, team["aigerim"], [dual], "cancel")
    assert rollups_agree() == []
    proposed_by(client, team["bolat"], [dual], "keep")
    assert reload(dual).state == State.PROPOSED and reload(dual).conflict
    assert rollups_agree() == []


def test_a_change_to_a_requirement_whose_values_were_not_loaded_is_counted_right(world, team):
    req = world.requirement(team["fire"], annual_cost_kzt=40, businesses_affected=2)
    db.session.expire(req)
    req.annual_cost_kzt = 90  # set while expired: the session has no "before"
    db.session.commit()
    assert rollups_agree() == []
    db.session.delete(reload(req))
    db.session.commit()
    assert rollups_agree() == []


def test_a_leads_headline_follows_their_areas_deadline(client, team, world):
    world.requirement(team["fire"])
    login_as(client, team["admin"])
    client.post("/dashboard/deadlines", data={"deadline": "2099-12-31", "wait_days": "5",
                                              "area-07": "2020-01-01"})
    login_as(client, team["lead"])
    html = client.get("/dashboard").get_data(as_text=True)
    headline = html.split('data-testid="national-outlook"')[1].split("</p>")[0]
    assert "overdue" in headline
    login_as(client, team["manager"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert "overdue" not in html.split('data-testid="national-outlook"')[1].split("</p>")[0]
