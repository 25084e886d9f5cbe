"""The upload form: the file, and the encoding and separator when detection is not wanted."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectChoice, SelectField

ENCODING_CHOICES = [SelectChoice("auto", _l("Detect automatically")),
                    SelectChoice("utf-8", "UTF-8"), SelectChoice("cp1251", "Windows-1251")]
DELIMITER_CHOICES = [SelectChoice("auto", _l("Detect automatically")),
                     SelectChoice("semicolon", _l("Semicolon ( ; )")),
                     SelectChoice("comma", _l("Comma ( , )")), SelectChoice("tab", _l("Tab"))]


class UploadForm(FlaskForm):
    file = FileField(_l("File (XLSX or CSV)"),
                     validators=[FileRequired(_l("Choose the file to import."))])
    encoding = SelectField(_l("Text encoding (CSV only)"), choices=ENCODING_CHOICES,
                           default="auto")
    delimiter = SelectField(_l("Column separator (CSV only)"), choices=DELIMITER_CHOICES,
                            default="auto")


class ActionForm(FlaskForm):
    """Confirm or discard: a button and the CSRF token."""
