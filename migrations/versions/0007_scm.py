"""The Standard Cost Model: named hourly tariffs, and each requirement's SCM inputs (approved and
proposed) with the annual cost computed from them.

Revision ID: 0007_scm
Revises: 0006_import_changes
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_scm"
down_revision = "0006_import_changes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scm_tariffs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("hourly_kzt", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    # Nullable ADD COLUMNs: no table copy on SQLite, no rewrite on PostgreSQL.
    with op.batch_alter_table("requirements") as batch:
        batch.add_column(sa.Column("scm_inputs", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("scm_cost_kzt", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("scm_cost_low_kzt", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("scm_cost_high_kzt", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("scm_proposal", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("scm_proposed_by_id", sa.Integer(),
                                   sa.ForeignKey("users.id",
                                                 name="fk_requirements_scm_proposed_by_id_users"),
                                   nullable=True))
    op.create_index("ix_requirements_scm_cost_kzt", "requirements", ["scm_cost_kzt"])


def downgrade():
    op.drop_index("ix_requirements_scm_cost_kzt", "requirements")
    with op.batch_alter_table("requirements") as batch:
        batch.drop_constraint("fk_requirements_scm_proposed_by_id_users", type_="foreignkey")
        for name in ("scm_proposed_by_id", "scm_proposal", "scm_cost_high_kzt",
                     "scm_cost_low_kzt", "scm_cost_kzt", "scm_inputs"):
            batch.drop_column(name)
    op.drop_table("scm_tariffs")
