"""Summaries built by workers, and their files stored in chunks.

Revision ID: 0003_summaries
Revises: 0002_lead_tools
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_summaries"
down_revision = "0002_lead_tools"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade():
    op.create_table(
        "summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("format", sa.Enum("xlsx", "csv", "pdf", name="summary_format",
                                    native_enum=False, create_constraint=True, length=16),
                  nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.Enum("queued", "running", "done", "failed", name="summary_status",
                                    native_enum=False, create_constraint=True, length=16),
                  nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("progress", sa.Integer(), server_default="0", nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=16), server_default="web", nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False),
        sa.Column("enqueued_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("as_of", sa.DateTime(), nullable=True),
        sa.Column("as_of_event_id", sa.Integer(), nullable=True),
        sa.Column("requirement_count", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("storage", sa.String(length=16), nullable=True),
        sa.Column("storage_path", sa.String(length=255), nullable=True),
        sa.Column("failure_kind", sa.Enum("error", "timeout", "killed", "stalled", "storage",
                                          name="summary_failure_kind", native_enum=False,
                                          length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"],
                                name=op.f("fk_summaries_area_id_areas")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_summaries_requested_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summaries")),
    )
    op.create_index("ix_summaries_status", "summaries", ["status"])
    op.create_index("ix_summaries_area", "summaries", ["area_id", "id"])
    op.create_index("uq_summaries_active_key", "summaries", ["dedupe_key"], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_table(
        "summary_chunks",
        sa.Column("summary_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["summary_id"], ["summaries.id"],
                                name=op.f("fk_summary_chunks_summary_id_summaries"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("summary_id", "seq", name=op.f("pk_summary_chunks")),
    )


def downgrade():
    op.drop_table("summary_chunks")
    op.drop_index("uq_summaries_active_key", table_name="summaries")
    op.drop_index("ix_summaries_area", table_name="summaries")
    op.drop_index("ix_summaries_status", table_name="summaries")
    op.drop_table("summaries")
