"""``flask --app wsgi import-requirements FILE [--dry-run]``: the import from the command line.

The same analysis and the same all-or-nothing write as the web page, on a local file, without
the upload size limit. Problems are printed with row, column and reason; the exit status is 1
when the file was not imported.
"""

from __future__ import annotations

import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from review_app import audit, permissions
from review_app.audit import AuditAction
from review_app.auth.models import GlobalRole, User
from review_app.extensions import db
from review_app.imports import messages, service
from review_app.imports.batches import limits
from review_app.imports.forms import DELIMITER_CHOICES

SHOWN_PROBLEMS = 50


def _actor(email: str | None) -> User:
    if email:
        user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.BadParameter(f"no account {email}", param_hint="--as")
    else:
        admins = list(db.session.scalars(sa.select(User).where(
            User.global_role == GlobalRole.ADMIN, User.active).limit(2)))
        if len(admins) != 1:
            raise click.UsageError("Say which administrator imports, for the history: "
                                   "--as admin@example.kz")
        user = admins[0]
    if not permissions.can_import(user):
        raise click.UsageError(f"{user.email} is not an active administrator.")
    return user


def _print(outcome: service.Outcome, elapsed: float) -> None:
    click.echo(f"{outcome.format or '?'} file"
               + (f", encoding {outcome.encoding}" if outcome.encoding else "")
               + (f", sheet {outcome.sheet!r}" if outcome.sheet else "")
               + (f", header on row {outcome.header_row}" if outcome.header_row else ""))
    click.echo(f"rows: {outcome.total_rows}; new: {outcome.new}; changed: {outcome.changed} "
               f"(back to review: {outcome.rereview}); unchanged: {outcome.unchanged}; "
               f"errors: {outcome.error_count}  [{elapsed:.1f} s]")
    for problem in outcome.warnings:
        click.echo("warning: " + messages.describe(problem))
    for problem in outcome.errors[:SHOWN_PROBLEMS]:
        place = messages.where(problem)
        click.echo(f"error: {place + ': ' if place else ''}{messages.describe(problem)}"
                   + (f"  [{problem.value}]" if problem.value else ""), err=True)
    if outcome.error_count > SHOWN_PROBLEMS:
        click.echo(f"... and {outcome.error_count - SHOWN_PROBLEMS} more errors.", err=True)


@click.command("import-requirements")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file and show what would change.")
@click.option("--as", "email", help="The administrator recorded as importing (default: the "
              "only active administrator).")
@click.option("--encoding", type=click.Choice(["auto", "utf-8", "cp1251"]), default="auto",
              show_default=True, help="Text encoding of a CSV.")
@click.option("--delimiter", type=click.Choice([c.value for c in DELIMITER_CHOICES]),
              default="auto", show_default=True, help="Column separator of a CSV.")
def import_requirements_command(file: Path, dry_run: bool, email: str | None, encoding: str,
                                delimiter: str) -> None:
    """Import requirements from an XLSX or CSV FILE (all or nothing)."""
    options = service.ImportOptions(encoding=encoding, delimiter=delimiter,
                                    limits=limits())
    started = time.perf_counter()
    with force_locale("en"):
        if dry_run:
            outcome = service.analyse(file, options)
            _print(outcome, time.perf_counter() - started)
            if not outcome.ok:
                raise click.exceptions.Exit(1)
            click.echo("Dry run: nothing was written.")
            return
        actor = _actor(email)
        try:
            outcome = service.apply(file, actor, options)
            audit.record(AuditAction.IMPORT_APPLIED, actor=actor,
                         details={"file": file.name, "via": "command line", **outcome.counts})
            db.session.commit()
        except service.ImportRejected as rejected:
            db.session.rollback()
            _print(rejected.outcome, time.perf_counter() - started)
            click.echo("Nothing was imported: correct the file and run the command again.",
                       err=True)
            raise click.exceptions.Exit(1) from None
        except (IntegrityError, StaleDataError):
            db.session.rollback()
            raise click.ClickException(str(messages.MESSAGES["changed-meanwhile"])) from None
        _print(outcome, time.perf_counter() - started)
        click.echo(f"Imported by {actor.email}.")
    current_app.logger.info("import of %s by %s: %s", file, actor.email, outcome.counts)
