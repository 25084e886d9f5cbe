"""Managing people and areas: the rules, in one place the admin pages (and anything else) call.

Each function checks its own rules, changes the objects, and adds an audit entry saying who
changed what (before and after); the caller commits once. Permission to call them at all is
``permissions.can_manage_users`` / ``can_change_area_settings``, checked by the views.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from review_app import audit
from review_app.api import tokens as api_tokens
from review_app.audit import AuditAction
from review_app.auth.models import AreaMembership, AreaRole, GlobalRole, User
from review_app.extensions import db
from review_app.requirements.models import Area

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
AREA_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,7}")
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class AdminError(Exception):
    """A change was refused; ``message`` says why, ``field`` which form field it is about."""

    def __init__(self, message: Any, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def new_password() -> str:
    """A password to hand over once: 15 characters, no look-alike letters (~62 bits)."""
    groups = ("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


def _clean_email(email: str, user: User | None = None) -> str:
    email = (email or "").strip().lower()
    if not EMAIL.fullmatch(email) or len(email) > 254:
        raise AdminError(_l("Enter an email address like name@gov.kz."), "email")
    taken = db.session.scalar(sa.select(User.id).where(User.email == email))
    if taken is not None and (user is None or taken != user.id):
        raise AdminError(_l("Another account already uses %(email)s.", email=email), "email")
    return email


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise AdminError(_l("Enter the person's name as colleagues know it."), "display_name")
    if len(name) > 120:
        raise AdminError(_l("The name is too long (at most 120 characters)."), "display_name")
    return name


def _active_admins() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.global_role == GlobalRole.ADMIN, User.active)) or 0


def _memberships_text(memberships: dict[int, AreaRole]) -> dict[str, str]:
    codes = dict(db.session.execute(sa.select(Area.id, Area.code)).all())
    return {codes.get(a, str(a)): str(r) for a, r in sorted(
        memberships.items(), key=lambda item: codes.get(item[0], ""))}


def _set_memberships(user: User, memberships: dict[int, AreaRole]) -> None:
    current = {m.area_id: m for m in user.memberships}
    for area_id, membership in current.items():
        if area_id not in memberships:
            user.memberships.remove(membership)
        elif membership.role != memberships[area_id]:
            membership.role = memberships[area_id]
    for area_id, role in memberships.items():
        if area_id not in current:
            user.memberships.append(AreaMembership(area_id=area_id, role=role))


def create_user(actor: User, *, email: str, display_name: str, language: str,
                global_role: GlobalRole | None,
                memberships: dict[int, AreaRole]) -> tuple[User, str]:
    """A new account with a generated password (returned, to be handed over once); the person
    chooses their own at the first sign-in.

    :raise AdminError: bad or taken email, no name.
    """
    user = User(email=_clean_email(email), display_name=_clean_name(display_name),
                language=language, global_role=global_role, active=True,
                must_change_password=True)
    password = new_password()
    user.set_password(password)
    db.session.add(user)
    _set_memberships(user, memberships)
    db.session.flush()
    audit.record(AuditAction.USER_CREATED, actor=actor, target=user, details={
        "display_name": user.display_name, "global_role": global_role and str(global_role),
        "language": language, "memberships": _memberships_text(memberships)})
    return user, password


def update_user(actor: User, user: User, *, email: str, display_name: str, language: str,
                global_role: GlobalRole | None,
                memberships: dict[int, AreaRole]) -> dict[str, Any]:
    """Change a person's details, global role and area memberships; returns what changed.

    :raise AdminError: bad or taken email, no name, or an admin removing the last admin
        (or their own admin role).
    """
    before = {"email": user.email, "display_name": user.display_name, "language": user.language,
              "global_role": user.global_role and str(user.global_role),
              "memberships": _memberships_text(user.area_roles)}
    new_email, new_name = _clean_email(email, user), _clean_name(display_name)
    if user.global_role == GlobalRole.ADMIN and global_role != GlobalRole.ADMIN:
        if user.id == actor.id:
            raise AdminError(_l("You cannot take away your own administrator role; ask another "
                                "administrator."), "global_role")
        if user.active and _active_admins() <= 1:
            raise AdminError(_l("This is the last active administrator; make someone else an "
                                "administrator first."), "global_role")
    user.email, user.display_name, user.language = new_email, new_name, language
    user.global_role = global_role
    _set_memberships(user, memberships)
    after = {"email": user.email, "display_name": user.display_name, "language": user.language,
             "global_role": global_role and str(global_role),
             "memberships": _memberships_text(memberships)}
    changes = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changes:
        audit.record(AuditAction.USER_UPDATED, actor=actor, target=user, details=changes)
    return changes


def deactivate(actor: User, user: User) -> None:
    """Stop the account: it cannot sign in, its open sessions end at once, its history stays.

    :raise AdminError: deactivating oneself or the last active administrator.
    """
    if user.id == actor.id:
        raise AdminError(_l("You cannot deactivate your own account."))
    if not user.active:
        return
    if user.global_role == GlobalRole.ADMIN and _active_admins() <= 1:
        raise AdminError(_l("This is the last active administrator; it cannot be "
                            "deactivated."))
    user.active = False
    user.end_all_sessions()
    audit.record(AuditAction.USER_DEACTIVATED, actor=actor, target=user)
    api_tokens.revoke_all(actor, user)  # and every API token with the sessions


def reactivate(actor: User, user: User) -> None:
    if user.active:
        return
    user.active = True
    audit.record(AuditAction.USER_REACTIVATED, actor=actor, target=user)


def reset_password(actor: User, user: User) -> str:
    """A new generated password (returned once); the person's open sessions end, and at the
    next sign-in they choose their own."""
    password = new_password()
    user.set_password(password)
    user.must_change_password = True
    user.end_all_sessions()
    audit.record(AuditAction.PASSWORD_RESET, actor=actor, target=user)
    return password


# Areas ---------------------------------------------------------------------------------------

AREA_FIELDS = ("name_kk", "name_ru", "name_en", "description", "dual_review")


def _clean_area(values: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key in ("name_kk", "name_ru", "name_en"):
        name = " ".join((values.get(key) or "").split())
        if not name:
            raise AdminError(_l("Enter the area's name in all three languages."), key)
        if len(name) > 300:
            raise AdminError(_l("The name is too long (at most 300 characters)."), key)
        cleaned[key] = name
    description = (values.get("description") or "").strip()
    if len(description) > 5000:
        raise AdminError(_l("The description is too long (at most 5,000 characters)."),
                         "description")
    cleaned["description"] = description or None
    cleaned["dual_review"] = bool(values.get("dual_review"))
    return cleaned


def create_area(actor: User, *, code: str, **values: Any) -> Area:
    """:raise AdminError: a bad or taken code, a missing name."""
    code = (code or "").strip()
    if not AREA_CODE.fullmatch(code):
        raise AdminError(_l("The code is one to eight letters or digits, e.g. 45."), "code")
    if db.session.scalar(sa.select(Area.id).where(Area.code == code)) is not None:
        raise AdminError(_l("Area %(code)s exists already.", code=code), "code")
    area = Area(code=code, **_clean_area(values))
    db.session.add(area)
    db.session.flush()
    audit.record(AuditAction.AREA_CREATED, actor=actor, target=area,
                 details={k: getattr(area, k) for k in AREA_FIELDS})
    return area


def update_area(actor: User, area: Area, **values: Any) -> dict[str, Any]:
    """Change names, description and settings; returns what changed.

    :raise AdminError: a missing or too long name.
    """
    cleaned = _clean_area(values)
    changes = {k: {"from": getattr(area, k), "to": v} for k, v in cleaned.items()
               if getattr(area, k) != v}
    for key, value in cleaned.items():
        setattr(area, key, value)
    if changes:
        audit.record(AuditAction.AREA_UPDATED, actor=actor, target=area, details=changes)
    return changes


def set_dual_review(actor: User, area: Area, on: bool) -> dict[str, Any]:
    """Switch dual review from the area's own page, audited exactly as the admin form does."""
    if area.dual_review == on:
        return {}
    changes = {"dual_review": {"from": area.dual_review, "to": on}}
    area.dual_review = on
    audit.record(AuditAction.AREA_UPDATED, actor=actor, target=area, details=changes)
    return changes
