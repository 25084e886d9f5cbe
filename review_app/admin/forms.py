"""Forms of the admin pages. Area memberships are read from ``area-<id>`` fields (one select
per area) by :func:`parse_memberships`, which names every value it cannot use."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from review_app.auth.models import AreaRole
from review_app.requirements.models import Area

LANGUAGE_CHOICES = [SelectChoice("ru", "Русский"), SelectChoice("kk", "Қазақша"),
                    SelectChoice("en", "English")]
ROLE_CHOICES = [SelectChoice("", _l("None: works only in the areas below")),
                SelectChoice("manager", _l("Manager: sees every area, follows progress")),
                SelectChoice("admin", _l("Administrator"))]


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter an email address.")),
                                                Length(max=254)])
    display_name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the name.")),
                                                       Length(max=120)])
    language = SelectField(_l("Interface language"), choices=LANGUAGE_CHOICES, default="ru")
    global_role = SelectField(_l("Global role"), choices=ROLE_CHOICES, default="")


class AreaForm(FlaskForm):
    code = StringField(_l("Code"), validators=[Length(max=8)])
    name_kk = StringField(_l("Name in Kazakh"), validators=[DataRequired(), Length(max=300)])
    name_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=300)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    dual_review = BooleanField(_l("Dual review: two reviewers propose independently before the "
                                  "lead decides"))


class ActionForm(FlaskForm):
    """A button with the CSRF token (deactivate, reactivate, reset password)."""


def parse_memberships(form: MultiDict, areas: list[Area]) -> tuple[dict[int, AreaRole],
                                                                   list[str]]:
    """``{area_id: role}`` from the ``area-<id>`` selects; unknown values become errors."""
    from flask_babel import gettext as _

    by_id = {a.id: a for a in areas}
    memberships: dict[int, AreaRole] = {}
    errors: list[str] = []
    for key, value in form.items():
        if not key.startswith("area-") or not value:
            continue
        ident = key.removeprefix("area-")
        area = by_id.get(int(ident)) if ident.isdigit() else None
        if area is None:
            errors.append(_("Unknown area in the form (%(key)s).", key=key[:20]))
            continue
        try:
            memberships[area.id] = AreaRole(value)
        except ValueError:
            errors.append(_("Unknown role “%(value)s” for area %(code)s.", value=value[:20],
                            code=area.code))
    return memberships, errors
