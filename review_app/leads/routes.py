"""The lead's queue, bulk decisions and assignment; area progress; a reviewer's own work.

Thin views: they parse the request, call the workflow module, commit once.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from review_app import keyset, permissions
from review_app.admin import service as admin_service  # the one writer of area settings
from review_app.auth.models import AreaMembership, AreaRole, User
from review_app.dashboard import deadlines
from review_app.errors import render_error
from review_app.extensions import db
from review_app.leads import stats
from review_app.requirements import listing, queries
from review_app.requirements.forms import PARAMS as FILTER_PARAMS
from review_app.requirements.forms import parse_filters
from review_app.requirements.models import Area, Decision, Requirement, State
from review_app.requirements.queries import (
    assignable_people,
    bulk_assign_area_ids,
    issuing_bodies,
)
from review_app.reviews import bulk_results, drafts, lists, workflow
from review_app.reviews.models import Action, IndependentProposal, ReviewEvent
from review_app.scm import costs as scm_costs
from review_app.time import utcnow
from review_app.validation import parse_id, parse_int, reports_own_filter_errors

bp = Blueprint("leads", __name__)

#: Filter fields carried from the list or queue into a bulk action on "all matching".
FILTER_FIELDS = ("area", "state", "decision", "assignee", "body", "q")


# The lead's queue ----------------------------------------------------------------------------

@bp.get("/queue")
@login_required
@reports_own_filter_errors(*FILTER_PARAMS)
def queue():
    """Proposals waiting for this lead, oldest first, with what is needed to decide them.

    An admin's queue holds the proposals no lead can decide (see ``permissions.can_decide``).
    """
    permissions.require(permissions.can_use_queue(current_user), current_user, "queue",
                        "queue")
    scope = queue_area_ids()
    areas = queries.areas(scope)
    people = assignable_people(scope)
    filters = parse_filters(request.args, areas, people)
    page, status = None, 200
    if not filters.errors:
        where = [permissions.decidable_filter(current_user), Requirement.state == State.PROPOSED,
                 *filters.where(current_user.id)]
        try:
            page = listing.fetch_page(db.session, where, "waiting",
                                      after=request.args.get("after") or None,
                                      before=request.args.get("before") or None,
                                      size=current_app.config["PAGE_SIZE"], whole_rows=True)
        except listing.BadCursor:
            filters.errors.append(_("This page link is broken; start again from the first page."))
    if filters.errors:
        status = 400
    proposals: dict[int, list[IndependentProposal]] = {}
    if page and page.rows:
        rounds = {r.id: r.review_round for r in page.rows if r.area.dual_review}
        if rounds:
            for p in db.session.scalars(sa.select(IndependentProposal).where(
                    IndependentProposal.requirement_id.in_(rounds)).order_by(
                    IndependentProposal.id)):
                if p.review_round == rounds[p.requirement_id]:
                    proposals.setdefault(p.requirement_id, []).append(p)
    return render_template("leads/queue.html", page=page, filters=filters, areas=areas,
                           people=people, bodies=issuing_bodies(scope),
                           decisions=list(Decision), args=request.args, proposals=proposals,
                           approvers=_approvers_of_own(page.rows if page else [], proposals),
                           form=FlaskForm(), max_bulk=workflow.MAX_BULK,
                           late_before=deadlines.late_before(), now=utcnow()), status


def queue_area_ids() -> set[int] | None:
    """The areas the queue may hold: the ones the user leads; every area for an admin (the
    proposals there that no lead can decide)."""
    return None if current_user.is_admin else permissions.lead_area_ids(current_user)


def _approvers_of_own(rows: list[Requirement], proposals: dict[int, list[IndependentProposal]],
                      ) -> dict[int, str]:
    """For each of the user's own proposals on the page, who can approve it, in words.
    One query for the page's areas (``workflow.who_approves`` asks per requirement)."""
    own = [r for r in rows if r.proposed_by_id == current_user.id
           or any(p.reviewer_id == current_user.id for p in proposals.get(r.id, []))]
    if not own:
        return {}
    leads: dict[int, list[User]] = {}
    for area_id, user in db.session.execute(
            sa.select(AreaMembership.area_id, User)
            .join(User, User.id == AreaMembership.user_id)
            .where(AreaMembership.area_id.in_({r.area_id for r in own}),
                   AreaMembership.role == AreaRole.LEAD, User.active)
            .order_by(User.display_name)):
        leads.setdefault(area_id, []).append(user)
    result = {}
    for r in own:
        took_part = {r.proposed_by_id, *(p.reviewer_id for p in proposals.get(r.id, []))}
        result[r.id] = workflow.approvers_label(
            [u for u in leads.get(r.area_id, []) if u.id not in took_part])
    return result


def _selected(form_data, base_where: list, allowed_area_ids: set[int] | None,
              ) -> tuple[list[Requirement], dict[int, int], str | None]:
    """The requirements a bulk form is about: ticked ``id:version`` items, or every one
    matching the filter it carries (``scope=filter``). Returns (rows, versions seen, error).

    Unknown ids, or ids from areas outside ``allowed_area_ids`` (None: all), refuse the whole
    selection: that is a wrong request, not something to skip quietly.
    """
    max_items = workflow.MAX_BULK
    if form_data.get("scope") == "filter":
        areas = queries.areas(permissions.visible_area_ids(current_user))
        people = assignable_people(permissions.visible_area_ids(current_user))
        filters = parse_filters(form_data, areas, people)
        if filters.errors:
            return [], {}, " ".join(filters.errors)
        where = [*base_where, *filters.where(current_user.id)]
        ids = list(db.session.scalars(sa.select(Requirement.id).where(*where)
                                      .order_by(Requirement.id).limit(max_items + 1)))
        seen: dict[int, int] = {}
    else:
        raw = form_data.getlist("item")
        if len(raw) > max_items:
            return [], {}, _("Select at most %(n)s requirements at a time.", n=max_items)
        seen = {}
        for item in raw:
            text, _sep, version_text = item.partition(":")
            ident, version = parse_id(text), parse_int(version_text or "0")
            if ident is None or version is None:
                return [], {}, _("The selection is malformed (“%(value)s”).", value=item[:30])
            seen[ident] = version
        ids = list(seen)
        seen = {k: v for k, v in seen.items() if v}
    if not ids:
        return [], {}, _("Nothing was selected.")
    if len(ids) > max_items:
        return [], {}, _("Select at most %(n)s requirements at a time.", n=max_items)
    rows: list[Requirement] = []
    for start in range(0, len(ids), 900):
        rows += db.session.scalars(sa.select(Requirement).where(
            Requirement.id.in_(ids[start:start + 900])).order_by(Requirement.code))
    missing = set(ids) - {r.id for r in rows}
    if missing:
        return [], {}, ngettext("%(num)d of the selected requirements does not exist.",
                                "%(num)d of the selected requirements do not exist.",
                                len(missing))
    foreign = [r for r in rows if allowed_area_ids is not None
               and r.area_id not in allowed_area_ids]
    if foreign:
        permissions.log_denied(current_user, "bulk", foreign[0])
        return [], {}, ngettext(
            "%(num)d of the selected requirements is in an area where you may not do this.",
            "%(num)d of the selected requirements are in areas where you may not do this.",
            len(foreign))
    return rows, seen, None


@bp.get("/bulk/<token>")
@login_required
def bulk_result(token: str):
    """The result of a bulk action this person just took (kept a few hours)."""
    result = drafts.load(token, current_user.id, "bulk")
    if result is None:
        flash(_("That result is no longer kept; here is the list as it is now."), "info")
        return redirect(url_for("leads.queue") if permissions.can_use_queue(current_user)
                        else url_for("requirements.index"))
    return bulk_results.render(result)


@bp.post("/queue/decide")
@login_required
def decide_many():
    """Approve or return the selected proposals (or all matching the filter) at once."""
    permissions.require(permissions.can_use_queue(current_user), current_user, "bulk-decide",
                        "queue")
    scope = queue_area_ids()
    back = url_for("leads.queue", **{k: v for k, v in request.form.items()
                                     if k in FILTER_FIELDS and v})
    action = {"approve": Action.APPROVE, "return": Action.RETURN}.get(request.form.get("action"))
    comment = request.form.get("comment", "")
    if action is None:
        flash(_("Nothing was saved: choose approve or return."), "error")
        return redirect(back), 303
    rows, seen, error = _selected(request.form, [permissions.decidable_filter(current_user),
                                                 Requirement.state == State.PROPOSED],
                                  scope)
    if error is None and len(comment) > workflow.MAX_TEXT:
        error = _("The text is too long (at most %(n)d characters).", n=workflow.MAX_TEXT)
    if error:
        return bulk_results.refused(error, back)
    try:
        outcome = workflow.decide_many(rows, current_user, action=action, comment=comment,
                                       seen_versions=seen)
    except workflow.WorkflowError as exc:
        return bulk_results.refused(exc.message, back)
    if action == Action.APPROVE:
        def message(n: int) -> str:
            return ngettext("Approved %(num)d requirement.", "Approved %(num)d requirements.", n)
    else:
        def message(n: int) -> str:
            return ngettext("Returned %(num)d requirement to the reviewers.",
                            "Returned %(num)d requirements to the reviewers.", n)
    return bulk_results.finish(outcome, message, back)


@bp.post("/requirements/assign")
@login_required
def assign_many():
    """Assign the selected requirements (or all matching the filter) to one person."""
    assign_areas = bulk_assign_area_ids()
    permissions.require(assign_areas is None or bool(assign_areas), current_user, "bulk-assign",
                        "requirements")
    back = url_for("requirements.index", **{k: v for k, v in request.form.items()
                                            if k in FILTER_FIELDS and v})
    # "give_to", not "assignee": the form also carries the list's own "assignee" filter.
    # Taking the assignment away is a deliberate choice ("none"), never what an untouched
    # form does.
    value = request.form.get("give_to", "").strip()
    if not value:
        return render_template("leads/bulk_result.html", back=back, error=_(
            "No person was chosen in “Give to”: choose who gets the selected requirements, "
            "or “nobody” to take their assignment away.")), 400
    assignee = None
    if value != "none":
        ident = parse_id(value)
        assignee = db.session.get(User, ident) if ident is not None else None
        if assignee is None:
            return render_template("leads/bulk_result.html", back=back, error=_(
                "Unknown person “%(value)s”.", value=value[:20])), 422
    where = [] if assign_areas is None else [Requirement.area_id.in_(assign_areas)]
    rows, _seen, error = _selected(request.form, where, assign_areas)
    if error:
        return render_template("leads/bulk_result.html", error=error, back=back), 422
    try:
        outcome = workflow.assign_many(rows, current_user, assignee)
    except workflow.WorkflowError as exc:
        db.session.rollback()
        return render_template("leads/bulk_result.html", error=exc.message, back=back), 422
    def message(n: int) -> str:
        if assignee is None:
            return ngettext("Unassigned %(num)d requirement.", "Unassigned %(num)d requirements.",
                            n)
        return ngettext("Assigned %(num)d requirement to %(name)s.",
                        "Assigned %(num)d requirements to %(name)s.", n,
                        name=assignee.display_name)
    return bulk_results.finish(outcome, message, back)


# A reviewer's own work -----------------------------------------------------------------------

@bp.get("/my-work")
@login_required
def my_work():
    """What is assigned to me: returned items first, with why each came back; a page at a
    time (``after``: a keyset cursor, like the list's pages).

    It showed up to 500 rows at once: at a million requirements a reviewer has thousands, and
    the 500 rows took 106 ms of CPU to render (the list's 50 take 20 ms).
    """
    scope = lists.scope(lists.Origin("my-work", ()), current_user)
    stmt = (sa.select(Requirement).where(*scope.where)
            .options(so.load_only(*listing.LIST_COLUMNS, Requirement.proposed_at)))
    if after := request.args.get("after"):
        try:
            seen = keyset.decode(after, *scope.kinds)
        except keyset.BadCursor:
            broken = _("This page link is broken; start again from the first page.")
            return render_error(400, broken)
        stmt = stmt.where(sa.tuple_(*scope.columns) > sa.tuple_(
            *(sa.literal(v, c.type) for v, c in zip(seen, scope.columns, strict=True))))
    size = current_app.config["PAGE_SIZE"]
    rows = list(db.session.scalars(stmt.order_by(*scope.columns).limit(size + 1)))
    next_cursor = keyset.encode(*scope.values(rows[size - 1])) if len(rows) > size else None
    rows = rows[:size]
    reasons = _return_reasons([r.id for r in rows if r.state == State.RETURNED])
    can_claim = any(permissions.can_claim(current_user, a)
                    for a in permissions.proposing_area_ids(current_user))
    return render_template("leads/my_work.html", rows=rows, reasons=reasons,
                           can_claim=can_claim, form=FlaskForm(), next_cursor=next_cursor,
                           later_page=bool(after))


#: Events that send a requirement back to the reviewers: a lead's return or reopening (with
#: their comment), or an import that replaced the text under a proposal or decision.
_RETURNING = (Action.RETURN, Action.REOPEN, Action.WORDING_CHANGED)


def _return_reasons(requirement_ids: list[int]) -> dict[int, list[ReviewEvent]]:
    """Why each returned requirement is back: the events since it was last proposed, oldest
    first (a lead's return and then an import can both stand). One query for any number.

    Per requirement and action it loads the latest event that returned it, and the latest
    proposal that sent it to the lead (the start of the current round; a first independent
    proposal under dual review leaves the requirement returned and does not count).
    """
    if not requirement_ids:
        return {}
    latest = (sa.select(sa.func.max(ReviewEvent.id))
              .where(ReviewEvent.requirement_id.in_(requirement_ids),
                     sa.or_(sa.and_(ReviewEvent.action.in_(_RETURNING),
                                    ReviewEvent.to_state == State.RETURNED),
                            sa.and_(ReviewEvent.action == Action.PROPOSE,
                                    ReviewEvent.to_state == State.PROPOSED)))
              .group_by(ReviewEvent.requirement_id, ReviewEvent.action))
    by_requirement: dict[int, list[ReviewEvent]] = {}
    for event in db.session.scalars(sa.select(ReviewEvent).where(ReviewEvent.id.in_(latest))
                                    .order_by(ReviewEvent.id)):
        by_requirement.setdefault(event.requirement_id, []).append(event)
    reasons: dict[int, list[ReviewEvent]] = {}
    for requirement_id, found in by_requirement.items():
        proposed = [e.id for e in found if e.action == Action.PROPOSE]
        since = proposed[-1] if proposed else 0
        lead = [e for e in found if e.action in (Action.RETURN, Action.REOPEN) and e.id > since]
        imported = [e for e in found if e.action == Action.WORDING_CHANGED and e.id > since]
        reasons[requirement_id] = sorted(lead[-1:] + imported, key=lambda e: e.id)
    return reasons


@bp.post("/my-work/claim")
@login_required
def claim_next():
    """Take the next unassigned requirement of my areas (returned ones first)."""
    if not any(permissions.can_claim(current_user, a)
               for a in permissions.proposing_area_ids(current_user)):
        permissions.require(False, current_user, "claim", "my-work")
    req = workflow.claim_next(current_user)
    db.session.commit()
    if req is None:
        flash(_("There is no unassigned requirement left in your areas."), "info")
        return redirect(url_for("leads.my_work"))
    flash(_("%(code)s is now assigned to you.", code=req.code), "success")
    return redirect(url_for("requirements.detail", requirement_id=req.id))


# Area progress -------------------------------------------------------------------------------

def load_area(code: str) -> Area:
    """:raise 404: no such area. :raise 403: not the lead, a manager or an admin."""
    area = db.session.scalar(sa.select(Area).where(Area.code == code[:8]))
    if area is None:
        abort(404)
    permissions.require(permissions.can_view_progress(current_user, area.id), current_user,
                        "progress", area)
    return area


@bp.get("/areas/")
@login_required
def areas():
    """Areas the user may follow, with counts by state."""
    ids = permissions.visible_area_ids(current_user)
    visible = [a for a in queries.areas(ids) if permissions.can_view_progress(current_user, a.id)]
    permissions.require(bool(visible), current_user, "progress", "areas")
    counts: dict[int, dict[str, int]] = {}
    for area_id, state, n in db.session.execute(
            sa.select(Requirement.area_id, Requirement.state, sa.func.count())
            .where(Requirement.area_id.in_([a.id for a in visible]))
            .group_by(Requirement.area_id, Requirement.state)):
        counts.setdefault(area_id, {})[State(state).value] = n
    return render_template("leads/areas.html", areas=visible, counts=counts)


@bp.get("/areas/<code>")
@login_required
def progress(code: str):
    area = load_area(code)
    by_state = dict(db.session.execute(
        sa.select(Requirement.state, sa.func.count()).where(Requirement.area_id == area.id)
        .group_by(Requirement.state)).all())
    by_decision = dict(db.session.execute(
        sa.select(Requirement.decision, sa.func.count())
        .where(Requirement.area_id == area.id, Requirement.state == State.APPROVED)
        .group_by(Requirement.decision)).all())
    total = sum(by_state.values())
    assigned = dict(db.session.execute(
        sa.select(Requirement.assignee_id, sa.func.count())
        .where(Requirement.area_id == area.id, Requirement.assignee_id.is_not(None),
               Requirement.state != State.APPROVED)
        .group_by(Requirement.assignee_id)).all())
    events = (stats.EventRow(*row) for row in db.session.execute(
        sa.select(ReviewEvent.requirement_id, ReviewEvent.actor_id, ReviewEvent.action,
                  ReviewEvent.created_at)
        .join(Requirement, Requirement.id == ReviewEvent.requirement_id)
        .where(Requirement.area_id == area.id,
               ReviewEvent.action.in_((Action.PROPOSE, Action.APPROVE, Action.RETURN)))
        .order_by(ReviewEvent.requirement_id, ReviewEvent.id)))
    figures = stats.reviewer_figures(events, assigned)
    members = {m.user_id: m for m in db.session.scalars(
        sa.select(AreaMembership).where(AreaMembership.area_id == area.id)
        .options(so.joinedload(AreaMembership.user)))}
    people = {u.id: u for u in db.session.scalars(sa.select(User).where(
        User.id.in_(set(figures) | set(members))))}
    oldest = list(db.session.scalars(
        sa.select(Requirement).where(Requirement.area_id == area.id,
                                     Requirement.state == State.PROPOSED)
        .options(so.load_only(*listing.LIST_COLUMNS, Requirement.proposed_at))
        .order_by(Requirement.proposed_at, Requirement.id).limit(10)))
    agreement = None
    if area.dual_review or db.session.scalar(sa.select(IndependentProposal.id).join(
            Requirement).where(Requirement.area_id == area.id).limit(1)):
        agreement = stats.cohens_kappa(_proposal_pairs(area))
    return render_template(
        "leads/progress.html", area=area, by_state=by_state, by_decision=by_decision,
        total=total, figures=figures, people=people, members=members, oldest=oldest,
        agreement=agreement, form=FlaskForm(), states=list(State), decisions=list(Decision),
        can_assign=permissions.can_assign(current_user, area.id),
        can_change_settings=permissions.can_change_area_settings(current_user),
        reviewers=[m for m in members.values() if m.role == AreaRole.REVIEWER],
        conflicts=db.session.scalar(sa.select(sa.func.count()).select_from(Requirement).where(
            Requirement.area_id == area.id, Requirement.conflict)),
        cost_totals=scm_costs.totals(db.session, [Requirement.area_id == area.id]),
        removed_totals=scm_costs.totals(db.session, [
            Requirement.area_id == area.id, Requirement.state == State.APPROVED,
            Requirement.decision == Decision.CANCEL]),
    )


def _proposal_pairs(area: Area) -> list[tuple[str, str]]:
    """(first, second) decisions of every round that collected two independent proposals."""
    rows = db.session.execute(
        sa.select(IndependentProposal.requirement_id, IndependentProposal.review_round,
                  IndependentProposal.decision)
        .join(Requirement, Requirement.id == IndependentProposal.requirement_id)
        .where(Requirement.area_id == area.id)
        .order_by(IndependentProposal.requirement_id, IndependentProposal.review_round,
                  IndependentProposal.id))
    rounds: dict[tuple[int, int], list[str]] = {}
    for req_id, review_round, decision in rows:
        rounds.setdefault((req_id, review_round), []).append(Decision(decision).value)
    return [(d[0], d[1]) for d in rounds.values() if len(d) >= 2]


@bp.post("/areas/<code>/balance")
@login_required
def balance(code: str):
    """Spread the area's unassigned work evenly over its reviewers."""
    area = db.session.scalar(sa.select(Area).where(Area.code == code[:8])) or abort(404)
    try:
        given = workflow.balance(area, current_user)
    except workflow.PermissionDenied:
        abort(403)
    except workflow.WorkflowError as exc:
        flash(exc.message, "error")
        return redirect(url_for("leads.progress", code=area.code))
    db.session.commit()
    flash(ngettext("%(num)d unassigned requirement was shared out.",
                   "%(num)d unassigned requirements were shared out.", sum(given.values()))
          + " " + ngettext("%(num)d reviewer in the area.", "%(num)d reviewers in the area.",
                           len(given)), "success")
    return redirect(url_for("leads.progress", code=area.code))


@bp.post("/areas/<code>/settings")
@login_required
def settings(code: str):
    """Admins switch dual review on or off for an area."""
    area = db.session.scalar(sa.select(Area).where(Area.code == code[:8])) or abort(404)
    permissions.require(permissions.can_change_area_settings(current_user), current_user,
                        "area-settings", area)
    value = request.form.get("dual_review")
    if value not in ("on", "off"):
        abort(400)
    admin_service.set_dual_review(current_user, area, value == "on")
    db.session.commit()
    flash(_("Dual review is now on for this area.") if area.dual_review
          else _("Dual review is now off for this area."), "success")
    return redirect(url_for("leads.progress", code=area.code))
