"""imports recorded so that each can be undone as a whole (issue 14)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import o2c_desktop.models.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column(
            "taken_at",
            o2c_desktop.models.base.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("user_login", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=400), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column(
            "undone_at",
            o2c_desktop.models.base.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entity.id"],
            name=op.f("fk_import_batch_entity_id_entity"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
    )
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.create_index(
            "ix_import_batch_entity", ["entity_id", "taken_at"], unique=False
        )
    op.create_table(
        "import_change",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column(
            "item_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "amount",
            o2c_desktop.models.base.Money(precision=18, scale=2),
            nullable=False,
        ),
        sa.Column(
            "remaining",
            o2c_desktop.models.base.Money(precision=18, scale=2),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_batch.id"],
            name=op.f("fk_import_change_import_id_import_batch"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["item.id"],
            name=op.f("fk_import_change_item_id_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "item_id", name=op.f("pk_import_change")),
    )


def downgrade() -> None:
    op.drop_table("import_change")
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_import_batch_entity")
    op.drop_table("import_batch")
