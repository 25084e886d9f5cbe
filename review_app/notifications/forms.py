"""The daily digest switch."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from review_app.validation import AppForm


class DigestForm(AppForm):
    enabled = BooleanField(_l("Send me a daily e-mail with what waits for me and what is "
                              "overdue"))
