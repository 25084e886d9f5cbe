"""Start an RQ worker on the app's Redis: ``python -m workers [--burst] [queue ...]``.

``python -m workers --cron`` instead runs RQ's cron scheduler for the nightly all-areas
summary (``NIGHTLY_SUMMARY_CRON``) and the daily e-mail digest (``DIGEST_CRON``); run one of
those per installation.
"""

from __future__ import annotations

import argparse
import logging
import os

from redis import Redis
from rq.cron import CronScheduler

from config import ConfigError
from review_app import create_app
from review_app.database import WORKER_PID
from review_app.redis_conn import redis_url_for_workers
from workers import QUEUES, digest, duplicates, summaries
from workers.observed import ObservedWorker

log = logging.getLogger("workers")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("queues", nargs="*", metavar="queue",
                        help=f"queues to serve, in priority order (default: {' '.join(QUEUES)})")
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--cron", action="store_true",
                        help="run the nightly summary schedule (NIGHTLY_SUMMARY_CRON) instead")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.queues) - set(QUEUES))
    if unknown:
        parser.error(f"unknown queue {', '.join(unknown)}; known: {', '.join(QUEUES)}")
    args.queues = args.queues or list(QUEUES)
    try:
        lower_priority(os.environ.get("WORKER_NICE"))
    except ValueError as exc:
        parser.exit(2, f"{parser.prog}: {exc}\n")

    try:
        app = create_app()
        # A plain client on the app's Redis (the embedded server's socket in development): RQ
        # opens more connections of its connection's class, and more embedded clients would
        # start more embedded servers.
        connection = Redis.from_url(redis_url_for_workers(app))
    except ConfigError as exc:  # say what to set, not a traceback
        parser.exit(2, f"{parser.prog}: {exc}\n")
    if args.cron:
        run_cron(app, parser, connection)
        return
    os.environ[WORKER_PID] = str(os.getpid())
    serve_metrics(app)
    log.info("worker serving %s", ", ".join(args.queues))
    with app.app_context():
        summaries.recover()
        duplicates.recover()
        worker = ObservedWorker(args.queues, connection=connection,
                        work_horse_killed_handler=summaries.on_work_horse_killed)
        worker.work(burst=args.burst, with_scheduler=True)


#: The niceness workers run at unless ``WORKER_NICE`` says otherwise: below the web processes
#: (niceness 0), so a request is not queued behind an import's or a summary's CPU on a shared host.
DEFAULT_WORKER_NICE = 10


def lower_priority(setting: str | None) -> int:
    """Run this process, and the work horses it forks (they inherit it), at niceness
    ``WORKER_NICE`` (10 by default; 0 leaves it as started) and return the niceness it runs at.

    A 10,000-row import applied beside gunicorn on the same two cores set the page p95 of 300
    reviewers (323 ms, issue 13); at niceness 10 the scheduler gives a busy web process about
    nine times the worker's share while both want the CPU, and the worker all of it otherwise.
    The niceness is raised to the setting, never lowered: a worker started under ``nice`` keeps
    its own (and lowering it would need privileges anyway).
    :raise ValueError: the setting is not a whole number from 0 to 19.
    """
    text = (setting or "").strip()
    try:
        wanted = DEFAULT_WORKER_NICE if text == "" else int(text)
    except ValueError:
        wanted = -1
    if not 0 <= wanted <= 19:
        raise ValueError(f"WORKER_NICE must be a whole number from 0 (the web's priority) to 19 "
                         f"(the lowest); got {setting!r}")
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if wanted > current:
        os.setpriority(os.PRIO_PROCESS, 0, wanted)
    if wanted and os.getsid(0) == os.getpid():
        _lower_session_priority(wanted)
    return max(wanted, current)


def _lower_session_priority(wanted: int) -> None:
    """Give this session's autogroup the niceness too, when the worker leads its own session
    (systemd, a supervisor, ``setsid``): with autogrouping (Linux's default on desktops and
    most VMs) the kernel first shares the CPU between sessions and only then by niceness inside
    each, so a worker in its own session niced alone still got half the core against gunicorn
    in another (measured: 147 / 147 ticks; with the autogroup's niceness 264 / 32).
    Only our own session: a worker started from a shell that runs other things leaves it alone.
    """
    path = "/proc/self/autogroup"  # "/autogroup-228 nice 0"; absent without autogrouping
    if not os.path.exists(path):
        return
    try:
        with open(path, encoding="ascii") as autogroup:
            current = int(autogroup.read().rsplit(None, 1)[-1])
        if wanted > current:
            with open(path, "w", encoding="ascii") as autogroup:
                autogroup.write(str(wanted))
    except (OSError, ValueError) as exc:  # no autogroups, or not allowed: the niceness still holds
        log.warning("the worker's session keeps its CPU priority (%s)", exc)


def serve_metrics(app) -> None:
    """With ``WORKER_METRICS_PORT`` set, serve this host's job metrics (the work horses' files in
    ``PROMETHEUS_MULTIPROC_DIR``) on that port of ``WORKER_METRICS_ADDR`` (127.0.0.1), for
    worker hosts that run no web process whose /metrics would include them."""
    port = int(os.environ.get("WORKER_METRICS_PORT") or 0)
    if not port:
        return
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        raise SystemExit("WORKER_METRICS_PORT needs PROMETHEUS_MULTIPROC_DIR (a directory the "
                         "work horses write their figures to)")
    # lazy: only when asked to serve metrics
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=os.environ.get("WORKER_METRICS_ADDR", "127.0.0.1"),
                      registry=registry)


def run_cron(app, parser: argparse.ArgumentParser, connection: Redis) -> None:
    cron = app.config.get("NIGHTLY_SUMMARY_CRON", "")
    digest_cron = app.config.get("DIGEST_CRON", "")
    if not cron and not digest_cron:
        parser.error("set NIGHTLY_SUMMARY_CRON (for example '0 2 * * *') to schedule the "
                     "nightly all-areas summary, or DIGEST_CRON (for example '0 8 * * 1-5') "
                     "for the daily e-mail digest")
    scheduler = CronScheduler(connection=connection, name=f"nightly-summary-{os.getpid()}")
    if cron:
        scheduler.register(summaries.nightly_summary, "summaries", cron=cron,
                           name="nightly-summary")
        log.info("nightly all-areas summary scheduled: %s", cron)
    if digest_cron:
        scheduler.register(digest.send_daily_digests, "default", cron=digest_cron,
                           name="daily-digest")
        log.info("daily e-mail digest scheduled: %s", digest_cron)
    scheduler.start()


if __name__ == "__main__":
    main()
