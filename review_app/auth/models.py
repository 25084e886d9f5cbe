"""People: accounts, global roles and per-area memberships."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from review_app.dbtypes import str_enum
from review_app.extensions import db
from review_app.time import utcnow

if TYPE_CHECKING:
    from review_app.requirements.models import Area


class GlobalRole(enum.StrEnum):
    MANAGER = "manager"
    ADMIN = "admin"


class AreaRole(enum.StrEnum):
    REVIEWER = "reviewer"
    LEAD = "lead"


def password_hash_method() -> str:
    """Salted scrypt by default; the test suite may configure a cheaper method."""
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return "scrypt"


def _new_nonce() -> str:
    return secrets.token_hex(8)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Sign-in name; stored lower-case so look-ups are exact.
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    #: Manager or admin across all areas; None for people who only work inside their areas.
    global_role: so.Mapped[GlobalRole | None] = so.mapped_column(
        str_enum(GlobalRole, "global_role"))
    #: Interface language: ru, kk or en.
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="ru", server_default="ru")
    #: Inactive accounts cannot sign in; their history stays.
    active: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    #: Part of the session cookie's user id; changing it ends every open session of this user.
    session_nonce: so.Mapped[str] = so.mapped_column(sa.String(32), default=_new_nonce)
    #: Set when an admin creates the account or resets its password: the next page after
    #: signing in is "choose your own password", and nothing else opens until it is done.
    must_change_password: so.Mapped[bool] = so.mapped_column(default=False,
                                                              server_default=sa.false())
    password_changed_at: so.Mapped[datetime | None]
    #: The daily e-mail digest (what waits, what is overdue); each person may switch it off.
    digest_enabled: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    #: The local day the last digest went out on, so a rerun of the job sends none twice.
    digest_sent_on: so.Mapped[date | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_login_at: so.Mapped[datetime | None]

    memberships: so.Mapped[list[AreaMembership]] = so.relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<User {self.email}>"

    # Flask-Login ---------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.id}.{self.session_nonce}"

    def end_all_sessions(self) -> None:
        """Invalidate every session cookie issued to this user so far."""
        self.session_nonce = _new_nonce()

    # Passwords -----------------------------------------------------------------------------
    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Roles ---------------------------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.global_role == GlobalRole.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.global_role == GlobalRole.MANAGER

    @property
    def sees_all_areas(self) -> bool:
        return self.global_role is not None

    @property
    def area_roles(self) -> dict[int, AreaRole]:
        """``{area_id: role}`` for this user's memberships (loaded with the user)."""
        return {m.area_id: m.role for m in self.memberships}


class AreaMembership(db.Model):
    """A user works in an area as a reviewer or as its lead."""

    __tablename__ = "area_memberships"
    __table_args__ = (sa.UniqueConstraint("user_id", "area_id", name="uq_membership_user_area"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("areas.id", ondelete="CASCADE"),
                                               index=True)
    #: What the user may do in this area.
    role: so.Mapped[AreaRole] = so.mapped_column(
        str_enum(AreaRole, "area_role"))

    user: so.Mapped[User] = so.relationship(back_populates="memberships")
    area: so.Mapped[Area] = so.relationship()
