"""The requirements list and the requirement page."""

from __future__ import annotations

import time

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from review_app import permissions
from review_app.auth.models import AreaMembership, User
from review_app.extensions import db
from review_app.requirements import listing
from review_app.requirements.forms import PARAMS as FILTER_PARAMS
from review_app.requirements.forms import ListFilterForm
from review_app.requirements.models import Area, Decision, Requirement, State
from review_app.reviews.models import ReviewEvent
from review_app.reviews.workflow import MAX_BULK
from review_app.validation import reports_own_filter_errors

bp = Blueprint("requirements", __name__)

BODIES_TTL_SECONDS = 60


def visible_areas() -> list[Area]:
    stmt = sa.select(Area).order_by(Area.code)
    ids = permissions.visible_area_ids(current_user)
    if ids is not None:
        stmt = stmt.where(Area.id.in_(ids))
    return list(db.session.scalars(stmt))


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


def parse_filters(args, areas: list[Area], people: list[User]) -> listing.Filters:
    """Read filters from the query string (or a bulk form carrying it) through the list's
    filter form; anything unrecognised becomes a message naming the parameter and value."""
    form = ListFilterForm(args, areas, people)
    form.validate()
    return form.filters()


@bp.get("/")
@login_required
def home():
    return redirect(url_for("requirements.index"))


@bp.get("/requirements/")
@login_required
@reports_own_filter_errors(*FILTER_PARAMS)
def index():
    area_ids = permissions.visible_area_ids(current_user)
    areas = visible_areas()
    people = assignable_people(area_ids)
    filters = parse_filters(request.args, areas, people)
    page = None
    status = 200
    if not filters.errors:
        where = [permissions.visible_area_filter(current_user), *filters.where(current_user.id)]
        try:
            page = listing.fetch_page(db.session, where, filters.sort,
                                      after=request.args.get("after") or None,
                                      before=request.args.get("before") or None,
                                      size=current_app.config["PAGE_SIZE"])
        except listing.BadCursor:
            filters.errors.append(_("This page link is broken; start again from the first page."))
    if filters.errors:
        status = 400
    assign_area_ids = bulk_assign_area_ids()
    can_bulk_assign = assign_area_ids is None or bool(assign_area_ids)
    # Filtered to one area, the form offers only the people who can take work there.
    assignees = (bulk_assignees(assign_area_ids, filters.area_id)
                 if can_bulk_assign and page and page.rows else [])
    return render_template(
        "requirements/index.html", page=page, filters=filters, areas=areas, people=people,
        bodies=issuing_bodies(area_ids), states=list(State), decisions=list(Decision),
        sorts=listing.SORTS, args=request.args, can_bulk_assign=can_bulk_assign,
        assignees=assignees, max_bulk=MAX_BULK,
    ), status


def load_requirement(requirement_id: int) -> Requirement:
    """The requirement, if the current user may see it.

    :raise 404: no such requirement.
    :raise 403: it belongs to an area the user does not work in.
    """
    req = db.session.get(Requirement, requirement_id)
    if req is None:
        abort(404)
    permissions.require(permissions.can_view(current_user, req), current_user, "view", req)
    return req


def history(req: Requirement) -> list[ReviewEvent]:
    return list(db.session.scalars(
        sa.select(ReviewEvent).where(ReviewEvent.requirement_id == req.id)
        .options(so.joinedload(ReviewEvent.actor), so.joinedload(ReviewEvent.assignee))
        .order_by(ReviewEvent.id.desc())))


@bp.get("/requirements/<int:requirement_id>")
@login_required
def detail(requirement_id: int):
    from review_app.reviews.routes import render_requirement

    return render_requirement(load_requirement(requirement_id))


@bp.get("/requirements/export.<any(csv, xlsx):fmt>")
@login_required
@reports_own_filter_errors(*FILTER_PARAMS)
def export(fmt: str):
    """The list as filtered (same query string as the list page), as CSV or XLSX."""
    from review_app.errors import render_error
    from review_app.i18n import current_language
    from review_app.requirements import export as exporter

    area_ids = permissions.visible_area_ids(current_user)
    filters = parse_filters(request.args, visible_areas(), assignable_people(area_ids))
    if filters.errors:
        return render_error(400, " ".join(filters.errors))
    where = [permissions.visible_area_filter(current_user), *filters.where(current_user.id)]
    # Audited by the exporter: when it starts, and again when it is complete or has failed.
    return exporter.response(fmt, where, filters.sort, current_language(), actor=current_user,
                             filters={k: v for k, v in request.args.items()
                                      if k not in ("after", "before")})
