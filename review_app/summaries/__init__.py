"""Summaries: per-area and all-areas reports (XLSX, CSV, PDF) built by background workers.

``report`` is the data contract, ``*_writer`` the pure writers, ``source`` and ``build`` read the
database, ``service`` holds the rules for asking and following, ``storage`` keeps the files;
the RQ job itself is ``workers.summaries``.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from review_app import permissions
    from review_app.summaries import models  # noqa: F401 - the schema needs the tables
    from review_app.summaries.cli import summary_command
    from review_app.summaries.routes import bp, size_text
    from review_app.summaries.service import failure_text, status_label

    app.register_blueprint(bp)
    app.cli.add_command(summary_command)
    app.jinja_env.globals.update(
        can_use_summaries=permissions.can_use_summaries, summary_status=status_label,
        summary_failure=failure_text, summary_size=size_text)
