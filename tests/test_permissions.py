"""Every rule in DESIGN.md's permission table, tried from the wrong side. Deny by default."""

import logging

import pytest

from review_app.auth.models import GlobalRole
from review_app.requirements.models import State
from tests.conftest import decide, login_as, page_text, propose, reload


@pytest.fixture
def setup(world):
    fire, transport = world.area("07", "Пожарная безопасность"), world.area("12", "Транспорт")
    people = {
        "reviewer07": world.user("reviewer07", reviewer_in=(fire,)),
        "reviewer12": world.user("reviewer12", reviewer_in=(transport,)),
        "lead07": world.user("lead07", lead_in=(fire,)),
        "lead12": world.user("lead12", lead_in=(transport,)),
        "manager": world.user("manager", role=GlobalRole.MANAGER),
        "admin": world.user("admin", role=GlobalRole.ADMIN),
        "nobody": world.user("nobody"),
    }
    reqs = {"fire": world.requirement(fire, title="Огнетушители"),
            "transport": world.requirement(transport, title="Тахографы")}
    return people, reqs


def test_anonymous_users_are_sent_to_sign_in(client, setup):
    _, reqs = setup
    for url in ("/", "/requirements/", f"/requirements/{reqs['fire'].id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location
    response = client.post(f"/requirements/{reqs['fire'].id}/propose", data={})
    assert response.status_code == 302 and "/login" in response.location


def test_reviewer_cannot_open_another_areas_requirement_by_url(client, setup, caplog):
    people, reqs = setup
    login_as(client, people["reviewer07"])
    assert client.get(f"/requirements/{reqs['fire'].id}").status_code == 200
    with caplog.at_level(logging.WARNING, logger="review_app.permissions"):
        response = client.get(f"/requirements/{reqs['transport'].id}")
    assert response.status_code == 403
    assert "Тахографы" not in page_text(response)
    assert "permission denied: user=reviewer07@example.kz action=view" in caplog.text


def test_reviewer_list_shows_only_own_areas(client, setup):
    people, _ = setup
    login_as(client, people["reviewer07"])
    page = page_text(client.get("/requirements/"))
    assert "Огнетушители" in page and "Тахографы" not in page
    # Asking for the other area by filter does not reveal it either.
    response = client.get("/requirements/?area=12")
    assert response.status_code == 400
    assert "Тахографы" not in page_text(response)


def test_reviewer_cannot_propose_in_another_area(client, setup):
    people, reqs = setup
    login_as(client, people["reviewer07"])
    assert propose(client, reqs["transport"], "cancel").status_code == 403
    assert reload(reqs["transport"]).state == State.UNREVIEWED


def test_user_without_areas_sees_nothing(client, setup):
    people, reqs = setup
    login_as(client, people["nobody"])
    assert "Огнетушители" not in page_text(client.get("/requirements/"))
    assert client.get(f"/requirements/{reqs['fire'].id}").status_code == 403


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_managers_and_admins_see_all_but_cannot_propose(client, setup, who):
    people, reqs = setup
    login_as(client, people[who])
    page = page_text(client.get("/requirements/"))
    assert "Огнетушители" in page and "Тахографы" in page
    assert client.get(f"/requirements/{reqs['transport'].id}").status_code == 200
    assert propose(client, reqs["fire"], "cancel").status_code == 403
    assert reload(reqs["fire"]).state == State.UNREVIEWED


@pytest.mark.parametrize("who", ["reviewer07", "manager", "admin", "lead12"])
def test_only_the_areas_lead_approves_or_returns(client, setup, who):
    people, reqs = setup
    login_as(client, people["reviewer07"])
    propose(client, reqs["fire"], "cancel")
    login_as(client, people[who])
    assert decide(client, reqs["fire"], "approve").status_code == 403
    assert decide(client, reqs["fire"], "return", "нет").status_code == 403
    assert reload(reqs["fire"]).state == State.PROPOSED


def test_lead_can_never_approve_own_proposal(client, setup, caplog):
    people, reqs = setup
    login_as(client, people["lead07"])
    assert propose(client, reqs["fire"], "keep").status_code == 302
    page = page_text(client.get(f"/requirements/{reqs['fire'].id}"))
    # The area has no other lead: the form says the project office approves it instead.
    assert "you cannot approve it; the project office (administrators) can" in page
    with caplog.at_level(logging.WARNING, logger="review_app.permissions"):
        response = decide(client, reqs["fire"], "approve")
    assert response.status_code == 403
    assert "cannot approve your own proposal" in page_text(response)
    assert "approve-own" in caplog.text
    assert reload(reqs["fire"]).state == State.PROPOSED


def test_reviewer_page_has_no_lead_form(client, setup):
    people, reqs = setup
    login_as(client, people["reviewer07"])
    propose(client, reqs["fire"], "cancel")
    html = client.get(f"/requirements/{reqs['fire'].id}").get_data(as_text=True)
    assert 'data-testid="decision-form"' not in html


def test_unknown_requirement_is_404_not_500(client, setup):
    people, _ = setup
    login_as(client, people["admin"])
    assert client.get("/requirements/999999").status_code == 404
    assert client.get("/requirements/abc").status_code == 404
    assert client.post("/requirements/999999/propose", data={}).status_code == 404
