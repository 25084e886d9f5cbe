"""The library of standard justifications: leads keep their areas', admins every area's and
the national ones. Thin: parse, call ``service``, commit once, redirect."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from review_app import permissions
from review_app.extensions import db
from review_app.i18n import current_language
from review_app.justifications import service
from review_app.justifications.forms import NATIONAL, JustificationForm
from review_app.justifications.models import JustificationTemplate
from review_app.requirements import queries

bp = Blueprint("justifications", __name__, url_prefix="/justifications")


def _require_library() -> None:
    permissions.require(permissions.can_keep_justifications(current_user), current_user,
                        "justifications", "justifications")


def _form(formdata=None, **data) -> JustificationForm:
    form = JustificationForm(formdata=formdata, **data)
    areas = queries.areas(None if current_user.is_admin
                          else permissions.lead_area_ids(current_user))
    form.offer(areas, national=current_user.is_admin, language=current_language())
    return form


def _load(template_id: int) -> JustificationTemplate:
    """:raise 404: no such template. :raise 403: not one this person keeps."""
    template = db.session.get(JustificationTemplate, template_id)
    if template is None:
        abort(404)
    permissions.require(permissions.can_manage_justification(current_user, template.area_id),
                        current_user, "justification", template)
    return template


def _area_id(code: str) -> int | None:
    if code == NATIONAL:
        return None
    area = next(a for a in queries.areas() if a.code == code)  # validated by the form
    return area.id


@bp.get("/")
@login_required
def index():
    """Every standard justification this person keeps or is offered, with how often each was
    used (leads see which reasons their reviewers reach for)."""
    _require_library()
    return render_template("justifications/index.html",
                           templates=service.manageable(current_user),
                           can_manage=lambda t: permissions.can_manage_justification(
                               current_user, t.area_id),
                           form=FlaskForm())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    _require_library()
    form = _form(request.form if request.method == "POST" else None)
    if request.method == "POST":
        if form.validate():
            try:
                service.create(current_user, _area_id(form.area.data), form.texts())
            except service.NotAllowed:
                db.session.rollback()
                abort(403)
            db.session.commit()
            flash(_("The standard justification was added."), "success")
            return redirect(url_for("justifications.index"))
        return render_template("justifications/form.html", form=form, template=None), 400
    return render_template("justifications/form.html", form=form, template=None)


@bp.route("/<int:template_id>", methods=["GET", "POST"])
@login_required
def edit(template_id: int):
    template = _load(template_id)
    if request.method == "POST":
        form = _form(request.form)
        # Where it is offered does not change (its usage belongs to that area).
        form.area.data = template.area.code if template.area else NATIONAL
        if form.validate():
            service.update(current_user, template, form.texts())
            db.session.commit()
            flash(_("The standard justification was changed."), "success")
            return redirect(url_for("justifications.index"))
        return render_template("justifications/form.html", form=form, template=template), 400
    form = _form(None, area=template.area.code if template.area else NATIONAL,
                 text_kk=template.text_kk, text_ru=template.text_ru, text_en=template.text_en)
    return render_template("justifications/form.html", form=form, template=template)


@bp.post("/<int:template_id>/active")
@login_required
def set_active(template_id: int):
    """Retire a standard justification (it is no longer offered) or bring it back."""
    template = _load(template_id)
    form = FlaskForm()
    if not form.validate() or request.form.get("active") not in ("0", "1"):
        abort(400)
    service.set_active(current_user, template, request.form["active"] == "1")
    db.session.commit()
    flash(_("Restored: reviewers are offered it again.") if template.active
          else _("Retired: reviewers are no longer offered it."), "success")
    return redirect(url_for("justifications.index"))
