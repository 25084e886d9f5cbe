"""Notifications: the bell in the header, the list of what is new, and the daily e-mail digest.

``models`` holds the rows, ``service`` who is told what (called by the workflow and the jobs in
the transaction of the event), ``routes`` the bell and the list, ``digest`` the daily e-mail.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from review_app.notifications import models  # noqa: F401 (models: tables)
