"""Command-line tools for operators: ``flask --app wsgi seed-demo``, ``create-user``,
``check-history``; and for developers ``prepare`` and ``dev`` (what ``make run`` runs)."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask import Flask, current_app

from review_app import consistency, devserver
from review_app.auth.models import GlobalRole, User
from review_app.dashboard import rollups
from review_app.extensions import db
from review_app.requirements import cost_order
from review_app.requirements.models import Requirement

#: The demo data set ``make run`` adds to an empty database.
DEMO_SEED, DEMO_SIZE = 2026, 10_000


@click.command("seed-demo")
@click.option("--seed", default=DEMO_SEED, show_default=True,
              help="Random seed (same seed, same data).")
@click.option("--requirements", "count", default=DEMO_SIZE, show_default=True,
              type=click.IntRange(1, 2_000_000), help="How many requirements to create.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if data exists.")
def seed_demo_command(seed: int, count: int, if_empty: bool) -> None:
    """Fill an empty database with 44 areas, demo accounts and realistic requirements."""
    if _has_requirements() and not if_empty:
        raise click.ClickException(
            "The database already has requirements; demo data is only added to an empty one.")
    started = time.perf_counter()
    report = seed_demo_if_empty(seed=seed, count=count)
    if report is None:
        click.echo("The database already has data; demo data not added.")
        return
    click.echo(f"Demo data created in {time.perf_counter() - started:.1f} s: "
               + ", ".join(f"{n} {what}" for what, n in report.items()))


def _has_requirements() -> bool:
    return db.session.scalar(sa.select(Requirement.id).limit(1)) is not None


def seed_demo_if_empty(*, seed: int = DEMO_SEED, count: int = DEMO_SIZE) -> dict[str, int] | None:
    """Add and commit the demo data set unless there are requirements already (then None).

    :raise click.ClickException: a demo account's email is taken (the message says which).
    """
    # lazy: demo parses its three TOML data files at import (~33 ms of every start-up);
    # only seeding needs them
    from review_app import demo

    if _has_requirements():
        return None
    try:
        report = demo.seed_demo(db.session, seed=seed, requirement_count=count)
    except ValueError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    # lazy: like demo above, only seeding needs it
    from review_app.duplicates import service as duplicates

    duplicates.request_quietly("seed")
    return report


@click.command("prepare")
@click.option("--no-seed", is_flag=True, help="Do not add demo data to an empty database.")
def prepare_command(no_seed: bool) -> None:
    """Get ready to serve in one step: compile changed translations, migrate the database to
    the newest schema, add demo data if it is empty."""
    seed = None if no_seed else seed_demo_if_empty
    for line in devserver.prepare(current_app._get_current_object(), seed=seed):
        click.echo(line.capitalize() + ".")


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-worker", is_flag=True, help="Serve without a background worker.")
def dev_command(host: str, port: int, no_worker: bool) -> None:
    """Development: prepare (as ``flask prepare``), then serve with a background worker and,
    without REDIS_URL, an embedded Redis; all of them stop together."""
    app = current_app._get_current_object()
    redis_ready = devserver.start_redis_in_background(app)
    for line in devserver.prepare(app, seed=seed_demo_if_empty):
        click.echo(line.capitalize() + ".")
    redis_ready.join()
    devserver.serve(app, host=host, port=port, worker=not no_worker)


@click.command("check-history")
@click.option("--limit", default=50, show_default=True, help="Show at most this many problems.")
def check_history_command(limit: int) -> None:
    """Check that every requirement's review data is what its history of events says.

    Exits with 1 when any differ, e.g. after a data fix or a script that wrote review data
    without going through the workflow.
    """
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Requirement))
    found = consistency.check(db.session)
    # The list's cost order is a derived cache too, rebuilt by the same command.
    rollup_problems = rollups.differences(db.session) + cost_order.differences(db.session)
    for problem in rollup_problems[:limit]:
        click.echo(problem)
    if not found:
        click.echo(f"{total} requirement{'' if total == 1 else 's'} checked: "
                   "all agree with their history.")
        if not rollup_problems:
            click.echo("The dashboard's rollups and the list's cost order agree with a "
                       "recount.")
            return
        click.echo(f"{len(rollup_problems)} dashboard rollup or cost order rows disagree with "
                   "a recount (flask rebuild-dashboard replaces them).", err=True)
        raise SystemExit(1)
    for mismatch in found[:limit]:
        click.echo(str(mismatch))
    more = f" (first {limit} shown)" if len(found) > limit else ""
    click.echo(f"{len(found)} cached values of {len({m.requirement_id for m in found})} of "
               f"{total} requirements disagree with their history{more}.", err=True)
    raise SystemExit(1)


@click.command("rebuild-dashboard")
def rebuild_dashboard_command() -> None:
    """Recount the dashboard's rollups from the requirements and their history, and the
    list's cost order from the requirements and their costs (after a script wrote
    requirements, costs or events without the ORM)."""
    rollups.rebuild(db.session)
    cost_order.rebuild(db.session)
    db.session.commit()
    click.echo("The dashboard's rollups and the list's cost order were recounted.")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in GlobalRole]), default=None,
              help="Global role; leave out for people who work only in their areas.")
@click.option("--language", type=click.Choice(["ru", "kk", "en"]), default="ru")
@click.password_option()
def create_user_command(email: str, display_name: str, role: str | None, language: str,
                        password: str) -> None:
    """Create an account, e.g. the first admin of a new installation."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("needs an email address", param_hint="--email")
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="password")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise click.ClickException(f"An account for {email} already exists.")
    # The operator typed this password for the person (or is the person): no forced change.
    user = User(email=email, display_name=display_name.strip(), language=language,
                global_role=GlobalRole(role) if role else None, must_change_password=False)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {email}" + (f" ({role})" if role else ""))


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(check_history_command)
    app.cli.add_command(rebuild_dashboard_command)
    app.cli.add_command(prepare_command)
    app.cli.add_command(dev_command)
