"""Importing requirements from the ministries' spreadsheets (XLSX, CSV): preview, then confirm.

Reading and validating (``columns``, ``reader``, ``validate``) is pure code; ``service`` compares
with the register and writes; ``batches`` keeps uploads and runs them in requests or workers.
"""

from flask import Flask

from review_app.imports import models  # noqa: F401 - the tables, for Alembic and tests


def init_app(app: Flask) -> None:
    # lazy: a real cycle -- the command and the routes reach imports.service, which imports
    # requirements.export, which imports imports.columns: this package, still initialising
    from review_app.imports import cli, routes

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.import_requirements_command)
