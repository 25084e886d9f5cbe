"""Summary builds on real RQ workers and the real Redis: failures, retries with backoff, the
time limit, workers killed with SIGKILL, shared-folder storage, the nightly schedule.

In-process burst workers where the story allows; ``python -m workers`` processes (forking work
horses, as in production) where something must be killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq.cron import CronScheduler
from rq.job import Job, JobStatus
from rq.timeouts import JobTimeoutException

from review_app.auth.models import GlobalRole
from review_app.extensions import db
from review_app.redis_conn import get_redis
from review_app.summaries import service
from review_app.summaries.models import (
    FailureKind,
    Summary,
    SummaryChunk,
    SummaryStatus,
    dedupe_key,
)
from review_app.time import utcnow
from tests.conftest import login_as, page_text
from tests.summaries_support import (
    ROOT,
    configure,
    kill_group,
    run_worker,
    start_worker,
    summary_row,
    wait_for,
    wait_until_serving,
    workbook,
)
from workers.summaries import Heartbeat


@pytest.fixture
def manager(world):
    world.area("07", "Пожарная безопасность")
    return world.user("manager", role=GlobalRole.MANAGER)


#: The demo data at a size whose all-areas workbook takes several seconds to build (3 s or more
#: on a fast machine: well over the 1-second limit the time-limit test sets).
big_demo = pytest.mark.demo_data(30000)


@pytest.fixture
def big_world(world):
    """A manager over the big demo data (tests using it are marked ``@big_demo``)."""
    return world.user("boss", role=GlobalRole.MANAGER)


def chunks_of(summary_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(SummaryChunk).where(
        SummaryChunk.summary_id == summary_id))


@pytest.fixture
def processes():
    """Worker processes a test starts; whatever is left of them is killed at the end."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        kill_group(process)


def horse_pid(summary: Summary) -> int:
    """The process building the summary, as it wrote itself into the row (host:pid)."""
    return int(summary.worker.rsplit(":", 1)[1])


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


# Failures and retries ------------------------------------------------------------------------

def test_a_failing_build_is_marked_failed_with_the_reason_and_recorded_by_rq(app, manager,
                                                                            client):
    """A summary row in a language nobody speaks: the build raises; no automatic retry."""
    summary = Summary(area_id=None, format="xlsx", language="zz",
                      dedupe_key=dedupe_key(None, "xlsx", "zz"), requested_by_id=manager.id)
    db.session.add(summary)
    db.session.flush()
    summary.job_id = f"summary-{summary.id}-1"
    db.session.commit()
    service.enqueue(summary)
    run_worker(app)

    failed = summary_row(summary.id)
    assert failed.status == SummaryStatus.FAILED
    assert failed.failure_kind == FailureKind.ERROR
    assert "UnknownLocaleError" in failed.error
    assert failed.finished_at is not None and chunks_of(summary.id) == 0
    job = Job.fetch(failed.job_id, connection=get_redis(app))
    assert job.get_status() == JobStatus.FAILED  # re-raised: RQ knows it failed
    assert "UnknownLocaleError" in job.latest_result().exc_string
    assert job.retries_left == 0  # not a transient error: not retried

    login_as(client, manager)
    text = page_text(client.get("/summaries/"))
    assert "failed" in text and "The build stopped with an error." in text
    assert "UnknownLocaleError" in text and "Retry" in text


def test_a_transient_failure_is_retried_after_a_pause_and_then_succeeds(app, manager, client,
                                                                        tmp_path):
    """The shared folder is not mounted yet: the job waits and tries again, and it works."""
    share = tmp_path / "share"
    configure(app, SUMMARY_STORAGE_DIR=str(share), SUMMARY_RETRY_INTERVALS="1,5")
    summary, _ = service.request_summary(manager, None, "csv", "en")
    run_worker(app)

    waiting = summary_row(summary.id)
    assert waiting.status == SummaryStatus.QUEUED
    assert waiting.failure_kind == FailureKind.STORAGE
    assert "FileNotFoundError" in waiting.error or "No such file" in waiting.error
    job = Job.fetch(waiting.job_id, connection=get_redis(app))
    assert job.get_status() == JobStatus.SCHEDULED  # RQ retries it after the first pause
    login_as(client, manager)
    assert "will be retried shortly" in page_text(client.get("/summaries/"))
    assert client.get(f"/summaries/{summary.id}/download").status_code == 409

    share.mkdir()  # the share comes back
    time.sleep(1.2)
    run_worker(app)
    done = summary_row(summary.id)
    assert done.status == SummaryStatus.DONE and done.error is None
    assert done.storage == "folder" and (share / done.storage_path).is_file()
    assert not list(share.glob("*.part"))
    assert chunks_of(summary.id) == 0
    download = client.get(f"/summaries/{summary.id}/download")
    assert download.status_code == 200 and download.data.startswith(b"\xef\xbb\xbf")
    assert len(download.data) == done.size_bytes


def test_after_the_last_retry_it_fails_and_nothing_half_written_remains(app, manager, tmp_path):
    mount = tmp_path / "mnt"
    mount.mkdir()
    (mount / "share").write_text("a file where the shared folder should be")
    configure(app, SUMMARY_STORAGE_DIR=str(mount / "share"),
                      SUMMARY_RETRY_INTERVALS="0")
    summary, _ = service.request_summary(manager, None, "xlsx", "en")
    run_worker(app)
    failed = summary_row(summary.id)
    assert failed.status == SummaryStatus.FAILED
    assert failed.failure_kind == FailureKind.STORAGE
    assert failed.size_bytes is None and failed.storage is None
    assert list(mount.iterdir()) == [mount / "share"]
    job = Job.fetch(failed.job_id, connection=get_redis(app))
    assert job.get_status() == JobStatus.FAILED and job.retries_left == 0


def test_a_failed_summary_can_be_retried_from_the_page(app, manager, client, tmp_path):
    configure(app, SUMMARY_STORAGE_DIR=str(tmp_path / "missing"), SUMMARY_RETRY_INTERVALS="")
    summary, _ = service.request_summary(manager, None, "pdf", "en")
    run_worker(app)
    assert summary_row(summary.id).status == SummaryStatus.FAILED

    configure(app, SUMMARY_STORAGE_DIR="")  # back to the database
    login_as(client, manager)
    response = client.post(f"/summaries/{summary.id}/retry", data={})
    assert response.status_code == 302
    retried = summary_row(summary.id)
    assert retried.status == SummaryStatus.QUEUED and retried.attempt == 2
    assert retried.job_id == f"summary-{summary.id}-2" and retried.error is None
    run_worker(app)
    assert summary_row(summary.id).status == SummaryStatus.DONE
    # Retrying a summary that did not fail is refused.
    response = client.post(f"/summaries/{summary.id}/retry", data={})
    assert response.status_code == 409
    assert "Only a failed summary can be retried" in page_text(response)


def test_only_people_who_may_ask_for_it_can_retry(app, world, client, tmp_path):
    fire, transport = world.area("07"), world.area("12", "Транспорт")
    lead12 = world.user("lead12", lead_in=(transport,))
    lead07 = world.user("lead07", lead_in=(fire,))
    configure(app, SUMMARY_STORAGE_DIR=str(tmp_path / "missing"), SUMMARY_RETRY_INTERVALS="")
    summary, _ = service.request_summary(lead07, fire, "csv", "en")
    run_worker(app)
    login_as(client, lead12)
    assert client.post(f"/summaries/{summary.id}/retry", data={}).status_code == 403
    assert summary_row(summary.id).status == SummaryStatus.FAILED


# The time limit ------------------------------------------------------------------------------

# RQ's limit is a SIGALRM; when it strikes inside a garbage-collector callback Python reports
# the exception as "ignored" (an unraisable-exception warning) and the build's own deadline
# check stops it instead. Either way the build must end failed, which is what this test asserts.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@big_demo
def test_a_build_over_the_time_limit_is_stopped_and_marked_failed(app, big_world):
    configure(app, SUMMARY_JOB_TIMEOUT=1)
    summary, _ = service.request_summary(big_world, None, "xlsx", "en")
    job = Job.fetch(summary.job_id, connection=get_redis(app))
    assert job.timeout == 1
    run_worker(app)
    failed = summary_row(summary.id)
    assert failed.status == SummaryStatus.FAILED
    assert failed.failure_kind == FailureKind.TIMEOUT
    assert "JobTimeoutException" in failed.error
    assert chunks_of(summary.id) == 0
    assert Job.fetch(summary.job_id, connection=get_redis(app)).retries_left == 0


def test_the_build_stops_itself_at_its_time_limit_if_the_signal_is_lost(app):
    """The backstop for a SIGALRM swallowed by a garbage-collector callback: the progress
    callback, called every few hundred rows, raises the time-limit error itself."""
    heartbeat = Heartbeat(db.engine, summary_id=1, job_id="j", time_limit=0.05)
    heartbeat.progress(500, 30000)  # within the limit: nothing happens
    time.sleep(0.1)
    with pytest.raises(JobTimeoutException):
        heartbeat.progress(1000, 30000)
    assert Heartbeat(db.engine, 1, "j", time_limit=None).deadline is None


# Killed workers ------------------------------------------------------------------------------

@big_demo
def test_a_work_horse_killed_with_sigkill_is_marked_failed_and_can_be_retried(
        app, big_world, client, processes):
    summary, _ = service.request_summary(big_world, None, "xlsx", "en")
    processes.append(start_worker(app, "summaries"))
    running = wait_for(summary.id, lambda s: s.status == SummaryStatus.RUNNING)
    pid = horse_pid(running)
    assert pid != processes[0].pid  # a forked work horse, as in production
    kill(pid)

    failed = wait_for(summary.id, lambda s: s.status == SummaryStatus.FAILED, timeout=30)
    assert failed.failure_kind == FailureKind.KILLED
    assert "signal 9" in failed.error
    assert chunks_of(summary.id) == 0  # nothing half-written is stored
    login_as(client, big_world)
    assert client.get(f"/summaries/{summary.id}/download").status_code == 409
    assert "was killed" in page_text(client.get("/summaries/"))

    # The worker itself lives on and builds it again when asked.
    assert client.post(f"/summaries/{summary.id}/retry", data={}).status_code == 302
    done = wait_for(summary.id, lambda s: s.status == SummaryStatus.DONE, timeout=120)
    assert done.attempt == 2
    download = client.get(f"/summaries/{summary.id}/download")
    assert download.status_code == 200
    assert workbook(download.data)["Areas"].max_row == 44 + 2


@big_demo
def test_a_whole_worker_killed_with_sigkill_is_noticed_by_its_silent_heartbeat(
        app, big_world, client, processes):
    configure(app, SUMMARY_STALE_SECONDS=3)
    summary, _ = service.request_summary(big_world, None, "xlsx", "en")
    processes.append(start_worker(app, "summaries"))
    running = wait_for(summary.id, lambda s: s.status == SummaryStatus.RUNNING)
    kill(processes[0].pid)    # the worker first, so nobody is left to report the horse
    kill(horse_pid(running))  # then the process building the summary

    login_as(client, big_world)
    deadline = time.monotonic() + 30
    while summary_row(summary.id).status != SummaryStatus.FAILED:
        assert time.monotonic() < deadline, "the dead build was never noticed"
        time.sleep(0.5)
        client.get("/summaries/")  # looking at the page checks on running builds
    failed = summary_row(summary.id)
    assert failed.failure_kind == FailureKind.STALLED
    assert "no heartbeat" in failed.error
    assert "stopped responding" in page_text(client.get("/summaries/"))

    assert client.post(f"/summaries/{summary.id}/retry", data={}).status_code == 302
    processes.append(start_worker(app, "summaries", "--burst"))
    assert wait_for(summary.id, lambda s: s.status == SummaryStatus.DONE,
                    timeout=120).attempt == 2


def test_a_new_worker_tidies_up_after_a_dead_one(app, manager):
    """What a worker finds when it starts: builds left running by a dead worker fail, and
    summaries saved while Redis was down go to the queue."""
    configure(app, SUMMARY_STALE_SECONDS=3)
    stale = Summary(area_id=None, format="xlsx", language="en", status=SummaryStatus.RUNNING,
                    dedupe_key=dedupe_key(None, "xlsx", "en"), job_id="summary-x-1",
                    worker="gone:1", heartbeat_at=utcnow() - timedelta(hours=1))
    waiting = Summary(area_id=None, format="csv", language="en", status=SummaryStatus.QUEUED,
                      dedupe_key=dedupe_key(None, "csv", "en"), job_id="summary-y-1")
    db.session.add_all([stale, waiting])
    db.session.commit()
    from workers.summaries import recover

    with app.app_context():
        recover()
    assert summary_row(stale.id).status == SummaryStatus.FAILED
    assert summary_row(stale.id).failure_kind == FailureKind.STALLED
    assert summary_row(waiting.id).enqueued_at is not None
    assert get_redis(app).lrange("rq:queue:summaries", 0, -1) == [b"summary-y-1"]


def test_a_summary_the_reaper_gave_up_on_is_not_overwritten_by_a_late_job(app, manager):
    """If a build was declared dead but its job still runs, the late job changes nothing."""
    summary, _ = service.request_summary(manager, None, "csv", "en")
    service.mark_failed(summary.id, summary.job_id, FailureKind.STALLED, "declared dead")
    run_worker(app)
    late = summary_row(summary.id)
    assert late.status == SummaryStatus.FAILED and late.error == "declared dead"
    assert chunks_of(summary.id) == 0


# The worker as a program ---------------------------------------------------------------------

def test_python_m_workers_builds_summaries(app, manager, processes):
    summary, _ = service.request_summary(manager, None, "pdf", "kk")
    worker = start_worker(app, "--burst")
    processes.append(worker)
    assert worker.wait(timeout=120) == 0
    assert summary_row(summary.id).status == SummaryStatus.DONE


@pytest.mark.parametrize(("setting", "niceness"), [("7", 7), ("", 10), ("0", 0)])
def test_a_started_worker_runs_below_the_web_at_the_configured_niceness(app, processes,
                                                                        setting, niceness):
    """WORKER_NICE (10 when empty, 0 for "as started"): the worker's work horses fork from it
    and inherit it, so imports and summaries yield the cores to people's requests."""
    worker = start_worker(app, env={"WORKER_NICE": setting})
    processes.append(worker)
    wait_until_serving(app, worker)
    # Never below the niceness the test itself runs at (a worker started under nice keeps it).
    expected = max(niceness, os.getpriority(os.PRIO_PROCESS, 0))
    assert os.getpriority(os.PRIO_PROCESS, worker.pid) == expected
    # It leads its own session here, as under a supervisor: with autogrouping the kernel shares
    # the CPU between sessions first, so the session's autogroup carries the niceness as well.
    autogroup = Path(f"/proc/{worker.pid}/autogroup")
    if autogroup.exists():
        assert int(autogroup.read_text().rsplit(None, 1)[-1]) >= niceness


@pytest.mark.parametrize("setting", ["high", "-5", "20", "2.5"])
def test_a_worker_with_an_impossible_niceness_refuses_to_start_and_says_why(setting):
    started = subprocess.run([sys.executable, "-m", "workers", "--burst"], cwd=ROOT,
                             env={**os.environ, "WORKER_NICE": setting}, capture_output=True,
                             text=True, timeout=60)
    assert started.returncode == 2
    assert "WORKER_NICE must be a whole number from 0" in started.stderr
    assert "Traceback" not in started.stderr


def test_the_nightly_summary_asks_for_the_all_areas_workbook_once(app, manager):
    from workers.summaries import nightly_summary

    with app.app_context():
        assert "requested" in nightly_summary()
        assert "already under way" in nightly_summary()
    summaries = list(db.session.scalars(sa.select(Summary)))
    assert len(summaries) == 1
    assert (summaries[0].origin, summaries[0].area_id, summaries[0].format.value) == (
        "nightly", None, "xlsx")
    assert summaries[0].requested_by_id is None


def test_the_nightly_schedule_runs_on_rqs_cron_scheduler(app, processes):
    worker = start_worker(app, "--cron")
    processes.append(worker)
    assert worker.wait(timeout=60) == 2  # refused: no schedule configured

    scheduler = start_worker(app, "--cron", env={"NIGHTLY_SUMMARY_CRON": "0 2 * * *"})
    processes.append(scheduler)
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
    assert jobs == [("workers.summaries.nightly_summary", "0 2 * * *", "summaries")]
