"""``flask --app wsgi summary``: a summary from the command line, for operators and scripts.

Through the workers (asked like any other request, then waited for), or ``--inline`` in this
process without Redis or a worker.
"""

from __future__ import annotations

import os
import time

import click
import redis
import sqlalchemy as sa
from flask import current_app
from rq import Worker

from review_app.extensions import db
from review_app.queues import queue
from review_app.requirements.models import Area
from review_app.summaries import service, storage
from review_app.summaries.models import Summary, SummaryStatus
from review_app.summaries.texts import texts_for
from review_app.time import local_zone


@click.command("summary")
@click.option("--area", "area_code", default=None, metavar="CODE",
              help="Area code, e.g. 01; leave out for the all-areas summary.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "pdf"]), required=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="File to write (replaced only once the summary is complete).")
@click.option("--inline", is_flag=True, help="Build it in this process, without a worker.")
@click.option("--language", type=click.Choice(["ru", "kk", "en"]), default=None,
              help="Language of the headings (default: DEFAULT_LANGUAGE).")
@click.option("--wait", "wait_seconds", type=click.IntRange(1), default=3600, show_default=True,
              help="Seconds to wait for the worker.")
def summary_command(area_code: str | None, fmt: str, out: str, inline: bool,
                    language: str | None, wait_seconds: int) -> None:
    """Write the summary of one area (or of all areas) to a file."""
    language = language or current_app.config["BABEL_DEFAULT_LOCALE"]
    area = None
    if area_code is not None:
        area = db.session.scalar(sa.select(Area).where(Area.code == area_code.strip()))
        if area is None:
            raise click.BadParameter(f"there is no area with code {area_code!r}",
                                     param_hint="--area")
    directory = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(directory):
        raise click.BadParameter(f"the folder {directory} does not exist", param_hint="--out")
    if inline:
        _inline(area, fmt, language, out)
    else:
        _through_worker(area, fmt, language, out, wait_seconds)


def _inline(area: Area | None, fmt: str, language: str, out: str) -> None:
    # lazy: build pulls in the PDF and XLSX writers (fpdf, xlsxwriter), ~0.3 s, a fifth of
    # every start-up, since this command is registered with the app; only a build needs them
    from review_app.summaries import build

    started = time.perf_counter()
    built: list[build.Built] = []

    def produce(f) -> None:
        built.append(build.build_file(
            db.engine, area_id=area.id if area else None, fmt=fmt, language=language,
            texts=texts_for(language),
            tz=local_zone(), out=f))

    build.write_atomically(out, produce)
    click.echo(f"Wrote {out}: {os.path.getsize(out)} bytes, {built[0].requirement_count} "
               f"requirements, data as of {built[0].as_of:%Y-%m-%d %H:%M %Z}, in "
               f"{time.perf_counter() - started:.1f} s.")


def _through_worker(area: Area | None, fmt: str, language: str, out: str,
                    wait_seconds: int) -> None:
    # lazy, as in _inline: write_atomically lives beside the heavy writers
    from review_app.summaries import build

    try:
        serving = Worker.count(queue=queue(current_app, "summaries"))
    except (redis.RedisError, OSError) as exc:
        raise click.ClickException(f"Redis cannot be reached ({exc}); use --inline to build "
                                   "the summary without a worker.") from exc
    if not serving:
        raise click.ClickException("No worker serves the summaries queue: start one with "
                                   "`python -m workers`, or use --inline.")
    try:
        summary, created = service.request_summary(None, area, fmt, language, origin="cli")
    except service.QueueUnavailable as exc:
        raise click.ClickException(f"Summary {exc.summary.id} is saved but Redis cannot be "
                                   "reached; it will start when Redis is back.") from exc
    click.echo(f"Summary {summary.id} {'queued' if created else 'already under way'}; "
               "waiting for the worker…", err=True)
    deadline = time.monotonic() + wait_seconds
    shown = None
    while True:
        db.session.expire_all()
        summary = db.session.get(Summary, summary.id)
        if (summary.status, summary.progress) != shown:
            shown = (summary.status, summary.progress)
            click.echo(f"  {summary.status.value} {summary.progress}%", err=True)
        if summary.status in (SummaryStatus.DONE, SummaryStatus.FAILED):
            break
        if time.monotonic() > deadline:
            raise click.ClickException(f"Summary {summary.id} is not done after {wait_seconds} "
                                       "s; it goes on in the background.")
        time.sleep(0.5)
        service.reap()
    if summary.status == SummaryStatus.FAILED:
        raise click.ClickException(f"Summary {summary.id} failed: {service.failure_text(summary)}"
                                   f" {summary.error or ''}".strip())
    chunks = storage.open_stream(db.engine, summary,
                                 current_app.config.get("SUMMARY_STORAGE_DIR") or None)

    def produce(f) -> None:
        for chunk in chunks:
            f.write(chunk)

    build.write_atomically(out, produce)
    click.echo(f"Wrote {out}: {summary.size_bytes} bytes, {summary.requirement_count} "
               f"requirements, data as of {summary.as_of:%Y-%m-%d %H:%M} UTC.")
