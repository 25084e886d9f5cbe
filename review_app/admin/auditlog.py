"""Reading the audit trail: the audit log and the review history, merged, newest first.

Two append-only tables answer an auditor: ``audit_entries`` (sign-ins, refusals, imports,
exports, changes to people and areas) and ``review_events`` (every decision, assignment and
comment). A page merges the newest rows of both; each side is filtered and limited on its own,
so a page costs two short index scans whatever the size of the history. Pages are keyset
pages over (time, source, id), like the requirements list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import format_number
from flask_babel import lazy_gettext as _l

from review_app import keyset
from review_app.audit import AuditAction, AuditEntry
from review_app.auth.models import User
from review_app.extensions import db
from review_app.i18n import LANGUAGE_NAMES, YES_NO, current_language
from review_app.imports.messages import MESSAGES
from review_app.requirements.models import Area, Requirement, search_key
from review_app.reviews.models import Action, ReviewEvent
from review_app.reviews.workflow import decision_label, field_label, state_label

AUDIT, REVIEW = "a", "r"


@dataclass(frozen=True)
class Category:
    label: Any
    audit_actions: tuple[str, ...] = ()
    review_actions: tuple[str, ...] = ()


def _review(*names: str) -> tuple[str, ...]:
    """Review actions by value, keeping only those the workflow knows."""
    known = {a.value for a in Action}
    return tuple(n for n in names if n in known)


CATEGORIES: dict[str, Category] = {
    "decisions": Category(_l("Decisions"), review_actions=_review(
        "propose", "approve", "return", "reopen", "wording_changed")),
    "assignments": Category(_l("Assignments"), review_actions=_review(
        "assign", "unassign", "claim")),
    "comments": Category(_l("Comments"), review_actions=_review("comment")),
    "imports": Category(_l("Imports"), audit_actions=(
        AuditAction.IMPORT_APPLIED, AuditAction.IMPORT_FAILED),
        review_actions=_review("wording_changed", "import_changed")),
    "exports": Category(_l("Exports"), audit_actions=(
        AuditAction.EXPORT, AuditAction.EXPORT_COMPLETED, AuditAction.EXPORT_FAILED)),
    "sign_ins": Category(_l("Sign-ins and sign-outs"), audit_actions=(
        AuditAction.SIGN_IN, AuditAction.SIGN_OUT)),
    "failed_sign_ins": Category(_l("Failed sign-ins"), audit_actions=(
        AuditAction.SIGN_IN_FAILED,)),
    "denied": Category(_l("Denied actions"), audit_actions=(AuditAction.DENIED,)),
    "people": Category(_l("Changes to people"), audit_actions=(
        AuditAction.USER_CREATED, AuditAction.USER_UPDATED, AuditAction.USER_DEACTIVATED,
        AuditAction.USER_REACTIVATED, AuditAction.PASSWORD_RESET,
        AuditAction.PASSWORD_CHANGED)),
    "areas": Category(_l("Changes to areas"), audit_actions=(
        AuditAction.AREA_CREATED, AuditAction.AREA_UPDATED, AuditAction.AREA_PUBLISHED,
        AuditAction.AREA_UNPUBLISHED, AuditAction.DEADLINES_CHANGED)),
    "tariffs": Category(_l("Changes to cost tariffs"), audit_actions=(
        AuditAction.TARIFF_CREATED, AuditAction.TARIFF_UPDATED)),
    "justifications": Category(_l("Standard justifications"), audit_actions=(
        AuditAction.JUSTIFICATION_CREATED, AuditAction.JUSTIFICATION_UPDATED,
        AuditAction.JUSTIFICATION_RETIRED, AuditAction.JUSTIFICATION_RESTORED)),
    "tokens": Category(_l("API tokens"), audit_actions=(
        AuditAction.TOKEN_CREATED, AuditAction.TOKEN_REVOKED)),
}

AUDIT_LABELS = {
    AuditAction.SIGN_IN: _l("signed in"),
    AuditAction.SIGN_IN_FAILED: _l("failed to sign in"),
    AuditAction.SIGN_OUT: _l("signed out"),
    AuditAction.DENIED: _l("was refused"),
    AuditAction.IMPORT_APPLIED: _l("imported requirements"),
    AuditAction.IMPORT_FAILED: _l("import failed"),
    AuditAction.EXPORT: _l("exported the requirements list"),
    AuditAction.EXPORT_COMPLETED: _l("received the complete export"),
    AuditAction.EXPORT_FAILED: _l("export failed; the file is incomplete"),
    AuditAction.USER_CREATED: _l("created an account"),
    AuditAction.USER_UPDATED: _l("changed an account"),
    AuditAction.USER_DEACTIVATED: _l("deactivated an account"),
    AuditAction.USER_REACTIVATED: _l("reactivated an account"),
    AuditAction.PASSWORD_RESET: _l("reset a password"),
    AuditAction.PASSWORD_CHANGED: _l("changed their own password"),
    AuditAction.AREA_CREATED: _l("created an area"),
    AuditAction.AREA_UPDATED: _l("changed an area"),
    AuditAction.TARIFF_CREATED: _l("created a cost tariff"),
    AuditAction.TARIFF_UPDATED: _l("changed a cost tariff"),
    AuditAction.DEADLINES_CHANGED: _l("changed deadlines"),
    AuditAction.JUSTIFICATION_CREATED: _l("added a standard justification"),
    AuditAction.JUSTIFICATION_UPDATED: _l("changed a standard justification"),
    AuditAction.JUSTIFICATION_RETIRED: _l("retired a standard justification"),
    AuditAction.JUSTIFICATION_RESTORED: _l("restored a standard justification"),
    AuditAction.AREA_PUBLISHED: _l("published an area's final decisions as open data"),
    AuditAction.AREA_UNPUBLISHED: _l("withdrew an area's decisions from open data"),
    AuditAction.TOKEN_CREATED: _l("created an API token"),
    AuditAction.TOKEN_REVOKED: _l("revoked an API token"),
}
FAILURE_REASONS = {
    "unknown_account": _l("no such account"),
    "wrong_password": _l("wrong password"),
    "deactivated": _l("account deactivated"),
    "rate_limited": _l("too many attempts"),
}


# Details in words ------------------------------------------------------------------------------
# An entry's ``details`` are stored as codes (machine-readable, language-free); the page and the
# CSV show them through these tables, in the reader's language.

class Names:
    """What details refer to (areas, people), read at most once per page or CSV download."""

    def __init__(self) -> None:
        self.language = current_language()

    @cached_property
    def areas(self) -> dict[str, str]:
        """Area code → ``07 · Fire safety``."""
        return {a.code: f"{a.code} · {a.name(self.language)}"
                for a in db.session.scalars(sa.select(Area))}

    @cached_property
    def people(self) -> dict[str, str]:
        """User id (as text, as a query string holds it) → name."""
        return {str(i): name for i, name in db.session.execute(
            sa.select(User.id, User.display_name))}


Show = Callable[[Any, Names], str]


def _plain(value: Any, names: Names) -> str:
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if isinstance(value, bool):
        return str(YES_NO[value])
    if isinstance(value, int):
        return format_number(value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v, names)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v, names) for v in value)
    return str(value)


def _words(table: dict[str, Any]) -> Show:
    """Codes shown by their label in ``table``; unknown codes as they are."""
    return lambda value, names: _plain(table.get(value, value) if isinstance(value, str)
                                       else value, names)


def _labelled(label: Callable[[str], str]) -> Show:
    """Codes shown by a labelling function of the workflow (``state_label`` …)."""
    def show(value: Any, names: Names) -> str:
        try:
            return label(value) if value else "—"
        except ValueError:
            return _plain(value, names)
    return show


def _state(value: Any, names: Names) -> str:
    return _labelled(state_label)(value, names)


def _decision(value: Any, names: Names) -> str:
    return _labelled(decision_label)(value, names)


def _area(value: Any, names: Names) -> str:
    return names.areas.get(value, _plain(value, names)) if isinstance(value, str) else _plain(
        value, names)


AREA_ROLE_LABELS = {"reviewer": _l("reviewer"), "lead": _l("lead")}
GLOBAL_ROLE_LABELS = {"admin": _l("Administrator"), "manager": _l("Manager")}


def _memberships(value: Any, names: Names) -> str:
    """``{"07": "reviewer"}`` → ``07 · Fire safety (reviewer)``."""
    if not isinstance(value, dict):
        return _plain(value, names)
    return ", ".join(f"{_area(code, names)} ({AREA_ROLE_LABELS.get(role, role)})"
                     for code, role in value.items()) or "—"


def _failure(value: Any, names: Names) -> str:
    return _words(MESSAGES)(value, names)


#: The requirements list's filters, as an export recorded them (its query string), labelled as
#: on the list page.
SORT_LABELS = {
    "code": _l("Code ↑"), "-code": _l("Code ↓"), "title": _l("Title ↑"),
    "-title": _l("Title ↓"), "-cost": _l("Cost, highest first"),
    "cost": _l("Cost, lowest first"), "-updated": _l("Recently changed"),
    "updated": _l("Least recently changed"), "waiting": _l("Waiting longest for the lead"),
}
DEFAULT_SORT = "code"


def _assignee_filter(value: Any, names: Names) -> str:
    special = {"me": _l("Me"), "none": _l("Unassigned")}
    if value in special:
        return str(special[value])
    return names.people.get(value, _plain(value, names)) if isinstance(value, str) else _plain(
        value, names)


def _quoted(value: Any, names: Names) -> str:
    return f"“{value}”" if isinstance(value, str) else _plain(value, names)


class Detail(NamedTuple):
    label: Any  # None: the value speaks for itself
    show: Show = _plain


LIST_FILTERS: dict[str, Detail] = {
    "q": Detail(_l("Search in code, title and text"), _quoted),
    "area": Detail(_l("Area"), _area),
    "state": Detail(_l("State"), _state),
    "decision": Detail(_l("Decision"), _decision),
    "assignee": Detail(_l("Assignee"), _assignee_filter),
    "body": Detail(_l("Issuing body"), _quoted),
    "sort": Detail(_l("Sort by"), _words(SORT_LABELS)),
}


def _filters(value: Any, names: Names) -> str:
    """Only the filters that were set: ``Area — 07 · Fire safety, State — approved``."""
    if not isinstance(value, dict):
        return _plain(value, names)
    parts = []
    for key, given in value.items():
        if given in (None, "") or (key == "sort" and given == DEFAULT_SORT):
            continue
        detail = LIST_FILTERS.get(key, Detail(key))
        parts.append(f"{detail.label} — {detail.show(given, names)}")
    return ", ".join(parts) or str(_l("none, the whole list"))


#: What a refused person tried to do (``permissions.require``/``log_denied`` action names).
DENIED_ACTIONS = {
    "view": _l("open a requirement"),
    "propose": _l("propose a decision"),
    "decide": _l("approve or return a proposal"),
    "approve": _l("approve a proposal"),
    "return": _l("return a proposal"),
    "reopen": _l("reopen a decision"),
    "approve-own": _l("approve their own proposal"),
    "assign": _l("assign a requirement"),
    "take": _l("take a requirement"),
    "claim": _l("take work for themselves"),
    "comment": _l("comment on a requirement"),
    "balance": _l("spread work over reviewers"),
    "bulk": _l("change many requirements at once"),
    "bulk-decide": _l("decide on many proposals at once"),
    "bulk-assign": _l("assign many requirements at once"),
    "queue": _l("open the lead's queue"),
    "progress": _l("see an area's progress"),
    "area-settings": _l("change an area's settings"),
    "import": _l("import requirements"),
    "manage-users": _l("manage people"),
    "manage-areas": _l("manage areas"),
    "view-audit": _l("read the audit log"),
    "summaries": _l("use summaries"),
    "view-summary": _l("download a summary"),
    "request-summary": _l("request a summary"),
    "retry-summary": _l("request a summary again"),
}
REQUEST_METHODS = {"GET": _l("opening a page"), "POST": _l("sending a form")}
VIA = {"command line": _l("command line")}
EXPORT_FORMATS = {"csv": "CSV", "xlsx": "Excel (.xlsx)"}

#: Every specific an entry may carry: its name in the log and how its value reads.
DETAILS: dict[str, Detail] = {
    "reason": Detail(None, _words(FAILURE_REASONS)),
    "display_name": Detail(_l("name")), "email": Detail(_l("email")),
    "language": Detail(_l("language"), _words(LANGUAGE_NAMES)),
    "global_role": Detail(_l("global role"), _words(GLOBAL_ROLE_LABELS)),
    "memberships": Detail(_l("areas"), _memberships),
    "file": Detail(_l("file")), "total_rows": Detail(_l("rows")), "new": Detail(_l("new")),
    "changed": Detail(_l("changed")), "unchanged": Detail(_l("unchanged")),
    "rereview": Detail(_l("sent back to review")), "errors": Detail(_l("problems")),
    "failure": Detail(_l("failure"), _failure), "via": Detail(_l("via"), _words(VIA)),
    "state": Detail(_l("state"), _state), "decision": Detail(_l("decision"), _decision),
    "assignee": Detail(_l("assignee")),
    "action": Detail(_l("refused action"), _words(DENIED_ACTIONS)),
    "path": Detail(_l("address")), "method": Detail(_l("request"), _words(REQUEST_METHODS)),
    "format": Detail(_l("format"), _words(EXPORT_FORMATS)),
    "filters": Detail(_l("filters"), _filters),
    "name_kk": Detail(_l("name in Kazakh")), "name_ru": Detail(_l("name in Russian")),
    "name_en": Detail(_l("name in English")), "description": Detail(_l("description")),
    "dual_review": Detail(_l("dual review")),
    "error": Detail(_l("error")),
}


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:199] + "…"


def describe(details: dict[str, Any] | None, names: Names) -> str:
    """An entry's specifics on one line, in words: ``state: proposed → approved; …``."""
    parts = []
    for key, value in (details or {}).items():
        detail = DETAILS.get(key) or Detail(key.replace("_", " "))
        if isinstance(value, dict) and set(value) == {"from", "to"}:
            text = (f"{_short(detail.show(value['from'], names))} → "
                    f"{_short(detail.show(value['to'], names))}")
        else:
            text = _short(detail.show(value, names))
        parts.append(f"{detail.label}: {text}" if detail.label is not None else text)
    return "; ".join(parts)


#: Raised by :func:`fetch` for a cursor this page did not make (the app's one cursor codec).
BadCursor = keyset.BadCursor


@dataclass
class AuditFilters:
    """Validated filters; ``errors`` names each one that could not be used."""

    category: str | None = None
    #: Part of a name or an email, in any case.
    actor: str = ""
    area_id: int | None = None
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive
    errors: list[str] = field(default_factory=list)

    @cached_property
    def actor_ids(self) -> list[int]:
        """The people whose name or email contains ``actor``.

        Folded in Python (SQLite's ``lower()`` knows only ASCII, so "Сәрсенова" would not
        match "сәрсенова"); the users table is a few hundred rows.
        """
        key = search_key(self.actor)
        return [i for i, name, email in db.session.execute(
            sa.select(User.id, User.display_name, User.email))
            if key in search_key(name or "") or key in search_key(email or "")]

    def sides(self) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        """Actions to show from each table: None means all, () means none."""
        if self.category is None:
            return None, None
        category = CATEGORIES[self.category]
        return category.audit_actions, category.review_actions


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight to the next midnight, as naive UTC."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(
        UTC).replace(tzinfo=None)
    return start, end


@dataclass
class Item:
    """One line of the merged trail, ready to show."""

    source: str
    id: int
    created_at: datetime
    actor_email: str | None
    actor_name: str | None
    action: str
    target_type: str | None
    target_id: int | None
    target_label: str | None
    area_code: str | None
    details: dict[str, Any] | None
    text: str | None
    ip_address: str | None
    #: For a changed wording: the new text (``text`` is then the old one).
    new_text: str | None = None


def encode_cursor(item: Item) -> str:
    return keyset.encode(item.created_at, item.source, item.id)


def decode_cursor(token: str) -> tuple[datetime, str, int]:
    """:raise BadCursor: not a cursor this page made."""
    when, source, row_id = keyset.decode(token, "datetime", (AUDIT, REVIEW), "id")
    return when, source, row_id


def _after(created: Any, ident: Any, source: str, cursor: tuple[datetime, str, int] | None):
    """Rows of this side that sort after ``cursor`` (newest first: time, source, id desc)."""
    if cursor is None:
        return sa.true()
    at, c_source, c_id = cursor
    if source < c_source:
        return created <= at
    if source > c_source:
        return created < at
    return sa.or_(created < at, sa.and_(created == at, ident < c_id))


def _audit_side(f: AuditFilters, actions: tuple[str, ...] | None, cursor, limit: int):
    stmt = sa.select(sa.literal(AUDIT).label("source"), AuditEntry.id.label("id"),
                     AuditEntry.created_at.label("created_at"))
    if actions is not None:
        stmt = stmt.where(AuditEntry.action.in_([str(a) for a in actions]))
    if f.actor:
        # The email as recorded (failed sign-ins may name no account), or the person.
        stmt = stmt.where(sa.or_(AuditEntry.actor_email.contains(f.actor, autoescape=True),
                                 AuditEntry.actor_id.in_(f.actor_ids)))
    if f.area_id is not None:
        stmt = stmt.where(AuditEntry.area_id == f.area_id)
    if f.since:
        stmt = stmt.where(AuditEntry.created_at >= f.since)
    if f.until:
        stmt = stmt.where(AuditEntry.created_at < f.until)
    stmt = stmt.where(_after(AuditEntry.created_at, AuditEntry.id, AUDIT, cursor))
    return stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)


def _review_side(f: AuditFilters, actions: tuple[str, ...] | None, cursor, limit: int):
    stmt = sa.select(sa.literal(REVIEW).label("source"), ReviewEvent.id.label("id"),
                     ReviewEvent.created_at.label("created_at"))
    if actions is not None:
        stmt = stmt.where(ReviewEvent.action.in_(list(actions)))
    if f.actor:
        stmt = stmt.where(ReviewEvent.actor_id.in_(f.actor_ids))
    if f.area_id is not None:
        stmt = stmt.join(Requirement, Requirement.id == ReviewEvent.requirement_id).where(
            Requirement.area_id == f.area_id)
    if f.since:
        stmt = stmt.where(ReviewEvent.created_at >= f.since)
    if f.until:
        stmt = stmt.where(ReviewEvent.created_at < f.until)
    stmt = stmt.where(_after(ReviewEvent.created_at, ReviewEvent.id, REVIEW, cursor))
    return stmt.order_by(ReviewEvent.created_at.desc(), ReviewEvent.id.desc()).limit(limit)


def fetch(f: AuditFilters, *, after: str | None, size: int) -> tuple[list[Item], str | None]:
    """A page of the trail (newest first) and the cursor of the next page, if any.

    :raise BadCursor: ``after`` is malformed.
    """
    cursor = decode_cursor(after) if after else None
    audit_actions, review_actions = f.sides()
    sides = []
    if audit_actions is None or audit_actions:
        sides.append(_audit_side(f, audit_actions, cursor, size + 1).subquery())
    if review_actions is None or review_actions:
        sides.append(_review_side(f, review_actions, cursor, size + 1).subquery())
    if not sides:
        return [], None
    selects = [sa.select(s.c.source, s.c.id, s.c.created_at) for s in sides]
    merged = (sa.union_all(*selects) if len(selects) > 1 else selects[0]).subquery()
    keys = db.session.execute(sa.select(merged.c.source, merged.c.id).order_by(
        merged.c.created_at.desc(), merged.c.source.desc(), merged.c.id.desc())
        .limit(size + 1)).all()
    items = _load(keys[:size])
    return items, encode_cursor(items[-1]) if len(keys) > size else None


def _load(keys: list[Any]) -> list[Item]:
    audit_ids = [k.id for k in keys if k.source == AUDIT]
    review_ids = [k.id for k in keys if k.source == REVIEW]
    found: dict[tuple[str, int], Item] = {}
    if audit_ids:
        areas = dict(db.session.execute(sa.select(Area.id, Area.code)).all())
        names = {}
        entries = list(db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.id.in_(audit_ids))))
        actor_ids = {e.actor_id for e in entries if e.actor_id}
        if actor_ids:
            names = dict(db.session.execute(sa.select(User.id, User.display_name).where(
                User.id.in_(actor_ids))).all())
        for e in entries:
            found[(AUDIT, e.id)] = Item(
                AUDIT, e.id, e.created_at, e.actor_email, names.get(e.actor_id), e.action,
                e.target_type, e.target_id, e.target_label, areas.get(e.area_id), e.details,
                None, e.ip_address)
    if review_ids:
        events = db.session.scalars(sa.select(ReviewEvent).where(ReviewEvent.id.in_(review_ids))
                                    .options(so.joinedload(ReviewEvent.requirement).options(
                                        so.load_only(Requirement.code, Requirement.area_id),
                                        so.joinedload(Requirement.area)),
                                        so.joinedload(ReviewEvent.actor),
                                        so.joinedload(ReviewEvent.assignee)))
        for e in events.unique():
            details: dict[str, Any] = {}
            if e.from_state != e.to_state and e.to_state is not None:
                details["state"] = {"from": e.from_state and str(e.from_state),
                                    "to": str(e.to_state)}
            if e.decision:
                details["decision"] = str(e.decision)
            if e.assignee is not None:
                details["assignee"] = e.assignee.email
            if e.changes:  # what an import changed, field by field, old → new
                for name, (old, new) in e.changes.items():
                    details[field_label(name)] = {"from": old, "to": new}
            found[(REVIEW, e.id)] = Item(
                REVIEW, e.id, e.created_at, e.actor.email, e.actor.display_name, str(e.action),
                "requirement", e.requirement_id, e.requirement.code, e.requirement.area.code,
                details or None, e.text, None,
                e.new_wording if e.action == Action.WORDING_CHANGED else None)
    return [found[(k.source, k.id)] for k in keys if (k.source, k.id) in found]


def iterate(f: AuditFilters, batch: int = 500):
    """Every matching item, newest first, read in keyset batches (for the CSV export)."""
    after = None
    while True:
        items, after = fetch(f, after=after, size=batch)
        yield from items
        if after is None:
            return
