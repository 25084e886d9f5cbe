"""``/api/v1``: the requirements, their workflow and the areas, as JSON for scripts.

Thin like the pages: each view takes the token's owner as the current user, parses with the
list's own filter form or a pydantic body, calls the same ``permissions`` and ``workflow``
functions the pages call, commits once, and answers JSON. A refusal is RFC 9457 problem
details carrying the pages' message, in the ``Accept-Language`` language.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from review_app import permissions
from review_app.api import schemas, tokens
from review_app.api.base import (
    Problem,
    body,
    deny,
    etag_of,
    operation,
    require_token,
    seen_version,
)
from review_app.api.blueprint import bp
from review_app.api.models import ApiToken
from review_app.api.progress import area_items
from review_app.auth.models import User
from review_app.extensions import db
from review_app.requirements import listing
from review_app.requirements.forms import parse_filters
from review_app.requirements.models import Area, Decision, Requirement, State
from review_app.requirements.queries import (
    areas as areas_by_code,
)
from review_app.requirements.queries import (
    assignable_people,
    hidden_event_ids,
    history,
    visible_areas,
)
from review_app.reviews import workflow
from review_app.reviews.models import Action
from review_app.validation import parse_int

MAX_LIMIT = 200
LIST_QUERY = [
    {"name": "area", "description": "Area code, e.g. 01", "schema": {"type": "string"}},
    {"name": "state", "schema": {"enum": [s.value for s in State]}},
    {"name": "decision", "schema": {"enum": [d.value for d in Decision]}},
    {"name": "assignee", "description": "me, none, or a person's id",
     "schema": {"type": "string"}},
    {"name": "body", "description": "Issuing body, exactly", "schema": {"type": "string"}},
    {"name": "q", "description": "Search in code, title and text",
     "schema": {"type": "string", "maxLength": listing.MAX_QUERY}},
    {"name": "sort", "schema": {"enum": list(listing.SORTS)}},
    {"name": "after", "description": "next_cursor of the page before",
     "schema": {"type": "string"}},
    {"name": "before", "description": "prev_cursor of the page after",
     "schema": {"type": "string"}},
    {"name": "limit", "description": f"Rows per page, 1..{MAX_LIMIT} (default 50)",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
]


# Presenting ------------------------------------------------------------------------

def _person(user: User | None) -> dict | None:
    return None if user is None else {"id": user.id, "name": user.display_name}


def _summary(req: Requirement, people: dict[int, User]) -> dict:
    return {"id": req.id, "code": req.code, "area": req.area.code, "title": req.title,
            "issuing_body": req.issuing_body, "annual_cost_kzt": req.annual_cost_kzt,
            "state": req.state.value, "decision": req.decision.value if req.decision else None,
            "assignee": _person(people.get(req.assignee_id)) if req.assignee_id else None,
            "version": req.version, "updated_at": req.updated_at}


def present(req: Requirement) -> dict:
    """The requirement as the API shows it, its history hidden as the page hides it."""
    events = history(req)
    hidden = hidden_event_ids(req, events, workflow.independent_proposals(req), current_user)
    return schemas.RequirementOut(
        id=req.id, code=req.code, area=req.area.code, title=req.title, text=req.text,
        legal_act=req.legal_act, legal_act_ref=req.legal_act_ref, article=req.article,
        issuing_body=req.issuing_body, oked=req.oked, annual_cost_kzt=req.annual_cost_kzt,
        businesses_affected=req.businesses_affected, state=req.state.value,
        decision=req.decision.value if req.decision else None, legal=req.test_legal,
        necessary=req.test_necessary, business_friendly=req.test_business_friendly,
        justification=req.justification, deviation_reason=req.deviation_reason,
        new_wording=req.new_wording, proposed_by=_person(req.proposed_by),
        proposed_at=req.proposed_at, decided_by=_person(req.decided_by),
        decided_at=req.decided_at, assignee=_person(req.assignee), version=req.version,
        updated_at=req.updated_at,
        history=[schemas.EventOut(
            id=e.id, action=e.action.value, actor=_person(e.actor),
            from_state=e.from_state.value if e.from_state else None,
            to_state=e.to_state.value if e.to_state else None,
            decision=e.decision.value if e.decision else None, text=e.text,
            new_wording=e.new_wording, assignee=_person(e.assignee), created_at=e.created_at)
            for e in events if e.id not in hidden],
    ).model_dump(mode="json")


def _requirement_response(req: Requirement, status: int = 200):
    response = jsonify(present(req))
    response.status_code = status
    response.set_etag(etag_of(req))
    return response


# Who am I ------------------------------------------------------------------------

@bp.get("/me")
@operation(summary="The token's owner: role and areas", response=schemas.MeOut, tag="tokens")
def me():
    token = require_token()
    areas = {a.id: a.code for a in areas_by_code(set(current_user.area_roles))}
    return jsonify(schemas.MeOut(
        id=current_user.id, email=current_user.email, name=current_user.display_name,
        role=current_user.global_role.value if current_user.global_role else None,
        areas={areas[a]: role.value for a, role in current_user.area_roles.items()},
        token_scope=token.scope.value).model_dump(mode="json"))


# Requirements ------------------------------------------------------------------------

@bp.get("/requirements")
@operation(summary="Requirements, filtered, searched and sorted as on the list page, "
                   "in keyset pages", response=schemas.RequirementListOut, query=LIST_QUERY,
           problems=(400,))
def list_requirements():
    require_token()
    limit = 50
    if raw := request.args.get("limit"):
        limit = parse_int(raw, minimum=1, maximum=MAX_LIMIT)
        if limit is None:
            raise Problem(400, _("“limit” must be a whole number from 1 to %(n)d.", n=MAX_LIMIT))
    area_ids = permissions.visible_area_ids(current_user)
    # The people the assignee filter may name: only asked for when it names one (the whole
    # list of people costs the other requests several milliseconds each).
    people = assignable_people(area_ids) if parse_int(request.args.get("assignee")) else []
    filters = parse_filters(request.args, visible_areas(), people)
    if filters.errors:
        raise Problem(400, " ".join(filters.errors))
    where = [permissions.visible_area_filter(current_user), *filters.where(current_user.id)]
    try:
        page = listing.fetch_page(db.session, where, filters.sort,
                                  after=request.args.get("after") or None,
                                  before=request.args.get("before") or None, size=limit)
    except listing.BadCursor:
        raise Problem(400, _("This page link is broken; start again from the first page.")) \
            from None
    ids = {r.assignee_id for r in page.rows if r.assignee_id}
    people = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} \
        if ids else {}
    return jsonify(schemas.RequirementListOut(
        items=[_summary(r, people) for r in page.rows], total=page.total,
        next_cursor=page.next_cursor, prev_cursor=page.prev_cursor).model_dump(mode="json"))


def load(requirement_id: int) -> Requirement:
    """:raise Problem 404: no such requirement. 403: another area's (logged)."""
    req = db.session.get(Requirement, requirement_id, options=[
        so.joinedload(Requirement.assignee), so.joinedload(Requirement.proposed_by),
        so.joinedload(Requirement.decided_by)])
    if req is None:
        raise Problem(404)
    if not permissions.can_view(current_user, req):
        raise deny("view", req)
    return req


@bp.get("/requirements/<int:requirement_id>")
@operation(summary="One requirement with its history; ETag is its version",
           response=schemas.RequirementOut, etag=True, problems=(403, 404))
def get_requirement(requirement_id: int):
    require_token()
    req = load(requirement_id)
    response = _requirement_response(req)
    return response.make_conditional(request)


def _transition(requirement_id: int, allowed, action: str, change) -> object:
    """Load, check the permission (403), the version seen (428/412), run ``change`` through
    the workflow (403/409/422 with its message), commit once; answer the requirement.
    The view has checked the token (401 comes before anything else) and parsed the body."""
    req = load(requirement_id)
    if not allowed(current_user, req):
        raise deny(action, req)
    seen = seen_version(req, present)
    try:
        change(req, seen)
        db.session.commit()
    except workflow.StaleVersion:
        db.session.rollback()
        req = load(requirement_id)
        raise Problem(412, current=present(req), headers={"ETag": f'"{etag_of(req)}"'}) from None
    except StaleDataError:
        db.session.rollback()
        req = load(requirement_id)
        raise Problem(412, current=present(req), headers={"ETag": f'"{etag_of(req)}"'}) from None
    except workflow.WorkflowError as exc:
        errors = [{"field": exc.field, "message": str(exc.message)}] if exc.field else None
        extra = {"errors": errors} if errors else {}
        raise Problem(exc.status_code, exc.message, **extra) from None
    return _requirement_response(db.session.get(Requirement, requirement_id,
                                                populate_existing=True))


WRITE_PROBLEMS = (403, 404, 412, 422, 428)


@bp.post("/requirements/<int:requirement_id>/proposal")
@operation(summary="Propose cancel, revise or keep (reviewers and leads of the area)",
           body=schemas.ProposalIn, response=schemas.RequirementOut, scope="write",
           if_match=True, etag=True, problems=WRITE_PROBLEMS)
def propose(requirement_id: int):
    require_token("write")
    data = body(schemas.ProposalIn)

    def change(req, seen):
        workflow.propose(req, current_user, decision=Decision(data.decision),
                         tests=workflow.Tests(legal=data.legal, necessary=data.necessary,
                                              business_friendly=data.business_friendly),
                         justification=data.justification, new_wording=data.new_wording,
                         deviation_reason=data.deviation_reason, seen_version=seen)
    return _transition(requirement_id, permissions.can_propose, "propose", change)


@bp.post("/requirements/<int:requirement_id>/approval")
@operation(summary="Approve the current proposal (the area's lead; never one's own)",
           body=schemas.ApprovalIn, response=schemas.RequirementOut, scope="write",
           if_match=True, etag=True, problems=WRITE_PROBLEMS)
def approve(requirement_id: int):
    require_token("write")
    data = body(schemas.ApprovalIn)

    def change(req, seen):
        workflow.approve(req, current_user, comment=data.comment, seen_version=seen,
                         chosen_proposal_id=data.chosen_proposal_id)
    return _transition(requirement_id, permissions.can_decide, "decide", change)


@bp.post("/requirements/<int:requirement_id>/return")
@operation(summary="Return the proposal to the reviewers with a comment (the area's lead)",
           body=schemas.CommentIn, response=schemas.RequirementOut, scope="write",
           if_match=True, etag=True, problems=WRITE_PROBLEMS)
def return_(requirement_id: int):
    require_token("write")
    data = body(schemas.CommentIn)

    def change(req, seen):
        workflow.return_(req, current_user, comment=data.text, seen_version=seen)
    return _transition(requirement_id, permissions.can_decide, "decide", change)


@bp.post("/requirements/<int:requirement_id>/reopen")
@operation(summary="Reopen an approved decision with a reason (the area's lead, admins)",
           body=schemas.ReasonIn, response=schemas.RequirementOut, scope="write",
           if_match=True, etag=True, problems=WRITE_PROBLEMS)
def reopen(requirement_id: int):
    require_token("write")
    data = body(schemas.ReasonIn)

    def change(req, seen):
        workflow.reopen(req, current_user, reason=data.reason, seen_version=seen)
    return _transition(requirement_id, permissions.can_reopen, "reopen", change)


def _workflow_problem(exc: workflow.WorkflowError) -> Problem:
    errors = [{"field": exc.field, "message": str(exc.message)}] if exc.field else None
    return Problem(exc.status_code, exc.message, **({"errors": errors} if errors else {}))


@bp.post("/requirements/<int:requirement_id>/comments")
@operation(summary="Comment in the requirement's history (anyone who sees it)",
           body=schemas.CommentIn, response=schemas.RequirementOut, status=201, scope="write",
           etag=True, problems=(403, 404, 422))
def add_comment(requirement_id: int):
    require_token("write")
    data = body(schemas.CommentIn)
    req = load(requirement_id)
    try:
        workflow.comment(req, current_user, data.text)
    except workflow.WorkflowError as exc:
        raise _workflow_problem(exc) from None
    db.session.commit()
    return _requirement_response(req, 201)


@bp.put("/requirements/<int:requirement_id>/assignee")
@operation(summary="Take it (\"me\"), give it to a person of the area (their id), or "
                   "unassign (null)", body=schemas.AssigneeIn, response=schemas.RequirementOut,
           scope="write", etag=True, problems=(403, 404, 422))
def put_assignee(requirement_id: int):
    require_token("write")
    data = body(schemas.AssigneeIn)
    req = load(requirement_id)
    try:
        if data.assignee == "me":
            workflow.take(req, current_user)
        else:
            assignee = None
            if data.assignee is not None:
                assignee = (db.session.get(User, data.assignee)
                            if 1 <= data.assignee <= 2**31 - 1 else None)
                if assignee is None:
                    raise workflow.WorkflowError(_("Unknown person “%(value)s”.",
                                                   value=str(data.assignee)[:20]), "assignee")
            workflow.assign(req, current_user, assignee)
    except workflow.PermissionDenied as exc:
        raise Problem(403, exc.message) from None
    except workflow.WorkflowError as exc:
        raise _workflow_problem(exc) from None
    db.session.commit()
    return _requirement_response(db.session.get(Requirement, requirement_id,
                                                populate_existing=True))


@bp.post("/claim-next")
@operation(summary="Take the next unassigned requirement of my areas (returned ones first)",
           response=schemas.ClaimOut, scope="write", problems=(403,))
def claim_next():
    require_token("write")
    if not any(permissions.can_claim(current_user, a)
               for a in permissions.proposing_area_ids(current_user)):
        raise deny("claim", "my-work")
    req = workflow.claim_next(current_user)
    db.session.commit()
    return jsonify(schemas.ClaimOut(
        requirement=present(req) if req is not None else None).model_dump(mode="json"))


def _bulk(action: Action):
    require_token("write")
    if not permissions.can_use_queue(current_user):
        raise deny("bulk-decide", "queue")
    data = body(schemas.BulkIn)
    seen = {item.id: item.version for item in data.items}
    rows = list(db.session.scalars(sa.select(Requirement).where(Requirement.id.in_(seen))
                                   .order_by(Requirement.code)))
    unknown = set(seen) - {r.id for r in rows}
    if unknown:
        raise Problem(422, _("Unknown requirement “%(value)s”.", value=str(min(unknown))))
    try:
        outcome = workflow.decide_many(rows, current_user, action=action, comment=data.comment,
                                       seen_versions=seen)
    except workflow.WorkflowError as exc:
        raise _workflow_problem(exc) from None
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Problem(409) from None
    return jsonify(schemas.BulkOut(
        done=[r.id for r in outcome.done],
        skipped=[{"id": r.id, "code": r.code, "reason": reason}
                 for r, reason in outcome.skipped]).model_dump(mode="json"))


@bp.post("/bulk/approve")
@operation(summary="Approve many proposals with one comment; each gets its own event, and "
                   "the ones that cannot be approved are listed with the reason",
           body=schemas.BulkIn, response=schemas.BulkOut, scope="write", problems=(403, 422))
def bulk_approve():
    return _bulk(Action.APPROVE)


@bp.post("/bulk/return")
@operation(summary="Return many proposals with one comment (required)",
           body=schemas.BulkIn, response=schemas.BulkOut, scope="write", problems=(403, 422))
def bulk_return():
    return _bulk(Action.RETURN)


# Areas ------------------------------------------------------------------------

@bp.get("/areas")
@operation(summary="The areas I may see, with their progress where I may follow it",
           response=schemas.AreaListOut, tag="areas")
def list_areas():
    require_token()
    return jsonify(schemas.AreaListOut(items=area_items(visible_areas())).model_dump(mode="json"))


@bp.get("/areas/<code>")
@operation(summary="One area and its progress", response=schemas.AreaOut, tag="areas",
           problems=(403, 404))
def get_area(code: str):
    require_token()
    area = db.session.scalar(sa.select(Area).where(Area.code == code[:8]))
    if area is None:
        raise Problem(404)
    if not permissions.can_view_area(current_user, area.id):
        raise deny("view-area", area)
    return jsonify(schemas.AreaOut(**area_items([area])[0]).model_dump(mode="json"))


# Tokens ------------------------------------------------------------------------

def _token(t: ApiToken) -> dict:
    return {"id": t.id, "name": t.name, "scope": t.scope.value, "prefix": t.prefix,
            "created_at": t.created_at, "expires_at": t.expires_at,
            "last_used_at": t.last_used_at, "revoked_at": t.revoked_at}


@bp.get("/tokens")
@operation(summary="My tokens (never the tokens themselves)", response=schemas.TokenListOut,
           tag="tokens")
def list_tokens():
    require_token()
    return jsonify(schemas.TokenListOut(
        items=[_token(t) for t in tokens.owned_by(current_user)]).model_dump(mode="json"))


@bp.post("/tokens")
@operation(summary="Create a token: the response shows it this once", body=schemas.TokenIn,
           response=schemas.NewTokenOut, status=201, scope="write", tag="tokens",
           problems=(422,))
def create_token():
    require_token("write")
    data = body(schemas.TokenIn)
    try:
        token, secret = tokens.create(current_user, name=data.name, scope=data.scope,
                                      days=data.expires_in_days)
    except tokens.TokenError as exc:
        raise Problem(422, exc.message, errors=[{"field": exc.field or "body",
                                                 "message": str(exc.message)}]) from None
    db.session.commit()
    response = jsonify(schemas.NewTokenOut(**_token(token), token=secret).model_dump(mode="json"))
    response.status_code = 201
    return response


@bp.delete("/tokens/<int:token_id>")
@operation(summary="Revoke one of my tokens (admins: anyone's)", status=204, scope="write",
           tag="tokens", problems=(403, 404))
def revoke_token(token_id: int):
    require_token("write")
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise Problem(404)
    if not tokens.can_revoke(current_user, token):
        raise deny("revoke-token", token)
    tokens.revoke(current_user, token)
    db.session.commit()
    return "", 204

