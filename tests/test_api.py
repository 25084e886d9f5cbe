"""A script with a token does what a reviewer and a lead do in the browser, with the same
rules and refusals; session cookies never open the API."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from review_app.api.models import ApiToken
from review_app.audit import AuditAction, AuditEntry
from review_app.extensions import db
from review_app.requirements.models import State
from review_app.reviews.models import Action
from review_app.time import utcnow
from tests.api_support import PROPOSAL, Api, token_for
from tests.conftest import events, login_as, reload


def _api(client, user, scope="write", language="en") -> Api:
    return Api(client, token_for(user, scope), language)


def test_reviewer_proposes_and_lead_approves_with_tokens_only(client, team, world):
    req = world.requirement(team["fire"])
    reviewer, lead = _api(client, team["aigerim"]), _api(client, team["lead"])

    listed = reviewer.get("/requirements?area=07&state=unreviewed").get_json()
    assert [r["code"] for r in listed["items"]] == [req.code]

    etag = reviewer.etag(req.id)
    response = reviewer.post(f"/requirements/{req.id}/proposal", PROPOSAL, etag=etag)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "proposed"
    assert response.headers["ETag"] != etag

    response = lead.post(f"/requirements/{req.id}/approval", {"comment": "Согласен"},
                         etag=response.headers["ETag"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "approved" and body["decided_by"]["name"] == "Erlan"
    assert [e["action"] for e in body["history"]] == ["approve", "propose"]
    assert reload(req).state == State.APPROVED


def test_a_stale_etag_answers_412_with_the_current_state_and_writes_nothing(client, team, world):
    req = world.requirement(team["fire"])
    a, b = _api(client, team["aigerim"]), _api(client, team["bolat"])
    seen = a.etag(req.id)
    assert b.post(f"/requirements/{req.id}/proposal", PROPOSAL, etag=seen).status_code == 200
    response = a.post(f"/requirements/{req.id}/proposal",
                      {**PROPOSAL, "justification": "Моё"}, etag=seen)
    assert response.status_code == 412
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 412 and problem["current"]["state"] == "proposed"
    assert problem["current"]["justification"] == PROPOSAL["justification"]
    assert len(events(req, Action.PROPOSE)) == 1


def test_a_write_without_if_match_answers_428(client, team, world):
    req = world.requirement(team["fire"])
    response = _api(client, team["aigerim"]).post(f"/requirements/{req.id}/proposal", PROPOSAL)
    assert response.status_code == 428
    assert events(req) == []


def test_refusals_carry_the_pages_message_in_the_language_asked_for(client, team, world):
    req = world.requirement(team["fire"])
    reviewer = _api(client, team["aigerim"], language="ru")
    response = reviewer.post(f"/requirements/{req.id}/proposal",
                             {**PROPOSAL, "decision": "revise", "justification": "x"},
                             etag=reviewer.etag(req.id))
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["detail"] == "Для пересмотра требуется предлагаемая новая редакция."
    assert problem["errors"][0]["field"] == "new_wording"
    assert response.headers["Content-Language"] == "ru"


def test_lead_cannot_approve_own_proposal_nor_other_areas(client, team, world):
    req = world.requirement(team["fire"])
    lead = _api(client, team["lead"])
    response = lead.post(f"/requirements/{req.id}/proposal", PROPOSAL, etag=lead.etag(req.id))
    assert response.status_code == 200
    response = lead.post(f"/requirements/{req.id}/approval", {}, etag=response.headers["ETag"])
    assert response.status_code == 403
    other = world.requirement(team["transport"])
    response = lead.get(f"/requirements/{other.id}")
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == AuditAction.DENIED)) >= 2


def test_roles_that_do_not_propose_are_refused(client, team, world):
    req = world.requirement(team["fire"])
    for who in ("manager", "admin", "outsider"):
        api = _api(client, team[who])
        etag = 'W/"x"' if who == "outsider" else api.etag(req.id)
        response = api.post(f"/requirements/{req.id}/proposal", PROPOSAL, etag=etag)
        assert response.status_code == 403, who
    assert events(req) == []


def test_read_scope_cannot_write_and_anonymous_gets_401(client, team, world):
    req = world.requirement(team["fire"])
    reader = _api(client, team["aigerim"], scope="read")
    assert reader.get(f"/requirements/{req.id}").status_code == 200
    response = reader.post(f"/requirements/{req.id}/proposal", PROPOSAL,
                           etag=reader.etag(req.id))
    assert response.status_code == 403
    anonymous = Api(client, None)
    assert anonymous.get("/requirements").status_code == 401
    # No token comes before anything else: not even a broken body is looked at.
    assert anonymous.post(f"/requirements/{req.id}/proposal", {"x": 1}).status_code == 401
    assert Api(client, "rra_not-a-token").get("/requirements").status_code == 401


def test_a_signed_in_browser_session_does_not_open_the_api(client, team):
    login_as(client, team["aigerim"])
    assert client.get("/requirements/").status_code == 200
    assert client.get("/api/v1/requirements").status_code == 401
    assert client.post("/api/v1/claim-next").status_code == 401


def test_return_reopen_comment_assign_and_claim_next(client, team, world):
    req = world.requirement(team["fire"])
    reviewer, lead = _api(client, team["aigerim"]), _api(client, team["lead"])
    response = reviewer.post("/claim-next")
    assert response.get_json()["requirement"]["id"] == req.id
    assert reload(req).assignee_id == team["aigerim"].id
    etag = reviewer.post(f"/requirements/{req.id}/proposal", PROPOSAL,
                         etag=reviewer.etag(req.id)).headers["ETag"]
    response = lead.post(f"/requirements/{req.id}/return", {"text": ""}, etag=etag)
    assert response.status_code == 422
    response = lead.post(f"/requirements/{req.id}/return", {"text": "Уточните"}, etag=etag)
    assert response.get_json()["state"] == "returned"
    etag = reviewer.post(f"/requirements/{req.id}/proposal", PROPOSAL,
                         etag=response.headers["ETag"]).headers["ETag"]
    etag = lead.post(f"/requirements/{req.id}/approval", {}, etag=etag).headers["ETag"]
    response = lead.post(f"/requirements/{req.id}/reopen", {"reason": "Акт изменён"}, etag=etag)
    assert response.get_json()["state"] == "returned"
    assert reviewer.post(f"/requirements/{req.id}/comments",
                         {"text": "Смотрю"}).status_code == 201
    response = lead.put(f"/requirements/{req.id}/assignee", {"assignee": team["bolat"].id})
    assert response.get_json()["assignee"]["name"] == "Bolat"
    response = lead.put(f"/requirements/{req.id}/assignee",
                        {"assignee": team["outsider"].id})
    assert response.status_code == 422
    assert reviewer.put(f"/requirements/{req.id}/assignee",
                        {"assignee": team["dana"].id}).status_code == 403


def test_bulk_approve_skips_own_and_stale_with_reasons(client, team, world):
    reqs = [world.requirement(team["fire"]) for _ in range(3)]
    reviewer, lead = _api(client, team["aigerim"]), _api(client, team["lead"])
    for r in reqs[:2]:
        reviewer.post(f"/requirements/{r.id}/proposal", PROPOSAL, etag=reviewer.etag(r.id))
    own = reqs[2]
    lead.post(f"/requirements/{own.id}/proposal", PROPOSAL, etag=lead.etag(own.id))
    items = [{"id": reqs[0].id, "version": 2}, {"id": reqs[1].id, "version": 1},
             {"id": own.id, "version": 2}]
    response = lead.post("/bulk/approve", {"items": items, "comment": "Ок"})
    body = response.get_json()
    assert body["done"] == [reqs[0].id]
    assert {s["id"] for s in body["skipped"]} == {reqs[1].id, own.id}
    assert reviewer.post("/bulk/approve", {"items": items}).status_code == 403
    assert reload(reqs[1]).state == State.PROPOSED


def test_list_pages_with_cursors_and_refuses_bad_filters(client, team, world):
    for _ in range(5):
        world.requirement(team["fire"])
    api = _api(client, team["lead"], scope="read")
    first = api.get("/requirements?limit=2&sort=code").get_json()
    second = api.get(f"/requirements?limit=2&sort=code&after={first['next_cursor']}").get_json()
    assert first["total"] == 5 and len(second["items"]) == 2
    assert first["items"][-1]["code"] < second["items"][0]["code"]
    for bad in ("state=nope", "sort=zzz", "after=garbage", "limit=0", "area=99"):
        response = api.get(f"/requirements?{bad}")
        assert response.status_code == 400, bad
        assert response.mimetype == "application/problem+json"


def test_areas_show_progress_to_leads_and_not_to_reviewers(client, team, world):
    world.requirement(team["fire"])
    lead = _api(client, team["lead"], scope="read").get("/areas").get_json()["items"]
    assert lead[0]["code"] == "07" and lead[0]["by_state"]["unreviewed"] == 1
    reviewer = _api(client, team["aigerim"], scope="read").get("/areas").get_json()["items"]
    assert reviewer[0]["by_state"] is None
    assert _api(client, team["aigerim"], scope="read").get("/areas/12").status_code == 403


def test_tokens_are_hashed_listed_revoked_and_audited(client, team):
    owner = _api(client, team["aigerim"])
    response = owner.post("/tokens", {"name": "notebook", "scope": "read"})
    assert response.status_code == 201
    secret = response.get_json()["token"]
    row = db.session.get(ApiToken, response.get_json()["id"])
    assert secret not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    listed = owner.get("/tokens").get_json()["items"]
    assert "token" not in listed[0] and {t["name"] for t in listed} == {"notebook", "script"}
    assert Api(client, secret).get("/me").status_code == 200
    assert db.session.get(ApiToken, row.id, populate_existing=True).last_used_at is not None
    # Someone else cannot revoke it; its owner and admins can.
    assert _api(client, team["bolat"]).delete(f"/tokens/{row.id}").status_code == 403
    assert _api(client, team["admin"]).delete(f"/tokens/{row.id}").status_code == 204
    assert Api(client, secret).get("/me").status_code == 401
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {AuditAction.TOKEN_CREATED, AuditAction.TOKEN_REVOKED} <= actions


def test_expired_tokens_and_deactivated_people_are_refused(client, team):
    admin = team["admin"]
    secret = token_for(team["bolat"])
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == team["bolat"].id))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert Api(client, secret).get("/me").status_code == 401

    secret = token_for(team["dana"])
    login_as(client, admin)
    from review_app.admin import service as admin_service

    dana = db.session.merge(team["dana"])
    admin_service.deactivate(db.session.merge(admin), dana)
    db.session.commit()
    assert Api(client, secret).get("/me").status_code == 401
    live = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == dana.id,
                                                        ApiToken.revoked_at.is_(None))).all()
    assert live == []


def test_rate_limit_per_token(app, client, team):
    app.config["API_RATE_LIMIT"] = 3
    api = _api(client, team["aigerim"], scope="read")
    statuses = [api.get("/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert _api(client, team["bolat"], scope="read").get("/me").status_code == 200


def test_bodies_that_are_not_json_or_carry_control_characters(client, team, world):
    req = world.requirement(team["fire"])
    api = _api(client, team["aigerim"])
    response = client.post(f"/api/v1/requirements/{req.id}/comments", data={"text": "x"},
                           headers=api.headers())
    assert response.status_code == 415
    response = api.post(f"/requirements/{req.id}/comments", {"text": "a\x00b"})
    assert response.status_code == 400
    response = api.post(f"/requirements/{req.id}/comments", {"text": 5})
    assert response.status_code == 422
    assert events(req) == []


def test_the_openapi_document_and_its_reference_page(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert "/api/v1/requirements/{requirement_id}/proposal" in document["paths"]
    post = document["paths"]["/api/v1/requirements/{requirement_id}/proposal"]["post"]
    assert post["requestBody"]["content"]["application/json"]["example"]["decision"] == "cancel"
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert b"<script>" not in page.data and b"api_reference.js" in page.data


def test_the_audit_log_shows_tokens_made_and_revoked(client, team):
    owner = _api(client, team["aigerim"])
    made = owner.post("/tokens", {"name": "notebook", "scope": "read"}).get_json()
    owner.delete(f"/tokens/{made['id']}")
    login_as(client, team["admin"])
    page = client.get("/admin/audit/?kind=tokens").get_data(as_text=True)
    assert "created an API token" in page and "revoked an API token" in page
