"""The dashboard's money is the reported cost (computed from approved SCM inputs, else the
imported estimate), with its range and the number of requirements without cost inputs, and
its rollups follow every way that cost changes: inputs approved, a tariff changed, an import,
a decision approved, returned or reopened."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from review_app.dashboard import rollups
from review_app.dashboard.models import AreaTally
from review_app.dashboard.numbers import Numbers
from review_app.extensions import db
from review_app.imports import service as imports
from review_app.requirements.models import Requirement
from review_app.reviews import workflow
from review_app.scm import compute as scm_compute
from review_app.scm.models import ScmCost
from review_app.scm.panel import Format
from tests.conftest import login_as, page_text, propose, reload
from tests.dashboard_support import decided_by, proposed_by, rollups_agree
from tests.scm_support import approve_inputs, propose_inputs, tariff

#: The worked example: 3 h (2–5) × 2,500 ₸/h × 4 a year × 100 % (80–100) × 12,000 businesses.
EXAMPLE = (360_000_000, 192_000_000, 600_000_000)


@pytest.fixture
def accountant(app):
    return tariff()


def money(area_id: int | None = None) -> dict[tuple[str, str], tuple[int, ...]]:
    """Where the money stands in the stored tallies: (state, decision) -> (requirements,
    central, low, high, without inputs), summed over the areas (or of one area)."""
    found: dict[tuple[str, str], list[int]] = {}
    for (area, state, decision), value in rollups.stored_tallies(db.session).items():
        if area_id is None or area == area_id:
            sums = found.setdefault((state, decision), [0] * 5)
            for i, v in enumerate(value[:5]):
                sums[i] += v
    return {k: tuple(v) for k, v in found.items()}


def flat(response) -> str:
    return response.get_data(as_text=True).replace("\u00a0", " ").replace("&nbsp;", " ")


def with_inputs(client, team, req, decision: str = "cancel") -> None:
    """The reviewer proposes ``decision`` and the worked example's inputs."""
    login_as(client, team["aigerim"])
    assert propose(client, req, decision).status_code in (302, 303)
    assert propose_inputs(client, req).status_code == 302


def test_the_worked_example_reaches_the_dashboard_with_its_range_and_what_lacks_inputs(
        client, team, world, accountant):
    req = world.requirement(team["fire"], businesses_affected=12_000,
                            annual_cost_kzt=50_000_000)
    plain = world.requirement(team["fire"], annual_cost_kzt=1_000_000)
    with_inputs(client, team, req)
    proposed_by(client, team["aigerim"], [plain])
    assert rollups_agree() == []
    # Proposed inputs are not the reported cost yet: the imported estimate stands in.
    assert money()[("proposed", "cancel")] == (2, 51_000_000, 51_000_000, 51_000_000, 2)

    decided_by(client, team["lead"], [req, plain])  # approving the decision approves inputs
    assert (reload(req).scm_cost_kzt, reload(req).scm_cost_low_kzt,
            reload(req).scm_cost_high_kzt) == EXAMPLE
    assert rollups_agree() == []
    assert money()[("approved", "cancel")] == (2, 361_000_000, 193_000_000, 601_000_000, 1)

    login_as(client, team["manager"])
    page = client.get("/dashboard")
    html = flat(page)
    removed = html[html.index('data-testid="money-removed"'):]
    removed = removed[:removed.index("</div>")]
    assert 'title="361,000,000 ₸ (193,000,000–601,000,000 ₸)">361M ₸</p>' in removed
    assert "range 193M – 601M ₸" in removed
    assert "1 requirement without cost inputs" in removed
    row = html[html.index('data-area="07"'):]
    row = row[:row.index("</tr>")]
    assert "361,000,000 ₸<br>" in row and "(193,000,000–601,000,000 ₸)" in row
    assert re.search(r'class="lacking" href="[^"]+">1</a>', row)
    assert "computed from approved cost inputs" in page_text(page)
    assert "otherwise the imported estimate" in page_text(page)

    # The count links to the list of exactly those requirements.
    link = removed.split('class="lacking" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "scm=without" in link and "decision=cancel" in link and "state=approved" in link
    listed = page_text(client.get(link))
    assert plain.code in listed and req.code not in listed
    area_link = row.split('class="lacking" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "area=07" in area_link and plain.code in page_text(client.get(area_link))


def test_approving_returning_and_reopening_move_the_money_between_buckets(
        client, team, world, accountant):
    fire = team["fire"]
    req = world.requirement(fire, businesses_affected=12_000, annual_cost_kzt=50_000_000)
    login_as(client, team["aigerim"])
    assert propose_inputs(client, req).status_code == 302
    login_as(client, team["lead"])
    assert approve_inputs(client, req).status_code == 302  # inputs alone, still unreviewed
    assert money(fire.id) == {("unreviewed", ""): (1, *EXAMPLE, 0)}
    assert rollups_agree() == []

    proposed_by(client, team["aigerim"], [req], "cancel")
    assert money(fire.id) == {("proposed", "cancel"): (1, *EXAMPLE, 0)}
    decided_by(client, team["lead"], [req], "return", "Уточните расчёт.")
    assert money(fire.id) == {("returned", "cancel"): (1, *EXAMPLE, 0)}
    assert rollups_agree() == []

    proposed_by(client, team["aigerim"], [req], "revise")
    decided_by(client, team["lead"], [req])
    assert money(fire.id) == {("approved", "revise"): (1, *EXAMPLE, 0)}
    assert rollups_agree() == []
    login_as(client, team["manager"])
    touched = flat(client.get("/dashboard"))
    touched = touched[touched.index('data-testid="money-touched"'):]
    assert 'title="360,000,000 ₸ (192,000,000–600,000,000 ₸)"' in touched[:400]

    login_as(client, team["lead"])
    response = client.post(f"/requirements/{req.id}/reopen",
                           data={"reason": "Новые сведения.", "version": str(reload(req).version)})
    assert response.status_code in (302, 303)
    assert set(money(fire.id)) == {(reload(req).state.value, "revise")} != {("approved", "revise")}
    assert rollups_agree() == []


def test_a_tariff_change_moves_the_dashboard_totals_in_one_grouped_delta(
        client, team, world, accountant, tmp_path, count_queries):
    req = world.requirement(team["fire"], businesses_affected=12_000)
    with_inputs(client, team, req)
    decided_by(client, team["lead"], [req])
    # Ten more with the same inputs, from an import: all unreviewed, in two areas.
    lines = "".join(f'TR-{area}-9{n:04d};{area};Отчёт;Субъекты представляют отчёт.;12000;'
                    f'"Ежеквартальный отчёт; 3 (2–5); ACCOUNTANT; 0; 4; 100 (80–100)"\n'
                    for n in range(10) for area in ("07", "12") if n % 2 == (area == "12"))
    path = tmp_path / "more.csv"
    path.write_text("code;area_code;title;text;businesses_affected;scm_inputs\n" + lines,
                    encoding="utf-8")
    assert imports.apply(path, team["admin"]).ok
    db.session.commit()
    assert money()[("unreviewed", "")] == (10, *(10 * v for v in EXAMPLE), 0)
    assert rollups_agree() == []

    login_as(client, team["admin"])
    with count_queries() as statements:
        response = client.post(f"/admin/tariffs/{accountant.id}", data={
            "code": "ACCOUNTANT", "name": "Бухгалтер", "hourly_kzt": "3000",
            "source": "БНС 2027", "as_of": "2027-01-01"})
    assert response.status_code == 302, page_text(response)[:500]
    # 11 requirements in three (area, state, decision) buckets: one grouped delta, written
    # by one statement (executed for the three buckets), not one per requirement.
    assert len([s for s in statements if "dashboard_tallies" in s]) == 1
    assert reload(req).scm_cost_kzt == 432_000_000
    new = (432_000_000, 230_400_000, 720_000_000)
    assert money()[("approved", "cancel")] == (1, *new, 0)
    assert money()[("unreviewed", "")] == (10, *(10 * v for v in new), 0)
    assert rollups_agree() == []
    login_as(client, team["manager"])
    html = flat(client.get("/dashboard"))
    assert 'title="432,000,000 ₸ (230,400,000–720,000,000 ₸)">432M ₸</p>' in html


def test_an_import_changing_costs_moves_the_dashboard_money(client, team, world, accountant,
                                                           tmp_path):
    fire = team["fire"]
    path = tmp_path / "scm.csv"
    header = "code;area_code;title;text;businesses_affected;annual_cost_kzt;scm_inputs\n"
    inputs = '"Ежеквартальный отчёт; 3 (2–5); ACCOUNTANT; 0; 4; 100 (80–100)"'
    path.write_text(header
                    + f"TR-07-90001;07;Отчёт;Субъекты представляют отчёт.;12000;5000;{inputs}\n"
                    + "TR-07-90002;07;Журнал;Субъекты ведут журнал.;10;1000000;\n",
                    encoding="utf-8")
    assert imports.apply(path, team["admin"]).ok
    db.session.commit()
    assert money(fire.id) == {("unreviewed", ""): (2, 361_000_000, 193_000_000, 601_000_000, 1)}
    assert rollups_agree() == []

    # New inputs for the first, a new imported estimate for the second.
    path.write_text(path.read_text(encoding="utf-8").replace("3 (2–5)", "6")
                    .replace("10;1000000", "10;2000000"), encoding="utf-8")
    assert imports.apply(path, team["admin"]).ok
    db.session.commit()
    assert money(fire.id) == {("unreviewed", ""): (2, 722_000_000, 578_000_000, 722_000_000, 1)}
    assert rollups_agree() == []

    # Fewer businesses: the computed cost follows; no inputs at all: the estimate stands in.
    path.write_text(header
                    + "TR-07-90001;07;Отчёт;Субъекты представляют отчёт.;6000;5000;\"Ежеквартальный"
                      " отчёт; 6; ACCOUNTANT; 0; 4; 100 (80–100)\"\n", encoding="utf-8")
    assert imports.apply(path, team["admin"]).ok
    db.session.commit()
    assert money(fire.id) == {("unreviewed", ""): (2, 362_000_000, 290_000_000, 362_000_000, 1)}
    assert rollups_agree() == []


def test_costs_written_through_the_orm_in_any_order_are_counted_once(app, team, world,
                                                                      accountant):
    """A requirement inserted with its computed cost in one flush, its cost changed together
    with its area and its estimate, then deleted with it: the rollups follow each flush."""
    fire, transport = team["fire"], team["transport"]
    inputs = scm_compute.dump(scm_compute.parse_cell(
        "Ежеквартальный отчёт; 3 (2–5); ACCOUNTANT; 0; 4; 100 (80–100)"))
    req = Requirement(id=424_242, area_id=fire.id, code="TR-07-42424", title="Отчёт",
                      text="Текст.", businesses_affected=12_000, annual_cost_kzt=7,
                      scm_inputs=inputs)
    db.session.add(req)
    workflow.set_scm_cost(req)  # its ScmCost row joins the same flush as the insert
    db.session.commit()
    assert money(fire.id) == {("unreviewed", ""): (1, *EXAMPLE, 0)}
    assert rollups_agree() == []

    req = reload(req)
    req.area_id, req.annual_cost_kzt, req.businesses_affected = transport.id, 9, 6_000
    workflow.set_scm_cost(req)
    db.session.commit()
    assert money(fire.id) == {}
    assert money(transport.id) == {("unreviewed", ""): (1, *(v // 2 for v in EXAMPLE), 0)}
    assert rollups_agree() == []

    req = reload(req)
    req.scm_inputs = None
    workflow.set_scm_cost(req)  # no inputs: the row goes, the estimate stands in
    db.session.commit()
    assert money(transport.id) == {("unreviewed", ""): (1, 9, 9, 9, 1)}
    assert rollups_agree() == []

    req = reload(req)
    req.scm_inputs = inputs
    workflow.set_scm_cost(req)
    db.session.flush()
    db.session.delete(db.session.get(ScmCost, req.id))
    db.session.delete(req)
    db.session.commit()
    assert money() == {}
    assert rollups_agree() == []


def test_differences_find_a_planted_error_in_the_money(team, world, accountant):
    world.requirement(team["fire"], annual_cost_kzt=1_000_000)
    assert rollups_agree() == []
    for column in (AreaTally.cost_low_kzt, AreaTally.cost_high_kzt, AreaTally.without_inputs,
                   AreaTally.cost_kzt):
        db.session.execute(sa.update(AreaTally).values({column: column + 1}))
        db.session.commit()
        found = rollups_agree()
        assert len(found) == 1 and "dashboard tally" in found[0], column
        db.session.execute(sa.update(AreaTally).values({column: column - 1}))
        db.session.commit()
    assert rollups_agree() == []


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
@pytest.mark.parametrize("value", [EXAMPLE, (7, 7, 7), (0, 0, 0), (12_345_678_901, 1, 10**14)])
def test_the_dashboard_writes_a_range_as_the_requirement_page_does(app, language, value):
    assert Numbers(language).money_range(*value) == Format(language).money(value)


def test_an_import_moving_a_costed_requirement_to_another_area_moves_its_computed_cost(
        client, team, world, accountant, tmp_path):
    """A plain change (area, imported estimate) is written in one UPDATE per chunk, beside the
    ORM: the tallies still move the requirement's computed cost, not its imported estimate."""
    fire, transport = team["fire"], team["transport"]
    path = tmp_path / "scm.csv"
    header = "code;area_code;title;text;businesses_affected;annual_cost_kzt;scm_inputs\n"
    inputs = '"Ежеквартальный отчёт; 3 (2–5); ACCOUNTANT; 0; 4; 100 (80–100)"'
    path.write_text(header + f"TR-07-90001;07;Отчёт;Субъекты представляют отчёт.;12000;5000;"
                    f"{inputs}\n", encoding="utf-8")
    assert imports.apply(path, team["admin"]).ok
    db.session.commit()
    assert money(fire.id) == {("unreviewed", ""): (1, *EXAMPLE, 0)}

    path.write_text(path.read_text(encoding="utf-8").replace(";07;", f";{transport.code};")
                    .replace(";5000;", ";7000;"), encoding="utf-8")
    assert imports.apply(path, team["admin"]).ok
    db.session.commit()
    assert money(fire.id) in ({}, {("unreviewed", ""): (0, 0, 0, 0, 0)})
    assert money(transport.id) == {("unreviewed", ""): (1, *EXAMPLE, 0)}
    assert rollups_agree() == []
