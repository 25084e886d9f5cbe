"""The person's own page of API tokens: create one (shown once), see them, revoke them."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import IntegerField, RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from review_app.api import tokens
from review_app.api.models import ApiToken
from review_app.extensions import db
from review_app.permissions import log_denied
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


def _page(form: TokenForm, new_secret: str | None = None, status: int = 200,
          message: str | None = None):
    return render_template("api/tokens.html", form=form, tokens=tokens.owned_by(current_user),
                           new_secret=new_secret, revoke_form=RevokeForm(),
                           message=message), status


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
    return _page(TokenForm(formdata=None), message=_("The token was revoked."))
