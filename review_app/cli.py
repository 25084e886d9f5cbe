"""Command-line tools for operators: ``flask --app wsgi seed-demo``, ``create-user``,
``check-history``."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask import Flask

from review_app.auth.models import GlobalRole, User
from review_app.extensions import db
from review_app.requirements.models import Requirement


@click.command("seed-demo")
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data).")
@click.option("--requirements", "count", default=10_000, show_default=True,
              type=click.IntRange(1, 2_000_000), help="How many requirements to create.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if data exists.")
def seed_demo_command(seed: int, count: int, if_empty: bool) -> None:
    """Fill an empty database with 44 areas, demo accounts and realistic requirements."""
    from review_app import demo

    if db.session.scalar(sa.select(sa.func.count()).select_from(Requirement)):
        if if_empty:
            click.echo("The database already has data; demo data not added.")
            return
        raise click.ClickException(
            "The database already has requirements; demo data is only added to an empty one.")
    started = time.perf_counter()
    try:
        report = demo.seed_demo(db.session, seed=seed, requirement_count=count)
    except ValueError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Demo data created in {time.perf_counter() - started:.1f} s: "
               + ", ".join(f"{n} {what}" for what, n in report.items()))


@click.command("check-history")
@click.option("--limit", default=50, show_default=True, help="Show at most this many problems.")
def check_history_command(limit: int) -> None:
    """Check that every requirement's review data is what its history of events says.

    Exits with 1 when any differ, e.g. after a data fix or a script that wrote review data
    without going through the workflow.
    """
    from review_app import consistency

    total = db.session.scalar(sa.select(sa.func.count()).select_from(Requirement))
    found = consistency.check(db.session)
    if not found:
        click.echo(f"{total} requirement{'' if total == 1 else 's'} checked: "
                   "all agree with their history.")
        return
    for mismatch in found[:limit]:
        click.echo(str(mismatch))
    more = f" (first {limit} shown)" if len(found) > limit else ""
    click.echo(f"{len(found)} cached values of {len({m.requirement_id for m in found})} of "
               f"{total} requirements disagree with their history{more}.", err=True)
    raise SystemExit(1)


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
