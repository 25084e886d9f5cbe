"""Propose / approve / return on the requirement page. Thin: parse, call the workflow, commit."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from review_app import permissions
from review_app.extensions import db
from review_app.requirements.models import Decision, Requirement
from review_app.requirements.routes import history, load_requirement
from review_app.reviews import workflow
from review_app.reviews.forms import DecisionForm, ProposalForm

bp = Blueprint("reviews", __name__)
log = logging.getLogger("review_app.reviews")


def _answer(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


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
    return render_template(
        "requirements/detail.html", req=req, events=history(req),
        proposal_form=proposal_form if can_propose else None,
        decision_form=decision_form if can_decide else None,
        own_proposal=req.proposed_by_id == current_user.id, error=error, unsaved=unsaved,
    ), status


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
    try:
        workflow.propose(req, current_user, decision=Decision(form.decision.data), tests=tests,
                         justification=form.justification.data,
                         new_wording=form.new_wording.data,
                         deviation_reason=form.deviation_reason.data,
                         seen_version=form.version.data)
    except workflow.WorkflowError as exc:
        return _refused(requirement_id, exc, form)
    if stale := _commit_or_stale(req):
        return _refused(requirement_id, stale, form)
    flash(_("Your proposal was recorded and waits for the area lead."), "success")
    return redirect(url_for("requirements.detail", requirement_id=req.id))


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
    try:
        if form.action.data == "approve":
            workflow.approve(req, current_user, comment=form.comment.data or "",
                             seen_version=form.version.data)
            message = _("Approved.")
        else:
            workflow.return_(req, current_user, comment=form.comment.data or "",
                             seen_version=form.version.data)
            message = _("Returned to the reviewers with your comment.")
    except workflow.WorkflowError as exc:
        return _refused(requirement_id, exc, form)
    if stale := _commit_or_stale(req):
        return _refused(requirement_id, stale, form)
    flash(message, "success")
    return redirect(url_for("requirements.detail", requirement_id=req.id))
