"""Propose / approve / return on the requirement page. Thin: parse, call the workflow, commit."""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from review_app import permissions
from review_app.auth.models import AreaMembership, User
from review_app.extensions import db
from review_app.requirements.models import Decision, Requirement, State
from review_app.requirements.routes import history, load_requirement
from review_app.reviews import workflow
from review_app.reviews.forms import (
    AssignForm,
    CommentForm,
    DecisionForm,
    ProposalForm,
    ReopenForm,
)
from review_app.reviews.models import Action, IndependentProposal, ReviewEvent
from review_app.validation import parse_id

bp = Blueprint("reviews", __name__)
log = logging.getLogger("review_app.reviews")


def _answer(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _hidden_event_ids(req: Requirement, events: list[ReviewEvent],
                      proposals: list[IndependentProposal]) -> set[int]:
    """Dual review: until a reviewer has made their own proposal in this round, the other
    reviewer's proposal in it stays hidden from them."""
    if not proposals or req.state not in workflow.ALLOWED_FROM[Action.PROPOSE]:
        return set()
    if not permissions.can_propose(current_user, req):
        return set()  # managers and admins do not propose; nothing to bias
    if any(p.reviewer_id == current_user.id for p in proposals):
        return set()
    round_start = proposals[0].created_at
    return {e.id for e in events if e.action == Action.PROPOSE and e.created_at >= round_start
            and e.actor_id != current_user.id}


def render_requirement(req: Requirement, *, proposal_form: ProposalForm | None = None,
                       decision_form: DecisionForm | None = None, error: str | None = None,
                       unsaved: str | None = None, status: int = 200):
    """The requirement page, with whichever forms the current user may use on it."""
    can_propose = (permissions.can_propose(current_user, req)
                   and req.state in workflow.ALLOWED_FROM[workflow.Action.PROPOSE])
    can_decide = (permissions.can_decide(current_user, req)
                  and req.state in workflow.ALLOWED_FROM[workflow.Action.APPROVE])
    if can_propose and proposal_form is None:
        proposal_form = ProposalForm(formdata=None, version=req.version)
        if req.decision is not None:  # a returned proposal starts from what was proposed
            proposal_form.process(None, version=req.version, decision=req.decision.value,
                                  legal=_answer(req.test_legal),
                                  necessary=_answer(req.test_necessary),
                                  business_friendly=_answer(req.test_business_friendly),
                                  justification=req.justification or "",
                                  new_wording=req.new_wording or "",
                                  deviation_reason=req.deviation_reason or "")
    if can_decide and decision_form is None:
        decision_form = DecisionForm(formdata=None, version=req.version)
    events = history(req)
    proposals = workflow.independent_proposals(req)
    mine = next((p for p in proposals if p.reviewer_id == current_user.id), None)
    if mine is not None and req.state != State.PROPOSED:
        can_propose = False  # already proposed independently in this round
    can_assign = permissions.can_assign(current_user, req.area_id) and req.state != State.APPROVED
    return render_template(
        "requirements/detail.html", req=req, events=events,
        hidden_events=_hidden_event_ids(req, events, proposals),
        proposals=proposals if req.state == State.PROPOSED else [],
        my_independent_proposal=mine if req.state != State.PROPOSED else None,
        proposal_form=proposal_form if can_propose else None,
        decision_form=decision_form if can_decide else None,
        own_proposal=(req.proposed_by_id == current_user.id
                      or any(p.reviewer_id == current_user.id for p in proposals)),
        reopen_form=(ReopenForm(formdata=None, version=req.version)
                     if permissions.can_reopen(current_user, req) and req.state == State.APPROVED
                     else None),
        comment_form=CommentForm(formdata=None) if permissions.can_comment(current_user, req)
        else None,
        assign_form=AssignForm(formdata=None) if can_assign else None,
        assignable=area_people(req.area_id) if can_assign else [],
        can_take=(req.assignee_id is None and req.state != State.APPROVED
                  and permissions.can_claim(current_user, req.area_id)),
        error=error, unsaved=unsaved,
    ), status


def area_people(area_id: int) -> list[User]:
    """Active people who work in the area, for assignment."""
    return list(db.session.scalars(
        sa.select(User).join(AreaMembership, AreaMembership.user_id == User.id)
        .where(AreaMembership.area_id == area_id, User.active).order_by(User.display_name)))


def _refused(req_id: int, exc: workflow.WorkflowError, form: ProposalForm | DecisionForm | None):
    """Re-render with the reason, marking the field it is about.

    On a stale version the page shows the requirement as it is now, with fresh forms, and
    keeps what the user typed visible so it is not lost.
    """
    db.session.rollback()
    req = load_requirement(req_id)
    if isinstance(exc, workflow.StaleVersion) or form is None:
        unsaved = None
        if form is not None:
            unsaved = (form.data.get("justification") or form.data.get("comment") or "").strip()
        return render_requirement(req, error=exc.message, status=exc.status_code,
                                  unsaved=unsaved or None)
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
    forms = {"proposal_form" if isinstance(form, ProposalForm) else "decision_form": form}
    return render_requirement(req, error=exc.message, status=exc.status_code, **forms)


def _transition(requirement_id: int, req: Requirement, form: ProposalForm | DecisionForm | None,
                change: Callable[[], str]):
    """Run one workflow transition (``change`` returns the success message), commit once, and
    answer: back to the requirement, or the page again with why nothing was saved."""
    try:
        message = change()
    except workflow.WorkflowError as exc:
        return _refused(requirement_id, exc, form)
    if stale := _commit_or_stale(req):
        return _refused(requirement_id, stale, form)
    flash(message, "success")
    return redirect(url_for("requirements.detail", requirement_id=requirement_id))


def _commit_or_stale(req: Requirement) -> workflow.StaleVersion | None:
    """Commit; if another request changed the row in between, roll back and say so."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return workflow.StaleVersion(req)
    return None


@bp.post("/requirements/<int:requirement_id>/propose")
@login_required
def propose(requirement_id: int):
    req = load_requirement(requirement_id)
    permissions.require(permissions.can_propose(current_user, req), current_user, "propose", req)
    form = ProposalForm()
    if not form.validate():
        return render_requirement(req, proposal_form=form, status=422,
                                  error=_("The proposal was not saved: correct the fields "
                                          "marked below."))
    tests = workflow.Tests(legal=form.legal.data == "yes", necessary=form.necessary.data == "yes",
                           business_friendly=form.business_friendly.data == "yes")

    def change() -> str:
        workflow.propose(req, current_user, decision=Decision(form.decision.data), tests=tests,
                         justification=form.justification.data,
                         new_wording=form.new_wording.data,
                         deviation_reason=form.deviation_reason.data,
                         seen_version=form.version.data)
        return _("Your proposal was recorded and waits for the area lead.")

    return _transition(requirement_id, req, form, change)


@bp.post("/requirements/<int:requirement_id>/decide")
@login_required
def decide(requirement_id: int):
    """Approve or return the current proposal (the lead's two buttons)."""
    req = load_requirement(requirement_id)
    permissions.require(permissions.can_decide(current_user, req), current_user, "decide", req)
    form = DecisionForm()
    if not form.validate() or form.action.data not in ("approve", "return"):
        return render_requirement(req, decision_form=form, status=422,
                                  error=_("Nothing was saved: choose approve or return."))
    chosen = request.form.get("chosen_proposal", "")

    def change() -> str:
        if form.action.data == "approve":
            workflow.approve(req, current_user, comment=form.comment.data or "",
                             seen_version=form.version.data,
                             chosen_proposal_id=parse_id(chosen))
            return _("Approved.")
        workflow.return_(req, current_user, comment=form.comment.data or "",
                         seen_version=form.version.data)
        return _("Returned to the reviewers with your comment.")

    return _transition(requirement_id, req, form, change)


@bp.post("/requirements/<int:requirement_id>/reopen")
@login_required
def reopen(requirement_id: int):
    """Take an approved decision back for rework, with a reason (lead of the area or admin)."""
    req = load_requirement(requirement_id)
    permissions.require(permissions.can_reopen(current_user, req), current_user, "reopen", req)
    form = ReopenForm()
    if not form.validate():
        return render_requirement(req, status=422, error=" ".join(
            map(str, [*form.reason.errors, *form.version.errors])) or _("Nothing was saved."))

    def change() -> str:
        workflow.reopen(req, current_user, reason=form.reason.data,
                        seen_version=form.version.data)
        return _("The decision was reopened and returned to the reviewers.")

    return _transition(requirement_id, req, None, change)


@bp.post("/requirements/<int:requirement_id>/comment")
@login_required
def comment(requirement_id: int):
    req = load_requirement(requirement_id)
    form = CommentForm()
    if not form.validate():
        return render_requirement(req, status=422, error=" ".join(map(str, form.text.errors)))
    try:
        workflow.comment(req, current_user, form.text.data)
    except workflow.WorkflowError as exc:
        return _refused(requirement_id, exc, None)
    db.session.commit()
    flash(_("Your comment was added to the history."), "success")
    return redirect(url_for("requirements.detail", requirement_id=req.id) + "#history")


@bp.post("/requirements/<int:requirement_id>/assign")
@login_required
def assign(requirement_id: int):
    """The lead gives the requirement to someone (or to nobody); a reviewer takes it."""
    req = load_requirement(requirement_id)
    form = AssignForm()
    if not form.validate():
        abort(400)
    value = (form.assignee.data or "").strip()
    try:
        if value == "me":
            workflow.take(req, current_user)
        else:
            assignee = None
            if value:
                ident = parse_id(value)
                assignee = db.session.get(User, ident) if ident is not None else None
                if assignee is None:
                    raise workflow.WorkflowError(_("Unknown person “%(value)s”.",
                                                   value=value[:20]))
            workflow.assign(req, current_user, assignee)
    except workflow.PermissionDenied:
        abort(403)
    except workflow.WorkflowError as exc:
        return _refused(requirement_id, exc, None)
    db.session.commit()
    flash(_("Assignment saved."), "success")
    return redirect(url_for("requirements.detail", requirement_id=req.id))
