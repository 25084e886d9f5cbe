"""Admin pages: people (accounts, roles, area memberships), areas, and the audit log.

Thin views: parse the form, call one function of ``service``, commit once, redirect. People and
areas are for admins; the audit log for admins and managers. Every route checks on the server.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from review_app import formatting, permissions
from review_app.admin import auditlog, service
from review_app.admin.forms import (
    AUDIT_FILTER_PARAMS,
    ActionForm,
    AreaForm,
    AuditFilterForm,
    TariffForm,
    UserForm,
    parse_memberships,
)
from review_app.auth.models import AreaMembership, AreaRole, GlobalRole, User
from review_app.errors import render_error
from review_app.extensions import db
from review_app.requirements import queries
from review_app.requirements.export import failure_line
from review_app.requirements.models import Area, Requirement
from review_app.reviews.workflow import WorkflowError, action_past
from review_app.scm import service as scm_service
from review_app.scm.models import Tariff
from review_app.tabular import primed, stream_csv
from review_app.time import local_zone
from review_app.validation import FIRST_DAY, LAST_DAY, reports_own_filter_errors

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE = 50


def _require_users() -> None:
    permissions.require(permissions.can_manage_users(current_user), current_user,
                        "manage-users", None)


def _require_areas() -> None:
    permissions.require(permissions.can_change_area_settings(current_user), current_user,
                        "manage-areas", None)


def load_user(user_id: int) -> User:
    """:raise 403: not an admin. :raise 404: no such account."""
    _require_users()
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _password_page(user: User, password: str, created: bool):
    response = make_response(render_template("admin/password.html", user=user,
                                             password=password, created=created))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@login_required
def home():
    if permissions.can_manage_users(current_user):
        return redirect(url_for("admin.users"))
    if permissions.can_view_audit(current_user):
        return redirect(url_for("admin.audit"))
    _require_users()


# People -----------------------------------------------------------------------------------------

@bp.get("/users/")
@login_required
def users():
    _require_users()
    areas = queries.areas()
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    area_code = request.args.get("area", "")
    status = request.args.get("status", "")
    stmt = sa.select(User).options(so.selectinload(User.memberships)).order_by(
        User.display_name, User.id)
    if q:
        # "%" and "_" are letters here, not wildcards. lower() in SQL folds only ASCII on
        # SQLite, so the name is also matched as typed (Cyrillic names keep their case).
        stmt = stmt.where(sa.or_(User.email.contains(q.lower(), autoescape=True),
                                 sa.func.lower(User.display_name).contains(q.lower(),
                                                                           autoescape=True),
                                 User.display_name.contains(q, autoescape=True)))
    if role in ("admin", "manager"):
        stmt = stmt.where(User.global_role == GlobalRole(role))
    elif role in ("lead", "reviewer"):
        stmt = stmt.where(User.id.in_(sa.select(AreaMembership.user_id).where(
            AreaMembership.role == AreaRole(role))))
    area = next((a for a in areas if a.code == area_code), None)
    if area is not None:
        stmt = stmt.where(User.id.in_(sa.select(AreaMembership.user_id).where(
            AreaMembership.area_id == area.id)))
    if status in ("active", "inactive"):
        stmt = stmt.where(User.active.is_(status == "active"))
    people = list(db.session.scalars(stmt.limit(1000)).unique())
    codes = {a.id: a.code for a in areas}

    def area_summary(person: User) -> str:
        """``lead: 01; reviewer: 02, 05``"""
        parts = []
        for role, label in ((AreaRole.LEAD, _("lead")), (AreaRole.REVIEWER, _("reviewer"))):
            found = sorted(codes.get(m.area_id, "?") for m in person.memberships
                           if m.role == role)
            if found:
                parts.append(f"{label}: {', '.join(found)}")
        return "; ".join(parts)

    return render_template("admin/users.html", people=people, areas=areas,
                           area_summary=area_summary, args=request.args)


def _user_form_page(form: UserForm, user: User | None, memberships: dict[int, AreaRole], *,
                    error: str | None = None, status: int = 200):
    return render_template("admin/user_form.html", form=form, user=user, areas=queries.areas(),
                           memberships=memberships, error=error,
                           action_form=ActionForm()), status


def _save_user(user: User | None):
    """Create (``user`` None) or update from the posted form; re-render with errors."""
    form = UserForm()
    areas = queries.areas()
    memberships, membership_errors = parse_memberships(request.form, areas)
    if not form.validate_on_submit() or membership_errors:
        return _user_form_page(form, user, memberships, status=400, error=" ".join(
            membership_errors) or _("Nothing was saved: correct the fields marked below."))
    role = GlobalRole(form.global_role.data) if form.global_role.data else None
    values = {"email": form.email.data, "display_name": form.display_name.data,
              "language": form.language.data, "global_role": role, "memberships": memberships}
    try:
        if user is None:
            user, password = service.create_user(current_user, **values)
        else:
            service.update_user(current_user, user, **values)
            password = None
    except service.AdminError as exc:
        db.session.rollback()
        if exc.field and exc.field in form:
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
        return _user_form_page(form, user if user and user.id else None, memberships,
                               error=str(exc.message), status=422)
    db.session.commit()
    if password is not None:
        return _password_page(user, password, created=True)
    flash(_("Saved."), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def new_user():
    _require_users()
    if request.method == "POST":
        return _save_user(None)
    return _user_form_page(UserForm(formdata=None), None, {})


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def user(user_id: int):
    person = load_user(user_id)
    if request.method == "POST":
        return _save_user(person)
    form = UserForm(formdata=None, email=person.email, display_name=person.display_name,
                    language=person.language,
                    global_role=person.global_role.value if person.global_role else "")
    return _user_form_page(form, person, person.area_roles)


def _user_action(user_id: int) -> User:
    """The account a button acts on, once the form's CSRF token checks out."""
    person = load_user(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return person


@bp.post("/users/<int:user_id>/deactivate")
@login_required
def deactivate(user_id: int):
    person = _user_action(user_id)
    try:
        service.deactivate(current_user, person)
    except service.AdminError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("admin.user", user_id=user_id))
    db.session.commit()
    flash(_("%(name)s is deactivated and signed out everywhere; their history stays.",
            name=person.display_name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/reactivate")
@login_required
def reactivate(user_id: int):
    person = _user_action(user_id)
    service.reactivate(current_user, person)
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=person.display_name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/password")
@login_required
def reset_password(user_id: int):
    person = _user_action(user_id)
    password = service.reset_password(current_user, person)
    db.session.commit()
    return _password_page(person, password, created=False)


# Areas ------------------------------------------------------------------------------------------

@bp.get("/areas/")
@login_required
def areas():
    _require_areas()
    counts = dict(db.session.execute(sa.select(Requirement.area_id, sa.func.count()).group_by(
        Requirement.area_id)).all())
    members = dict(db.session.execute(sa.select(AreaMembership.area_id, sa.func.count())
                                      .group_by(AreaMembership.area_id)).all())
    return render_template("admin/areas.html", areas=queries.areas(), counts=counts,
                           members=members)


def _area_page(form: AreaForm, area: Area | None, *, error: str | None = None, status=200):
    return render_template("admin/area_form.html", form=form, area=area, error=error), status


def _save_area(area: Area | None):
    form = AreaForm()
    if not form.validate_on_submit():
        return _area_page(form, area, status=400,
                          error=_("Nothing was saved: correct the fields marked below."))
    values = {k: form[k].data for k in service.AREA_FIELDS}
    try:
        if area is None:
            area = service.create_area(current_user, code=form.code.data, **values)
        else:
            service.update_area(current_user, area, **values)
    except service.AdminError as exc:
        db.session.rollback()
        if exc.field and exc.field in form:
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
        return _area_page(form, area if area and area.id else None, error=str(exc.message),
                          status=422)
    db.session.commit()
    flash(_("Area %(code)s saved.", code=area.code), "success")
    return redirect(url_for("admin.areas"))


@bp.route("/areas/new", methods=["GET", "POST"])
@login_required
def new_area():
    _require_areas()
    if request.method == "POST":
        return _save_area(None)
    return _area_page(AreaForm(formdata=None), None)


@bp.route("/areas/<code>", methods=["GET", "POST"])
@login_required
def area(code: str):
    _require_areas()
    found = db.session.scalar(sa.select(Area).where(Area.code == code[:8]))
    if found is None:
        abort(404)
    if request.method == "POST":
        return _save_area(found)
    return _area_page(AreaForm(formdata=None, obj=found), found)


# Cost tariffs -----------------------------------------------------------------------------------

def _require_tariffs() -> None:
    permissions.require(permissions.can_manage_tariffs(current_user), current_user,
                        "manage-tariffs", None)


@bp.get("/tariffs/")
@login_required
def tariffs():
    _require_tariffs()
    return render_template("admin/tariffs.html", tariffs=scm_service.tariffs())


def _tariff_page(form: TariffForm, tariff: Tariff | None, *, error: str | None = None,
                 status=200):
    return render_template("admin/tariff_form.html", form=form, tariff=tariff,
                           error=error), status


def _save_tariff(tariff: Tariff | None):
    form = TariffForm()
    if not form.validate_on_submit() or not FIRST_DAY <= form.as_of.data <= LAST_DAY:
        if form.as_of.data and not form.as_of.errors and not (
                FIRST_DAY <= form.as_of.data <= LAST_DAY):
            form.as_of.errors = [_("The date must be between %(first)s and %(last)s.",
                                   first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())]
        return _tariff_page(form, tariff, status=400,
                            error=_("Nothing was saved: correct the fields marked below."))
    data = scm_service.TariffInput(code=form.code.data.strip(), name=form.name.data,
                                   hourly_kzt=form.hourly_kzt.data, source=form.source.data,
                                   as_of=form.as_of.data)
    try:
        moved = scm_service.save_tariff(current_user, data, tariff)
    except WorkflowError as exc:
        db.session.rollback()
        if exc.field and exc.field in form:
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
        return _tariff_page(form, tariff, error=str(exc.message), status=exc.status_code)
    db.session.commit()
    flash(ngettext("Tariff %(code)s saved; the cost of %(num)d requirement was recomputed.",
                   "Tariff %(code)s saved; the cost of %(num)d requirements was recomputed.",
                   moved, code=data.code), "success")
    return redirect(url_for("admin.tariffs"))


@bp.route("/tariffs/new", methods=["GET", "POST"])
@login_required
def new_tariff():
    _require_tariffs()
    if request.method == "POST":
        return _save_tariff(None)
    return _tariff_page(TariffForm(formdata=None), None)


@bp.route("/tariffs/<int:tariff_id>", methods=["GET", "POST"])
@login_required
def tariff(tariff_id: int):
    _require_tariffs()
    found = db.session.get(Tariff, tariff_id)
    if found is None:
        abort(404)
    if request.method == "POST":
        return _save_tariff(found)
    return _tariff_page(TariffForm(formdata=None, obj=found), found)


# Audit log --------------------------------------------------------------------------------------

def _parse_audit_filters(args, areas: list[Area]) -> auditlog.AuditFilters:
    """The audit log's filters from the query string, through :class:`AuditFilterForm`."""
    form = AuditFilterForm(args, areas, auditlog.CATEGORIES)
    form.validate()
    f = auditlog.AuditFilters(errors=form.messages())
    if f.errors:
        return f
    f.category = form.kind.data or None
    f.actor = form.who.data or ""
    if form.area.data:
        f.area_id = form.areas[form.area.data].id
    zone = local_zone()
    if "from" in form.days:
        f.since = auditlog.day_bounds(form.days["from"], zone)[0]
    if "to" in form.days:
        f.until = auditlog.day_bounds(form.days["to"], zone)[1]
    if f.since and f.until and f.since >= f.until:
        f.errors.append(_("“From” is after “To”."))
    return f


def _require_audit() -> None:
    permissions.require(permissions.can_view_audit(current_user), current_user,
                        "view-audit", None)


@bp.get("/audit/")
@login_required
@reports_own_filter_errors(*AUDIT_FILTER_PARAMS)
def audit():
    _require_audit()
    areas = queries.areas()
    filters = _parse_audit_filters(request.args, areas)
    items, next_cursor = [], None
    if not filters.errors:
        try:
            items, next_cursor = auditlog.fetch(filters, after=request.args.get("after") or None,
                                                size=AUDIT_PAGE)
        except auditlog.BadCursor:
            filters.errors.append(_("This page link is broken; start again from the first "
                                    "page."))
    names = auditlog.Names()
    return render_template(
        "admin/audit.html", items=items, next_cursor=next_cursor, filters=filters, areas=areas,
        categories=auditlog.CATEGORIES, labels=auditlog.AUDIT_LABELS,
        reasons=auditlog.FAILURE_REASONS, args=request.args,
        details_text=lambda item: auditlog.describe(item.details, names),
        first_day=FIRST_DAY.isoformat(), last_day=LAST_DAY.isoformat(),
    ), 400 if filters.errors else 200


@bp.get("/audit.csv")
@login_required
@reports_own_filter_errors(*AUDIT_FILTER_PARAMS)
def audit_csv():
    """The audit trail as filtered, every matching entry, streamed."""
    _require_audit()
    filters = _parse_audit_filters(request.args, queries.areas())
    if filters.errors:

        return render_error(400, " ".join(filters.errors))
    zone = local_zone()

    def label(item: auditlog.Item) -> str:
        if item.source == auditlog.REVIEW:
            try:
                return action_past(item.action)
            except ValueError:
                return item.action
        return str(auditlog.AUDIT_LABELS.get(item.action, item.action))

    names = auditlog.Names()

    def line(item: auditlog.Item) -> list:
        return [formatting.when(item.created_at, formatting.DATE_TIME_SECONDS, zone=zone),
                item.actor_email, item.actor_name, label(item), item.action, item.target_label,
                item.target_id, item.area_code, auditlog.describe(item.details, names),
                item.text, item.ip_address,
                json.dumps(item.details, ensure_ascii=False) if item.details else ""]

    def trailer(count: int) -> str:
        return ngettext("End of the audit log export: %(num)d entry.",
                        "End of the audit log export: %(num)d entries.", count)

    # The first batch is read before the response starts: a failing database answers with an
    # error page, not with a "200" and half a file.
    items = primed(auditlog.iterate(filters))
    # "Details" in words, as on the page; "Details (JSON)" as stored, for auditors' tools.
    header = [_("Time"), _("Person"), _("Name"), _("Event"), _("Event code"), _("Object"),
              _("Object id"), _("Area"), _("Details"), _("Text"), _("Address"),
              _("Details (JSON)")]
    return Response(stream_with_context(stream_csv(
        header, (line(item) for item in items), trailer=trailer, failure=failure_line,
        flush_every=200)), mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
