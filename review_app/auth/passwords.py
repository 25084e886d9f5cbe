"""Choosing one's own password: the rules a new password must meet, and the change itself.

An administrator hands over a generated password that only opens the door once
(``User.must_change_password``); the person then picks their own, and may change it again at
any time. The password page calls :func:`change_password`; the caller commits.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from review_app import audit
from review_app.audit import AuditAction
from review_app.auth.models import User
from review_app.time import utcnow

MIN_LENGTH = 10
#: The sign-in form accepts no longer password, so a longer one could never be used.
MAX_LENGTH = 200


class PasswordRefused(Exception):
    """The change was refused; ``message`` says why, ``field`` which form field it is about."""

    def __init__(self, message: Any, field: str):
        super().__init__(str(message))
        self.message = message
        self.field = field


class WrongCurrentPassword(PasswordRefused):
    """The current password typed was not the account's: count it like a failed sign-in."""


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def check_new_password(user: User, new: str, *, current: str) -> None:
    """Refuse a new password that is too short or long, the one typed as current, or the
    person's email or name (compared as typed, so this reveals nothing about the real one).

    :raise PasswordRefused: naming the first problem found.
    """
    if len(new) < MIN_LENGTH:
        raise PasswordRefused(_l("The new password is too short: use at least %(min)d "
                                 "characters.", min=MIN_LENGTH), "new_password")
    if len(new) > MAX_LENGTH:
        raise PasswordRefused(_l("The new password is too long: use at most %(max)d "
                                 "characters.", max=MAX_LENGTH), "new_password")
    if new == current:
        raise PasswordRefused(_l("The new password is the same as the current one; choose a "
                                 "different one."), "new_password")
    if _folded(new) == _folded(user.email):
        raise PasswordRefused(_l("The new password cannot be your email address."),
                              "new_password")
    if _folded(new) == _folded(user.display_name):
        raise PasswordRefused(_l("The new password cannot be your name."), "new_password")


def change_password(user: User, *, current: str, new: str) -> None:
    """Set a password the person chose, and end every session of theirs (the caller signs the
    current browser in again). Audited; the caller commits.

    :raise PasswordRefused: the new password breaks a rule (checked first).
    :raise WrongCurrentPassword: ``current`` is not the account's password.
    """
    check_new_password(user, new, current=current)
    if not user.check_password(current):
        raise WrongCurrentPassword(_l("This is not your current password."),
                                   "current_password")
    user.set_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    user.end_all_sessions()
    audit.record(AuditAction.PASSWORD_CHANGED, actor=user, target=user)
