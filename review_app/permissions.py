"""Who may do what: the one place every route, CLI command and job asks.

Deny by default. Area-scoped rules look at the user's membership in the requirement's area;
managers and admins see every area. A refusal is logged with who, what and on which object.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import abort
from flask_login import AnonymousUserMixin

from review_app import audit
from review_app.auth.models import AreaMembership, AreaRole, User
from review_app.extensions import db
from review_app.requirements.models import Requirement
from review_app.reviews.models import IndependentProposal

log = logging.getLogger("review_app.permissions")

AnyUser = User | AnonymousUserMixin


def _member_role(user: AnyUser, area_id: int) -> AreaRole | None:
    if not isinstance(user, User) or not user.is_active:
        return None
    return user.area_roles.get(area_id)


def _signed_in(user: AnyUser) -> bool:
    return isinstance(user, User) and user.is_active


def can_view_area(user: AnyUser, area_id: int) -> bool:
    if not _signed_in(user):
        return False
    return user.sees_all_areas or _member_role(user, area_id) is not None


def can_view(user: AnyUser, req: Requirement) -> bool:
    return can_view_area(user, req.area_id)


def can_propose(user: AnyUser, req: Requirement) -> bool:
    """Reviewers and leads propose in their own areas; managers and admins do not."""
    return _member_role(user, req.area_id) in (AreaRole.REVIEWER, AreaRole.LEAD)


def can_decide(user: AnyUser, req: Requirement) -> bool:
    """Approve or return: a lead of the requirement's area; or an admin (the reform's project
    office) when no active lead of the area is left who took no part in the proposal -- a
    one-lead area whose lead proposed, or an area without a lead -- so no proposal is stuck.
    Nobody approves their own proposal: ``workflow.approve`` refuses that for everyone."""
    if _member_role(user, req.area_id) == AreaRole.LEAD:
        return True
    return _signed_in(user) and user.is_admin and not other_leads(req.area_id,
                                                                  proposer_ids(req))


def proposer_ids(req: Requirement) -> set[int]:
    """Who took part in the requirement's current proposal: its proposer and, under dual
    review, this round's independent proposers (neither may approve it)."""
    ids = {req.proposed_by_id} if req.proposed_by_id else set()
    ids.update(db.session.scalars(sa.select(IndependentProposal.reviewer_id).where(
        IndependentProposal.requirement_id == req.id,
        IndependentProposal.review_round == req.review_round)))
    return ids


def other_leads(area_id: int, proposers: set[int]) -> list[User]:
    """The area's active leads who did not take part in a proposal made by ``proposers``:
    the people who can approve it. Empty means the project office (admins) decides."""
    return list(db.session.scalars(
        sa.select(User).join(AreaMembership, AreaMembership.user_id == User.id)
        .where(AreaMembership.area_id == area_id, AreaMembership.role == AreaRole.LEAD,
               User.active, User.id.not_in(proposers or {0}))
        .order_by(User.display_name)))


def _no_lead_can_decide() -> sa.ColumnElement[bool]:
    """SQL twin of ``not other_leads(...)`` for a proposed requirement: the project office's
    share of the queue."""
    took_part = sa.exists().where(IndependentProposal.requirement_id == Requirement.id,
                                  IndependentProposal.review_round == Requirement.review_round,
                                  IndependentProposal.reviewer_id == AreaMembership.user_id)
    deciding_lead = (
        sa.select(AreaMembership.user_id).join(User, User.id == AreaMembership.user_id)
        .where(AreaMembership.area_id == Requirement.area_id,
               AreaMembership.role == AreaRole.LEAD, User.active,
               AreaMembership.user_id != sa.func.coalesce(Requirement.proposed_by_id, 0),
               ~took_part)
        .correlate(Requirement))
    return ~deciding_lead.exists()


def decidable_filter(user: AnyUser) -> sa.ColumnElement[bool]:
    """A WHERE clause for the proposals ``user`` may approve or return (see ``can_decide``);
    the caller adds ``state == proposed``. Own proposals stay in: the queue shows them marked."""
    if not _signed_in(user):
        return sa.false()
    leads = lead_area_ids(user)
    mine = Requirement.area_id.in_(leads) if leads else sa.false()
    return sa.or_(mine, _no_lead_can_decide()) if user.is_admin else mine


def can_use_queue(user: AnyUser) -> bool:
    """The queue of proposals to decide: leads, and admins for the proposals no lead can."""
    return _signed_in(user) and (user.is_admin or bool(lead_area_ids(user)))


def can_reopen(user: AnyUser, req: Requirement) -> bool:
    if not _signed_in(user):
        return False
    return user.is_admin or _member_role(user, req.area_id) == AreaRole.LEAD


def can_propose_scm(user: AnyUser, req: Requirement) -> bool:
    """Standard Cost Model inputs: reviewers and leads of the area propose them, in any state
    (the cost matters to the reports whatever the decision)."""
    return _member_role(user, req.area_id) in (AreaRole.REVIEWER, AreaRole.LEAD)


def can_approve_scm(user: AnyUser, req: Requirement) -> bool:
    """Approve proposed SCM inputs: a lead of the area; an admin only when no other active lead
    is left to do it (as ``can_decide``). Nobody approves inputs they proposed themselves:
    ``workflow.approve_scm`` refuses that."""
    if _member_role(user, req.area_id) == AreaRole.LEAD:
        return True
    proposers = {req.scm_proposed_by_id} if req.scm_proposed_by_id else set()
    return _signed_in(user) and user.is_admin and not other_leads(req.area_id, proposers)


def can_manage_tariffs(user: AnyUser) -> bool:
    """Create and change the named hourly tariffs of the cost model: admins only."""
    return _signed_in(user) and user.is_admin


def can_comment(user: AnyUser, req: Requirement) -> bool:
    return can_view(user, req)


def can_assign(user: AnyUser, area_id: int) -> bool:
    """Give work to reviewers of an area: its lead, or an admin."""
    if not _signed_in(user):
        return False
    return user.is_admin or _member_role(user, area_id) == AreaRole.LEAD


def can_claim(user: AnyUser, area_id: int) -> bool:
    """Take unassigned work for oneself: anyone who proposes in the area."""
    return _member_role(user, area_id) in (AreaRole.REVIEWER, AreaRole.LEAD)


def can_view_progress(user: AnyUser, area_id: int) -> bool:
    """An area's progress and reviewer figures: its lead, managers and admins."""
    if not _signed_in(user):
        return False
    return user.sees_all_areas or _member_role(user, area_id) == AreaRole.LEAD


def can_change_area_settings(user: AnyUser) -> bool:
    return _signed_in(user) and user.is_admin


def can_manage_users(user: AnyUser) -> bool:
    """Create, change, deactivate people and reset their passwords: admins only."""
    return _signed_in(user) and user.is_admin


def can_import(user: AnyUser) -> bool:
    """Load requirements from ministries' files into the register: admins only."""
    return _signed_in(user) and user.is_admin


def can_view_metrics(user: AnyUser) -> bool:
    """Read /metrics in a browser: admins (scrapers use the METRICS_TOKEN bearer instead)."""
    return _signed_in(user) and user.is_admin


def can_keep_justifications(user: AnyUser) -> bool:
    """The library of standard justifications: admins (national and every area's) and leads
    (their areas')."""
    return _signed_in(user) and (user.is_admin or bool(lead_area_ids(user)))


def can_manage_justification(user: AnyUser, area_id: int | None) -> bool:
    """Add or change a standard justification of ``area_id`` (None: a national one, which
    only admins set)."""
    if not _signed_in(user):
        return False
    if user.is_admin:
        return True
    return area_id is not None and _member_role(user, area_id) == AreaRole.LEAD


def can_view_audit(user: AnyUser) -> bool:
    """Read (and export) the audit log: admins and managers."""
    return _signed_in(user) and (user.is_admin or user.is_manager)


def can_request_summary(user: AnyUser, area_id: int | None) -> bool:
    """Ask for (or retry) a summary of one area, or of all areas when ``area_id`` is None:
    managers and admins for any scope, a lead for their own areas only."""
    if not _signed_in(user):
        return False
    if user.sees_all_areas:
        return True
    return area_id is not None and _member_role(user, area_id) == AreaRole.LEAD


def can_download_summary(user: AnyUser, summary) -> bool:
    """Who may ask for a summary's scope may download (and see) it, whoever asked first."""
    return can_request_summary(user, summary.area_id)


def summary_area_ids(user: AnyUser) -> set[int] | None:
    """Areas whose summaries ``user`` may request and see; None for every area and the
    all-areas summary (managers, admins); empty for people without summaries."""
    if _signed_in(user) and user.sees_all_areas:
        return None
    return lead_area_ids(user)


def can_use_summaries(user: AnyUser) -> bool:
    """Whether the Summaries page is for ``user`` at all (and so the link in the menu)."""
    ids = summary_area_ids(user)
    return _signed_in(user) and (ids is None or bool(ids))


def proposing_area_ids(user: AnyUser) -> set[int]:
    """Areas where ``user`` proposes (as reviewer or lead)."""
    if not _signed_in(user):
        return set()
    return set(user.area_roles)


def visible_area_filter(user: AnyUser) -> sa.ColumnElement[bool]:
    """A WHERE clause limiting requirements to the areas ``user`` may see."""
    if not _signed_in(user):
        return sa.false()
    if user.sees_all_areas:
        return sa.true()
    area_ids = list(user.area_roles)
    return Requirement.area_id.in_(area_ids) if area_ids else sa.false()


def visible_area_ids(user: AnyUser) -> set[int] | None:
    """The ids of the areas ``user`` may see, or None for all of them."""
    if _signed_in(user) and user.sees_all_areas:
        return None
    return set(user.area_roles) if _signed_in(user) else set()


def lead_area_ids(user: AnyUser) -> set[int]:
    if not _signed_in(user):
        return set()
    return {a for a, role in user.area_roles.items() if role == AreaRole.LEAD}


def log_denied(user: AnyUser, action: str, target: object) -> None:
    who = user.email if isinstance(user, User) else "anonymous"
    log.warning("permission denied: user=%s action=%s target=%r", who, action, target)
    audit.record_detached(audit.AuditAction.DENIED, actor=user, target=target,
                          details={"action": action})


def require(allowed: bool, user: AnyUser, action: str, target: object) -> None:
    """Abort with 403 (and log it) unless ``allowed``.

    :raise 403: when not allowed.
    """
    if not allowed:
        log_denied(user, action, target)
        abort(403)



def can_view_dashboard(user: AnyUser) -> bool:
    """The national dashboard: managers and admins (every area), leads (their own areas)."""
    return _signed_in(user) and (user.sees_all_areas or bool(lead_area_ids(user)))


def dashboard_area_ids(user: AnyUser) -> set[int] | None:
    """The areas the dashboard shows ``user``: None for every area (managers, admins)."""
    if _signed_in(user) and user.sees_all_areas:
        return None
    return lead_area_ids(user)


def can_publish_open_data(user: AnyUser) -> bool:
    """Publish or withdraw an area's final decisions as open data: admins only."""
    return _signed_in(user) and user.is_admin
