"""``make run`` in one Python process: prepare the instance, then serve with a worker beside.

Four separate start-ups (compile translations, migrate, check the demo data, serve) made every
``make run`` take 6–19 s; doing the same steps in one process, and skipping what is already
done, answers in about a second. The process owns what it starts — the background worker and
the embedded Redis — and stops both when it ends, however it ends (Ctrl-C, SIGTERM, a crash).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import click
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from review_app.redis_conn import get_redis, redis_url_for_workers, stop_embedded


def compile_stale_catalogs(translations: Path) -> list[Path]:
    """Compile each ``.po`` whose ``.mo`` is missing or older (what ``pybabel compile`` does,
    for the changed catalogs only); return the catalogs compiled."""
    compiled = []
    for po in sorted(translations.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        partial = mo.with_suffix(".mo.partial")  # a server reading it never sees half a file
        with partial.open("wb") as target:
            write_mo(target, catalog)
        partial.replace(mo)
        compiled.append(po)
    return compiled


def prepare(app: Flask, *, seed: Callable[[], dict[str, int] | None] | None = None,
            ) -> list[str]:
    """Make the instance ready to serve: catalogs compiled, schema at the newest migration,
    and demo data in an empty database when given ``seed`` (``cli.seed_demo_if_empty``, passed
    in so that this module need not import the CLI that imports it). Returns what it did."""
    done = []
    compiled = compile_stale_catalogs(Path(app.root_path) / "translations")
    if compiled:
        done.append(f"compiled {len(compiled)} translation catalogs")
    os.makedirs(app.instance_path, exist_ok=True)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        if seed and (report := seed()):
            done.append("added demo data: " + ", ".join(f"{n} {what}"
                                                        for what, n in report.items()))
    return done


def start_redis_in_background(app: Flask) -> threading.Thread:
    """Start (or join) the embedded Redis while the caller prepares: its server takes ~0.3 s
    to come up, time the migrations can use. :func:`serve` waits for it anyway."""
    def start() -> None:
        with contextlib.suppress(Exception):  # serve() meets the same error and reports it
            get_redis(app).ping()

    thread = threading.Thread(target=start, name="start-redis", daemon=True)
    thread.start()
    return thread


def _stop_on(*signals: int) -> None:
    """Turn these signals into KeyboardInterrupt, so the clean-up below runs for them too."""
    def interrupt(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for signum in signals:
        signal.signal(signum, interrupt)


def serve(app: Flask, *, host: str, port: int, worker: bool = True) -> None:
    """Serve ``app`` on ``host:port`` until interrupted, with an RQ worker beside it."""
    _stop_on(signal.SIGTERM, signal.SIGHUP)
    process = None
    try:
        get_redis(app).ping()  # start (or join) the embedded Redis before anyone needs it
        # Listening before the worker starts: its start-up (importing the app) would otherwise
        # delay the first page on a small machine.
        server = make_server(host, port, app, threaded=True)
        if worker:
            # The worker reaches the same Redis by URL, so it never starts a server itself.
            env = dict(os.environ, REDIS_URL=redis_url_for_workers(app))
            process = subprocess.Popen([sys.executable, "-m", "workers"], env=env)
        click.echo(f"Open http://{host}:{port} — demo accounts are listed in README.md "
                   "(password demo12345). Ctrl-C stops the server, the worker and Redis.")
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if process is not None:
            _stop_worker(process)
        if stop_embedded(app):
            click.echo("Stopped the embedded Redis.")


def _stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # RQ's warm shutdown: the job in hand finishes
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
