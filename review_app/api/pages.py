"""The person's own page of API tokens: create one (shown once), see them, revoke them."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import IntegerField, RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from review_app.api import tokens
from review_app.api.models import ApiToken
from review_app.auth.models import User
from review_app.extensions import db
from review_app.permissions import can_manage_users, log_denied, require
from review_app.validation import AppForm

bp = Blueprint("api_tokens", __name__)


class TokenForm(AppForm):
    name = StringField(validators=[InputRequired(), Length(max=tokens.MAX_NAME)])
    scope = RadioField(choices=[SelectChoice("read", "read"), SelectChoice("write", "write")],
                       default="read",
                       validators=[InputRequired()])
    days = IntegerField(default=tokens.DEFAULT_DAYS,
                        validators=[InputRequired(), NumberRange(1, tokens.MAX_DAYS)])


class RevokeForm(AppForm):
    pass


def _page(form: TokenForm | None, new_secret: str | None = None, status: int = 200,
          message: str | None = None, owner: User | None = None):
    """The token page: one's own (with the form for a new one), or, for an admin, another
    person's (``owner``), to revoke."""
    owner = owner or current_user
    return render_template("api/tokens.html", form=form, tokens=tokens.owned_by(owner),
                           new_secret=new_secret, revoke_form=RevokeForm(), owner=owner,
                           message=message), status


@bp.get("/account/tokens/of/<int:user_id>")
@login_required
def of_person(user_id: int):
    """An admin sees another person's tokens, to revoke them."""
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    require(can_manage_users(current_user), current_user, "view-tokens", person)
    return _page(None, owner=person)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def index():
    form = TokenForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate():
        return _page(form, status=400)
    try:
        _token, secret = tokens.create(current_user, name=form.name.data, scope=form.scope.data,
                                       days=form.days.data)
    except tokens.TokenError as exc:
        form.name.errors = [str(exc.message)]
        return _page(form, status=422)
    db.session.commit()
    # Shown in this answer only: the page never stores it, a reload cannot show it again.
    return _page(TokenForm(formdata=None), new_secret=secret)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    if not tokens.can_revoke(current_user, token):
        log_denied(current_user, "revoke-token", token)
        abort(403)
    if not RevokeForm().validate():
        abort(400)
    tokens.revoke(current_user, token)
    db.session.commit()
    if token.user_id != current_user.id:  # an admin revoking someone else's
        return _page(None, message=_("The token was revoked."), owner=token.user)
    return _page(TokenForm(formdata=None), message=_("The token was revoked."))
