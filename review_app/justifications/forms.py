"""The form of a standard justification: where it is offered, and its three texts."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from review_app.justifications.models import MAX_TEMPLATE
from review_app.requirements.models import Area
from review_app.validation import AppForm

NATIONAL = "national"


def _text(label) -> TextAreaField:
    return TextAreaField(label, validators=[
        DataRequired(_l("Write the text in this language too.")),
        Length(max=MAX_TEMPLATE, message=_l("At most %(max)d characters."))])


class JustificationForm(AppForm):
    area = SelectField(_l("Offered in"), choices=[], validate_choice=True)
    text_kk = _text(_l("Text in Kazakh"))
    text_ru = _text(_l("Text in Russian"))
    text_en = _text(_l("Text in English"))

    def offer(self, areas: list[Area], national: bool, language: str) -> None:
        """The choices of ``area``: the areas given, and "every area" when ``national``."""
        choices = [(NATIONAL, _("Every area (national)"))] if national else []
        self.area.choices = choices + [(a.code, f"{a.code} · {a.name(language)}") for a in areas]

    def texts(self) -> dict[str, str]:
        return {"kk": self.text_kk.data, "ru": self.text_ru.data, "en": self.text_en.data}
