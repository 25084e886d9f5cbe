"""The review workflow: every transition of a requirement, and the rules that guard it.

Views, CLI commands, the API and workers call these functions; none of them re-implements a
rule. Each function checks permission, the version the caller saw, and the current state, then
changes the requirement's cached review data and appends one event. The caller commits.

    unreviewed --propose--> proposed --approve--> approved
                              |  ^                   |
                        return|  |propose again      | reopen (reason)
                              v  |                   v
                            returned <---------------+
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from review_app import permissions
from review_app.auth.models import User
from review_app.extensions import db
from review_app.requirements.models import Decision, Requirement, State
from review_app.reviews.models import Action, ReviewEvent
from review_app.time import utcnow

#: Which states each action may start from.
ALLOWED_FROM: dict[Action, frozenset[State]] = {
    Action.PROPOSE: frozenset({State.UNREVIEWED, State.RETURNED}),
    Action.APPROVE: frozenset({State.PROPOSED}),
    Action.RETURN: frozenset({State.PROPOSED}),
    Action.REOPEN: frozenset({State.APPROVED}),
}

MAX_TEXT = 10_000
MAX_WORDING = 50_000


class WorkflowError(Exception):
    """A transition was refused; ``message`` says why in words the user can act on."""

    status_code = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        #: The form field the problem is about, so the form can mark it.
        self.field = field


class PermissionDenied(WorkflowError):
    status_code = 403


class StaleVersion(WorkflowError):
    """The requirement changed since the caller read it; nothing was written."""

    status_code = 409

    def __init__(self, requirement: Requirement):
        super().__init__(_l("Someone else changed this requirement while you were looking at it. "
                            "Nothing was saved; its current state is shown below."))
        self.requirement = requirement


@dataclass(frozen=True)
class Tests:
    """The three guillotine questions, answered."""

    legal: bool
    necessary: bool
    business_friendly: bool

    def suggested_decision(self) -> Decision:
        if not (self.legal and self.necessary):
            return Decision.CANCEL
        if not self.business_friendly:
            return Decision.REVISE
        return Decision.KEEP


def _check(req: Requirement, actor: User, action: Action, allowed: bool,
           seen_version: int | None) -> None:
    if not allowed:
        permissions.log_denied(actor, action.value, req)
        raise PermissionDenied(_l("You may not do this for requirements of area %(area)s.",
                                  area=req.area.code))
    if seen_version is not None and seen_version != req.version:
        raise StaleVersion(req)
    if req.state not in ALLOWED_FROM[action]:
        raise WorkflowError(_l("This requirement is “%(state)s” now, so this action is not "
                               "possible.", state=state_label(req.state)))


def _record(req: Requirement, actor: User, action: Action, to_state: State | None,
            **fields) -> ReviewEvent:
    from_state = req.state
    if to_state is not None:
        req.state = to_state
    req.updated_at = utcnow()
    event = ReviewEvent(requirement=req, actor_id=actor.id, action=action, from_state=from_state,
                        to_state=req.state, version=req.version + 1, **fields)
    db.session.add(event)
    return event


def _clean(text: str | None) -> str:
    return (text or "").strip()


def propose(req: Requirement, actor: User, *, decision: Decision, tests: Tests,
            justification: str, new_wording: str | None = None,
            deviation_reason: str | None = None, seen_version: int | None) -> ReviewEvent:
    """Propose cancel / revise / keep for ``req``, with the tests and a justification.

    :raise PermissionDenied: the actor does not review this area.
    :raise StaleVersion: ``req`` changed since ``seen_version``.
    :raise WorkflowError: wrong state, or a missing or contradictory part of the proposal.
    """
    _check(req, actor, Action.PROPOSE, permissions.can_propose(actor, req), seen_version)
    justification = _clean(justification)
    new_wording = _clean(new_wording) if decision == Decision.REVISE else ""
    deviation_reason = _clean(deviation_reason)
    if not justification:
        raise WorkflowError(_l("A proposal needs a justification."), "justification")
    if len(justification) > MAX_TEXT or len(deviation_reason) > MAX_TEXT:
        raise WorkflowError(_l("The text is too long (at most %(n)d characters).", n=MAX_TEXT))
    if decision == Decision.REVISE:
        if not new_wording:
            raise WorkflowError(_l("A revision needs the proposed new wording."), "new_wording")
        if len(new_wording) > MAX_WORDING:
            raise WorkflowError(_l("The new wording is too long (at most %(n)d characters).",
                                   n=MAX_WORDING), "new_wording")
        if new_wording == req.text.strip():
            raise WorkflowError(_l("The new wording is the same as the current text."),
                                "new_wording")
    if decision != tests.suggested_decision() and not deviation_reason:
        raise WorkflowError(_l("The tests suggest “%(suggested)s”, but you chose “%(chosen)s”. "
                               "Explain why in the field for the reason.",
                               suggested=decision_label(tests.suggested_decision()),
                               chosen=decision_label(decision)), "deviation_reason")
    if decision == tests.suggested_decision():
        deviation_reason = ""

    now = utcnow()
    req.decision = decision
    req.justification = justification
    req.new_wording = new_wording or None
    req.deviation_reason = deviation_reason or None
    req.test_legal, req.test_necessary, req.test_business_friendly = (
        tests.legal, tests.necessary, tests.business_friendly)
    req.proposed_by_id = actor.id
    req.proposed_at = now
    req.decided_by_id = None
    req.decided_at = None
    return _record(req, actor, Action.PROPOSE, State.PROPOSED, decision=decision,
                   text=justification, new_wording=req.new_wording,
                   deviation_reason=req.deviation_reason, test_legal=tests.legal,
                   test_necessary=tests.necessary, test_business_friendly=tests.business_friendly)


def approve(req: Requirement, actor: User, *, comment: str = "",
            seen_version: int | None) -> ReviewEvent:
    """Approve the current proposal: it becomes the final decision (four-eyes principle).

    :raise PermissionDenied: the actor is not this area's lead.
    :raise WorkflowError: the actor made the proposal, or it is not waiting for approval.
    """
    _check(req, actor, Action.APPROVE, permissions.can_decide(actor, req), seen_version)
    if req.proposed_by_id == actor.id:
        permissions.log_denied(actor, "approve-own", req)
        raise PermissionDenied(_l("You cannot approve your own proposal; another lead must."))
    comment = _clean(comment)
    if len(comment) > MAX_TEXT:
        raise WorkflowError(_l("The text is too long (at most %(n)d characters).", n=MAX_TEXT))
    req.decided_by_id = actor.id
    req.decided_at = utcnow()
    return _record(req, actor, Action.APPROVE, State.APPROVED, decision=req.decision,
                   text=comment or None)


def return_(req: Requirement, actor: User, *, comment: str,
            seen_version: int | None) -> ReviewEvent:
    """Send the proposal back to the reviewers with a comment saying what to change.

    :raise PermissionDenied: the actor is not this area's lead.
    :raise WorkflowError: no comment, or nothing waiting for approval.
    """
    _check(req, actor, Action.RETURN, permissions.can_decide(actor, req), seen_version)
    comment = _clean(comment)
    if not comment:
        raise WorkflowError(_l("Say what should change: returning needs a comment."), "comment")
    if len(comment) > MAX_TEXT:
        raise WorkflowError(_l("The text is too long (at most %(n)d characters).", n=MAX_TEXT))
    req.decided_by_id = actor.id
    req.decided_at = utcnow()
    return _record(req, actor, Action.RETURN, State.RETURNED, decision=req.decision, text=comment)


# Labels shared by templates, messages and exports. ---------------------------------------------

# The same English word is a state ("proposed") and an action in the history ("… proposed"),
# which Kazakh and Russian say differently: the message context keeps them apart.
_STATE_LABELS = {
    State.UNREVIEWED: lazy_pgettext("state", "unreviewed"),
    State.PROPOSED: lazy_pgettext("state", "proposed"),
    State.RETURNED: lazy_pgettext("state", "returned"),
    State.APPROVED: lazy_pgettext("state", "approved"),
}
_DECISION_LABELS = {
    Decision.CANCEL: _l("cancel"),
    Decision.REVISE: _l("revise"),
    Decision.KEEP: _l("keep"),
}
_ACTION_LABELS = {
    Action.PROPOSE: lazy_pgettext("history", "proposed"),
    Action.APPROVE: lazy_pgettext("history", "approved"),
    Action.RETURN: lazy_pgettext("history", "returned"),
    Action.REOPEN: lazy_pgettext("history", "reopened"),
    Action.ASSIGN: lazy_pgettext("history", "assigned"),
    Action.UNASSIGN: lazy_pgettext("history", "unassigned"),
    Action.COMMENT: lazy_pgettext("history", "commented"),
}


def _label(table: dict, key: enum.Enum) -> str:
    """Translate once per request: a list page shows the same few labels hundreds of times."""
    if not has_app_context():
        return str(table[key])
    cache = g.setdefault("_labels", {})
    if key not in cache:
        cache[key] = str(table[key])
    return cache[key]


def state_label(state: State | str) -> str:
    return _label(_STATE_LABELS, State(state))


def decision_label(decision: Decision | str | None) -> str:
    return _label(_DECISION_LABELS, Decision(decision)) if decision else ""


def action_past(action: Action | str) -> str:
    return _label(_ACTION_LABELS, Action(action))
