"""Every change an import makes is in the requirement's history: review events get a
``changes`` column holding each changed field, old and new.

Revision ID: 0006_import_changes
Revises: 0005_password_change
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_import_changes"
down_revision = "0005_password_change"
branch_labels = None
depends_on = None


def upgrade():
    # Plain nullable ADD COLUMN: no table copy on SQLite, no rewrite on PostgreSQL, so it is
    # instant on a history of millions of events. Earlier events simply have none.
    op.add_column("review_events", sa.Column("changes", sa.JSON(), nullable=True))


def downgrade():
    op.drop_column("review_events", "changes")
