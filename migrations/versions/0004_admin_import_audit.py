"""Admin, import and audit: the append-only audit log, import batches and their files.

Revision ID: 0004_admin_import_audit
Revises: 0003_summaries
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_admin_import_audit"
down_revision = "0003_summaries"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("target_label", sa.String(length=300), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_audit_entries_actor_id_users")),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"],
                                name=op.f("fk_audit_entries_area_id_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_created_at"), ["created_at"])
        batch_op.create_index(batch_op.f("ix_audit_entries_area_id"), ["area_id"])
        batch_op.create_index("ix_audit_entries_action_created", ["action", "created_at"])
        batch_op.create_index("ix_audit_entries_actor_created", ["actor_id", "created_at"])

    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("encoding_choice", sa.String(length=16), nullable=False),
        sa.Column("delimiter_choice", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Enum("queued", "analysing", "ready", "invalid", "applying",
                                    "applied", "failed", "discarded", name="import_status",
                                    native_enum=False, length=32), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("new_count", sa.Integer(), nullable=True),
        sa.Column("changed_count", sa.Integer(), nullable=True),
        sa.Column("unchanged_count", sa.Integer(), nullable=True),
        sa.Column("rereview_count", sa.Integer(), nullable=True),
        sa.Column("error_count", sa.Integer(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("analysed_at", sa.DateTime(), nullable=True),
        sa.Column("applied_by_id", sa.Integer(), nullable=True),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_import_batches_created_by_id_users")),
        sa.ForeignKeyConstraint(["applied_by_id"], ["users.id"],
                                name=op.f("fk_import_batches_applied_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    with op.batch_alter_table("import_batches") as batch_op:
        batch_op.create_index(batch_op.f("ix_import_batches_created_at"), ["created_at"])
        batch_op.create_index(batch_op.f("ix_import_batches_sha256"), ["sha256"])
        batch_op.create_index(batch_op.f("ix_import_batches_status"), ["status"])

    op.create_table(
        "import_file_chunks",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batches.id"],
                                name=op.f("fk_import_file_chunks_batch_id_import_batches"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("batch_id", "seq", name=op.f("pk_import_file_chunks")),
    )
    _append_only_audit()


def _append_only_audit():
    """The audit log is append-only in the database itself, like review_events (0001)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries "
                "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
    op.drop_table("import_file_chunks")
    with op.batch_alter_table("import_batches") as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batches_status"))
        batch_op.drop_index(batch_op.f("ix_import_batches_sha256"))
        batch_op.drop_index(batch_op.f("ix_import_batches_created_at"))
    op.drop_table("import_batches")
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.drop_index("ix_audit_entries_actor_created")
        batch_op.drop_index("ix_audit_entries_action_created")
        batch_op.drop_index(batch_op.f("ix_audit_entries_area_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_created_at"))
    op.drop_table("audit_entries")
