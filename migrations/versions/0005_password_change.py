"""Own passwords and stalled imports: people change a password an admin gave them, and an
import confirmed in a request remembers when it started, so an interrupted one is noticed.

Revision ID: 0005_password_change
Revises: 0004_admin_import_audit
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_password_change"
down_revision = "0004_admin_import_audit"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (SQLite has it too): a batch operation would copy the users table, and
    # SQLite refuses to drop a table other rows point at while foreign keys are enforced.
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(), nullable=True))
    op.add_column("import_batches", sa.Column("started_at", sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column("import_batches", "started_at")
    op.drop_column("users", "password_changed_at")
    op.drop_column("users", "must_change_password")
