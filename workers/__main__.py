"""Start an RQ worker on the app's Redis: ``python -m workers [--burst] [queue ...]``.

``python -m workers --cron`` instead runs RQ's cron scheduler for the nightly all-areas
summary (``NIGHTLY_SUMMARY_CRON``); run one of those per installation.
"""

from __future__ import annotations

import argparse
import logging
import os

from redis import Redis
from rq import Worker
from rq.cron import CronScheduler

from config import ConfigError
from review_app import create_app
from review_app.database import WORKER_PID
from review_app.redis_conn import redis_url_for_workers
from workers import QUEUES, duplicates, summaries

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
    log.info("worker serving %s", ", ".join(args.queues))
    with app.app_context():
        summaries.recover()
        duplicates.recover()
        worker = Worker(args.queues, connection=connection,
                        work_horse_killed_handler=summaries.on_work_horse_killed)
        worker.work(burst=args.burst, with_scheduler=True)


def run_cron(app, parser: argparse.ArgumentParser, connection: Redis) -> None:
    cron = app.config.get("NIGHTLY_SUMMARY_CRON", "")
    if not cron:
        parser.error("set NIGHTLY_SUMMARY_CRON (for example '0 2 * * *') to schedule the "
                     "nightly all-areas summary")
    scheduler = CronScheduler(connection=connection, name=f"nightly-summary-{os.getpid()}")
    scheduler.register(summaries.nightly_summary, "summaries", cron=cron,
                       name="nightly-summary")
    log.info("nightly all-areas summary scheduled: %s", cron)
    scheduler.start()


if __name__ == "__main__":
    main()
