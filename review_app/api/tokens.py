"""Personal access tokens: create (shown once), list, revoke, and find the one a request bears.

A token is ``rra_`` and 43 URL-safe characters (256 random bits); only its SHA-256 is kept, so
a copy of the database signs nobody in. Creation and revocation are audited in the same
transaction as the change; use is kept in ``last_used_at`` (at most one write a minute).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from review_app import audit
from review_app.api.models import ApiToken, TokenScope
from review_app.audit import AuditAction
from review_app.auth.models import User
from review_app.extensions import db
from review_app.time import utcnow

PREFIX = "rra_"
#: The longest a token may live; the default is 90 days.
MAX_DAYS = 366
DEFAULT_DAYS = 90
MAX_NAME = 100
#: ``last_used_at`` is written again only when older than this.
USE_RESOLUTION = timedelta(minutes=1)


class TokenError(Exception):
    """A token could not be created or revoked; ``message`` says why."""

    def __init__(self, message, field: str | None = None, status_code: int = 422):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.status_code = status_code


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(owner: User, *, name: str, scope: TokenScope | str, days: int = DEFAULT_DAYS,
           ) -> tuple[ApiToken, str]:
    """A new token for ``owner``: the row (added, not committed) and the token itself, which is
    never stored and cannot be shown again.

    :raise TokenError: no name, a name too long, an unknown scope, or an expiry out of range.
    """
    name = (name or "").strip()
    if not name:
        raise TokenError(_l("Give the token a name, so you know later what uses it."), "name")
    if len(name) > MAX_NAME:
        raise TokenError(_l("The name is too long (at most %(n)d characters).", n=MAX_NAME),
                         "name")
    if scope not in {s.value for s in TokenScope}:
        raise TokenError(_l("The scope must be “read” or “write”."), "scope")
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(_l("A token lives from 1 to %(n)d days.", n=MAX_DAYS), "expires_in_days")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(user=owner, name=name, scope=TokenScope(scope), token_hash=digest(secret),
                     prefix=secret[:10], created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    audit.record(AuditAction.TOKEN_CREATED, actor=owner, target=token,
                 details={"scope": token.scope.value, "expires_at": token.expires_at.isoformat(),
                          "owner": owner.email})
    return token, secret


def can_revoke(actor: User, token: ApiToken) -> bool:
    """The owner revokes their own tokens; admins anyone's."""
    return actor.is_active and (token.user_id == actor.id or actor.is_admin)


def revoke(actor: User, token: ApiToken) -> None:
    """Stop ``token`` at once (a second revocation changes nothing). The caller checked
    :func:`can_revoke` and commits."""
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.id
    audit.record(AuditAction.TOKEN_REVOKED, actor=actor, target=token,
                 details={"owner": token.user.email})


def revoke_all(actor: User, owner: User) -> int:
    """Revoke every live token of ``owner`` (deactivation); returns how many."""
    live = list(db.session.scalars(sa.select(ApiToken).where(
        ApiToken.user_id == owner.id, ApiToken.revoked_at.is_(None))))
    for token in live:
        revoke(actor, token)
    return len(live)


def owned_by(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id.desc())))


def bearer(secret: str) -> ApiToken | None:
    """The usable token ``secret`` names (not revoked, not expired, its owner active), with its
    owner and their memberships loaded; None otherwise. Notes the use."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == digest(secret))
        .options(so.joinedload(ApiToken.user).selectinload(User.memberships)))
    now = utcnow()
    if token is None or not token.usable(now):
        return None
    if token.last_used_at is None or now - token.last_used_at > USE_RESOLUTION:
        _note_use(token.id, now)
        token.last_used_at = now
    return token


def _note_use(token_id: int, now: datetime) -> None:
    """On a connection of its own, so the request's own transaction (and a refusal's
    rollback) neither holds nor loses it."""
    with db.engine.begin() as conn:
        conn.execute(sa.update(ApiToken.__table__).where(ApiToken.__table__.c.id == token_id)
                     .values(last_used_at=now))
