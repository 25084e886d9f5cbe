"""Personal access tokens: how a script signs in to the API instead of a session cookie."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from review_app.auth.models import User
from review_app.dbtypes import str_enum
from review_app.extensions import db
from review_app.time import utcnow


class TokenScope(enum.StrEnum):
    #: Read everything the person may see; change nothing.
    READ = "read"
    #: Everything the person may do in the browser.
    WRITE = "write"


class ApiToken(db.Model):
    """One personal access token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    audit_type = "api_token"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                               index=True)
    #: The owner's name for it ("register sync", "my notebook").
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    scope: so.Mapped[TokenScope] = so.mapped_column(str_enum(TokenScope, "token_scope"))
    #: SHA-256 of the token, hex: a token is 256 random bits, so no slow hash is needed.
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    #: The first characters of the token, so the owner can tell their tokens apart.
    prefix: so.Mapped[str] = so.mapped_column(sa.String(16))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    #: Updated at most once a minute, so a busy script does not write on every request.
    last_used_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]
    revoked_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])

    @property
    def audit_label(self) -> str:
        return f"{self.prefix}… {self.name}"

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now and self.user.active
