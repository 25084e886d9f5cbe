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
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from review_app import permissions
from review_app.auth.models import AreaMembership, AreaRole, User
from review_app.dashboard import rollups  # noqa: F401  (see below)
from review_app.extensions import db
from review_app.i18n import active_locale
from review_app.notifications import service as notify
from review_app.requirements.models import Area, Decision, Requirement, State
from review_app.reviews.models import Action, IndependentProposal, ReviewEvent
from review_app.scm import compute as scm_compute
from review_app.scm.models import ScmCost, Tariff
from review_app.time import utcnow

# ``rollups`` registers session listeners that add every change made here to the dashboard's
# rollups in the same flush, so the same transaction, as the change and its event.

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

    if req.area.dual_review:
        return _propose_independently(req, actor, decision=decision, tests=tests,
                                      justification=justification, new_wording=new_wording,
                                      deviation_reason=deviation_reason)
    return _set_proposal(req, actor, decision=decision, tests=tests,
                         justification=justification, new_wording=new_wording,
                         deviation_reason=deviation_reason)


def _set_proposal(req: Requirement, actor: User, *, decision: Decision, tests: Tests,
                  justification: str, new_wording: str, deviation_reason: str,
                  proposer_id: int | None = None) -> ReviewEvent:
    """Make this the requirement's current proposal and record it."""
    now = utcnow()
    req.decision = decision
    req.justification = justification
    req.new_wording = new_wording or None
    req.deviation_reason = deviation_reason or None
    req.test_legal, req.test_necessary, req.test_business_friendly = (
        tests.legal, tests.necessary, tests.business_friendly)
    req.proposed_by_id = proposer_id or actor.id
    req.proposed_at = now
    req.decided_by_id = None
    req.decided_at = None
    event = _record(req, actor, Action.PROPOSE, State.PROPOSED, decision=decision,
                    text=justification, new_wording=req.new_wording,
                    deviation_reason=req.deviation_reason, test_legal=tests.legal,
                    test_necessary=tests.necessary,
                    test_business_friendly=tests.business_friendly)
    notify.proposal_waiting(req, actor, who_approves(req))
    return event


def approve(req: Requirement, actor: User, *, comment: str = "",
            seen_version: int | None, chosen_proposal_id: int | None = None) -> ReviewEvent:
    """Approve the current proposal: it becomes the final decision (four-eyes principle).

    Under dual review with disagreeing proposals the lead must say which one they approve
    (``chosen_proposal_id``); it becomes the requirement's decision.

    :raise PermissionDenied: the actor is not this area's lead, or made a proposal in question.
    :raise WorkflowError: not waiting for approval, or a conflict left unresolved.
    """
    _check(req, actor, Action.APPROVE, permissions.can_decide(actor, req), seen_version)
    proposals = independent_proposals(req)
    if req.proposed_by_id == actor.id or any(p.reviewer_id == actor.id for p in proposals):
        permissions.log_denied(actor, "approve-own", req)
        raise PermissionDenied(_l("You cannot approve your own proposal; %(who)s can.",
                                  who=approvers_label(who_approves(req))))
    if chosen_proposal_id is not None or req.conflict:
        chosen = next((p for p in proposals if p.id == chosen_proposal_id), None)
        if chosen is None:
            raise WorkflowError(_l("The two independent proposals disagree: choose the one you "
                                   "approve, or return the requirement."), "chosen_proposal")
        req.decision, req.justification = chosen.decision, chosen.justification
        req.new_wording, req.deviation_reason = chosen.new_wording, chosen.deviation_reason
        req.test_legal, req.test_necessary, req.test_business_friendly = (
            chosen.test_legal, chosen.test_necessary, chosen.test_business_friendly)
        req.proposed_by_id = chosen.reviewer_id
    comment = _clean(comment)
    if len(comment) > MAX_TEXT:
        raise WorkflowError(_l("The text is too long (at most %(n)d characters).", n=MAX_TEXT))
    req.decided_by_id = actor.id
    req.decided_at = utcnow()
    # SCM inputs proposed by someone else are approved with the decision.
    scm_changes = (_apply_scm_proposal(req) if req.scm_proposal is not None
                   and req.scm_proposed_by_id != actor.id else None)
    return _record(req, actor, Action.APPROVE, State.APPROVED, decision=req.decision,
                   text=comment or None, changes=scm_changes)


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
    _next_round(req)
    notify.returned(req, actor, comment)
    return _record(req, actor, Action.RETURN, State.RETURNED, decision=req.decision, text=comment)


def _next_round(req: Requirement) -> None:
    req.review_round += 1
    req.conflict = False


def reopen(req: Requirement, actor: User, *, reason: str,
           seen_version: int | None) -> ReviewEvent:
    """Take an approved decision back to *returned*, saying why; the history keeps both.

    :raise PermissionDenied: not the area's lead nor an admin.
    :raise WorkflowError: not approved, or no reason given.
    """
    _check(req, actor, Action.REOPEN, permissions.can_reopen(actor, req), seen_version)
    reason = _clean(reason)
    if not reason:
        raise WorkflowError(_l("Reopening a decision needs a reason."), "reason")
    if len(reason) > MAX_TEXT:
        raise WorkflowError(_l("The text is too long (at most %(n)d characters).", n=MAX_TEXT),
                            "reason")
    _next_round(req)
    notify.returned(req, actor, reason)
    return _record(req, actor, Action.REOPEN, State.RETURNED, decision=req.decision, text=reason)


# Dual review ---------------------------------------------------------------------------------

def independent_proposals(req: Requirement) -> list[IndependentProposal]:
    """This round's independent proposals (dual review), oldest first."""
    if not req.area.dual_review:
        return []
    return list(db.session.scalars(
        sa.select(IndependentProposal).where(IndependentProposal.requirement_id == req.id,
                                             IndependentProposal.review_round == req.review_round)
        .order_by(IndependentProposal.id)))


def _propose_independently(req: Requirement, actor: User, *, decision: Decision, tests: Tests,
                           justification: str, new_wording: str,
                           deviation_reason: str) -> ReviewEvent:
    """Keep this reviewer's proposal apart; the second one from another reviewer sends both
    to the lead, marked as a conflict when the decisions differ."""
    earlier = independent_proposals(req)
    if any(p.reviewer_id == actor.id for p in earlier):
        raise WorkflowError(_l("You have already made your independent proposal in this round; "
                               "it waits for a second reviewer."))
    db.session.add(IndependentProposal(
        requirement_id=req.id, review_round=req.review_round, reviewer_id=actor.id,
        decision=decision, test_legal=tests.legal, test_necessary=tests.necessary,
        test_business_friendly=tests.business_friendly, justification=justification,
        new_wording=new_wording or None, deviation_reason=deviation_reason or None))
    fields = {"decision": decision, "text": justification, "new_wording": new_wording or None,
              "deviation_reason": deviation_reason or None, "test_legal": tests.legal,
              "test_necessary": tests.necessary,
              "test_business_friendly": tests.business_friendly}
    if not earlier:
        return _record(req, actor, Action.PROPOSE, None, **fields)
    req.conflict = earlier[0].decision != decision
    return _set_proposal(req, actor, decision=decision, tests=tests,
                         justification=justification, new_wording=new_wording,
                         deviation_reason=deviation_reason)


def waiting_for_second_proposal(req: Requirement) -> bool:
    return bool(req.area.dual_review and req.state in ALLOWED_FROM[Action.PROPOSE]
                and independent_proposals(req))


# Assignment and comments ---------------------------------------------------------------------

MAX_COMMENT = 2_000


def _assignable(area_id: int, user: User | None) -> bool:
    return user is None or (user.active and user.area_roles.get(area_id) is not None)


def _assignment_refusal(req: Requirement, actor: User,
                        assignee: User | None) -> WorkflowError | None:
    """Why ``actor`` may not give ``req`` to ``assignee``, or None when they may."""
    if not permissions.can_assign(actor, req.area_id):
        permissions.log_denied(actor, "assign", req)
        return PermissionDenied(_l("You may not do this for requirements of area %(area)s.",
                                   area=req.area.code))
    if not _assignable(req.area_id, assignee):
        return WorkflowError(_l("%(name)s does not work in area %(area)s.",
                                name=assignee.display_name, area=req.area.code))
    if req.state == State.APPROVED:
        return WorkflowError(_l("This requirement is “%(state)s” now, so this action is not "
                                "possible.", state=state_label(req.state)))
    return None


def assign(req: Requirement, actor: User, assignee: User | None) -> bool:
    """Give ``req`` to ``assignee`` (None takes it away). Recorded; returns False (and records
    nothing) when it already was so.

    Assignment does not change the requirement's version: someone writing a proposal is not
    interrupted because the lead reassigned the work meanwhile.

    :raise PermissionDenied: not the area's lead nor an admin.
    :raise WorkflowError: the assignee does not work in this area, or it is decided already.
    """
    if refusal := _assignment_refusal(req, actor, assignee):
        raise refusal
    new_id = assignee.id if assignee else None
    if req.assignee_id == new_id:
        return False
    _record_assignments([req], actor.id, new_id)
    return True


def _record_assignments(reqs: list[Requirement], actor_id: int, assignee_id: int | None) -> None:
    """One UPDATE for all of ``reqs`` and one event each (assignment keeps the version)."""
    now = utcnow()
    for start in range(0, len(reqs), 500):
        chunk = reqs[start:start + 500]
        db.session.execute(sa.update(Requirement)
                           .where(Requirement.id.in_([r.id for r in chunk]))
                           .values(assignee_id=assignee_id)
                           .execution_options(synchronize_session=False))
        db.session.execute(sa.insert(ReviewEvent), [
            {"requirement_id": r.id, "actor_id": actor_id,
             "action": Action.ASSIGN if assignee_id else Action.UNASSIGN,
             "from_state": r.state, "to_state": r.state, "assignee_id": assignee_id,
             "version": r.version, "created_at": now} for r in chunk])
    notify.assigned([r.id for r in reqs], actor_id, assignee_id)
    for req in reqs:
        db.session.expire(req, ["assignee_id", "assignee"])


def take(req: Requirement, actor: User) -> ReviewEvent:
    """A reviewer takes one unassigned requirement of their area for themselves.

    :raise PermissionDenied: the actor does not propose in this area.
    :raise WorkflowError: someone has it already, or it is decided.
    """
    if not permissions.can_claim(actor, req.area_id):
        permissions.log_denied(actor, "take", req)
        raise PermissionDenied(_l("You may not do this for requirements of area %(area)s.",
                                  area=req.area.code))
    if req.state == State.APPROVED:
        raise WorkflowError(_l("This requirement is “%(state)s” now, so this action is not "
                               "possible.", state=state_label(req.state)))
    taken = db.session.execute(
        sa.update(Requirement).where(Requirement.id == req.id, Requirement.assignee_id.is_(None))
        .values(assignee_id=actor.id).execution_options(synchronize_session=False)).rowcount
    if not taken:
        raise WorkflowError(_l("Someone else has already taken this requirement."))
    event = ReviewEvent(requirement_id=req.id, actor_id=actor.id, action=Action.ASSIGN,
                        from_state=req.state, to_state=req.state, assignee_id=actor.id,
                        version=req.version)
    db.session.add(event)
    return event


def claim_next(actor: User) -> Requirement | None:
    """Assign to ``actor`` the next unassigned requirement waiting in their areas.

    Returned requirements come first, then by code. Safe under concurrency: the claim is one
    conditional UPDATE (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a single write on SQLite),
    so two reviewers pressing it at the same moment never get the same requirement.
    """
    area_ids = [a for a in permissions.proposing_area_ids(actor)
                if permissions.can_claim(actor, a)]
    if not area_ids:
        return None
    claimable = (Requirement.area_id.in_(area_ids), Requirement.assignee_id.is_(None),
                 Requirement.state.in_((State.RETURNED, State.UNREVIEWED)))
    next_one = (sa.select(Requirement.id).where(*claimable)
                .order_by(sa.case((Requirement.state == State.RETURNED, 0), else_=1),
                          Requirement.code)
                .limit(1).with_for_update(skip_locked=True).scalar_subquery())
    for _attempt in range(10):
        row = db.session.execute(
            sa.update(Requirement).where(Requirement.id == next_one,
                                         Requirement.assignee_id.is_(None))
            .values(assignee_id=actor.id)
            .returning(Requirement.id, Requirement.state, Requirement.version)
            .execution_options(synchronize_session=False)).first()
        if row is not None:
            db.session.add(ReviewEvent(requirement_id=row.id, actor_id=actor.id,
                                       action=Action.ASSIGN, from_state=row.state,
                                       to_state=row.state, assignee_id=actor.id,
                                       version=row.version))
            return db.session.get(Requirement, row.id, populate_existing=True)
        # Someone took the one we aimed at between our look and our write: look again,
        # unless nothing is left.
        if db.session.scalar(sa.select(Requirement.id).where(*claimable).limit(1)) is None:
            return None
    return None


def comment(req: Requirement, actor: User, text: str) -> ReviewEvent:
    """Add a comment to the requirement's history. Does not change its review data.

    :raise PermissionDenied: the actor cannot see the requirement.
    :raise WorkflowError: empty or too long.
    """
    if not permissions.can_comment(actor, req):
        permissions.log_denied(actor, "comment", req)
        raise PermissionDenied(_l("You may not do this for requirements of area %(area)s.",
                                  area=req.area.code))
    text = _clean(text)
    if not text:
        raise WorkflowError(_l("Write something before sending a comment."), "text")
    if len(text) > MAX_COMMENT:
        raise WorkflowError(_l("A comment can have at most %(n)d characters.", n=MAX_COMMENT),
                            "text")
    event = ReviewEvent(requirement_id=req.id, actor_id=actor.id, action=Action.COMMENT,
                        from_state=req.state, to_state=req.state, text=text,
                        version=req.version)
    db.session.add(event)
    return event


# Many at once ---------------------------------------------------------------------------------

#: The most requirements one bulk action takes; more is refused, not silently cut.
MAX_BULK = 5_000


@dataclass
class BulkOutcome:
    """What a bulk action did: the requirements it changed and the ones it skipped, with why."""

    done: list[Requirement]
    skipped: list[tuple[Requirement, str]]


def decide_many(requirements: list[Requirement], actor: User, *, action: Action, comment: str,
                seen_versions: dict[int, int] | None = None) -> BulkOutcome:
    """Approve or return each requirement with one comment; each gets its own event.

    Items the actor may not decide (their own proposals, changed since seen, no longer
    proposed, another area) are skipped with the reason; the rest go through.

    :raise WorkflowError: too many items, or returning without a comment.
    """
    if len(requirements) > MAX_BULK:
        raise WorkflowError(_l("Select at most %(n)s requirements at a time.", n=MAX_BULK))
    if action == Action.RETURN and not _clean(comment):
        raise WorkflowError(_l("Say what should change: returning needs a comment."), "comment")
    act = approve if action == Action.APPROVE else return_
    outcome = BulkOutcome(done=[], skipped=[])
    for req in requirements:
        seen = (seen_versions or {}).get(req.id)
        try:
            act(req, actor, comment=comment, seen_version=seen)
        except WorkflowError as exc:
            outcome.skipped.append((req, str(exc.message)))
        else:
            outcome.done.append(req)
    return outcome


def propose_many(requirements: list[Requirement], actor: User, *, decision: Decision,
                 tests: Tests, justification: str, deviation_reason: str | None = None,
                 new_wordings: dict[int, str] | None = None,
                 seen_versions: dict[int, int] | None = None) -> BulkOutcome:
    """Propose the same decision, tests and justification for each requirement (a duplicate
    group, a selection); for revise, each its own new wording from ``new_wordings``. Each goes
    through :func:`propose` (permission, version seen, state) and gets its own event; those
    that cannot take it are skipped with the reason.

    :raise WorkflowError: too many items.
    """
    if len(requirements) > MAX_BULK:
        raise WorkflowError(_l("Select at most %(n)s requirements at a time.", n=MAX_BULK))
    outcome = BulkOutcome(done=[], skipped=[])
    for req in requirements:
        try:
            propose(req, actor, decision=decision, tests=tests, justification=justification,
                    new_wording=(new_wordings or {}).get(req.id),
                    deviation_reason=deviation_reason,
                    seen_version=(seen_versions or {}).get(req.id))
        except WorkflowError as exc:
            outcome.skipped.append((req, str(exc.message)))
        else:
            outcome.done.append(req)
    return outcome


def assign_many(requirements: list[Requirement], actor: User,
                assignee: User | None) -> BulkOutcome:
    """Assign (or unassign) each requirement; skipped ones are listed with the reason."""
    if len(requirements) > MAX_BULK:
        raise WorkflowError(_l("Select at most %(n)s requirements at a time.", n=MAX_BULK))
    outcome = BulkOutcome(done=[], skipped=[])
    new_id = assignee.id if assignee else None
    for req in requirements:
        if refusal := _assignment_refusal(req, actor, assignee):
            outcome.skipped.append((req, str(refusal.message)))
        elif req.assignee_id != new_id:
            outcome.done.append(req)
    _record_assignments(outcome.done, actor.id, new_id)
    return outcome


def balance(area: Area, actor: User) -> dict[int, int]:
    """Spread the area's unassigned open requirements over its active reviewers, so that each
    ends with as close to the same number of open assignments as possible.

    Returns ``{reviewer_id: newly assigned}``.

    :raise PermissionDenied: not the area's lead nor an admin.
    :raise WorkflowError: the area has no active reviewers.
    """
    if not permissions.can_assign(actor, area.id):
        permissions.log_denied(actor, "balance", area)
        raise PermissionDenied(_l("You may not do this for requirements of area %(area)s.",
                                  area=area.code))
    open_states = (State.UNREVIEWED, State.RETURNED)
    reviewers = list(db.session.scalars(
        sa.select(User.id).join(AreaMembership, AreaMembership.user_id == User.id)
        .where(AreaMembership.area_id == area.id, AreaMembership.role == AreaRole.REVIEWER,
               User.active).order_by(User.id)))
    if not reviewers:
        raise WorkflowError(_l("Area %(area)s has no active reviewers to give work to.",
                               area=area.code))
    load = dict.fromkeys(reviewers, 0)
    load.update(db.session.execute(
        sa.select(Requirement.assignee_id, sa.func.count())
        .where(Requirement.area_id == area.id, Requirement.state.in_(open_states),
               Requirement.assignee_id.in_(reviewers))
        .group_by(Requirement.assignee_id)).all())
    unassigned = db.session.execute(
        sa.select(Requirement.id, Requirement.state, Requirement.version)
        .where(Requirement.area_id == area.id, Requirement.assignee_id.is_(None),
               Requirement.state.in_(open_states))
        .order_by(Requirement.code)).all()
    given: dict[int, list] = {r: [] for r in reviewers}
    for row in unassigned:
        lightest = min(reviewers, key=lambda r: (load[r], r))
        load[lightest] += 1
        given[lightest].append(row)
    now = utcnow()
    assigned: dict[int, int] = {}
    for reviewer_id, rows in given.items():
        taken: set[int] = set()
        for start in range(0, len(rows), 500):
            # Only rows still unassigned now: someone may have claimed one meanwhile.
            taken.update(db.session.scalars(
                sa.update(Requirement)
                .where(Requirement.id.in_([row.id for row in rows[start:start + 500]]),
                       Requirement.assignee_id.is_(None))
                .values(assignee_id=reviewer_id).returning(Requirement.id)
                .execution_options(synchronize_session=False)))
        events = [{"requirement_id": row.id, "actor_id": actor.id, "action": Action.ASSIGN,
                   "from_state": row.state, "to_state": row.state, "assignee_id": reviewer_id,
                   "version": row.version, "created_at": now} for row in rows if row.id in taken]
        if events:
            db.session.execute(sa.insert(ReviewEvent), events)
            notify.assigned([e["requirement_id"] for e in events], actor.id, reviewer_id)
        assigned[reviewer_id] = len(events)
    return assigned


# Import ---------------------------------------------------------------------------------------

def wording_changed(req: Requirement, actor: User, old_text: str, new_text: str,
                    changes: dict[str, list[Any]] | None = None) -> ReviewEvent:
    """Record that an import replaced the requirement's text, keeping the old text in the event
    (and, in ``changes``, the other fields the same row changed: one event per requirement).

    A decision proposed or approved on the old wording must not silently stand for the new one:
    the requirement goes back to *returned* (a new review round) with its proposal kept, so a
    reviewer re-reviews it starting from what was proposed. An unreviewed requirement only gets
    the event. The import checks the actor's permission and commits.
    """
    req.text = new_text
    fields = {"text": old_text, "new_wording": new_text, "changes": changes or None}
    if req.state == State.UNREVIEWED:
        return _record(req, actor, Action.WORDING_CHANGED, None, **fields)
    req.decided_by_id = None
    req.decided_at = None
    _next_round(req)
    return _record(req, actor, Action.WORDING_CHANGED, State.RETURNED, decision=req.decision,
                   **fields)


def import_changed(req: Requirement, actor: User, changes: dict[str, list[Any]],
                   now: datetime) -> dict[str, Any]:
    """The event recording that an import changed fields of ``req`` other than its text
    (``{column: [old, new]}``), as a row for the import to insert with its chunk's others in
    one statement (one ORM object per row cost the 10,000-row import measurably).

    Call it before the changed requirement is flushed: the event carries the version the
    flush produces. The review state stays: only a new wording reopens a review.
    """
    return {"requirement_id": req.id, "actor_id": actor.id, "action": Action.IMPORT_CHANGED,
            "from_state": req.state, "to_state": req.state, "changes": changes,
            "version": req.version + 1, "created_at": now}


# Standard Cost Model inputs ---------------------------------------------------------------------

#: The computed cost's columns, as history events list them (old → new).
SCM_COST_FIELDS = ("scm_cost_kzt", "scm_cost_low_kzt", "scm_cost_high_kzt")


def tariff_rates() -> dict[str, Decimal]:
    """Every named tariff's hourly rate, by code (a few dozen rows)."""
    return {code: Decimal(rate) for code, rate in
            db.session.execute(sa.select(Tariff.code, Tariff.hourly_kzt))}


def scm_cost(inputs: list | None, businesses: int | None,
             rates: dict[str, Decimal] | None = None) -> scm_compute.Cost | None:
    """The cost computed from stored ``inputs``; None without inputs or without the number of
    businesses affected (the cost is then unknown, not zero)."""
    if not inputs or businesses is None:
        return None
    return scm_compute.compute(scm_compute.load(inputs), businesses,
                               tariff_rates() if rates is None else rates)


def _cost_triple(req: Requirement) -> list[int | None]:
    return [getattr(req, name) for name in SCM_COST_FIELDS]


def set_scm_cost(req: Requirement, rates: dict[str, Decimal] | None = None
                 ) -> dict[str, list[Any]]:
    """Recompute ``req``'s stored SCM cost from its approved inputs; returns what changed
    (``{column: [old, new]}``, empty when nothing did)."""
    old = _cost_triple(req)
    try:
        cost = scm_cost(req.scm_inputs, req.businesses_affected, rates)
    except scm_compute.MissingTariff:
        cost = None  # a tariff gone since: the cost is unknown, and the page says why
    new = [None, None, None] if cost is None else [cost.central, cost.low, cost.high]
    stored = db.session.get(ScmCost, req.id)
    if cost is None:
        if stored is not None:
            db.session.delete(stored)
    elif stored is None:
        db.session.add(ScmCost(requirement_id=req.id, central=cost.central, low=cost.low,
                               high=cost.high))
    else:
        stored.central, stored.low, stored.high = cost.central, cost.low, cost.high
    db.session.expire(req, list(SCM_COST_FIELDS))  # read again from scm_costs when next asked
    return {name: [o, n] for name, o, n in zip(SCM_COST_FIELDS, old, new, strict=True) if o != n}


def _apply_scm_proposal(req: Requirement) -> dict[str, list[Any]]:
    req.scm_inputs = req.scm_proposal
    req.scm_proposal = None
    req.scm_proposed_by_id = None
    return {"scm_inputs": [None, req.scm_inputs], **set_scm_cost(req)}


def propose_scm(req: Requirement, actor: User, *, actions: list[scm_compute.Action],
                seen_version: int | None) -> ReviewEvent:
    """Propose the Standard Cost Model inputs of ``req`` (they replace any proposal waiting);
    a lead of the area approves them, with the decision or on their own.

    :raise PermissionDenied: the actor neither reviews nor leads this area.
    :raise StaleVersion: ``req`` changed since ``seen_version``.
    :raise WorkflowError: no action, too many, or a tariff that does not exist.
    """
    if not permissions.can_propose_scm(actor, req):
        permissions.log_denied(actor, Action.SCM_PROPOSE.value, req)
        raise PermissionDenied(_l("You may not do this for requirements of area %(area)s.",
                                  area=req.area.code))
    if seen_version is not None and seen_version != req.version:
        raise StaleVersion(req)
    if not actions:
        raise WorkflowError(_l("Enter at least one action with its hours."), "actions")
    if len(actions) > scm_compute.MAX_ACTIONS:
        raise WorkflowError(_l("At most %(n)d actions per requirement.",
                               n=scm_compute.MAX_ACTIONS), "actions")
    rates = tariff_rates()
    for action in actions:
        if action.tariff is not None and action.tariff not in rates:
            raise WorkflowError(_l("There is no tariff “%(code)s”.", code=action.tariff),
                                "tariff")
    stored = scm_compute.dump(actions)
    before = req.scm_proposal if req.scm_proposal is not None else req.scm_inputs
    req.scm_proposal = stored
    req.scm_proposed_by_id = actor.id
    return _record(req, actor, Action.SCM_PROPOSE, None, changes={"scm_inputs": [before, stored]})


def approve_scm(req: Requirement, actor: User, *, seen_version: int | None) -> ReviewEvent:
    """Approve the SCM inputs waiting for ``req``: the reports use the cost computed from them.

    :raise PermissionDenied: not a lead of the area, or the actor proposed these inputs.
    :raise StaleVersion: ``req`` changed since ``seen_version``.
    :raise WorkflowError: no SCM inputs are waiting.
    """
    if not permissions.can_approve_scm(actor, req):
        permissions.log_denied(actor, Action.SCM_APPROVE.value, req)
        raise PermissionDenied(_l("You may not do this for requirements of area %(area)s.",
                                  area=req.area.code))
    if req.scm_proposed_by_id == actor.id:
        permissions.log_denied(actor, "scm-approve-own", req)
        raise PermissionDenied(_l("You cannot approve cost inputs you proposed yourself; another "
                                  "lead of the area can."))
    if seen_version is not None and seen_version != req.version:
        raise StaleVersion(req)
    if req.scm_proposal is None:
        raise WorkflowError(_l("No cost inputs are waiting for approval."))
    return _record(req, actor, Action.SCM_APPROVE, None, changes=_apply_scm_proposal(req))


def cost_recomputed(requirement_id: int, state: State, version: int, actor_id: int,
                    changes: dict[str, list[Any]], tariff_code: str,
                    now: datetime) -> dict[str, Any]:
    """The event recording that a tariff change moved a requirement's computed cost, as a row
    for the recomputation to insert with the others in one statement. The version stays: the
    inputs did not change, so nobody's open form is made stale by it."""
    return {"requirement_id": requirement_id, "actor_id": actor_id,
            "action": Action.SCM_RECOMPUTE, "from_state": state, "to_state": state,
            "changes": changes, "text": tariff_code, "version": version, "created_at": now}


# Who approves -----------------------------------------------------------------------------------

def who_approves(req: Requirement, proposer: User | None = None) -> list[User]:
    """The people who can approve ``req``'s current proposal, or the one ``proposer`` is about
    to make: the area's active leads who took no part in it. An empty list means the project
    office (admins) does (see ``permissions.can_decide``), so the form can say so beforehand."""
    if proposer is None:
        proposers = permissions.proposer_ids(req)
    else:
        proposers = {proposer.id, *(p.reviewer_id for p in independent_proposals(req))}
    return permissions.other_leads(req.area_id, proposers)


def approvers_label(approvers: list[User]) -> str:
    """``who_approves`` in words: the leads' names, or the project office."""
    if not approvers:
        return str(_l("the project office (administrators)"))
    return ", ".join(u.display_name for u in approvers)


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
    Action.WORDING_CHANGED: lazy_pgettext("history", "changed the wording"),
    Action.IMPORT_CHANGED: lazy_pgettext("history", "changed the data by import"),
    Action.SCM_PROPOSE: lazy_pgettext("history", "proposed cost inputs"),
    Action.SCM_APPROVE: lazy_pgettext("history", "approved the cost inputs"),
    Action.SCM_RECOMPUTE: lazy_pgettext("history", "recomputed the cost after a tariff change"),
}
#: The fields an import event lists, by import column name.
_FIELD_LABELS = {
    "area_code": _l("Area"),
    "title": _l("Title"),
    "text": _l("Text"),
    "legal_act": _l("Legal act"),
    "legal_act_ref": _l("Act number and date"),
    "article": _l("Article, clause"),
    "issuing_body": _l("Issuing body"),
    "oked": _l("Business activity (OKED)"),
    "annual_cost_kzt": _l("Estimated annual compliance cost"),
    "businesses_affected": _l("Businesses affected"),
    "scm_inputs": _l("Cost inputs (SCM)"),
    "scm_cost_kzt": _l("Computed annual cost"),
    "scm_cost_low_kzt": _l("Computed annual cost, low"),
    "scm_cost_high_kzt": _l("Computed annual cost, high"),
}


def _label(table: dict, key: enum.Enum) -> str:
    """Translate once per request and language: a list page shows the same few labels hundreds
    of times, and an export or a digest in another language (``force_locale``) inside the same
    request gets its own."""
    if not has_app_context():
        return str(table[key])
    cache = g.setdefault("_labels", {})
    at = (str(active_locale()), key)
    if at not in cache:
        cache[at] = str(table[key])
    return cache[at]


def state_label(state: State | str) -> str:
    return _label(_STATE_LABELS, State(state))


def decision_label(decision: Decision | str | None) -> str:
    return _label(_DECISION_LABELS, Decision(decision)) if decision else ""


def action_past(action: Action | str) -> str:
    return _label(_ACTION_LABELS, Action(action))


def field_label(name: str) -> str:
    """An imported field's name in the reader's language (unknown names as they are)."""
    return str(_FIELD_LABELS[name]) if name in _FIELD_LABELS else name
