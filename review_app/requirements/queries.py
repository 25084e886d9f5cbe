"""Read helpers the requirement pages share: which areas, people and history a page shows.

They were in ``requirements/routes.py``, so the reviews and leads modules imported a routes
module (and, to dodge the cycle that made, did it inside functions). Queries live here; views
in any blueprint import them.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_login import current_user

from review_app import permissions
from review_app.auth.models import AreaMembership, User
from review_app.extensions import db
from review_app.requirements.models import Area, Requirement, State
from review_app.reviews.models import Action, IndependentProposal, ReviewEvent

#: Issuing bodies change only by import; a minute's cache spares the list a DISTINCT per page.
BODIES_TTL_SECONDS = 60


def areas(ids: set[int] | None = None) -> list[Area]:
    """The areas among ``ids`` (every area for None), by code: what a page offers to choose."""
    stmt = sa.select(Area).order_by(Area.code)
    if ids is not None:
        stmt = stmt.where(Area.id.in_(ids))
    return list(db.session.scalars(stmt))


def visible_areas() -> list[Area]:
    """The areas the current user may see, by code: the list's area choices."""
    return areas(permissions.visible_area_ids(current_user))


def issuing_bodies(area_ids: set[int] | None) -> list[str]:
    """Distinct issuing bodies in the visible areas, cached briefly (they change by import)."""
    cache = current_app.extensions.setdefault("issuing_bodies_cache", {})
    key = frozenset(area_ids) if area_ids is not None else None
    cached = cache.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    stmt = sa.select(Requirement.issuing_body).where(
        Requirement.issuing_body.is_not(None)).distinct().order_by(Requirement.issuing_body)
    if area_ids is not None:
        stmt = stmt.where(Requirement.area_id.in_(area_ids))
    bodies = list(db.session.scalars(stmt))
    cache[key] = (time.monotonic() + BODIES_TTL_SECONDS, bodies)
    return bodies


def assignable_people(area_ids: set[int] | None) -> list[User]:
    """Active people working in ``area_ids`` (None: in any area): the list's assignee filter."""
    stmt = sa.select(User).where(User.active).order_by(User.display_name)
    if area_ids is not None:
        stmt = stmt.where(User.id.in_(sa.select(AreaMembership.user_id).where(
            AreaMembership.area_id.in_(area_ids))))
    else:
        stmt = stmt.where(User.id.in_(sa.select(AreaMembership.user_id)))
    return list(db.session.scalars(stmt))


def bulk_assign_area_ids() -> set[int] | None:
    """Areas where the current user may give work to people: None for every area (admins),
    else the areas they lead (see ``permissions.can_assign``)."""
    return None if current_user.is_admin else permissions.lead_area_ids(current_user)


def bulk_assignees(area_ids: set[int] | None, only_area_id: int | None = None,
                   ) -> list[tuple[int, str, list[str]]]:
    """``(id, name, area codes)`` of the active people who work in ``area_ids`` (None: any
    area), the codes limited to those areas; only the ones working in ``only_area_id`` when
    given. One query. It only shapes the choice: the workflow still checks every requirement.
    """
    if only_area_id is not None and area_ids is not None and only_area_id not in area_ids:
        return []
    stmt = (sa.select(User.id, User.display_name, Area.code)
            .join(AreaMembership, AreaMembership.user_id == User.id)
            .join(Area, Area.id == AreaMembership.area_id)
            .where(User.active).order_by(User.display_name, User.id, Area.code))
    if area_ids is not None:
        stmt = stmt.where(AreaMembership.area_id.in_(area_ids))
    if only_area_id is not None:
        stmt = stmt.where(User.id.in_(sa.select(AreaMembership.user_id).where(
            AreaMembership.area_id == only_area_id)))
    people: dict[int, tuple[int, str, list[str]]] = {}
    for user_id, name, code in db.session.execute(stmt):
        people.setdefault(user_id, (user_id, name, []))[2].append(code)
    return list(people.values())


def history(req: Requirement) -> list[ReviewEvent]:
    """The requirement's review events, newest first, with their people loaded (one query)."""
    return list(db.session.scalars(
        sa.select(ReviewEvent).where(ReviewEvent.requirement_id == req.id)
        .options(so.joinedload(ReviewEvent.actor), so.joinedload(ReviewEvent.assignee))
        .order_by(ReviewEvent.id.desc())))


def area_people(area_id: int) -> list[User]:
    """Active people who work in the area, for assignment."""
    return list(db.session.scalars(
        sa.select(User).join(AreaMembership, AreaMembership.user_id == User.id)
        .where(AreaMembership.area_id == area_id, User.active).order_by(User.display_name)))


def hidden_event_ids(req: Requirement, events: list[ReviewEvent],
                     proposals: list[IndependentProposal], viewer) -> set[int]:
    """Dual review: until a reviewer has made their own proposal in this round, the other
    reviewer's proposal in it stays hidden from them (the page and the API alike)."""
    if not proposals or req.state not in (State.UNREVIEWED, State.RETURNED):
        return set()
    if not permissions.can_propose(viewer, req):
        return set()  # managers and admins do not propose; nothing to bias
    if any(p.reviewer_id == viewer.id for p in proposals):
        return set()
    round_start = proposals[0].created_at
    return {e.id for e in events if e.action == Action.PROPOSE and e.created_at >= round_start
            and e.actor_id != viewer.id}
