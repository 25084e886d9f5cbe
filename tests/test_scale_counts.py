"""Counts on the list above the exact-count limit: an exact number, an estimate said to be one,
or a lower bound; never a wrong figure."""

import pytest

from review_app.requirements.counting import _round
from tests.conftest import IS_POSTGRES, login_as, page_text


@pytest.fixture
def area(world):
    return world.area("07")


@pytest.fixture
def reviewer(world, area):
    return world.user("aigerim", reviewer_in=(area,))


def total(client, **query) -> str:
    response = client.get("/requirements/", query_string=query)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    return text.split('data-testid="total">', 1)[1].split("<", 1)[0]


def test_counts_are_exact_up_to_the_limit(client, app, world, area, reviewer):
    for _ in range(5):
        world.requirement(area, title="Пожарные требования к складам")
    app.config["LIST_EXACT_COUNT_UP_TO"] = 5
    login_as(client, reviewer)
    assert total(client) == "5 requirements"
    assert total(client, q="пожар") == "5 requirements"


def test_above_the_limit_a_search_says_more_than(client, app, world, area, reviewer):
    for _ in range(6):
        world.requirement(area, title="Пожарные требования к складам")
    world.requirement(area, title="Другое")
    app.config["LIST_EXACT_COUNT_UP_TO"] = 3
    login_as(client, reviewer)
    assert total(client, q="пожар") == "more than 3 requirements"
    shown = total(client)
    if IS_POSTGRES:  # the planner's estimate, said to be one, or the lower bound
        assert shown.startswith("about ") or shown == "more than 3 requirements"
    else:
        assert shown == "more than 3 requirements"
    client.post("/language", data={"language": "ru", "next": "/requirements/"})
    assert total(client, q="пожар") == "более 3 требований"
    client.post("/language", data={"language": "kk", "next": "/requirements/"})
    assert total(client, q="пожар") == "3 талаптан астам"


def test_bulk_scope_names_no_number_it_does_not_know(client, app, world, area):
    lead = world.user("lead", lead_in=(area,))
    for _ in range(5):
        world.requirement(area, title="Пожарные требования")
    app.config["LIST_EXACT_COUNT_UP_TO"] = 3
    login_as(client, lead)
    text = page_text(client.get("/requirements/", query_string={"q": "пожар"}))
    assert "Apply to all matching requirements, not only the ticked ones" in text
    app.config["LIST_EXACT_COUNT_UP_TO"] = 10
    text = page_text(client.get("/requirements/", query_string={"q": "пожар"}))
    assert "Apply to all 5 matching requirements" in text


def test_estimates_keep_two_significant_figures():
    assert _round(123_456) == 120_000
    assert _round(10_951) == 11_000
    assert _round(87) == 87


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL's statement_timeout")
def test_a_count_past_its_time_budget_gives_up_and_the_page_says_what_it_proves(
        app, client, world, area, reviewer):
    import sqlalchemy as sa

    from review_app.extensions import db
    from review_app.requirements import counting
    from review_app.requirements.models import Requirement

    for _ in range(3):
        world.requirement(area, title="Пожарные требования")
    # a text search (the only kind of count with a budget) that is slow to check
    slow = [Requirement.search_text.contains("пожар"), sa.text("pg_sleep(0.2) IS NOT NULL")]
    with app.app_context():
        app.config["LIST_COUNT_BUDGET_MS"] = 20
        assert counting.count(db.session, slow) is None
        # the transaction goes on, and the time limit is back to what it was
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) == 3
        assert db.session.scalar(sa.text("SELECT current_setting('statement_timeout')")) == "0"
        app.config["LIST_COUNT_BUDGET_MS"] = 5000
        assert counting.count(db.session, slow).value == 3
        db.session.rollback()
    app.config["LIST_COUNT_BUDGET_MS"] = 20
    app.config["PAGE_SIZE"] = 2
    login_as(client, reviewer)
    assert total(client, q="пожар") == "3 requirements"  # quick enough: exact


def cost_line(client, **query) -> str:
    response = client.get("/requirements/", query_string=query)
    assert response.status_code == 200
    return page_text(response).split("Annual cost of compliance:", 1)[1].split("Review these")[0]


def test_the_cost_line_sums_a_short_list_and_offers_to_sum_a_long_one(
        client, app, world, area, reviewer):
    for cost in (1_000_000, 2_000_000, 4_000_000):
        world.requirement(area, title="Пожарные требования к складам", annual_cost_kzt=cost)
    world.requirement(area, title="Другое", annual_cost_kzt=8_000_000)
    login_as(client, reviewer)
    app.config["LIST_TOTALS_UP_TO"] = 3
    assert "7,000,000" in cost_line(client, q="пожар")  # three match: summed
    line = cost_line(client)  # four: not summed, and no figure that could be taken for one
    assert "summed automatically for lists of up to 3 requirements" in line
    assert "₸" not in line
    html = client.get("/requirements/", query_string={"q": "другое пожар"}).get_data(
        as_text=True)
    assert 'data-testid="sum-all"' not in html  # nothing matches: nothing to sum
    # on request, however many
    assert "15,000,000" in cost_line(client, totals="all")
    html = client.get("/requirements/").get_data(as_text=True)
    assert 'href="/requirements/?totals=all"' in html
    app.config["LIST_TOTALS_UP_TO"] = 4
    assert "15,000,000" in cost_line(client)


def test_a_count_that_is_not_exact_never_gets_a_cost_total(client, app, world, area, reviewer):
    for _ in range(4):
        world.requirement(area, title="Пожарные требования к складам")
    app.config["LIST_EXACT_COUNT_UP_TO"] = 3  # "more than 3": the sum would be a guess
    app.config["LIST_TOTALS_UP_TO"] = 10
    login_as(client, reviewer)
    assert "₸" not in cost_line(client, q="пожар")
    assert "6,000,000" in cost_line(client, q="пожар", totals="all")


def test_an_unknown_cost_total_choice_is_refused_by_name(client, world, area, reviewer):
    login_as(client, reviewer)
    response = client.get("/requirements/", query_string={"totals": "some²"})
    assert response.status_code == 400
    assert "Unknown choice for the cost total “some²”" in page_text(response)


def test_a_short_list_sums_the_computed_costs_like_the_long_way(app, world, area):
    """The bounded sum (a key lookup per row on PostgreSQL) and the plain one agree."""
    from review_app.extensions import db
    from review_app.requirements.models import Requirement
    from review_app.scm import costs
    from review_app.scm.models import ScmCost

    reqs = [world.requirement(area, annual_cost_kzt=c) for c in (100, None, 300, None)]
    with app.app_context():
        db.session.add_all([ScmCost(requirement_id=reqs[0].id, central=50, low=40, high=90),
                            ScmCost(requirement_id=reqs[1].id, central=7, low=5, high=9)])
        db.session.flush()
        where = [Requirement.area_id == area.id]
        few = costs.totals_of_few(db.session, where, 10)
        assert few == costs.totals(db.session, where)
        assert (few.central, few.low, few.high) == (357, 345, 399)
        assert (few.computed, few.imported_only, few.unknown) == (2, 1, 1)
        assert costs.totals_of_few(db.session, where, 3) is None
        db.session.rollback()


def test_only_a_text_search_is_taken_for_one():
    import sqlalchemy as sa

    from review_app.requirements.counting import searches
    from review_app.requirements.models import Requirement

    assert searches([Requirement.area_id == 1, Requirement.search_text.contains("пожар")])
    assert searches([sa.or_(Requirement.state == "approved",
                            Requirement.search_text.contains("x"))])
    assert not searches([Requirement.area_id == 1, Requirement.title == "пожар"])


def _statements(engine):
    """The SQL the engine runs inside the ``with`` (a list filled as they run)."""
    import contextlib

    import sqlalchemy as sa

    seen: list[str] = []

    def note(_conn, _cursor, statement, parameters, *_args):
        seen.append(f"{statement} {parameters!r}")

    @contextlib.contextmanager
    def listening():
        sa.event.listen(engine, "before_cursor_execute", note)
        try:
            yield seen
        finally:
            sa.event.remove(engine, "before_cursor_execute", note)
    return listening()


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL's statement_timeout")
def test_a_count_that_gave_up_is_not_tried_again_for_the_same_filter(app, world, area):
    import sqlalchemy as sa

    from review_app.extensions import db
    from review_app.requirements import counting
    from review_app.requirements.models import Requirement

    world.requirement(area, title="Пожарные требования")
    slow = [Requirement.search_text.contains("пожар"), sa.text("pg_sleep(0.05) IS NOT NULL")]
    other = [Requirement.search_text.contains("склад"), sa.text("pg_sleep(0.05) IS NOT NULL")]
    with app.app_context():
        app.config["LIST_COUNT_BUDGET_MS"] = 10
        counting._GAVE_UP.clear()
        assert counting.count(db.session, slow) is None
        with _statements(db.engine) as seen:
            assert counting.count(db.session, slow) is None
        assert not any("count(" in s for s in seen)  # known to be too slow: not counted again
        with _statements(db.engine) as seen:
            counting.count(db.session, other)  # another filter is counted
        assert any("count(" in s for s in seen)
        counting._GAVE_UP.clear()
        db.session.rollback()
    app.config["LIST_COUNT_BUDGET_MS"] = 20


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL's planner settings")
@pytest.mark.parametrize("count_budget, settings", [
    (5000, "enable_indexscan"),   # the count finished: few matches, read by the text index
    (10, "enable_bitmapscan"),    # it gave up: many, walk the list's order
])
def test_a_searched_page_past_its_time_is_read_the_way_its_count_says(
        app, world, area, count_budget, settings):
    """The planner's plan is cut off at ``LIST_ROWS_BUDGET_MS`` and the rows read again with
    the plan the count points to: the same rows, and the transaction and its settings as
    they were."""
    import sqlalchemy as sa

    from review_app.extensions import db
    from review_app.requirements import counting, listing
    from review_app.requirements.models import Requirement

    codes = sorted(world.requirement(area, title=f"Пожарные требования {n}").code
                   for n in range(3))
    world.requirement(area, title="Склады")
    # every row checked costs 20 ms: the planner's plan cannot finish within 5 ms
    slow = [Requirement.search_text.contains("пожар"), sa.text("pg_sleep(0.02) IS NOT NULL")]
    with app.app_context():
        counting._GAVE_UP.clear()
        app.config["LIST_COUNT_BUDGET_MS"] = count_budget
        app.config["LIST_ROWS_BUDGET_MS"] = 5
        with _statements(db.engine) as seen:
            page = listing.fetch_page(db.session, slow, "code", after=None, before=None,
                                      size=2)
        assert [r.code for r in page.rows] == codes[:2]
        assert page.next_cursor
        other = ({"enable_indexscan", "enable_bitmapscan"} - {settings}).pop()
        assert any(settings in s for s in seen) and not any(other in s for s in seen)
        for name in ("statement_timeout", "enable_indexscan", "enable_bitmapscan",
                     "enable_seqscan", "enable_sort"):
            assert db.session.scalar(sa.text(f"SELECT current_setting('{name}')")) in ("0", "on")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) == 4
        counting._GAVE_UP.clear()
        db.session.rollback()
    app.config["LIST_COUNT_BUDGET_MS"] = 20
    app.config.pop("LIST_ROWS_BUDGET_MS")
