"""The requirements list and the requirement page: their routes and the page's rendering.

The page is routed and rendered here; ``reviews/routes.py`` holds its POST transitions and
imports the renderer to answer a refused form with the page (never the other way round).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from review_app import permissions
from review_app.errors import render_error
from review_app.extensions import db
from review_app.i18n import current_language
from review_app.justifications import service as justifications
from review_app.requirements import export as exporter
from review_app.requirements import listing
from review_app.requirements.forms import PARAMS as FILTER_PARAMS
from review_app.requirements.forms import parse_filters
from review_app.requirements.models import Decision, Requirement, State
from review_app.requirements.queries import (
    area_people,
    assignable_people,
    bulk_assign_area_ids,
    bulk_assignees,
    hidden_event_ids,
    history,
    issuing_bodies,
    visible_areas,
)
from review_app.reviews import drafts, lists, selection, workflow
from review_app.reviews.forms import (
    AssignForm,
    CommentForm,
    DecisionForm,
    GroupProposalForm,
    ProposalForm,
    ReopenForm,
    ScmApproveForm,
    ScmForm,
)
from review_app.reviews.workflow import MAX_BULK
from review_app.scm import compute as scm_compute
from review_app.scm import panel as scm_panel
from review_app.urls import safe_next_url
from review_app.validation import reports_own_filter_errors

bp = Blueprint("requirements", __name__)


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
    cost_totals = None
    status = 200
    if not filters.errors:
        where = [permissions.visible_area_filter(current_user), *filters.where(current_user.id)]
        try:
            page = listing.fetch_page(db.session, where, filters.sort,
                                      after=request.args.get("after") or None,
                                      before=request.args.get("before") or None,
                                      size=current_app.config["PAGE_SIZE"])
            cost_totals = listing.cost_totals(db.session, where, page,
                                              everything=filters.all_totals)
        except listing.BadCursor:
            filters.errors.append(_("This page link is broken; start again from the first page."))
    if filters.errors:
        status = 400
    assign_area_ids = bulk_assign_area_ids()
    can_bulk_assign = assign_area_ids is None or bool(assign_area_ids)
    # Filtered to one area, the form offers only the people who can take work there.
    assignees = (bulk_assignees(assign_area_ids, filters.area_id)
                 if can_bulk_assign and page and page.rows else [])
    # The rows the person may propose on get a tick for "Propose one decision for the ticked";
    # managers and observers, who propose nowhere, see the list as before.
    # ``proposing_area_ids`` is ``can_propose`` for a whole page at once (asking per row
    # rebuilt the person's memberships 50 times).
    proposing_areas = permissions.proposing_area_ids(current_user)
    open_states = workflow.ALLOWED_FROM[workflow.Action.PROPOSE]
    proposable = {r.id for r in page.rows if r.area_id in proposing_areas
                  and r.state in open_states} if page and proposing_areas else set()
    return render_template(
        "requirements/index.html", page=page, filters=filters, areas=areas, people=people,
        can_propose=bool(proposable), proposable=proposable, proposing_areas=proposing_areas,
        bodies=issuing_bodies(area_ids), states=list(State), decisions=list(Decision),
        sorts=listing.SORTS, args=request.args, can_bulk_assign=can_bulk_assign,
        assignees=assignees, max_bulk=MAX_BULK, cost_totals=cost_totals,
        totals_up_to=listing.totals_up_to(),
    ), status


# One proposal for the rows ticked on the list ------------------------------------------------

def _list_url(text: str | None) -> str:
    """Back to the list the ticks came from, filters and page kept: only the list's own
    relative address is accepted (see ``urls.safe_next_url``), anything else is its first page."""
    index_url = url_for("requirements.index")
    target = safe_next_url(text)
    return target if target and urlsplit(target).path == index_url else index_url


def _ticked() -> tuple[list[Requirement], dict[int, int]]:
    """The requirements ticked on the list (``item`` = ``id:version``), in code order, and the
    version each was ticked at.

    :raise 403: the person proposes nowhere, or an id is unknown or outside the areas where
        they propose (a forged request: refused whole, and audited).
    :raise selection.Refused: 400 malformed, 422 too many or none.
    """
    areas = permissions.proposing_area_ids(current_user)
    permissions.require(bool(areas), current_user, "propose-selection", "requirements")
    values = request.form if request.method == "POST" else request.args
    if values.get("scope") == "filter":
        raise selection.Refused(422, _(
            "One proposal is made for ticked requirements only: untick “Apply to all "
            "matching requirements” and tick the ones to propose for."))
    seen = selection.parse_items(values.getlist("item"))
    ids = list(seen)
    rows: list[Requirement] = []
    for start in range(0, len(ids), 900):
        rows += db.session.scalars(sa.select(Requirement).where(
            Requirement.id.in_(ids[start:start + 900])).options(so.joinedload(Requirement.area)))
    by_id = {r.id: r for r in rows}
    forged = next((i for i in ids if i not in by_id or by_id[i].area_id not in areas), None)
    if forged is not None:
        permissions.log_denied(current_user, "propose-selection",
                               by_id.get(forged) or "requirements")
        abort(403)
    return sorted(rows, key=lambda r: r.code), seen


def _render_selection(rows: list[Requirement], seen: dict[int, int], *,
                      form: GroupProposalForm | None = None, error: str | None = None,
                      status: int = 200):
    return render_template(
        "requirements/selection.html", rows=rows, seen=seen,
        form=form or GroupProposalForm(formdata=None), error=error,
        back=_list_url(request.values.get("back")),
        templates=justifications.choices_in({r.area_id for r in rows})), status


@bp.route("/requirements/selection", methods=["GET", "POST"])
@login_required
def selection_page():
    """The requirements ticked on the list, with one decision form for all of them (reached
    by the list's "Propose one decision" button; GET takes the same ``item`` parameters)."""
    try:
        rows, seen = _ticked()
    except selection.Refused as refusal:
        return render_error(refusal.status, refusal.message)
    return _render_selection(rows, seen)


@bp.post("/requirements/selection/propose")
@login_required
def propose_selection():
    """One proposal for each ticked requirement, through the workflow: each its own event,
    its version checked; those that cannot take it are listed with the reason."""
    form = GroupProposalForm()
    try:
        rows, seen = _ticked()
    except selection.Refused as refusal:
        # Nothing to list (every tick removed, or a malformed one), but what was typed stays.
        return _render_selection([], {}, form=form, status=refusal.status,
                                 error=refusal.message)
    if not form.validate():
        return _render_selection(rows, seen, form=form, status=422,
                                 error=_("Nothing was saved: check the marked fields."))
    try:
        return selection.propose(rows, form, seen, back=_list_url(request.form.get("back")))
    except selection.Refused as refusal:
        return _render_selection(rows, seen, form=form, status=refusal.status,
                                 error=refusal.message)


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


@bp.get("/requirements/<int:requirement_id>")
@login_required
def detail(requirement_id: int):
    """The requirement page: its text, history, and the forms the current user may use."""
    return render_requirement(load_requirement(requirement_id))


@bp.get("/requirements/export.<any(csv, xlsx):fmt>")
@login_required
@reports_own_filter_errors(*FILTER_PARAMS)
def export(fmt: str):
    """The list as filtered (same query string as the list page), as CSV or XLSX."""
    area_ids = permissions.visible_area_ids(current_user)
    filters = parse_filters(request.args, visible_areas(), assignable_people(area_ids))
    if filters.errors:
        return render_error(400, " ".join(filters.errors))
    where = [permissions.visible_area_filter(current_user), *filters.where(current_user.id)]
    # Audited by the exporter: when it starts, and again when it is complete or has failed.
    return exporter.response(fmt, where, filters.sort, current_language(), actor=current_user,
                             filters={k: v for k, v in request.args.items()
                                      if k not in ("after", "before")})


# The requirement page ----------------------------------------------------------------------------

def _answer(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def render_requirement(req: Requirement, *, proposal_form: ProposalForm | None = None,
                       decision_form: DecisionForm | None = None, error: str | None = None,
                       unsaved: str | None = None, status: int = 200,
                       scm_form: ScmForm | None = None,
                       template: str = "requirements/detail.html",
                       extra: dict | None = None):
    """The requirement page, with whichever forms the current user may use on it.

    Opened after a refused form (``?draft=``), it shows the reason and the form as typed.
    Review mode renders the same forms, drafts and refusals in its own ``template``, with
    its ``extra`` context (its place in the list).
    """
    can_propose = (permissions.can_propose(current_user, req)
                   and req.state in workflow.ALLOWED_FROM[workflow.Action.PROPOSE])
    can_decide = (permissions.can_decide(current_user, req)
                  and req.state in workflow.ALLOWED_FROM[workflow.Action.APPROVE])
    if error is None and request.method == "GET" and (draft := drafts.load(
            request.args.get("draft"), current_user.id, f"requirement:{req.id}")):
        error, unsaved = draft.get("error"), draft.get("unsaved")
        kept = _form_from_draft(draft, can_propose=can_propose, can_decide=can_decide)
        if isinstance(kept, ProposalForm):
            proposal_form = kept
        elif isinstance(kept, DecisionForm):
            decision_form = kept
        elif kept:  # the form is gone (someone acted meanwhile): at least the text stays
            unsaved = kept
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
    own_proposal = (req.proposed_by_id == current_user.id
                    or any(p.reviewer_id == current_user.id for p in proposals))
    # Say beforehand who will approve (the issue: a lead's proposal in a one-lead area got
    # stuck, and nothing warned them).
    approvers = None
    if can_propose and proposal_form is not None:
        approvers = workflow.approvers_label(workflow.who_approves(req, current_user))
    elif can_decide and own_proposal:
        approvers = workflow.approvers_label(workflow.who_approves(req))
    cost = scm_panel.panel(req)
    can_propose_scm = permissions.can_propose_scm(current_user, req)
    if can_propose_scm and scm_form is None:
        scm_form = _scm_form(req, cost)
    if scm_form is not None:
        _tariff_choices(scm_form, cost.tariffs)
    return render_template(
        template, req=req, events=events, cost=cost,
        scm_fmt=scm_panel.Format(current_language()),
        scm_form=scm_form if can_propose_scm else None,
        scm_approve_form=(ScmApproveForm(formdata=None, version=req.version)
                          if req.scm_proposal is not None
                          and permissions.can_approve_scm(current_user, req) else None),
        hidden_events=hidden_event_ids(req, events, proposals, current_user),
        proposals=proposals if req.state == State.PROPOSED else [],
        my_independent_proposal=mine if req.state != State.PROPOSED else None,
        proposal_form=proposal_form if can_propose else None,
        decision_form=decision_form if can_decide else None,
        own_proposal=own_proposal, approvers=approvers, field_label=workflow.field_label,
        leads_area=req.area_id in permissions.lead_area_ids(current_user),
        reopen_form=(ReopenForm(formdata=None, version=req.version)
                     if permissions.can_reopen(current_user, req) and req.state == State.APPROVED
                     else None),
        comment_form=CommentForm(formdata=None) if permissions.can_comment(current_user, req)
        else None,
        assign_form=AssignForm(formdata=None) if can_assign else None,
        assignable=area_people(req.area_id) if can_assign else [],
        can_take=(req.assignee_id is None and req.state != State.APPROVED
                  and permissions.can_claim(current_user, req.area_id)),
        templates=justifications.choices(req) if can_propose and proposal_form else [],
        error=error, unsaved=unsaved, origin=lists.from_request(), **(extra or {}),
    ), status


def _scm_form(req: Requirement, cost: scm_panel.Panel) -> ScmForm:
    """The cost inputs form, filled with the waiting proposal or else the approved inputs, and
    one empty row for another action."""
    fmt = scm_panel.Format(current_language())
    source = cost.proposal or cost.approved
    rows = []
    for action in source.actions if source else []:
        rows.append({"name": action.name, "hours": fmt.text(action.hours),
                     "tariff": action.tariff or "",
                     "hourly": fmt.text(action.hourly) if action.hourly else "",
                     "outside": fmt.text(action.outside), "per_year": fmt.text(action.per_year),
                     "share": fmt.text(action.share, percent=True)})
    if len(rows) < scm_compute.MAX_ACTIONS:
        rows.append({})
    return ScmForm(formdata=None, data={"version": req.version, "actions": rows})


def _tariff_choices(form: ScmForm, tariffs: dict) -> None:
    choices = [("", _("— own hourly tariff —")),
               *((code, f"{code}: {t.name}") for code, t in tariffs.items())]
    for row in form.actions:
        row.tariff.choices = choices


def _form_from_draft(draft: dict, *, can_propose: bool, can_decide: bool,
                     ) -> ProposalForm | DecisionForm | str | None:
    """The refused form rebuilt from its draft, its fields marked as they were; only the
    typed text when the person can no longer use that form."""
    data = draft.get("data") or {}
    kinds = {"proposal": (ProposalForm, can_propose), "decision": (DecisionForm, can_decide)}
    if draft.get("form") not in kinds:
        return None
    form_class, usable = kinds[draft["form"]]
    if not usable:
        return (data.get("justification") or data.get("comment") or "").strip() or None
    form = form_class(formdata=MultiDict(data))
    for name, messages in (draft.get("errors") or {}).items():
        if name in form:
            form[name].errors = list(messages)
    return form
