"""Summaries: per-area and all-areas reports (XLSX, CSV, PDF) built by background workers.

``report`` is the data contract, ``*_writer`` the pure writers, ``source`` and ``build`` read the
database, ``service`` holds the rules for asking and following, ``storage`` keeps the files;
the RQ job itself is ``workers.summaries``.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    # lazy: the pure builder and writers (no app, no RQ: STYLE.md 5) import this package
    # first; the views, the command and the RQ-using service load only when an app is built
    from review_app import permissions
    from review_app.summaries import cli, models, routes, service  # noqa: F401 (models: tables)

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.summary_command)
    app.jinja_env.globals.update(
        can_use_summaries=permissions.can_use_summaries, summary_status=service.status_label,
        summary_failure=service.failure_text, summary_size=routes.size_text)
