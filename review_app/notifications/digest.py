"""The daily e-mail digest: for each person who wants it, what waits for them and what is
overdue, in their own language. Sent by an RQ cron job (``workers.digest``).

Each person's digest is claimed for the day with a conditional UPDATE before it is sent, so a
job run twice (two schedulers, a retry) sends nobody two; a failed send gives the claim back,
so the retry sends it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from review_app import permissions
from review_app.auth.models import User
from review_app.dashboard import deadlines
from review_app.extensions import db
from review_app.notifications import mail
from review_app.requirements.models import Requirement, State
from review_app.time import local_zone, utcnow

log = logging.getLogger("review_app.digest")

#: How many requirements each section names; the counts cover all of them.
SHOWN = 10


@dataclass
class Item:
    code: str
    title: str
    days: int


@dataclass
class Digest:
    """What one person is told today."""

    assigned: int = 0
    returned: list[Item] = field(default_factory=list)
    returned_count: int = 0
    assigned_items: list[Item] = field(default_factory=list)
    to_approve: int = 0
    approve_items: list[Item] = field(default_factory=list)
    overdue: int = 0
    #: The waiting limit in days that "overdue" means (the one admins set with the deadlines).
    overdue_days: int = 0
    overdue_items: list[Item] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.assigned or self.to_approve)


def _days(now: datetime, then: datetime | None) -> int:
    return (now - then).days if then else 0


def collect(user: User, now: datetime, overdue_days: int) -> Digest:
    """What waits for ``user`` at ``now`` (UTC): work assigned to them (returned first), and
    proposals waiting for their approval; overdue: proposals waiting over ``overdue_days``,
    counted as the dashboard and the lead's queue count them (:func:`deadlines.late_before`)."""
    digest = Digest(overdue_days=overdue_days)
    open_states = (State.UNREVIEWED, State.RETURNED)
    mine = sa.and_(Requirement.assignee_id == user.id, Requirement.state.in_(open_states),
                   permissions.visible_area_filter(user))
    counts = dict(db.session.execute(
        sa.select(Requirement.state, sa.func.count()).where(mine)
        .group_by(Requirement.state)).all())
    digest.assigned = sum(counts.values())
    digest.returned_count = counts.get(State.RETURNED, 0)
    for state, target in ((State.RETURNED, digest.returned),
                          (State.UNREVIEWED, digest.assigned_items)):
        target.extend(Item(code, title, _days(now, changed)) for code, title, changed in
                      db.session.execute(
                          sa.select(Requirement.code, Requirement.title, Requirement.updated_at)
                          .where(mine, Requirement.state == state)
                          .order_by(Requirement.updated_at, Requirement.code).limit(SHOWN)))
    if permissions.can_use_queue(user):
        waiting = sa.and_(Requirement.state == State.PROPOSED,
                          permissions.decidable_filter(user),
                          sa.func.coalesce(Requirement.proposed_by_id, 0) != user.id)
        digest.to_approve = db.session.scalar(
            sa.select(sa.func.count()).select_from(Requirement).where(waiting)) or 0
        overdue = sa.and_(waiting,
                          Requirement.proposed_at < deadlines.late_before(now, overdue_days))
        digest.overdue = db.session.scalar(
            sa.select(sa.func.count()).select_from(Requirement).where(overdue)) or 0
        for stmt_where, target in ((waiting, digest.approve_items),
                                   (overdue, digest.overdue_items)):
            target.extend(Item(code, title, _days(now, proposed)) for code, title, proposed in
                          db.session.execute(
                              sa.select(Requirement.code, Requirement.title,
                                        Requirement.proposed_at)
                              .where(stmt_where)
                              .order_by(Requirement.proposed_at, Requirement.code)
                              .limit(SHOWN)))
    return digest


def render(user: User, digest: Digest, app_url: str) -> tuple[str, str]:
    """The subject and plain-text body, in the person's language."""
    with force_locale(user.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Requirements review: assigned to you: %(assigned)s; waiting for your "
                    "approval: %(approve)s", assigned=digest.assigned,
                    approve=digest.to_approve)
        lines = [_("Hello, %(name)s.", name=user.display_name), "",
                 _("What waits for you in the requirements review today:"), ""]

        def section(title: str, count: int, items: list[Item], days_text) -> None:
            lines.append(f"{title}: {count}")
            lines.extend(f"  - {i.code} {i.title} ({days_text(i.days)})" for i in items)
            if items and count > len(items):
                lines.append("  " + _("… more: %(n)s", n=count - len(items)))
            lines.append("")

        def waiting(days: int) -> str:
            return _("days waiting: %(n)s", n=days)

        if digest.overdue:
            section(_("Overdue: proposals waiting for your approval longer than the limit "
                      "(days: %(n)s)", n=digest.overdue_days), digest.overdue,
                    digest.overdue_items, waiting)
        if digest.to_approve:
            shown = {i.code for i in digest.overdue_items}  # named once, under "overdue"
            section(_("Waiting for your approval"), digest.to_approve,
                    [i for i in digest.approve_items if i.code not in shown], waiting)
        if digest.returned_count:
            section(_("Returned to you for rework"), digest.returned_count, digest.returned,
                    lambda d: _("days since returned: %(n)s", n=d))
        unreviewed = digest.assigned - digest.returned_count
        if unreviewed:
            section(_("Assigned to you, not yet proposed"), unreviewed, digest.assigned_items,
                    lambda d: _("days since the last change: %(n)s", n=d))
        if app_url:
            lines += [_("Open the review: %(url)s", url=f"{app_url}/my-work"), ""]
        lines += ["--", _("You receive this daily digest because it is switched on in your "
                          "notification settings; you can switch it off there.")]
        if app_url:
            lines.append(f"{app_url}/notifications/")
    return subject, "\n".join(lines) + "\n"


@dataclass
class Outcome:
    sent: int = 0
    nothing_to_say: int = 0
    failed: list[str] = field(default_factory=list)


class DigestFailed(RuntimeError):
    """Some digests could not be sent; they will go with the retry."""


def send_all(now: datetime | None = None) -> Outcome:
    """Send today's digest to everyone who has it on and something waiting for them.

    :raise mail.MailNotConfigured: SMTP_HOST is not set (nothing is sent, nothing claimed).
    :raise DigestFailed: some sends failed (their claims are given back for the retry).
    """
    config = current_app.config
    if not mail.configured(config):
        raise mail.MailNotConfigured("SMTP_HOST is not set: no digest is sent")
    now = now or utcnow()
    today: date = now.replace(tzinfo=UTC).astimezone(local_zone(config)).date()
    outcome = Outcome()
    people = list(db.session.scalars(
        sa.select(User).where(User.active, User.digest_enabled,
                              sa.or_(User.digest_sent_on.is_(None), User.digest_sent_on < today))
        .order_by(User.id)))
    # The same limit as the dashboard's and the lead queue's "waiting too long" (Deadlines page).
    wait_days = deadlines.programme().approval_wait_days
    with mail.Mailer(config) as mailer:
        for user in people:
            digest = collect(user, now, wait_days)
            if digest.empty:
                outcome.nothing_to_say += 1
                continue
            previous = user.digest_sent_on
            claimed = db.session.execute(
                sa.update(User).where(User.id == user.id, sa.or_(
                    User.digest_sent_on.is_(None), User.digest_sent_on < today))
                .values(digest_sent_on=today)
                .execution_options(synchronize_session=False)).rowcount
            db.session.commit()
            if not claimed:
                continue  # another run sent it meanwhile
            subject, body = render(user, digest, config.get("APP_URL", ""))
            try:
                mailer.send(mail.message(config, user.email, user.display_name, subject, body))
            except Exception as exc:  # noqa: BLE001 - give the claim back, go on, fail at the end
                db.session.execute(sa.update(User).where(User.id == user.id)
                                   .values(digest_sent_on=previous))
                db.session.commit()
                log.warning("digest to %s not sent: %s: %s", user.email, type(exc).__name__,
                            exc)
                outcome.failed.append(user.email)
                continue
            outcome.sent += 1
    log.info("daily digest: %s sent, %s with nothing waiting, %s failed", outcome.sent,
             outcome.nothing_to_say, len(outcome.failed))
    if outcome.failed:
        raise DigestFailed(f"{len(outcome.failed)} digests not sent: "
                           f"{', '.join(outcome.failed[:5])}")
    return outcome
