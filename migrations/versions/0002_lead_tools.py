"""Lead tools: dual review per area, review rounds, conflicts, independent proposals.

Revision ID: 0002_lead_tools
Revises: 0001
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_lead_tools"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("areas") as batch_op:
        batch_op.add_column(sa.Column("dual_review", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table("requirements") as batch_op:
        batch_op.add_column(sa.Column("review_round", sa.Integer(), server_default="1",
                                      nullable=False))
        batch_op.add_column(sa.Column("conflict", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    op.create_table(
        "independent_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requirement_id", sa.Integer(), nullable=False),
        sa.Column("review_round", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.Enum("cancel", "revise", "keep", name="blind_decision",
                                      native_enum=False, create_constraint=True, length=16),
                  nullable=False),
        sa.Column("test_legal", sa.Boolean(), nullable=False),
        sa.Column("test_necessary", sa.Boolean(), nullable=False),
        sa.Column("test_business_friendly", sa.Boolean(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("new_wording", sa.Text(), nullable=True),
        sa.Column("deviation_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["requirement_id"], ["requirements.id"],
                                name=op.f("fk_independent_proposals_requirement_id_requirements")),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"],
                                name=op.f("fk_independent_proposals_reviewer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_independent_proposals")),
        sa.UniqueConstraint("requirement_id", "review_round", "reviewer_id",
                            name="uq_independent_proposal_round_reviewer"),
    )
    with op.batch_alter_table("independent_proposals") as batch_op:
        batch_op.create_index(batch_op.f("ix_independent_proposals_requirement_id"),
                              ["requirement_id"], unique=False)
    # The lead's queue: proposals of an area, oldest first; claim-next: unassigned, by code.
    with op.batch_alter_table("requirements") as batch_op:
        batch_op.create_index("ix_requirements_area_state_proposed",
                              ["area_id", "state", "proposed_at"], unique=False)
        batch_op.create_index("ix_requirements_area_assignee", ["area_id", "assignee_id"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("requirements") as batch_op:
        batch_op.drop_index("ix_requirements_area_assignee")
        batch_op.drop_index("ix_requirements_area_state_proposed")
    op.drop_table("independent_proposals")
    with op.batch_alter_table("requirements") as batch_op:
        batch_op.drop_column("conflict")
        batch_op.drop_column("review_round")
    with op.batch_alter_table("areas") as batch_op:
        batch_op.drop_column("dual_review")
