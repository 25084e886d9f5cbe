"""Similar and duplicate requirements: the LSH bands of each text, duplicate groups and the
runs of the background job that builds them.

Revision ID: 0007_dupes
Revises: 0006_import_changes
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_dupes"
down_revision = "0007_package"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duplicate_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("queued", "running", "done", "failed",
                                    name="duplicate_run_status", native_enum=False,
                                    create_constraint=True, length=16), nullable=False),
        sa.Column("active_key", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("progress", sa.Integer(), server_default="0", nullable=False),
        sa.Column("requirement_count", sa.Integer(), nullable=True),
        sa.Column("group_count", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_duplicate_runs_requested_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_runs")),
    )
    op.create_index("uq_duplicate_runs_active", "duplicate_runs", ["active_key"], unique=True,
                    sqlite_where=sa.text("status IN ('queued', 'running')"),
                    postgresql_where=sa.text("status IN ('queued', 'running')"))
    op.create_table(
        "duplicate_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("exact", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["duplicate_runs.id"],
                                name=op.f("fk_duplicate_groups_run_id_duplicate_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_groups")),
    )
    op.create_table(
        "duplicate_members",
        sa.Column("requirement_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["duplicate_groups.id"],
                                name=op.f("fk_duplicate_members_group_id_duplicate_groups"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requirement_id"], ["requirements.id"],
                                name=op.f("fk_duplicate_members_requirement_id_requirements"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("requirement_id", name=op.f("pk_duplicate_members")),
    )
    op.create_index("ix_duplicate_members_group", "duplicate_members", ["group_id"])
    op.create_table(
        "requirement_text_bands",
        sa.Column("band", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("requirement_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(["requirement_id"], ["requirements.id"],
                                name=op.f("fk_requirement_text_bands_requirement_id_requirements"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("band", "bucket", "requirement_id",
                                name=op.f("pk_requirement_text_bands")),
    )
    op.create_index("ix_text_bands_requirement", "requirement_text_bands", ["requirement_id"])


def downgrade():
    op.drop_index("ix_text_bands_requirement", table_name="requirement_text_bands")
    op.drop_table("requirement_text_bands")
    op.drop_index("ix_duplicate_members_group", table_name="duplicate_members")
    op.drop_table("duplicate_members")
    op.drop_table("duplicate_groups")
    op.drop_index("uq_duplicate_runs_active", table_name="duplicate_runs")
    op.drop_table("duplicate_runs")
