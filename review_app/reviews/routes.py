"""Propose / approve / return on the requirement page. Thin: parse, call the workflow, commit.

The page itself is routed and rendered by ``requirements/routes.py``; a refused form is
answered with it (``render_requirement``), so this module imports that one, never the reverse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from review_app import permissions
from review_app.auth.models import User
from review_app.errors import render_error
from review_app.extensions import db
from review_app.justifications import service as justifications
from review_app.requirements.models import Decision, Requirement
from review_app.requirements.routes import load_requirement, render_requirement
from review_app.reviews import drafts, lists, workflow
from review_app.reviews.forms import (
    AssignForm,
    CommentForm,
    DecisionForm,
    ProposalForm,
    ReopenForm,
    ScmApproveForm,
    ScmForm,
)
from review_app.reviews.walk import BadCursor, Walk
from review_app.scm import panel as scm_panel
from review_app.validation import parse_id

bp = Blueprint("reviews", __name__)
log = logging.getLogger("review_app.reviews")


def _typed_text() -> str | None:
    """Everything a person typed into the form, one text after another, for a page that can
    no longer take that form (the requirement changed meanwhile) but must not lose it."""
    typed = [value for name in ("justification", "deviation_reason", "new_wording", "comment",
                                "text", "reason")
             if (value := (request.form.get(name) or "").strip())]
    return "\n\n".join(typed)[:drafts.MAX_VALUE * 2] or None


def _draft(exc: workflow.WorkflowError,
           form: ProposalForm | DecisionForm | None) -> dict[str, object]:
    """What the requirement page needs to show the refusal again: why, and the form as typed
    (with its marked fields), or -- when the requirement changed meanwhile -- the typed text."""
    message = str(exc.message)
    if isinstance(exc, workflow.StaleVersion) or form is None:
        return {"error": message, "unsaved": _typed_text()}
    errors = {name: [str(e) for e in found] for name, found in form.errors.items()
              if name in form and isinstance(found, list | tuple)}
    if exc.field and exc.field in form:
        errors.setdefault(exc.field, []).append(message)
    return {"error": message,
            "form": "proposal" if isinstance(form, ProposalForm) else "decision",
            "data": drafts.clip({k: v for k, v in request.form.items()
                                 if k in form and k != "csrf_token"}),
            "errors": errors}


def _refused(req_id: int, exc: workflow.WorkflowError, form: ProposalForm | DecisionForm | None,
             walk: Walk | None = None):
    """Answer a refused form with Post/Redirect/Get: keep the reason and what was typed as a
    short-lived draft, and send the person to the requirement page, which shows both. The
    address bar then holds the page, not the form's POST address, so a reload does not send
    the form again.

    A permission refusal answers in place instead, with 403 (DESIGN.md: a denied action
    answers 403); so does every refusal when drafts cannot be kept (Redis unreachable): the
    page is not lost, only reload-safety. (A form without a valid CSRF token never gets here:
    CSRFProtect refuses it first, so no one else's text is offered back as a draft.)
    """
    db.session.rollback()
    if not isinstance(exc, workflow.PermissionDenied):
        token = drafts.save(current_user.id, f"requirement:{req_id}", _draft(exc, form))
        if token is not None and walk is not None:  # back to the same item in review mode
            return redirect(lists.review_url(walk.origin, item=req_id, draft=token), 303)
        if token is not None:
            return redirect(lists.detail_url(req_id, lists.from_request(), draft=token), 303)
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
                change: Callable[[], str], *, go_on: bool = True):
    """Run one workflow transition (``change`` returns the success message), commit once, and
    answer: on to the next item of the list the page was opened from (``go_on``), else back
    to the requirement; or, refused, the page again with why nothing was saved."""
    origin = lists.from_request()
    # Where it stood in the list before the change moves it (its state, its time of change).
    place = lists.Place(origin, current_user, req) if origin and go_on else None
    walk = Walk.of(origin, current_user) if place and request.form.get("mode") == "review" \
        else None
    values = walk.scope.values(req) if walk else None
    try:
        message = change()
    except workflow.WorkflowError as exc:
        return _refused(requirement_id, exc, form, walk)
    if stale := _commit_or_stale(req):
        return _refused(requirement_id, stale, form, walk)
    if walk is not None and values is not None:
        return _review_next(walk, values)
    if place is None:
        flash(message, "success")
        return redirect(lists.detail_url(requirement_id, origin))
    return _go_on(place, message)


def _go_on(place: lists.Place, done: str):
    """Open the next requirement of the list that the person can act on, or the list itself
    when none is left; one message says what was done and where they are now."""
    following = place.next()
    if following is None:
        flash(done + " " + _("Nothing more in this list is waiting for you."), "success")
        return redirect(place.origin.url())
    flash(done + " " + _("Next in your list: %(code)s %(title)s.", code=following.code,
                         title=following.title), "success")
    return redirect(lists.detail_url(following.id, place.origin))


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
        return _refused(requirement_id, workflow.WorkflowError(
            _("The proposal was not saved: correct the fields marked below.")), form)
    tests = workflow.Tests(legal=form.legal.data == "yes", necessary=form.necessary.data == "yes",
                           business_friendly=form.business_friendly.data == "yes")

    def change() -> str:
        workflow.propose(req, current_user, decision=Decision(form.decision.data), tests=tests,
                         justification=form.justification.data,
                         new_wording=form.new_wording.data,
                         deviation_reason=form.deviation_reason.data,
                         seen_version=form.version.data)
        justifications.count_use(parse_id(request.form.get("template", "")), req)
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
        return _refused(requirement_id, workflow.WorkflowError(
            _("Nothing was saved: choose approve or return.")), form)
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
        return _refused(requirement_id, workflow.WorkflowError(" ".join(
            map(str, [*form.reason.errors, *form.version.errors])) or _("Nothing was saved.")),
            None)

    def change() -> str:
        workflow.reopen(req, current_user, reason=form.reason.data,
                        seen_version=form.version.data)
        return _("The decision was reopened and returned to the reviewers.")

    return _transition(requirement_id, req, None, change, go_on=False)


@bp.post("/requirements/<int:requirement_id>/comment")
@login_required
def comment(requirement_id: int):
    req = load_requirement(requirement_id)
    form = CommentForm()
    if not form.validate():
        return _refused(requirement_id, workflow.WorkflowError(
            " ".join(map(str, form.text.errors)) or _("Nothing was saved.")), None)
    try:
        workflow.comment(req, current_user, form.text.data)
    except workflow.WorkflowError as exc:
        return _refused(requirement_id, exc, None)
    db.session.commit()
    flash(_("Your comment was added to the history."), "success")
    return redirect(lists.detail_url(req.id, lists.from_request()) + "#history")


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
    return redirect(lists.detail_url(req.id, lists.from_request()))


# Standard Cost Model inputs ---------------------------------------------------------------------

def _scm_done(req: Requirement, message: str):
    if stale := _commit_or_stale(req):
        return _scm_refused(req.id, stale, None)
    flash(message, "success")
    return redirect(lists.detail_url(req.id, lists.from_request()) + "#cost")


def _scm_refused(requirement_id: int, exc: workflow.WorkflowError, form: ScmForm | None):
    """The page again with why nothing was saved, and the inputs as typed (unless the
    requirement changed meanwhile: then its current inputs, so nothing is overwritten blindly).
    """
    db.session.rollback()
    req = load_requirement(requirement_id)
    keep = form if not isinstance(exc, workflow.StaleVersion | workflow.PermissionDenied) else None
    return render_requirement(req, error=exc.message, status=exc.status_code, scm_form=keep)


@bp.post("/requirements/<int:requirement_id>/scm")
@login_required
def propose_scm(requirement_id: int):
    """A reviewer or lead of the area proposes the requirement's cost inputs."""
    req = load_requirement(requirement_id)
    permissions.require(permissions.can_propose_scm(current_user, req), current_user,
                        "scm_propose", req)
    form = ScmForm()
    tariffs = scm_panel.tariffs_by_code()
    try:
        if not form.validate():
            raise workflow.WorkflowError(_("The cost inputs were not saved: correct the fields "
                                           "marked below."))
        workflow.propose_scm(req, current_user, actions=form.read_actions(set(tariffs)),
                             seen_version=form.version.data)
    except workflow.WorkflowError as exc:
        return _scm_refused(requirement_id, exc, form)
    return _scm_done(req, _("Your cost inputs were recorded and wait for the area lead."))


@bp.post("/requirements/<int:requirement_id>/scm/approve")
@login_required
def approve_scm(requirement_id: int):
    """A lead approves the proposed cost inputs on their own (without a decision)."""
    req = load_requirement(requirement_id)
    permissions.require(permissions.can_approve_scm(current_user, req), current_user,
                        "scm_approve", req)
    form = ScmApproveForm()
    try:
        if not form.validate():
            raise workflow.WorkflowError(_("Nothing was saved: reload the page and try again."))
        workflow.approve_scm(req, current_user, seen_version=form.version.data)
    except workflow.WorkflowError as exc:
        return _scm_refused(requirement_id, exc, None)
    return _scm_done(req, _("The cost inputs were approved; the reports now use the computed "
                            "cost."))


# Review mode -------------------------------------------------------------------------------------

def _review_next(walk: Walk, values: tuple) -> object:
    """After a saved decision in review mode: the next item of the list that waits for this
    person, at once (Post/Redirect/Get), announced as "Saved — next: CODE"."""
    following = walk.next_waiting(values)
    if following is None:
        flash(_("Saved. Nothing more in this list is waiting for you."), "success")
        return redirect(lists.review_url(walk.origin, done=1), 303)
    flash(_("Saved — next: %(code)s", code=following.code), "success")
    return redirect(lists.review_url(walk.origin, at=walk.cursor(following)), 303)


def _default_origin() -> lists.Origin:
    """Where "Review" with no list starts: my own work, else the lead's queue, else the list."""
    if permissions.proposing_area_ids(current_user):
        return lists.Origin("my-work", ())
    if permissions.can_use_queue(current_user):
        return lists.Origin("queue", ())
    return lists.Origin("list", ())


@bp.get("/review")
@login_required
def review_mode():
    """One list (``from``: My work, the queue, a filtered list), one requirement at a time, in
    the list's order: ``at`` a place in it (a keyset cursor), ``item`` one requirement of it
    (after a refused form), else where this person stood last time, else its first row."""
    raw = request.args.get("from")
    if not raw:
        return redirect(lists.review_url(_default_origin()))
    walk = Walk.of(lists.parse(raw), current_user)
    if walk is None:
        return render_error(400, _("This list cannot be opened in review mode (“%(value)s”): "
                                   "open it from the list, the queue or My work.",
                                   value=raw[:40]))
    if (item := request.args.get("item")) is not None:
        ident = parse_id(item)
        if ident is None:
            return render_error(400, _("Unknown requirement “%(value)s”.", value=item[:20]))
        req = load_requirement(ident)
    else:
        values = None
        if at := request.args.get("at"):
            try:
                values = walk.decode(at)
            except (BadCursor, ValueError):
                return render_error(400, _("This review link is broken; start again from "
                                           "the list."))
        elif not request.args.get("start") and not request.args.get("done"):
            values = walk.resumed()
        req = walk.at(values) if not request.args.get("done") else None
        if req is None:
            return render_template("reviews/mode_end.html", origin=walk.origin,
                                   empty=walk.at(None) is None,
                                   messages=get_flashed_messages(with_categories=True))
    walk.remember(req)
    position, total = walk.position(req)
    previous, following = walk.before(req), walk.after(req)
    waiting = walk.next_waiting(walk.scope.values(req))

    def link(to: Requirement | None) -> str | None:
        return lists.review_url(walk.origin, at=walk.cursor(to)) if to is not None else None

    return render_requirement(req, template="reviews/mode.html", extra={
        "walk": walk, "position": position, "total": total, "previous_url": link(previous),
        "next_url": link(following), "skip_url": link(waiting), "list_url": walk.origin.url(),
    })
