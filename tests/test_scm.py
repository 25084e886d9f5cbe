"""The cost of compliance: reviewers propose SCM inputs, leads approve them (on their own or
with the decision), admins keep the tariffs, and every change is in the history."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from review_app.audit.models import AuditEntry
from review_app.extensions import db
from review_app.imports import service as imports
from review_app.requirements.models import Requirement
from review_app.reviews.models import Action
from review_app.scm.costs import ReportedCost, reported_cost
from tests.conftest import decide, events, login_as, page_text, propose, reload
from tests.scm_support import REPORT, approve_inputs, propose_inputs, tariff
from tests.summaries_support import csv_sections, pdf_text, sheet_rows, workbook
from tests.test_summaries_content import build as build_summary


@pytest.fixture
def req(world, team):
    return world.requirement(team["fire"], businesses_affected=12_000)


@pytest.fixture
def accountant(app):
    return tariff()


def test_a_reviewer_proposes_inputs_and_the_lead_approves_them_so_the_reports_use_the_cost(
        client, team, req, accountant):
    login_as(client, team["aigerim"])
    response = propose_inputs(client, req)
    assert response.status_code == 302, page_text(response)[:500]
    req = reload(req)
    assert req.scm_proposal and req.scm_cost_kzt is None
    assert reported_cost(req).source == "imported"
    page = page_text(client.get(f"/requirements/{req.id}"))
    assert "360,000,000 ₸ (192,000,000–600,000,000 ₸)" in page
    assert "the imported estimate" in page

    login_as(client, team["lead"])
    assert approve_inputs(client, req).status_code == 302
    req = reload(req)
    assert (req.scm_cost_kzt, req.scm_cost_low_kzt, req.scm_cost_high_kzt) == (
        360_000_000, 192_000_000, 600_000_000)
    assert reported_cost(req) == ReportedCost(360_000_000, 192_000_000, 600_000_000, "scm")
    proposed, approved = events(req, Action.SCM_PROPOSE), events(req, Action.SCM_APPROVE)
    assert proposed[0].actor_id == team["aigerim"].id
    assert approved[0].changes["scm_cost_kzt"] == [None, 360_000_000]
    page = page_text(client.get(f"/requirements/{req.id}"))
    assert "the computed cost" in page and "7,500 ₸" in page and "30,000 ₸" in page


def test_the_lead_approving_the_decision_approves_the_waiting_inputs_too(client, team, req,
                                                                        accountant):
    login_as(client, team["aigerim"])
    propose(client, req, "cancel")
    propose_inputs(client, req)
    login_as(client, team["lead"])
    assert decide(client, req, "approve").status_code == 302
    req = reload(req)
    assert req.scm_cost_kzt == 360_000_000 and req.scm_proposal is None
    assert events(req, Action.APPROVE)[0].changes["scm_cost_kzt"] == [None, 360_000_000]


def test_a_lead_cannot_approve_inputs_they_proposed(client, team, req, accountant):
    login_as(client, team["lead"])
    assert propose_inputs(client, req).status_code == 302
    assert approve_inputs(client, req).status_code == 403
    assert reload(req).scm_cost_kzt is None


@pytest.mark.parametrize("who", ["outsider", "manager", "admin", "lead12"])
def test_people_outside_the_area_and_managers_cannot_propose_inputs(client, team, req,
                                                                   accountant, who):
    login_as(client, team[who])
    assert propose_inputs(client, req).status_code == 403
    assert reload(req).scm_proposal is None


@pytest.mark.parametrize("who", ["aigerim", "outsider", "manager", "lead12"])
def test_only_a_lead_of_the_area_approves_inputs(client, team, req, accountant, who):
    login_as(client, team["aigerim"] if who != "aigerim" else team["bolat"])
    propose_inputs(client, req)
    login_as(client, team[who])
    assert approve_inputs(client, req).status_code == 403
    assert reload(req).scm_cost_kzt is None


def test_anonymous_people_are_sent_to_sign_in(client, req, accountant):
    response = propose_inputs(client, req, version=1)
    assert response.status_code == 302 and "/login" in response.location
    assert reload(req).scm_proposal is None


def test_managers_and_admins_see_the_cost_but_no_form(client, team, req, accountant):
    for who in ("manager", "admin"):
        login_as(client, team[who])
        html = client.get(f"/requirements/{req.id}").get_data(as_text=True)
        assert 'data-testid="cost"' in html and 'data-testid="scm-form"' not in html


def test_a_stale_form_is_refused_and_nothing_is_overwritten(client, team, req, accountant):
    login_as(client, team["aigerim"])
    old = reload(req).version
    propose_inputs(client, req)
    login_as(client, team["bolat"])
    response = propose_inputs(client, req, {**REPORT, "hours": "9"}, version=old)
    assert response.status_code == 409
    assert reload(req).scm_proposal[0]["hours"] == ["3", "2", "5"]


@pytest.mark.parametrize(("row", "message"), [
    ({"hours": "три", "tariff": "ACCOUNTANT"}, "A number, or a number with its range"),
    ({"hours": "3 (4–5)", "tariff": "ACCOUNTANT"}, "the range must hold the value"),
    ({"hours": "3"}, "choose a named tariff or enter an own hourly tariff"),
    ({"hours": "3", "tariff": "NOPE"}, "there is no tariff"),
    ({"hours": "3", "hourly": "2500", "share": "150"}, "too large"),
    ({"name": "Отчёт", "tariff": "ACCOUNTANT"}, "fill in"),
])
def test_wrong_inputs_are_refused_naming_the_action_and_field(client, team, req, accountant,
                                                              row, message):
    login_as(client, team["aigerim"])
    response = propose_inputs(client, req, row)
    assert response.status_code == 422
    assert message in page_text(response)
    assert reload(req).scm_proposal is None


def test_changing_a_tariff_recomputes_every_requirement_using_it_with_old_and_new_in_history(
        client, team, req, world, accountant):
    other = world.requirement(team["fire"], businesses_affected=100)
    unused = world.requirement(team["fire"], businesses_affected=100)
    for r in (req, other):
        login_as(client, team["aigerim"])
        propose_inputs(client, r)
        login_as(client, team["lead"])
        approve_inputs(client, r)
    login_as(client, team["aigerim"])
    propose_inputs(client, unused, {"hours": "1", "hourly": "1000"})
    login_as(client, team["lead"])
    approve_inputs(client, unused)
    version = reload(req).version

    login_as(client, team["admin"])
    response = client.post(f"/admin/tariffs/{accountant.id}", data={
        "code": "ACCOUNTANT", "name": "Бухгалтер", "hourly_kzt": "3000",
        "source": "БНС 2027", "as_of": "2027-01-01"})
    assert response.status_code == 302, page_text(response)[:500]
    req = reload(req)
    assert req.scm_cost_kzt == 432_000_000 and req.version == version
    recomputed = events(req, Action.SCM_RECOMPUTE)
    assert recomputed[0].changes["scm_cost_kzt"] == [360_000_000, 432_000_000]
    assert events(unused, Action.SCM_RECOMPUTE) == []
    assert reload(other).scm_cost_kzt == 3_600_000
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "tariff_updated"))
    assert entry.details["hourly_kzt"] == [2500, 3000]
    assert entry.details["requirements_recomputed"] == [None, 2]
    page = page_text(client.get(f"/requirements/{req.id}"))
    assert "360,000,000 ₸ → 432,000,000 ₸" in page


@pytest.mark.parametrize("who", ["aigerim", "lead", "manager"])
def test_only_admins_keep_the_tariffs(client, team, accountant, who):
    login_as(client, team[who])
    assert client.get("/admin/tariffs/").status_code == 403
    response = client.post(f"/admin/tariffs/{accountant.id}", data={
        "code": "ACCOUNTANT", "name": "x", "hourly_kzt": "1", "source": "x",
        "as_of": "2027-01-01"})
    assert response.status_code == 403
    db.session.expire_all()
    assert accountant.hourly_kzt == 2_500


def test_an_admin_adds_a_tariff_and_a_duplicate_code_is_refused(client, team, accountant):
    login_as(client, team["admin"])
    data = {"code": "ENGINEER", "name": "Инженер", "hourly_kzt": "4000", "source": "БНС",
            "as_of": "2026-10-01"}
    assert client.post("/admin/tariffs/new", data=data).status_code == 302
    assert "ENGINEER" in page_text(client.get("/admin/tariffs/"))
    response = client.post("/admin/tariffs/new", data={**data, "code": "ACCOUNTANT"})
    assert response.status_code == 422 and "already a tariff" in page_text(response)


def test_the_list_sorts_and_filters_by_the_reported_cost_and_totals_say_what_is_missing(
        client, team, world, req, accountant):
    cheap = world.requirement(team["fire"], annual_cost_kzt=5_000_000)
    nothing = world.requirement(team["fire"], annual_cost_kzt=None)
    login_as(client, team["aigerim"])
    propose_inputs(client, req)
    login_as(client, team["lead"])
    approve_inputs(client, req)

    page = client.get("/requirements/?sort=-cost")
    html = page.get_data(as_text=True)
    assert html.index(req.code) < html.index(cheap.code) < html.index(nothing.code)
    text = page_text(page)
    assert "Annual cost of compliance: 365,000,000 ₸ (197,000,000–605,000,000 ₸)" in text
    assert "computed for 1; imported estimate for 1; no cost for 1" in text
    assert "2 requirements lack cost inputs" in text

    only = page_text(client.get("/requirements/?scm=without&cost_min=1 000 000"))
    assert cheap.code in only and req.code not in only and nothing.code not in only
    assert req.code in page_text(client.get("/requirements/?cost_min=100000000"))
    assert 'data-testid="preset-expensive"' in html


@pytest.mark.parametrize("query", ["cost_min=abc", "cost_min=-5", "cost_min=99999999999999999999",
                                   "scm=maybe"])
def test_wrong_cost_filters_are_named(client, team, query):
    login_as(client, team["aigerim"])
    response = client.get(f"/requirements/?{query}")
    assert response.status_code == 400 and "could not be used" in page_text(response)


def test_summaries_use_the_computed_cost_with_its_range_and_the_imported_one_beside_it(
        client, team, world, req, accountant):
    login_as(client, team["aigerim"])
    propose(client, req, "cancel")
    propose_inputs(client, req)
    other = world.requirement(team["fire"], annual_cost_kzt=5_000_000)
    propose(client, other, "cancel")
    login_as(client, team["lead"])
    decide(client, req, "approve")
    decide(client, other, "approve")

    data, _built = build_summary(team["fire"], "xlsx")
    wb = workbook(data)
    numbers = {row[0]: row[1] for row in wb["Summary"].iter_rows(min_row=6, max_row=21,
                                                                   values_only=True)}
    assert numbers["Estimated annual cost removed by cancellations, ₸"] == 365_000_000
    assert numbers["Cost removed by cancellations: low estimate, ₸"] == 197_000_000
    assert numbers["Cost removed by cancellations: high estimate, ₸"] == 605_000_000
    assert numbers["Cost removed by cancellations as imported, ₸"] == 6_500_000
    assert numbers["Requirements without cost inputs (their imported estimate is used)"] == 1
    cancelled = {r[1]: r[5:10] for r in sheet_rows(wb["Cancelled"])}
    assert cancelled[req.code] == (360_000_000, 192_000_000, 600_000_000, "cost inputs",
                                   1_500_000)
    assert cancelled[other.code] == (5_000_000, 5_000_000, 5_000_000, "imported estimate",
                                     5_000_000)

    text = " ".join(pdf_text(build_summary(team["fire"], "pdf")[0]).split())
    assert "365,000,000 ₸ (197,000,000 – 605,000,000)" in text
    figures = [",".join(r) for r in csv_sections(build_summary(team["fire"], "csv")[0])[
        "Key figures"]]
    assert "Cost removed by cancellations: high estimate, ₸,605000000" in figures
    assert "Cost removed by cancellations as imported, ₸,6500000" in figures


def test_an_import_brings_cost_inputs_and_an_export_carries_them_back_unchanged(
        client, team, world, accountant, tmp_path):
    path = tmp_path / "scm.csv"
    path.write_text(
        "Код требования;Код сферы;Наименование;Текст требования;Количество субъектов;"
        "Стандартты шығындар моделінің деректері\n"
        'TR-07-90001;07;Отчёт;Субъекты представляют отчёт.;12000;'
        '"Ежеквартальный отчёт; 3 (2–5); ACCOUNTANT; 0; 4; 100 (80–100)"\n',
        encoding="utf-8")
    imports.apply(path, team["admin"])
    db.session.commit()
    req = db.session.scalar(sa.select(Requirement).where(Requirement.code == "TR-07-90001"))
    assert (req.scm_cost_kzt, req.scm_cost_low_kzt, req.scm_cost_high_kzt) == (
        360_000_000, 192_000_000, 600_000_000)

    login_as(client, team["lead"])
    exported = client.get("/requirements/export.csv?q=TR-07-90001").get_data(as_text=True)
    assert "Ежеквартальный отчёт; 3 (2–5); ACCOUNTANT; 0; 4; 100 (80–100)" in exported
    again = tmp_path / "again.csv"
    again.write_text(exported.lstrip("\ufeff"), encoding="utf-8")
    outcome = imports.analyse(again)
    assert outcome.ok and outcome.unchanged == 1 and outcome.changed == 0

    # A changed line is an import change: old and new cost in the history.
    path.write_text(path.read_text(encoding="utf-8").replace("3 (2–5)", "6"), encoding="utf-8")
    imports.apply(path, team["admin"])
    db.session.commit()
    changed = events(reload(req), Action.IMPORT_CHANGED)[0].changes
    assert changed["scm_cost_kzt"] == [360_000_000, 720_000_000]


@pytest.mark.parametrize(("cell", "problem"), [
    ("Отчёт; 3", "scm_parts"), ("Отчёт; три; ACCOUNTANT", "scm_value"),
    ("Отчёт; 3; NOPE", "scm_tariff"),
])
def test_an_import_refuses_bad_cost_inputs_naming_the_line(team, accountant, tmp_path, cell,
                                                         problem):
    path = tmp_path / "bad.csv"
    path.write_text("code;area_code;title;text;scm_inputs\n"
                    f'TR-07-90002;07;Отчёт;Текст.;"{cell}"\n', encoding="utf-8")
    outcome = imports.analyse(path)
    assert not outcome.ok and [p.code for p in outcome.errors][:1] == [problem]


def test_the_area_progress_page_totals_the_cost_and_what_cancellations_removed(
        client, team, req, accountant):
    login_as(client, team["aigerim"])
    propose(client, req, "cancel")
    propose_inputs(client, req)
    login_as(client, team["lead"])
    decide(client, req, "approve")
    page = page_text(client.get(f"/areas/{team['fire'].code}"))
    assert "Removed by approved cancellations:" in page
    assert "360,000,000 ₸ (192,000,000–600,000,000 ₸)" in page
