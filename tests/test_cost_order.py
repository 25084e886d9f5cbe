"""The list sorted and filtered by the reported cost, read from ``cost_order``, and every writer
keeping that table what the requirements and their computed costs say."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from review_app.extensions import db
from review_app.imports import service as imports
from review_app.requirements import cost_order
from review_app.requirements.cost_order import CostOrder
from review_app.requirements.models import Requirement
from review_app.scm.models import ScmCost
from tests.conftest import login_as, page_text, propose, reload
from tests.dashboard_support import decided_by
from tests.scm_support import propose_inputs, tariff

#: The worked example's computed cost (3 h × 2,500 ₸/h × 4 a year × 12,000 businesses).
EXAMPLE = 360_000_000
INPUTS = '"Ежеквартальный отчёт; 3 (2–5); ACCOUNTANT; 0; 4; 100 (80–100)"'


@pytest.fixture
def accountant(app):
    return tariff()


def codes(response) -> list[str]:
    return re.findall(r'class="code"><a href="/requirements/\d+[^"]*">([^<]+)<',
                      response.get_data(as_text=True))


def link(response, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', response.get_data(as_text=True))
    return found.group(1).replace("&amp;", "&") if found else None


def walk(client, url: str) -> tuple[list[list[str]], list[list[str]]]:
    """Every page of the list from ``url`` on, following "next"; then every page again from
    the last one back, following "previous" (in the order they were read)."""
    forward, response = [], client.get(url)
    while True:
        forward.append(codes(response))
        after = link(response, "next")
        if after is None:
            break
        response = client.get(after)
    backward = [forward[-1]]
    while (before := link(response, "prev")) is not None:
        response = client.get(before)
        backward.append(codes(response))
    return forward, backward


def stored(req: Requirement) -> tuple[int, int] | None:
    row = db.session.get(CostOrder, req.id)
    return None if row is None else (row.area_id, row.reported)


def agree() -> list[str]:
    db.session.expire_all()
    return cost_order.differences(db.session)


def with_computed_cost(req: Requirement, central: int) -> None:
    """A computed cost written as ``workflow.set_scm_cost`` writes one (through the ORM)."""
    db.session.add(ScmCost(requirement_id=req.id, central=central, low=central, high=central))
    db.session.commit()


@pytest.mark.parametrize("sort", ["-cost", "cost"])
def test_the_list_by_cost_walks_its_pages_both_ways_with_ties_computed_costs_and_no_cost(
        app, client, team, world, sort):
    app.config["PAGE_SIZE"] = 3
    fire, transport = team["fire"], team["transport"]
    costs = [10, 1_500_000, None, 1_500_000, 7, None, 1_500_000, 2_000_000, 10, None, 5]
    reqs = [world.requirement(fire, annual_cost_kzt=c) for c in costs]
    # Computed costs outrank the imported estimate, whichever way they move it.
    with_computed_cost(reqs[4], 1_500_000)   # was 7: now ties with three others
    with_computed_cost(reqs[7], 3)           # was 2,000,000
    with_computed_cost(reqs[9], 9_000_000)   # had no cost at all
    # Neither another area nor another state shows in "area 07, unreviewed".
    world.requirement(transport, annual_cost_kzt=1_500_000)
    proposed = world.requirement(fire, annual_cost_kzt=1_500_000)
    login_as(client, team["aigerim"])
    assert propose(client, proposed, "cancel").status_code in (302, 303)

    reported = {r.code: -1 if c is None else c for r, c in zip(reqs, costs, strict=True)}
    reported |= {reqs[4].code: 1_500_000, reqs[7].code: 3, reqs[9].code: 9_000_000}
    ids = {r.code: r.id for r in reqs}
    expected = sorted(reported, key=lambda code: (reported[code], ids[code]),
                      reverse=sort == "-cost")
    login_as(client, team["manager"])
    forward, backward = walk(client, f"/requirements/?area=07&state=unreviewed&sort={sort}")
    assert [len(p) for p in forward] == [3, 3, 3, 2]
    assert [code for page in forward for code in page] == expected
    assert backward == forward[::-1]
    # A reviewer sees their own areas only, in the same order, without an area filter.
    login_as(client, team["aigerim"])
    mine, _ = walk(client, f"/requirements/?sort={sort}")
    assert [code for page in mine for code in page] == sorted(
        [*expected, proposed.code], key=lambda code: (reported.get(code, 1_500_000),
                                                      ids.get(code, proposed.id)),
        reverse=sort == "-cost")
    assert agree() == []


def test_cost_min_counts_the_computed_cost_before_the_imported_estimate(client, team, world):
    fire = team["fire"]
    dear = world.requirement(fire, annual_cost_kzt=5_000_000)
    cheap = world.requirement(fire, annual_cost_kzt=10)
    raised = world.requirement(fire, annual_cost_kzt=10)
    lowered = world.requirement(fire, annual_cost_kzt=5_000_000)
    world.requirement(fire, annual_cost_kzt=None)
    with_computed_cost(raised, 2_000_000)
    with_computed_cost(lowered, 20)
    login_as(client, team["aigerim"])
    assert codes(client.get("/requirements/?cost_min=1000000&sort=code")) == sorted(
        [dear.code, raised.code])
    assert codes(client.get("/requirements/?cost_min=1000000&sort=-cost")) == [
        dear.code, raised.code]
    # Zero and up: every requirement with a cost, none of those without one.
    assert codes(client.get("/requirements/?cost_min=0&sort=cost")) == [
        cheap.code, lowered.code, raised.code, dear.code]
    assert "2 requirements" in page_text(client.get("/requirements/?cost_min=1000000"))


def test_approving_cost_inputs_writes_the_computed_cost_into_the_order(client, team, world,
                                                                        accountant):
    req = world.requirement(team["fire"], businesses_affected=12_000, annual_cost_kzt=50)
    assert stored(req) == (team["fire"].id, 50)
    login_as(client, team["aigerim"])
    assert propose(client, req, "cancel").status_code in (302, 303)
    assert propose_inputs(client, req).status_code == 302
    assert stored(reload(req)) == (team["fire"].id, 50)  # proposed inputs are not the cost yet
    decided_by(client, team["lead"], [req])  # approving the decision approves its inputs
    assert reload(req).scm_cost_kzt == EXAMPLE
    assert stored(req) == (team["fire"].id, EXAMPLE)
    assert agree() == []


def test_a_tariff_change_moves_every_cost_it_recomputes(client, team, world, accountant,
                                                        tmp_path):
    header = "code;area_code;title;text;businesses_affected;annual_cost_kzt;scm_inputs\n"
    lines = "".join(f"TR-{area}-9{n:04d};{area};Отчёт;Субъекты представляют отчёт.;12000;5;"
                    f"{INPUTS}\n" for n, area in enumerate(("07", "12", "07")))
    path = tmp_path / "scm.csv"
    path.write_text(header + lines, encoding="utf-8")
    assert imports.apply(path, team["admin"]).ok
    db.session.commit()
    assert sorted(r for (r,) in db.session.execute(sa.select(CostOrder.reported))) == [EXAMPLE] * 3
    login_as(client, team["admin"])
    response = client.post(f"/admin/tariffs/{accountant.id}", data={
        "code": "ACCOUNTANT", "name": "Бухгалтер", "hourly_kzt": "3000",
        "source": "БНС 2027", "as_of": "2027-01-01"})
    assert response.status_code == 302, page_text(response)[:500]
    assert sorted(r for (r,) in db.session.execute(sa.select(CostOrder.reported))) == [
        432_000_000] * 3
    assert agree() == []


def test_an_import_writes_new_changed_and_moved_requirements_into_the_order(
        team, world, accountant, tmp_path):
    fire, transport = team["fire"], team["transport"]
    header = "code;area_code;title;text;businesses_affected;annual_cost_kzt;scm_inputs\n"
    path = tmp_path / "register.csv"
    path.write_text(header
                    + f"IM-1;07;Отчёт;Субъекты представляют отчёт.;12000;5;{INPUTS}\n"
                    + "IM-2;07;Журнал;Субъекты ведут журнал.;10;1000;\n"
                    + "IM-3;07;Вывеска;Субъекты вешают вывеску.;;;\n", encoding="utf-8")
    assert imports.apply(path, team["admin"]).ok
    db.session.commit()

    def order() -> dict[str, tuple[int, int]]:
        db.session.expire_all()
        return {code: (area, cost) for code, area, cost in db.session.execute(
            sa.select(Requirement.code, CostOrder.area_id, CostOrder.reported)
            .join(CostOrder, CostOrder.requirement_id == Requirement.id))}

    assert order() == {"IM-1": (fire.id, EXAMPLE), "IM-2": (fire.id, 1000), "IM-3": (fire.id, -1)}
    # A new estimate (a plain UPDATE), a move to another area (the same), new inputs (through
    # the workflow, one requirement at a time).
    path.write_text(header
                    + f"IM-1;07;Отчёт;Субъекты представляют отчёт.;6000;5;{INPUTS}\n"
                    + "IM-2;07;Журнал;Субъекты ведут журнал.;10;2500;\n"
                    + "IM-3;12;Вывеска;Субъекты вешают вывеску.;;;\n", encoding="utf-8")
    assert imports.apply(path, team["admin"]).ok
    db.session.commit()
    assert order() == {"IM-1": (fire.id, EXAMPLE // 2), "IM-2": (fire.id, 2500),
                       "IM-3": (transport.id, -1)}
    assert agree() == []


def test_requirements_written_and_deleted_through_the_orm_keep_the_order(team, world):
    fire, transport = team["fire"], team["transport"]
    req = world.requirement(fire, annual_cost_kzt=None)
    assert stored(req) == (fire.id, -1)
    req = reload(req)
    req.area_id, req.annual_cost_kzt = transport.id, 700
    db.session.commit()
    assert stored(req) == (transport.id, 700)
    with_computed_cost(req, 90)
    assert stored(req) == (transport.id, 90)
    cost = db.session.get(ScmCost, req.id)
    cost.central = 95
    db.session.commit()
    assert stored(req) == (transport.id, 95)
    db.session.delete(cost)
    db.session.commit()
    assert stored(req) == (transport.id, 700)
    db.session.delete(reload(req))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CostOrder)) == 0
    assert agree() == []


def test_the_demo_seed_fills_the_order(runner):
    result = runner.invoke(args=["seed-demo", "--requirements", "400"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CostOrder)) == 400
    assert agree() == []


def test_differences_find_a_planted_error_and_a_rebuild_mends_it(runner, team, world):
    kept = world.requirement(team["fire"], annual_cost_kzt=100)
    moved = world.requirement(team["fire"], annual_cost_kzt=200)
    lost = world.requirement(team["fire"], annual_cost_kzt=300)
    assert agree() == []
    assert runner.invoke(args=["check-history"]).exit_code == 0
    # A data fix beside the ORM: one cost, one area, one row gone.
    table = CostOrder.__table__
    db.session.execute(sa.update(table).where(table.c.requirement_id == kept.id)
                       .values(reported=101))
    db.session.execute(sa.update(table).where(table.c.requirement_id == moved.id)
                       .values(area_id=team["transport"].id))
    db.session.execute(sa.delete(table).where(table.c.requirement_id == lost.id))
    db.session.commit()
    found = agree()
    assert found == [
        f"cost order of requirement {kept.id}: stored area {team['fire'].id}, cost 101, "
        f"derived area {team['fire'].id}, cost 100",
        f"cost order of requirement {moved.id}: stored area {team['transport'].id}, cost 200, "
        f"derived area {team['fire'].id}, cost 200",
        f"cost order of requirement {lost.id}: stored nothing, derived area "
        f"{team['fire'].id}, cost 300"]
    result = runner.invoke(args=["check-history"])
    assert result.exit_code == 1 and "cost order of requirement" in result.output
    assert runner.invoke(args=["rebuild-dashboard"]).exit_code == 0
    assert agree() == []
    assert stored(kept) == (team["fire"].id, 100)


def test_differences_are_bounded_and_say_how_many_more(team, world):
    reqs = [world.requirement(team["fire"], annual_cost_kzt=n) for n in range(5)]
    db.session.execute(sa.update(CostOrder.__table__).values(reported=-5))
    db.session.commit()
    found = cost_order.differences(db.session, limit=2)
    assert len(found) == 3 and found[-1] == "cost order: 3 more rows disagree"
    assert str(reqs[0].id) in found[0]
