"""The Standard Cost Model: named hourly tariffs, each requirement's SCM inputs (approved and
proposed), and the annual cost computed from them (``scm_costs``).

Revision ID: 0007_scm
Revises: 0006_import_changes
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_scm"
down_revision = "0007_scale"
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
        batch.add_column(sa.Column("scm_proposal", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("scm_proposed_by_id", sa.Integer(),
                                   sa.ForeignKey("users.id",
                                                 name="fk_requirements_scm_proposed_by_id_users"),
                                   nullable=True))
    # The computed costs apart from the wide requirements row: a tariff change rewrites many
    # at once, and a requirements row update also rewrites its trigram index entries.
    op.create_table(
        "scm_costs",
        sa.Column("requirement_id", sa.Integer(),
                  sa.ForeignKey("requirements.id",
                                name="fk_scm_costs_requirement_id_requirements"),
                  primary_key=True),
        sa.Column("central", sa.BigInteger(), nullable=False),
        sa.Column("low", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_scm_costs_central", "scm_costs", ["central"])


def downgrade():
    op.drop_index("ix_scm_costs_central", "scm_costs")
    op.drop_table("scm_costs")
    with op.batch_alter_table("requirements") as batch:
        batch.drop_constraint("fk_requirements_scm_proposed_by_id_users", type_="foreignkey")
        for name in ("scm_proposed_by_id", "scm_proposal", "scm_inputs"):
            batch.drop_column(name)
    op.drop_table("scm_tariffs")
