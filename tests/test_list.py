"""The requirements list: filters, Cyrillic search, sorting, keyset pages, bad query strings."""

import re

import pytest
import sqlalchemy as sa

from review_app.extensions import db
from review_app.requirements.models import Requirement
from tests.conftest import login_as, page_text, propose


@pytest.fixture
def area(world):
    return world.area("07")


@pytest.fixture
def reviewer(world, area):
    return world.user("aigerim", reviewer_in=(area,))


def codes(response) -> list[str]:
    return re.findall(r'class="code"><a href="/requirements/\d+[^"]*">([^<]+)<', response.get_data(
        as_text=True))


def make_many(world, area, n, **fields):
    return [world.requirement(area, **fields) for _ in range(n)]


@pytest.mark.parametrize("query,expected", [
    ("ПОЖАР", "Требования пожарной безопасности к складам"),
    ("пожарной", "Требования пожарной безопасности к складам"),
    ("ҚАУІПСІЗДІК", "Өрт қауіпсіздігі талаптары"),
    ("ЁЛОК", "Продажа елок на ярмарках"),
    ("склад пожар", "Требования пожарной безопасности к складам"),
])
def test_search_is_case_insensitive_for_cyrillic(client, world, area, reviewer, query, expected):
    world.requirement(area, title="Требования пожарной безопасности к складам")
    world.requirement(area, title="Өрт қауіпсіздігі талаптары",
                      text="Кәсіпкерлер қауіпсіздік ережелерін сақтауға міндетті.")
    world.requirement(area, title="Продажа елок на ярмарках", text="Ели продаются с разрешения.")
    world.requirement(area, title="Учёт транспортных средств",
                      text="Водители обязаны вести журнал.")
    login_as(client, reviewer)
    page = page_text(client.get("/requirements/", query_string={"q": query}))
    assert expected in page
    assert "Учёт транспортных средств" not in page


def test_search_finds_by_code_and_treats_wildcards_literally(client, world, area, reviewer):
    target = world.requirement(area, title="Обычное требование")
    world.requirement(area, title="Скидка 50% на проверку")
    login_as(client, reviewer)
    assert codes(client.get("/requirements/", query_string={"q": target.code.lower()})) == [
        target.code]
    page = page_text(client.get("/requirements/", query_string={"q": "%"}))
    assert "Скидка 50%" in page and "Обычное требование" not in page
    assert "Обычное" not in page_text(client.get("/requirements/", query_string={"q": "_"}))


def test_filters_combine_and_stay_in_the_url(client, world, area, reviewer):
    other = world.area("12", "Транспорт")
    mine = world.requirement(area, title="Моё", issuing_body="МЧС РК")
    world.requirement(area, title="Чужой орган", issuing_body="Минздрав РК")
    world.requirement(other, title="Другая сфера", issuing_body="МЧС РК")
    reviewer2 = world.user("bolat", reviewer_in=(area, other))
    login_as(client, reviewer2)
    propose(client, mine, "cancel")
    response = client.get("/requirements/", query_string={
        "area": "07", "body": "МЧС РК", "state": "proposed", "decision": "cancel"})
    assert codes(response) == [mine.code]
    html = response.get_data(as_text=True)
    assert 'value="07" selected' in html and 'value="proposed" selected' in html
    assert "1 requirement" in page_text(response)


def test_assignee_filter(client, world, area, reviewer):
    mine = world.requirement(area, assignee_id=reviewer.id)
    free = world.requirement(area)
    login_as(client, reviewer)
    assert codes(client.get("/requirements/?assignee=me")) == [mine.code]
    assert codes(client.get("/requirements/?assignee=none")) == [free.code]
    assert codes(client.get(f"/requirements/?assignee={reviewer.id}")) == [mine.code]


def test_sorting_by_cost(client, world, area, reviewer):
    cheap = world.requirement(area, annual_cost_kzt=10)
    dear = world.requirement(area, annual_cost_kzt=10_000_000)
    unknown = world.requirement(area, annual_cost_kzt=None)
    login_as(client, reviewer)
    assert codes(client.get("/requirements/?sort=-cost")) == [dear.code, cheap.code, unknown.code]
    assert codes(client.get("/requirements/?sort=cost")) == [unknown.code, cheap.code, dear.code]


@pytest.mark.parametrize("sort", ["code", "-code", "-cost", "cost", "-updated", "title"])
def test_keyset_pages_walk_forward_and_back_without_gaps(client, app, world, area, reviewer, sort):
    app.config["PAGE_SIZE"] = 4
    make_many(world, area, 10)
    for i, req in enumerate(make_many(world, area, 3)):
        req.annual_cost_kzt = 1_500_000  # ties in the sort key are broken by id
        req.title = f"Требование {i % 2}"
    db.session.commit()
    login_as(client, reviewer)
    expected = codes(client.get("/requirements/", query_string={"sort": sort}))  # page 1
    seen, pages, response = [], [], client.get("/requirements/", query_string={"sort": sort})
    while True:
        page_codes = codes(response)
        seen += page_codes
        pages.append(page_codes)
        match = re.search(r'rel="next" href="([^"]+)"', response.get_data(as_text=True))
        if not match:
            break
        response = client.get(match.group(1).replace("&amp;", "&"))
    assert pages[0] == expected
    assert len(seen) == 13 and len(set(seen)) == 13
    assert [len(p) for p in pages] == [4, 4, 4, 1]
    # And back again from the last page.
    back = re.search(r'rel="prev" href="([^"]+)"', response.get_data(as_text=True)).group(1)
    assert codes(client.get(back.replace("&amp;", "&"))) == pages[2]


def test_total_is_shown(client, world, area, reviewer):
    make_many(world, area, 3)
    login_as(client, reviewer)
    assert "3 requirements" in page_text(client.get("/requirements/"))


@pytest.mark.parametrize("query", [
    "page=-1", "area=zzz", "sort=;DROP TABLE requirements", "state=lost", "decision=maybe",
    "assignee=x", "assignee=999999", "after=!!!", "before=bm90LWpzb24", "after=WyJhIiwgImIiXQ",
    "q=" + "я" * 500, "area=%00", "sort=-cost&after=WyJ4IiwgMV0",
])
def test_garbage_in_the_query_string_is_a_clear_400_or_ignored(client, world, area, reviewer,
                                                               query):
    world.requirement(area)
    login_as(client, reviewer)
    response = client.get("/requirements/?" + query)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "Some filters could not be used" in page_text(response) or \
            "page link is broken" in page_text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) == 1


def test_number_of_queries_does_not_grow_with_page_size(client, app, world, area, reviewer,
                                                        count_queries):
    people = [world.user(f"r{i}", reviewer_in=(area,)) for i in range(5)]
    for i in range(60):
        world.requirement(area, assignee_id=people[i % 5].id)
    login_as(client, reviewer)
    counts = {}
    for size in (5, 50):
        app.config["PAGE_SIZE"] = size
        client.get("/requirements/")  # warm caches that are meant to be cached
        with count_queries() as statements:
            assert len(codes(client.get("/requirements/"))) == size
        counts[size] = len(statements)
        last = [s[:150] for s in statements]
    assert counts[5] == counts[50], counts
    # The person, the areas, the people, the count, the page, the cost totals over the filter
    # (Standard Cost Model) and the bell's unread count: one statement each, whatever the size.
    assert counts[50] <= 7, "\n".join(last)
