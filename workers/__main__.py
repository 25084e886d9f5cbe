"""Start an RQ worker on the app's Redis: ``python -m workers [--burst] [queue ...]``."""

from __future__ import annotations

import argparse
import logging

from rq import Worker

from review_app import create_app
from review_app.redis_conn import get_redis
from workers import QUEUES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("queues", nargs="*", metavar="queue",
                        help=f"queues to serve, in priority order (default: {' '.join(QUEUES)})")
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.queues) - set(QUEUES))
    if unknown:
        parser.error(f"unknown queue {', '.join(unknown)}; known: {', '.join(QUEUES)}")
    args.queues = args.queues or list(QUEUES)

    app = create_app()
    connection = get_redis(app)
    logging.getLogger("workers").info("worker serving %s", ", ".join(args.queues))
    with app.app_context():
        worker = Worker(args.queues, connection=connection)
        worker.work(burst=args.burst, with_scheduler=True)


if __name__ == "__main__":
    main()
