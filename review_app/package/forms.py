"""The amendment package's filters (a GET form) and its request form."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, Length

from review_app.validation import AppForm, FilterForm, strip

FORMATS = [
    SelectChoice("docx", _l("Word document (DOCX): a table per legal act, for drafting")),
    SelectChoice("xlsx", _l("Excel workbook (XLSX): a row per requirement, with filters")),
]
BODY_LENGTH = _l("The issuing body can be at most 500 characters long.")
ACT_LENGTH = _l("The legal act can be at most 1,000 characters long.")


class PackageFilterForm(FilterForm):
    """Which part of the package to show: area (a code), issuing body, legal act. Values that
    match nothing show an empty package; which areas a person may see is the permission
    rule's business, not the choices'."""

    area = SelectField(_l("Area"), choices=[], validate_choice=False, filters=[strip])
    body = StringField(_l("Issuing body"), filters=[strip],
                       validators=[Length(max=500, message=BODY_LENGTH)])
    act = StringField(_l("Legal act"), filters=[strip],
                      validators=[Length(max=1000, message=ACT_LENGTH)])


class PackageRequestForm(AppForm):
    """Ask for the package as shown (the filters ride along) in one of its formats."""

    area = HiddenField(filters=[strip])
    body = HiddenField(filters=[strip], validators=[Length(max=500, message=BODY_LENGTH)])
    act = HiddenField(filters=[strip], validators=[Length(max=1000, message=ACT_LENGTH)])
    format = RadioField(_l("Format"), choices=FORMATS, default="docx", validate_choice=False,
                        validators=[InputRequired(_l("Choose a format: DOCX or XLSX.")),
                                    AnyOf([choice.value for choice in FORMATS],
                                          message=_l("Choose a format: DOCX or XLSX."))])
