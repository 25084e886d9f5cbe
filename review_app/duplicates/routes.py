"""Duplicate groups: the list (and the groups whose decisions disagree), a page per group with
one proposal for its members, and the admin's "rebuild now"."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from review_app import permissions
from review_app.duplicates import service
from review_app.duplicates.models import DuplicateGroup, DuplicateMember
from review_app.errors import render_error
from review_app.extensions import db
from review_app.justifications import service as justifications
from review_app.requirements.models import Decision, Requirement
from review_app.reviews import selection, workflow
from review_app.reviews.forms import GroupProposalForm
from review_app.validation import parse_id

bp = Blueprint("duplicates", __name__, url_prefix="/duplicates")


@bp.get("/")
@login_required
def index():
    """Groups the person may see; for leads and managers first those whose decisions differ."""
    after = parse_id(request.args.get("after")) if request.args.get("after") else None
    if request.args.get("after") and after is None:
        return render_error(400, _("This page link is broken; start again from the first page."))
    groups = service.visible_groups(current_user, after=after, limit=51)
    disagreeing = (service.disagreeing_groups(current_user)
                   if service.can_see_disagreements(current_user) and after is None else None)
    return render_template(
        "duplicates/index.html", groups=groups[:50],
        next_after=groups[49][0].id if len(groups) > 50 else None,
        disagreeing=disagreeing, run=service.latest_run(),
        can_rebuild=current_user.is_admin, run_status=service.run_status_label)


def load_group(group_id: int) -> tuple[DuplicateGroup, list[Requirement]]:
    """The group and its members the person may see.

    :raise 404: no such group, or none of its members is visible (its existence says nothing).
    """
    group = db.session.get(DuplicateGroup, group_id)
    if group is None:
        abort(404)
    members = service.visible_members(group, current_user)
    if not members:
        permissions.log_denied(current_user, "view-duplicates", group)
        abort(404)
    return group, members


def _proposable(members: list[Requirement]) -> list[Requirement]:
    return [m for m in members if permissions.can_propose(current_user, m)
            and m.state in workflow.ALLOWED_FROM[workflow.Action.PROPOSE]]


@bp.get("/<int:group_id>")
@login_required
def group(group_id: int):
    group, members = load_group(group_id)
    return _render_group(group, members)


def _render_group(group: DuplicateGroup, members: list[Requirement], *,
                  form: GroupProposalForm | None = None, error: str | None = None,
                  status: int = 200):
    proposable = _proposable(members)
    return render_template(
        "duplicates/group.html", group=group, members=members,
        hidden=group.size - len(members), disagree=service.decisions_disagree(members),
        proposable={m.id for m in proposable},
        form=(form or GroupProposalForm(formdata=None)) if proposable else None,
        templates=justifications.choices_in({m.area_id for m in proposable}) if proposable
        else [], error=error, decisions=list(Decision)), status


@bp.post("/<int:group_id>/propose")
@login_required
def propose(group_id: int):
    """One proposal for the ticked members: each gets its own event through the workflow;
    those that cannot take it are listed with the reason."""
    group, members = load_group(group_id)
    form = GroupProposalForm()
    if not form.validate():
        return _render_group(group, members, form=form,
                             error=_("Nothing was saved: check the marked fields."), status=422)
    by_id = {m.id: m for m in db.session.scalars(
        sa.select(Requirement).join(DuplicateMember,
                                    DuplicateMember.requirement_id == Requirement.id)
        .where(DuplicateMember.group_id == group.id))}
    visible = {m.id for m in members}
    try:
        seen = selection.parse_items(request.form.getlist("item"))
    except selection.Refused as refusal:
        return _render_group(group, members, form=form, status=refusal.status,
                             error=refusal.message)
    forged = next((i for i in seen if i not in by_id or i not in visible), None)
    if forged is not None:
        # Not a member of this group, or in an area the person does not see: a forged
        # request, refused whole (and audited), never skipped quietly.
        permissions.log_denied(current_user, "propose-group", by_id.get(forged) or group)
        abort(403)
    chosen = [by_id[i] for i in sorted(seen, key=lambda i: by_id[i].code)]
    try:
        return selection.propose(chosen, form, seen,
                                 back=url_for("duplicates.group", group_id=group.id))
    except selection.Refused as refusal:
        return _render_group(group, members, form=form, status=refusal.status,
                             error=refusal.message)


@bp.post("/rebuild")
@login_required
def rebuild():
    """Admins: rebuild the groups now (they are rebuilt after every import and seed anyway)."""
    permissions.require(current_user.is_admin, current_user, "rebuild-duplicates", "duplicates")
    try:
        _run, created = service.request_grouping("admin", current_user)
    except service.QueueUnavailable:
        flash(_("The background queue does not answer; the grouping starts when it is back."),
              "error")
    else:
        flash(_("The duplicate groups are being rebuilt.") if created
              else _("A rebuild of the duplicate groups is already under way."), "info")
    return redirect(url_for("duplicates.index"), 303)
