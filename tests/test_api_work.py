"""Summaries, imports and open data through the API, with the pages' rules; and the open-data
pages and downloads, which show only what an admin published."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from review_app.audit import AuditAction, AuditEntry
from review_app.extensions import db
from review_app.requirements.models import Requirement
from review_app.summaries.models import Summary
from tests.api_support import PROPOSAL, Api, token_for
from tests.conftest import login_as
from tests.importing import csv_bytes, row
from tests.summaries_support import run_worker


def _api(client, user, scope="write") -> Api:
    return Api(client, token_for(user, scope))


def test_lead_requests_a_summary_follows_it_and_downloads_it(app, client, team, world):
    world.requirement(team["fire"])
    lead = _api(client, team["lead"])
    response = lead.post("/summaries", {"area": "07", "format": "csv"})
    assert response.status_code == 202
    summary = response.get_json()
    assert summary["status"] == "queued" and summary["created"] is True
    again = lead.post("/summaries", {"area": "07", "format": "csv"}).get_json()
    assert again["id"] == summary["id"] and again["created"] is False
    assert lead.get(f"/summaries/{summary['id']}/download").status_code == 409
    run_worker(app)
    assert lead.get(f"/summaries/{summary['id']}").get_json()["status"] == "done"
    download = lead.get(f"/summaries/{summary['id']}/download")
    assert download.status_code == 200 and download.data.startswith(b"\xef\xbb\xbf")
    # Another area's lead, and reviewers, are refused.
    assert _api(client, team["lead12"]).get(f"/summaries/{summary['id']}").status_code == 403
    assert _api(client, team["aigerim"]).post(
        "/summaries", {"area": "07", "format": "csv"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Summary)) == 1


def test_admin_uploads_previews_and_confirms_an_import(client, team):
    admin = _api(client, team["admin"])
    data = csv_bytes([row("API-07-1"), row("API-07-2")])
    response = client.post("/api/v1/imports", headers=admin.headers(),
                           data={"file": (io.BytesIO(data), "list.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 202, response.get_json()
    batch = response.get_json()
    assert batch["status"] == "ready" and batch["new_count"] == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) == 0
    confirmed = admin.post(f"/imports/{batch['id']}/confirm")
    assert confirmed.status_code == 202 and confirmed.get_json()["status"] == "applied"
    assert admin.post(f"/imports/{batch['id']}/confirm").status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)) == 2
    # A lead may not import, nor read an import.
    lead = _api(client, team["lead"])
    assert lead.get(f"/imports/{batch['id']}").status_code == 403
    response = client.post("/api/v1/imports", headers=lead.headers(),
                           data={"file": (io.BytesIO(data), "list.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 403


def test_an_import_with_errors_says_them_and_cannot_be_confirmed(client, team):
    admin = _api(client, team["admin"])
    data = csv_bytes([row("API-07-1", area="99")])
    batch = client.post("/api/v1/imports", headers=admin.headers(),
                        data={"file": (io.BytesIO(data), "list.csv")},
                        content_type="multipart/form-data").get_json()
    assert batch["status"] == "invalid" and batch["problems"][0]["message"]
    assert admin.post(f"/imports/{batch['id']}/confirm").status_code == 409


def _approved(client, team, world, area_key="fire", **fields) -> Requirement:
    req = world.requirement(team[area_key], **fields)
    reviewer = _api(client, team["aigerim" if area_key == "fire" else "outsider"])
    lead = _api(client, team["lead" if area_key == "fire" else "lead12"])
    etag = reviewer.post(f"/requirements/{req.id}/proposal", PROPOSAL,
                         etag=reviewer.etag(req.id)).headers["ETag"]
    assert lead.post(f"/requirements/{req.id}/approval", {"comment": "секретный комментарий"},
                     etag=etag).status_code == 200
    return req


def test_open_data_shows_only_published_final_decisions_without_names(client, team, world):
    approved = _approved(client, team, world)
    pending = world.requirement(team["fire"])
    other = _approved(client, team, world, "transport")
    assert client.get("/open/decisions.json").get_json()["decisions"] == []

    admin = _api(client, team["admin"])
    assert _api(client, team["lead"]).put("/areas/07/publication",
                                          {"published": True}).status_code == 403
    response = admin.put("/areas/07/publication", {"published": True})
    assert response.status_code == 200 and response.get_json()["published"] is True

    data = client.get("/open/decisions.json").get_json()
    assert [d["code"] for d in data["decisions"]] == [approved.code]
    record = data["decisions"][0]
    assert record["decision"] == "cancel" and record["justification"] == PROPOSAL[
        "justification"]
    assert list(record) == data["fields"] and "licence" in data
    text = json.dumps(data, ensure_ascii=False)
    for secret in ("Aigerim", "Erlan", "секретный", pending.code, other.code):
        assert secret not in text

    rows = list(csv.reader(io.StringIO(client.get("/open/decisions.csv").data.decode(
        "utf-8-sig"))))
    assert rows[0][0] == "code" and [r[0] for r in rows[1:]] == [approved.code]
    page = client.get("/open/?q=" + approved.code[-5:])
    assert page.status_code == 200 and approved.code in page.get_data(as_text=True)
    assert "Erlan" not in page.get_data(as_text=True)

    admin.put("/areas/07/publication", {"published": False})
    assert client.get("/open/decisions.json").get_json()["decisions"] == []
    actions = list(db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.action.in_([AuditAction.AREA_PUBLISHED, AuditAction.AREA_UNPUBLISHED]))))
    assert sorted(actions) == ["area_published", "area_unpublished"]


def test_open_data_answers_304_to_a_harvester_with_a_current_copy(client, team, world):
    _approved(client, team, world)
    _api(client, team["admin"]).put("/areas/07/publication", {"published": True})
    first = client.get("/open/decisions.csv")
    assert first.data.count(b"\r\n") == 2  # the header and the one decision
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get("/open/decisions.csv", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    _approved(client, team, world)
    changed = client.get("/open/decisions.csv", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200


def test_publishing_from_the_page_is_for_admins_only(client, team):
    login_as(client, team["lead"])
    assert client.get("/open/manage").status_code == 403
    assert client.post("/open/manage/07/publish", data={}).status_code == 403
    login_as(client, team["admin"])
    assert client.get("/open/manage").status_code == 200
    assert client.post("/open/manage/07/publish", data={}).status_code == 303
    assert db.session.get(type(team["fire"]), team["fire"].id,
                          populate_existing=True).published_at is not None


def test_people_create_and_revoke_tokens_on_their_page(client, team):
    login_as(client, team["aigerim"])
    page = client.post("/account/tokens", data={"name": "ноутбук", "scope": "read",
                                                "days": "30"})
    assert page.status_code == 200
    secret = page.get_data(as_text=True).split("<code>rra_")[1].split("</code>")[0]
    assert Api(client, "rra_" + secret).get("/me").status_code == 200
    again = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in again and "ноутбук" in again


def test_an_admin_revokes_another_persons_token_on_their_page(client, team):
    secret = token_for(team["aigerim"])
    token_id = Api(client, secret).get("/tokens").get_json()["items"][0]["id"]
    login_as(client, team["lead"])
    assert client.get(f"/account/tokens/of/{team['aigerim'].id}").status_code == 403
    assert client.post(f"/account/tokens/{token_id}/revoke", data={}).status_code == 403
    assert Api(client, secret).get("/me").status_code == 200
    login_as(client, team["admin"])
    page = client.get(f"/account/tokens/of/{team['aigerim'].id}")
    assert page.status_code == 200 and "script" in page.get_data(as_text=True)
    assert client.post(f"/account/tokens/{token_id}/revoke", data={}).status_code == 200
    assert Api(client, secret).get("/me").status_code == 401
