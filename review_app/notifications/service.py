"""Who is told what, written in the transaction of the event that causes it (the caller
commits both or neither).

The workflow (``review_app.reviews.workflow``), the summary job and the import call these at
the moment things happen; the rules of *who may* stay theirs -- this module only decides who
should hear about it. Nobody is told about their own action.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import g, has_app_context

from review_app.auth.models import GlobalRole, User
from review_app.extensions import db
from review_app.notifications.models import Notification, NotificationKind
from review_app.requirements.models import Requirement
from review_app.time import utcnow

#: How many notifications the list shows.
LIST_LIMIT = 100
#: Read notifications older than this are deleted when their owner opens the list.
KEEP_READ = timedelta(days=90)


def _add(user_ids: Iterable[int | None], kind: NotificationKind, *, actor_id: int | None = None,
         **fields) -> None:
    rows = [{"user_id": user_id, "kind": kind, "actor_id": actor_id, "created_at": utcnow(),
             **fields}
            for user_id in dict.fromkeys(user_ids) if user_id and user_id != actor_id]
    if rows:
        _forget_unread()
        db.session.execute(sa.insert(Notification), rows)


# Review events (called by the workflow) ------------------------------------------------------

def proposal_waiting(req: Requirement, actor: User, approvers: list[User]) -> None:
    """A proposal reached the lead: tell those who can approve it (the project office, the
    admins, when no lead of the area can)."""
    ids = [u.id for u in approvers]
    if not ids:
        ids = list(db.session.scalars(sa.select(User.id).where(
            User.global_role == GlobalRole.ADMIN, User.active)))
    _add(ids, NotificationKind.TO_APPROVE, actor_id=actor.id, requirement_id=req.id)


def returned(req: Requirement, actor: User, comment: str) -> None:
    """A proposal (or an approved decision, reopened) came back: tell its proposer and the
    person it is assigned to, with the lead's comment."""
    _add([req.proposed_by_id, req.assignee_id], NotificationKind.RETURNED, actor_id=actor.id,
         requirement_id=req.id, comment=comment)


def assigned(requirement_ids: list[int], actor_id: int, assignee_id: int | None) -> None:
    """Work was given to someone (not taken by themselves): one notification per assignment,
    or one for a whole bulk assignment."""
    if not assignee_id or assignee_id == actor_id or not requirement_ids:
        return
    if len(requirement_ids) == 1:
        _add([assignee_id], NotificationKind.ASSIGNED, actor_id=actor_id,
             requirement_id=requirement_ids[0])
    else:
        _add([assignee_id], NotificationKind.ASSIGNED, actor_id=actor_id,
             item_count=len(requirement_ids))


# Background products ---------------------------------------------------------------------------

def summary_finished(summary_id: int, requested_by_id: int | None, ok: bool) -> None:
    """A summary or amendment package someone asked for is ready (or failed for good)."""
    _add([requested_by_id],
         NotificationKind.SUMMARY_READY if ok else NotificationKind.SUMMARY_FAILED,
         summary_id=summary_id)


def import_finished(batch_id: int, *people: int | None) -> None:
    """An import was written to the register, or stopped: tell who uploaded and confirmed it."""
    _add(people, NotificationKind.IMPORT_DONE, import_batch_id=batch_id)


# Reading ------------------------------------------------------------------------------------

def unread_count_sql(user_id: sa.ColumnElement[int] | int) -> sa.ScalarSelect[int]:
    """The bell's figure as SQL: what the sign-in check loads beside the user (one query)."""
    return (sa.select(sa.func.count()).select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .scalar_subquery())


def remember_unread(user_id: int, count: int) -> None:
    """The request's unread count of ``user_id``, loaded with the user (``auth.load_user``):
    the bell on every page then costs no query of its own."""
    g.unread_notifications = (user_id, count)


def _forget_unread() -> None:
    """Notifications were written in this request: the bell counts afresh."""
    if has_app_context():
        g.pop("unread_notifications", None)


def unread_count(user: User) -> int:
    known = g.get("unread_notifications") if has_app_context() else None
    if known is not None and known[0] == user.id:
        return known[1]
    return db.session.scalar(sa.select(unread_count_sql(user.id))) or 0


def latest(user: User, limit: int = LIST_LIMIT) -> list[Notification]:
    """The person's newest notifications, with what they point at (no query per row)."""
    return list(db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id)
        .options(so.selectinload(Notification.actor), so.selectinload(Notification.requirement),
                 so.selectinload(Notification.summary),
                 so.selectinload(Notification.import_batch))
        .order_by(Notification.id.desc()).limit(limit)))


def mark_read(user: User, notifications: list[Notification]) -> None:
    """Seen: the shown notifications are read now; old read ones are dropped."""
    ids = [n.id for n in notifications if n.read_at is None]
    now = utcnow()
    _forget_unread()
    if ids:
        db.session.execute(sa.update(Notification)
                           .where(Notification.user_id == user.id, Notification.id.in_(ids))
                           .values(read_at=now).execution_options(synchronize_session=False))
    db.session.execute(sa.delete(Notification).where(
        Notification.user_id == user.id, Notification.read_at < now - KEEP_READ))
    db.session.commit()
