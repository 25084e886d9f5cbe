"""The Summaries page as managers and leads use it, and every way to misuse it.

Summaries are built by a real RQ worker (in this process, burst mode) on the real Redis.
"""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from review_app.auth.models import AreaMembership, GlobalRole
from review_app.extensions import db
from review_app.redis_conn import get_redis
from review_app.summaries import service
from review_app.summaries.models import Summary, SummaryChunk, SummaryStatus
from tests.conftest import decide, login_as, page_text, propose
from tests.summaries_support import (
    csv_sections,
    only_summary,
    run_worker,
    sheet_rows,
    summary_row,
    workbook,
)

DEAD_REDIS = "redis://127.0.0.1:9/0"  # the discard port: nothing answers there


@pytest.fixture
def people(world):
    fire, transport = world.area("07", "Пожарная безопасность"), world.area("12", "Транспорт")
    world.requirement(fire, title="Огнетушители")
    world.requirement(transport, title="Тахографы")
    return {
        "fire": fire, "transport": transport,
        "manager": world.user("manager", role=GlobalRole.MANAGER),
        "admin": world.user("admin", role=GlobalRole.ADMIN),
        "lead07": world.user("lead07", lead_in=(fire,)),
        "lead12": world.user("lead12", lead_in=(transport,)),
        "reviewer07": world.user("reviewer07", reviewer_in=(fire,)),
        "nobody": world.user("nobody"),
    }


def ask(client, area: str = "", fmt: str = "xlsx", **extra):
    return client.post("/summaries/", data={"area": area, "format": fmt, **extra})


def test_a_manager_asks_for_the_all_areas_summary_and_downloads_it(client, app, people):
    login_as(client, people["manager"])
    page = client.get("/summaries/")
    assert page.status_code == 200
    assert '<option value="">All areas</option>' in page.get_data(as_text=True)
    assert 'href="/summaries/"' in page.get_data(as_text=True)  # in the menu

    response = ask(client)
    assert response.status_code == 302
    summary = only_summary()
    assert (summary.area_id, summary.format.value, summary.status) == (
        None, "xlsx", SummaryStatus.QUEUED)
    assert summary.requested_by_id == people["manager"].id
    assert summary.enqueued_at is not None  # committed first, then on the queue
    text = page_text(client.get("/summaries/"))
    assert "Your summary is being prepared" in text and "queued" in text

    run_worker(app)
    summary = summary_row(summary.id)
    assert summary.status == SummaryStatus.DONE and summary.progress == 100
    assert summary.as_of is not None and summary.size_bytes > 0
    text = page_text(client.get("/summaries/"))
    assert "done" in text and "Download" in text and "Newer decisions" not in text

    download = client.get(f"/summaries/{summary.id}/download")
    assert download.status_code == 200
    assert download.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="summary-all-areas-' in download.headers["Content-Disposition"]
    assert int(download.headers["Content-Length"]) == summary.size_bytes == len(download.data)
    wb = workbook(download.data)
    assert [r[0] for r in sheet_rows(wb["Areas"])] == ["07", "12", "Total"]


def test_a_lead_asks_for_their_own_area_in_csv(client, app, people):
    login_as(client, people["lead07"])
    page = client.get("/summaries/")
    options = page.get_data(as_text=True)
    assert 'value="07"' in options and 'value="12"' not in options
    assert '<option value="">' not in options  # leads cannot ask for all areas

    assert ask(client, "07", "csv").status_code == 302
    run_worker(app)
    summary = only_summary()
    assert summary.status == SummaryStatus.DONE
    download = client.get(f"/summaries/{summary.id}/download")
    assert download.mimetype == "text/csv"
    assert download.data.startswith(b"\xef\xbb\xbf")
    assert "Огнетушители" in str(csv_sections(download.data, ","))
    assert "Тахографы" not in download.data.decode("utf-8-sig")


def test_asking_twice_while_queued_returns_the_same_summary(client, app, people):
    login_as(client, people["manager"])
    ask(client, "07")
    response = ask(client, "07")
    assert "already being prepared" in page_text(client.get(response.location))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Summary)) == 1
    # A different format or scope is a different summary.
    ask(client, "07", "pdf")
    ask(client, "")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Summary)) == 3
    # The lead of 07 asking for the same one joins it too.
    login_as(client, people["lead07"])
    ask(client, "07")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Summary)) == 3
    jobs = get_redis(app).lrange("rq:queue:summaries", 0, -1)
    assert len(jobs) == 3
    # Once done, asking again makes a new one (with fresh data).
    run_worker(app)
    ask(client, "07")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Summary)) == 4


def test_the_database_refuses_a_second_active_summary_with_the_same_key(app, people):
    first, created = service.request_summary(people["manager"], people["fire"], "xlsx", "en")
    assert created
    twin = Summary(area_id=first.area_id, format=first.format, language="en",
                   dedupe_key=first.dedupe_key, status=SummaryStatus.QUEUED)
    db.session.add(twin)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("who", ["reviewer07", "nobody"])
def test_people_without_summaries_get_403_and_no_menu_link(client, people, who, caplog):
    login_as(client, people[who])
    assert 'href="/summaries/"' not in client.get("/requirements/").get_data(as_text=True)
    with caplog.at_level(logging.WARNING, logger="review_app.permissions"):
        assert client.get("/summaries/").status_code == 403
        assert ask(client, "07").status_code == 403
    assert "permission denied" in caplog.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Summary)) == 0


def test_a_lead_cannot_ask_for_another_area_or_all_areas(client, people, caplog):
    login_as(client, people["lead07"])
    with caplog.at_level(logging.WARNING, logger="review_app.permissions"):
        response = ask(client, "12")
        assert response.status_code == 403
        assert "leads can ask for their own areas" in page_text(response)
        assert ask(client, "").status_code == 403
    assert "action=request-summary" in caplog.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Summary)) == 0


def test_anonymous_visitors_are_sent_to_sign_in(client, people):
    summary, _ = service.request_summary(people["manager"], None, "xlsx", "en")
    for url in ("/summaries/", f"/summaries/{summary.id}/download", "/summaries/rows?ids=1"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location
    response = client.post(f"/summaries/{summary.id}/retry", data={})
    assert response.status_code == 302 and "/login" in response.location


def downloaded(client, summary) -> int:
    """Download a summary to the end (a streamed body left unread would hold a connection)."""
    response = client.get(f"/summaries/{summary.id}/download")
    if response.status_code == 200:
        assert len(response.data) == summary_row(summary.id).size_bytes
    return response.status_code


def test_downloads_are_checked_every_time(client, app, people):
    summary, _ = service.request_summary(people["lead07"], people["fire"], "xlsx", "en")
    all_areas, _ = service.request_summary(people["manager"], None, "xlsx", "en")
    run_worker(app)

    login_as(client, people["lead12"])  # another area's lead
    assert client.get(f"/summaries/{summary.id}/download").status_code == 403
    login_as(client, people["lead07"])
    assert client.get(f"/summaries/{all_areas.id}/download").status_code == 403
    assert downloaded(client, summary) == 200

    # No longer the lead of 07: the same link now answers 403.
    db.session.execute(sa.delete(AreaMembership).where(
        AreaMembership.user_id == people["lead07"].id))
    db.session.commit()
    assert client.get(f"/summaries/{summary.id}/download").status_code == 403
    login_as(client, people["admin"])
    assert downloaded(client, summary) == 200
    assert client.get("/summaries/999999/download").status_code == 404


def test_the_list_shows_only_what_the_user_may_download(client, app, people):
    fire, _ = service.request_summary(people["lead07"], people["fire"], "xlsx", "en")
    transport, _ = service.request_summary(people["lead12"], people["transport"], "pdf", "en")
    everything, _ = service.request_summary(people["manager"], None, "csv", "en")
    login_as(client, people["lead07"])
    html = client.get("/summaries/").get_data(as_text=True)
    assert f'id="summary-{fire.id}"' in html
    assert f'id="summary-{transport.id}"' not in html
    assert f'id="summary-{everything.id}"' not in html
    rows = client.get(f"/summaries/rows?ids={fire.id},{transport.id},{everything.id}").json
    assert list(rows["rows"]) == [str(fire.id)] and rows["active"] is True
    login_as(client, people["manager"])
    html = client.get("/summaries/").get_data(as_text=True)
    assert all(f'id="summary-{s.id}"' in html for s in (fire, transport, everything))


def test_progress_rows_update_without_a_reload(client, app, people):
    login_as(client, people["manager"])
    ask(client, "07")
    summary = only_summary()
    row = client.get(f"/summaries/rows?ids={summary.id}").json
    assert row["active"] is True and "queued" in row["rows"][str(summary.id)]
    run_worker(app)
    row = client.get(f"/summaries/rows?ids={summary.id}").json
    assert row["active"] is False
    assert "Download" in row["rows"][str(summary.id)]


@pytest.mark.parametrize("query", ["ids=abc", "ids=1,-2", "ids=" + ",".join(["1"] * 101),
                                   "ids=12345678901"])
def test_bad_progress_queries_are_refused_with_a_reason(client, people, query):
    login_as(client, people["manager"])
    response = client.get(f"/summaries/rows?{query}")
    assert response.status_code == 400
    assert "summary numbers" in response.json["message"]


@pytest.mark.parametrize("form, message", [
    ({"area": "99", "format": "xlsx"}, "Unknown area “99”"),
    ({"area": "07", "format": "docx"}, "Choose a format: XLSX, CSV or PDF."),
    ({"area": "07"}, "Choose a format: XLSX, CSV or PDF."),
])
def test_bad_requests_name_the_problem_and_save_nothing(client, people, form, message):
    login_as(client, people["manager"])
    response = client.post("/summaries/", data=form)
    assert response.status_code == 400
    assert message in page_text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Summary)) == 0


def test_a_request_without_the_form_token_is_refused(client, people):
    login_as(client, people["manager"])
    response = client.post("/summaries/", data={"area": "", "format": "xlsx"}, no_csrf=True)
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Summary)) == 0


def test_a_summary_not_ready_yet_is_not_downloadable(client, people):
    login_as(client, people["manager"])
    ask(client, "07")
    summary = only_summary()
    response = client.get(f"/summaries/{summary.id}/download")
    assert response.status_code == 409
    assert "not ready to download" in page_text(response)


def test_a_done_summary_says_when_newer_decisions_exist(client, app, people, world):
    fire = people["fire"]
    transport_summary, _ = service.request_summary(people["manager"], people["transport"],
                                                   "xlsx", "en")
    summary, _ = service.request_summary(people["manager"], fire, "xlsx", "en")
    run_worker(app)
    login_as(client, people["manager"])
    assert "Newer decisions exist" not in page_text(client.get("/summaries/"))

    req = world.requirement(fire)
    login_as(client, people["reviewer07"])
    assert propose(client, req, "cancel").status_code == 302
    login_as(client, people["manager"])
    html = client.get("/summaries/").get_data(as_text=True)
    fire_row = html.split(f'id="summary-{summary.id}"')[1].split("</tr>")[0]
    transport_row = html.split(f'id="summary-{transport_summary.id}"')[1].split("</tr>")[0]
    assert "Newer decisions exist" in fire_row
    assert "Newer decisions exist" not in transport_row  # nothing new in transport
    login_as(client, people["lead07"])
    decide(client, req, "approve")  # the lead approves it: still newer than the summary
    assert service.newer_decisions_exist(summary_row(summary.id))


def test_when_redis_is_down_the_request_is_kept_and_starts_when_it_is_back(client, app,
                                                                          people, redis_url):
    login_as(client, people["manager"])
    app.config["REDIS_URL"] = DEAD_REDIS
    page = client.get("/summaries/")
    assert page.status_code == 200
    assert "job queue (Redis) cannot be reached" in page_text(page)

    response = ask(client, "07")
    assert response.status_code == 302
    text = page_text(client.get(response.location))
    assert "Your request is saved" in text and "cannot be reached" in text
    assert "Waiting for the job queue" in text
    summary = only_summary()
    assert summary.status == SummaryStatus.QUEUED and summary.enqueued_at is None
    # The rest of the site works as usual.
    assert client.get("/requirements/").status_code == 200
    assert "Огнетушители" in page_text(client.get("/requirements/"))
    assert client.get("/readyz").status_code == 503

    app.config["REDIS_URL"] = redis_url  # Redis is back
    client.get("/summaries/")  # anyone looking at the page hands it to the queue
    assert summary_row(summary.id).enqueued_at is not None
    run_worker(app)
    assert summary_row(summary.id).status == SummaryStatus.DONE


def test_chunks_of_a_summary_go_with_it(app, people):
    summary, _ = service.request_summary(people["manager"], None, "pdf", "en")
    run_worker(app)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SummaryChunk)) >= 1
    db.session.delete(summary_row(summary.id))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SummaryChunk)) == 0
