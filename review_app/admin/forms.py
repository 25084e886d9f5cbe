"""Forms of the admin pages. Area memberships are read from ``area-<id>`` fields (one select
per area) by :func:`parse_memberships`, which names every value it cannot use."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from review_app.auth.models import AreaRole
from review_app.requirements.models import Area
from review_app.validation import AppForm, BadDay, FilterForm, parse_day, parse_id, strip

LANGUAGE_CHOICES = [SelectChoice("ru", "Русский"), SelectChoice("kk", "Қазақша"),
                    SelectChoice("en", "English")]
ROLE_CHOICES = [SelectChoice("", _l("None: works only in the areas below")),
                SelectChoice("manager", _l("Manager: sees every area, follows progress")),
                SelectChoice("admin", _l("Administrator"))]


class UserForm(AppForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter an email address.")),
                                                Length(max=254)])
    display_name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the name.")),
                                                       Length(max=120)])
    language = SelectField(_l("Interface language"), choices=LANGUAGE_CHOICES, default="ru")
    global_role = SelectField(_l("Global role"), choices=ROLE_CHOICES, default="")


class AreaForm(AppForm):
    code = StringField(_l("Code"), validators=[Length(max=8)])
    name_kk = StringField(_l("Name in Kazakh"), validators=[DataRequired(), Length(max=300)])
    name_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=300)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    dual_review = BooleanField(_l("Dual review: two reviewers propose independently before the "
                                  "lead decides"))


class TariffForm(AppForm):
    """A named hourly tariff of the cost model, with where its figure comes from."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("Latin letters, digits, “_”, “-”, “.”; import files and the "
                                      "cost inputs refer to the tariff by it."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    hourly_kzt = IntegerField(_l("Hourly tariff, ₸"),
                              validators=[InputRequired(), NumberRange(min=1, max=10**10)])
    source = TextAreaField(_l("Source"), validators=[DataRequired(), Length(max=1000)],
                           description=_l("Where the figure comes from: the statistics table, "
                                          "survey or decree."))
    as_of = DateField(_l("Date of the figure"), validators=[InputRequired()])


class ActionForm(AppForm):
    """A button with the CSRF token (deactivate, reactivate, reset password)."""


def parse_memberships(form: MultiDict, areas: list[Area]) -> tuple[dict[int, AreaRole],
                                                                   list[str]]:
    """``{area_id: role}`` from the ``area-<id>`` selects; unknown values become errors."""
    by_id = {a.id: a for a in areas}
    memberships: dict[int, AreaRole] = {}
    errors: list[str] = []
    for key, value in form.items():
        if not key.startswith("area-") or not value:
            continue
        ident = key.removeprefix("area-")
        area = by_id.get(parse_id(ident))
        if area is None:
            errors.append(_("Unknown area in the form (%(key)s).", key=key[:20]))
            continue
        try:
            memberships[area.id] = AreaRole(value)
        except ValueError:
            errors.append(_("Unknown role “%(value)s” for area %(code)s.", value=value[:20],
                            code=area.code))
    return memberships, errors


#: The query parameters of the audit log (the page reports their problems itself).
AUDIT_FILTER_PARAMS = ("kind", "who", "area", "from", "to")


class AuditFilterForm(FilterForm):
    """The audit log's filters (page and CSV share the query string)."""

    kind = StringField(filters=[strip])
    #: Part of a name or an email, in any case.
    who = StringField(filters=[strip, lambda v: v.lower() if isinstance(v, str) else v])
    area = StringField(filters=[strip])
    since = StringField(name="from", filters=[strip])
    until = StringField(name="to", filters=[strip])

    def __init__(self, args, areas: list[Area], categories) -> None:
        super().__init__(args)
        self.areas = {a.code: a for a in areas}
        self.categories = categories
        #: The days given, once validated.
        self.days: dict[str, date] = {}

    def validate_kind(self, field) -> None:
        if field.data and field.data not in self.categories:
            raise ValidationError(_("Unknown kind of event “%(value)s”.", value=field.data[:30]))

    def validate_who(self, field) -> None:
        if len(field.data or "") > 254:
            raise ValidationError(_("The person filter is too long."))

    def validate_area(self, field) -> None:
        if field.data and field.data not in self.areas:
            raise ValidationError(_("Unknown area “%(value)s”.", value=field.data[:20]))

    def _day(self, field, label: str) -> None:
        if field.data:
            try:
                self.days[field.name] = parse_day(field.data, label)
            except BadDay as exc:
                raise ValidationError(str(exc)) from None

    def validate_since(self, field) -> None:
        self._day(field, _("From"))

    def validate_until(self, field) -> None:
        self._day(field, _("To"))
