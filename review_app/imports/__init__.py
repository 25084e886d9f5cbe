"""Importing requirements from the ministries' spreadsheets (XLSX, CSV): preview, then confirm.

Reading and validating (``columns``, ``reader``, ``validate``) is pure code; ``service`` compares
with the register and writes; ``batches`` keeps uploads and runs them in requests or workers.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from review_app.imports import models  # noqa: F401 - the tables, for Alembic and tests
    from review_app.imports.cli import import_requirements_command
    from review_app.imports.routes import bp

    app.register_blueprint(bp)
    app.cli.add_command(import_requirements_command)
