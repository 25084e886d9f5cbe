"""The form for asking for a summary."""

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, SelectField
from wtforms.validators import AnyOf, InputRequired

from review_app.validation import AppForm

FORMATS = [
    SelectChoice("xlsx", _l("Excel workbook (XLSX): a sheet per section, with charts")),
    SelectChoice("csv", _l("CSV table for other programs (opens in Excel, Cyrillic intact)")),
    SelectChoice("pdf", _l("PDF brief for printing: key figures, charts, largest decisions")),
]


class SummaryRequestForm(AppForm):
    #: "" for all areas, otherwise an area code. Which scopes the user may ask for is checked
    #: by the permission rules, not by the list of choices (an unknown code is a 400, a
    #: forbidden one a 403).
    area = SelectField(_l("Which area"), choices=[], validate_choice=False)
    format = RadioField(_l("Format"), choices=FORMATS, default="xlsx", validate_choice=False,
                        validators=[InputRequired(_l("Choose a format: XLSX, CSV or PDF.")),
                                    AnyOf([choice.value for choice in FORMATS],
                                          message=_l("Choose a format: XLSX, CSV or PDF."))])
