"""Sign-in, sign-out and the password page; people given a password must choose their own."""

from __future__ import annotations

import functools
import logging

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_time
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from review_app import audit, permissions
from review_app.auth import passwords, throttle
from review_app.auth.forms import LoginForm, PasswordChangeForm
from review_app.auth.models import User, password_hash_method
from review_app.errors import render_error
from review_app.extensions import db
from review_app.time import utcnow
from review_app.urls import safe_next_url

bp = Blueprint("auth", __name__)
log = logging.getLogger("review_app.auth")

#: What opens while a person still has to choose their own password.
OPEN_BEFORE_OWN_PASSWORD = frozenset({"auth.change_password", "auth.logout",
                                      "i18n.set_language", "static", "health.healthz",
                                      "health.readyz"})


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("not-a-real-password", method=password_hash_method())


def _refusal_message(refusal: throttle.Refusal) -> str:
    """Say which limit refused the attempt, until when, and what the person can do."""
    at = format_time(refusal.retry_at, "medium")
    if refusal.limit == "address_account":
        return _("Too many failed attempts on this account from this network address. Try "
                 "again at %(time)s.", time=at)
    if refusal.limit == "address":
        return _("Too many failed attempts from this network address. Try again at %(time)s.",
                 time=at)
    return _("Too many failed attempts to sign in to this account from devices it has not "
             "signed in from before. Try again at %(time)s, or sign in on a computer you have "
             "used for this account before.", time=at)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("requirements.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(sa.select(User).where(User.email == email))
        attempt = throttle.attempt(email, user.id if user else None)
        refusal = throttle.check(attempt)
        if refusal is not None:
            flash(_refusal_message(refusal), "error")
            audit.record_detached(audit.AuditAction.SIGN_IN_FAILED, actor_email=email,
                                  actor=user, details={"reason": "rate_limited",
                                                       "limit": refusal.limit})
            return render_template("auth/login.html", form=form), 429
        if user is None:
            # Spend the same time as a real check, so timing does not reveal who exists.
            check_password_hash(_dummy_hash(), form.password.data)
        elif user.check_password(form.password.data) and user.active:
            login_user(user)
            user.last_login_at = utcnow()
            audit.record(audit.AuditAction.SIGN_IN, actor=user)
            db.session.commit()
            log.info("signed in: %s", email)
            throttle.note_success(attempt, user.id)
            # A lead's work starts with what waits for their decision.
            landing = "leads.queue" if permissions.lead_area_ids(user) else "requirements.index"
            return redirect(safe_next_url(form.next.data) or url_for(landing))
        throttle.note_failure(attempt)
        log.warning("failed sign-in: %s", email)
        reason = ("unknown_account" if user is None else "deactivated" if not user.active
                  else "wrong_password")
        audit.record_detached(audit.AuditAction.SIGN_IN_FAILED, actor_email=email,
                              actor=user, details={"reason": reason})
        # One message whatever was wrong, so the form does not reveal who has an account.
        flash(_("Wrong email or password, or the account is deactivated."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """End the session for real: the old cookie stops working even if someone kept a copy."""
    current_user.end_all_sessions()
    audit.record(audit.AuditAction.SIGN_OUT, actor=current_user)
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.before_app_request
def _require_own_password():
    """Until a person replaces the password an admin gave them, only the password page opens.

    Unknown addresses (``request.endpoint`` is None) go on to their error page.
    """
    if request.endpoint is None or request.endpoint in OPEN_BEFORE_OWN_PASSWORD:
        return None
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    message = _("Choose your own password before you continue.")
    if request.method in ("GET", "HEAD"):
        flash(message, "info")
        return redirect(url_for("auth.change_password",
                                next=request.full_path.removesuffix("?")))
    return render_error(403, message)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session of the account ends, this one stays."""
    user: User = current_user._get_current_object()
    form = PasswordChangeForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if not form.validate_on_submit():
        return _password_page(form, 400 if request.method == "POST" else 200)
    # The same limits as signing in: a borrowed session must not become a password oracle.
    attempt = throttle.attempt(user.email, user.id, trust_browser=False)
    refusal = throttle.check(attempt)
    if refusal is not None:
        flash(_refusal_message(refusal), "error")
        return _password_page(form, 429)
    try:
        passwords.change_password(user, current=form.current_password.data,
                                  new=form.new_password.data)
    except passwords.WrongCurrentPassword as refused:
        throttle.note_failure(attempt)
        log.warning("wrong current password on the password page: %s", user.email)
        form[refused.field].errors.append(refused.message)
        return _password_page(form, 401)
    except passwords.PasswordRefused as refused:
        form[refused.field].errors.append(refused.message)
        return _password_page(form, 400)
    login_user(user)  # the session id carries the new nonce: this browser stays signed in
    db.session.commit()
    log.info("password changed: %s", user.email)
    flash(_("Your password is changed. Any other sessions of your account have ended."),
          "success")
    return redirect(safe_next_url(form.next.data) or url_for("requirements.index"))


def _password_page(form: PasswordChangeForm, status: int):
    return render_template("auth/password.html", form=form,
                           min_length=passwords.MIN_LENGTH), status
