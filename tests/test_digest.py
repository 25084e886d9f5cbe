"""The daily e-mail digest: sent by the RQ job through a real SMTP server (aiosmtpd, started
here), to each person who wants it and has something waiting, in their language, once a day;
never without SMTP configured."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq.cron import CronScheduler
from rq.job import Job, JobStatus

from review_app import queues
from review_app.auth.models import User
from review_app.extensions import db
from review_app.redis_conn import get_redis
from review_app.requirements.models import Requirement
from review_app.time import utcnow
from tests.conftest import decide, login_as, propose
from tests.digest_support import free_port, run_default_queue, smtp_server  # noqa: F401
from tests.summaries_support import configure, kill_group, start_worker

JOB = "workers.digest.send_daily_digests"


@pytest.fixture
def waiting(client, world, team):
    """Erlan (the fire lead) has two proposals to decide; Aigerim, who reads Kazakh, has one
    returned to her and one assigned; Dana, digest off, has one assigned; Bolat has nothing."""
    db.session.execute(sa.update(User).where(User.id == team["aigerim"].id)
                       .values(language="kk"))
    db.session.execute(sa.update(User).where(User.id == team["dana"].id)
                       .values(digest_enabled=False))
    db.session.commit()
    first, second = world.requirement(team["fire"]), world.requirement(team["fire"])
    back = world.requirement(team["fire"], title="Журнал учёта огнетушителей")
    fresh = world.requirement(team["fire"], title="План эвакуации")
    dana_s = world.requirement(team["fire"])
    login_as(client, team["bolat"])
    propose(client, first, "cancel")
    propose(client, second, "keep")
    login_as(client, team["aigerim"])
    propose(client, back, "cancel")
    login_as(client, team["lead"])
    decide(client, back, "return", comment="Уточните основание.")
    for req, who in ((back, "aigerim"), (fresh, "aigerim"), (dana_s, "dana")):
        client.post(f"/requirements/{req.id}/assign", data={"assignee": str(team[who].id)})
    return {"first": first, "second": second, "back": back, "fresh": fresh}


def send(app) -> Job:
    job = queues.enqueue(app, "default", JOB)
    run_default_queue(app)
    return Job.fetch(job.id, connection=get_redis(app))


def test_the_digest_goes_to_each_person_with_something_waiting_in_their_language(
        app, team, waiting, smtp_server):  # noqa: F811
    inbox, port = smtp_server
    configure(app, SMTP_HOST="127.0.0.1", SMTP_PORT=port, MAIL_FROM="review@example.kz",
              APP_URL="https://review.example.kz")
    # The two proposals have waited ten days: past the programme's limit (5 days unless an
    # admin sets another on the Deadlines page), which is what the dashboard flags too.
    db.session.execute(sa.update(Requirement).where(
        Requirement.id.in_([waiting["first"].id, waiting["second"].id]))
        .values(proposed_at=utcnow() - timedelta(days=10)))
    db.session.commit()
    job = send(app)
    assert job.get_status() == JobStatus.FINISHED, job.latest_result()

    to_lead = inbox.to(team["lead"].email)
    assert len(to_lead) == 1
    body = to_lead[0].get_content()
    assert to_lead[0]["Subject"] == ("Requirements review: assigned to you: 0; waiting for "
                                     "your approval: 2")
    assert "Waiting for your approval: 2" in body
    assert "Overdue: proposals waiting for your approval longer than the limit (days: 5): 2" in body
    assert waiting["first"].code in body and waiting["second"].code in body
    assert "https://review.example.kz/notifications/" in body

    to_aigerim = inbox.to(team["aigerim"].email)
    assert len(to_aigerim) == 1
    kazakh = to_aigerim[0].get_content()
    assert to_aigerim[0]["Subject"].startswith("Талаптарды қарау")
    assert waiting["back"].code in kazakh and waiting["fresh"].code in kazakh
    assert "Журнал учёта огнетушителей" in kazakh  # the requirement's title as stored

    assert inbox.to(team["dana"].email) == []  # switched off
    assert inbox.to(team["bolat"].email) == []  # nothing waits for him
    assert len(inbox.messages) == 2

    send(app)  # the same day again: nobody gets a second one
    assert len(inbox.messages) == 2


def test_without_smtp_configured_nothing_is_sent(app, team, waiting, smtp_server):  # noqa: F811
    inbox, _port = smtp_server
    configure(app, SMTP_HOST="")
    job = send(app)
    assert job.get_status() == JobStatus.FINISHED
    assert job.latest_result().return_value == "mail is not configured; nothing sent"
    assert inbox.messages == []
    db.session.expire_all()
    assert db.session.get(User, team["lead"].id).digest_sent_on is None


def test_a_mail_server_that_does_not_answer_fails_the_job_and_keeps_the_digests_for_the_retry(
        app, team, waiting):
    configure(app, SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    job = send(app)
    assert job.get_status() == JobStatus.FAILED
    assert "ConnectionRefusedError" in job.latest_result().exc_string
    db.session.expire_all()
    assert db.session.get(User, team["lead"].id).digest_sent_on is None


def test_the_digest_is_scheduled_on_rqs_cron_scheduler(app):
    scheduler = start_worker(app, "--cron", env={"DIGEST_CRON": "0 8 * * 1-5"})
    try:
        deadline = time.monotonic() + 30
        while True:
            jobs = [(job.func_name, job.cron, job.queue_name)
                    for registered in CronScheduler.all(get_redis(app))
                    for job in registered.get_jobs()]
            if jobs:
                break
            assert scheduler.poll() is None, "the cron scheduler stopped"
            assert time.monotonic() < deadline, "the cron scheduler never registered"
            time.sleep(0.2)
    finally:
        kill_group(scheduler)
    assert jobs == [(JOB, "0 8 * * 1-5", "default")]
