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
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("import_batches") as batch:
        batch.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("import_batches") as batch:
        batch.drop_column("started_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_changed_at")
        batch.drop_column("must_change_password")
