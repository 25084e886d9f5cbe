"""Deadlines and the approval waiting limit: read them, and change them (admins, audited).

Like ``admin.service``: each change adds an audit entry with before and after; the caller
checks the permission (``permissions.can_change_area_settings``) and commits once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from review_app import audit
from review_app.audit import AuditAction
from review_app.auth.models import User
from review_app.dashboard.models import AreaDeadline, ProgrammeSettings
from review_app.extensions import db
from review_app.requirements.models import Area
from review_app.time import utcnow

#: The waiting limit a lead may be given, in days.
MIN_WAIT_DAYS, MAX_WAIT_DAYS = 1, 365
DEFAULT_WAIT_DAYS = 5


class DeadlineError(Exception):
    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def programme() -> ProgrammeSettings:
    """The programme's settings row (an unsaved default one until an admin saves them)."""
    return db.session.get(ProgrammeSettings, 1) or ProgrammeSettings(
        id=1, deadline=None, approval_wait_days=DEFAULT_WAIT_DAYS)


def area_deadlines() -> dict[int, date]:
    return dict(db.session.execute(sa.select(AreaDeadline.area_id, AreaDeadline.deadline)).all())


def late_before(now: datetime | None = None, wait_days: int | None = None) -> datetime:
    """Proposals made before this moment have waited too long for the lead: the start of the
    (UTC) day ``wait_days`` before today, so the dashboard can sum its per-day rollup."""
    if wait_days is None:
        wait_days = programme().approval_wait_days
    day = ((now or utcnow()) - timedelta(days=wait_days)).date()
    return datetime.combine(day, time.min)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def change(actor: User, *, deadline: date | None, wait_days: int,
           areas: dict[Area, date | None]) -> int:
    """Set the programme deadline, the waiting limit and areas' own deadlines (None: the
    area follows the programme's). Returns how many things changed.

    :raise DeadlineError: a waiting limit out of range.
    """
    if not MIN_WAIT_DAYS <= wait_days <= MAX_WAIT_DAYS:
        raise DeadlineError(_l("The waiting limit is a number of days from %(a)d to %(b)d.",
                               a=MIN_WAIT_DAYS, b=MAX_WAIT_DAYS), "wait_days")
    changed = 0
    settings = programme()
    diff = {}
    if settings.deadline != deadline:
        diff["deadline"] = {"from": _iso(settings.deadline), "to": _iso(deadline)}
    if settings.approval_wait_days != wait_days:
        diff["approval_wait_days"] = {"from": settings.approval_wait_days, "to": wait_days}
    if diff:
        settings.deadline, settings.approval_wait_days = deadline, wait_days
        db.session.add(settings)
        audit.record(AuditAction.DEADLINES_CHANGED, actor=actor, details=diff)
        changed += len(diff)
    current = {d.area_id: d for d in db.session.scalars(sa.select(AreaDeadline))}
    for area, day in areas.items():
        row = current.get(area.id)
        before = row.deadline if row else None
        if before == day:
            continue
        if day is None:
            db.session.delete(row)
        elif row is None:
            db.session.add(AreaDeadline(area_id=area.id, deadline=day))
        else:
            row.deadline = day
        audit.record(AuditAction.DEADLINES_CHANGED, actor=actor, target=area,
                     details={"deadline": {"from": _iso(before), "to": _iso(day)}})
        changed += 1
    return changed
