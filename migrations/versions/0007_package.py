"""The amendment package is built by the summary pipeline (a kind and two filters on the
summaries row, DOCX as a format); notifications; the daily digest's per-person switch.

Revision ID: 0007_package
Revises: 0006_import_changes
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_package"
down_revision = "0007_dashboard"
branch_labels = None
depends_on = None

OLD_FORMATS = ("xlsx", "csv", "pdf")
NEW_FORMATS = ("xlsx", "csv", "pdf", "docx")


def upgrade():
    with op.batch_alter_table("summaries") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.Enum("summary", "package", name="summary_kind",
                                                      native_enum=False, length=32),
                                      server_default="summary", nullable=False))
        batch_op.add_column(sa.Column("issuing_body", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("legal_act", sa.String(length=1000), nullable=True))
        # The CHECK constraint of the format grows by docx (SQLite copies the small table).
        batch_op.drop_constraint(op.f("ck_summaries_summary_format"), type_="check")
        batch_op.create_check_constraint(op.f("ck_summaries_summary_format"),
                                         sa.column("format").in_(NEW_FORMATS))
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("digest_enabled", sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
        batch_op.add_column(sa.Column("digest_sent_on", sa.Date(), nullable=True))
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("assigned", "returned", "to_approve", "summary_ready",
                                  "summary_failed", "import_done", name="notification_kind",
                                  native_enum=False, length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("requirement_id", sa.Integer(), nullable=True),
        sa.Column("summary_id", sa.Integer(), nullable=True),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.Column("item_count", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_notifications_actor_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["requirement_id"], ["requirements.id"],
                                name=op.f("fk_notifications_requirement_id_requirements"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["summary_id"], ["summaries.id"],
                                name=op.f("fk_notifications_summary_id_summaries"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["import_batch_id"], ["import_batches.id"],
                                name=op.f("fk_notifications_import_batch_id_import_batches"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_user_read", "notifications",
                    ["user_id", "read_at", "id"])


def downgrade():
    op.drop_index("ix_notifications_user_read", table_name="notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("digest_sent_on")
        batch_op.drop_column("digest_enabled")
    # The packages (and their stored files) cannot live in the older schema.
    packages = "SELECT id FROM summaries WHERE kind = 'package' OR format = 'docx'"
    op.execute(f"DELETE FROM summary_chunks WHERE summary_id IN ({packages})")
    op.execute(f"DELETE FROM summaries WHERE id IN ({packages})")
    with op.batch_alter_table("summaries") as batch_op:
        batch_op.drop_constraint(op.f("ck_summaries_summary_format"), type_="check")
        batch_op.create_check_constraint(op.f("ck_summaries_summary_format"),
                                         sa.column("format").in_(OLD_FORMATS))
        batch_op.drop_column("legal_act")
        batch_op.drop_column("issuing_body")
        batch_op.drop_column("kind")
