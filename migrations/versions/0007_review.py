"""Standard justifications: a library per area (and national), in three languages, with how
often each was used.

Revision ID: 0007_review
Revises: 0006_import_changes
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_review"
down_revision = "0007_dupes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "justification_templates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), nullable=True),
        sa.Column("text_kk", sa.Text(), nullable=False),
        sa.Column("text_ru", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("usage_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_justification_templates_area_id", "justification_templates",
                    ["area_id"])


def downgrade():
    op.drop_index("ix_justification_templates_area_id", "justification_templates")
    op.drop_table("justification_templates")
