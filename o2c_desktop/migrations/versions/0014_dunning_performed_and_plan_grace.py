"""dunning issue 16: action.performed_on, plan grace, close reason, step fees

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-04 21:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from o2c_desktop.models.base import Money, Rate

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.add_column(sa.Column("performed_on", sa.Date(), nullable=True))
        batch_op.create_index("ix_action_performed_on", ["performed_on"], unique=False)
    with op.batch_alter_table("scenario", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "plan_grace_days", sa.Integer(), server_default="10", nullable=False
            )
        )
    with op.batch_alter_table("import_change", schema=None) as batch_op:
        batch_op.create_index("ix_import_change_item", ["item_id"], unique=False)
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closed_reason", sa.String(length=20), nullable=True)
        )
    with op.batch_alter_table("scenario_step", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fee_amount", Money(precision=18, scale=2), nullable=True)
        )
        batch_op.add_column(
            sa.Column("fee_percent", Rate(precision=7, scale=4), nullable=True)
        )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "waive_indemnity",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("waive_indemnity")
    with op.batch_alter_table("scenario_step", schema=None) as batch_op:
        batch_op.drop_column("fee_percent")
        batch_op.drop_column("fee_amount")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("closed_reason")
    with op.batch_alter_table("import_change", schema=None) as batch_op:
        batch_op.drop_index("ix_import_change_item")
    with op.batch_alter_table("scenario", schema=None) as batch_op:
        batch_op.drop_column("plan_grace_days")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index("ix_action_performed_on")
        batch_op.drop_column("performed_on")
