"""change markers, sync cursors and the items' ERP id (issue 13)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import o2c_desktop.models.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The tables a replica syncs (o2c_desktop.models.change_seq.SYNCED_TABLES).
_SYNCED = (
    "customer",
    "contact",
    "item",
    "action",
    "action_item",
    "action_instalment",
    "case_file",
    "case_item",
    "plan_instalment",
    "document",
)


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute("CREATE SEQUENCE o2c_change_seq")
    default = sa.text("nextval('o2c_change_seq')") if pg else sa.text("NULL")
    for table in _SYNCED:
        # Rows written before this revision keep NULL: a first sync copies all.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "change_seq", sa.BigInteger(), server_default=default, nullable=True
                )
            )
            batch_op.create_index(f"ix_{table}_change_seq", ["change_seq"])
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("external_id", sa.String(length=80), nullable=True)
        )
        batch_op.create_index(
            "uq_item_entity_external_id",
            ["entity_id", "external_id"],
            unique=True,
            sqlite_where=sa.text("external_id IS NOT NULL"),
            postgresql_where=sa.text("external_id IS NOT NULL"),
        )
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    op.create_table(
        "sync_cursor",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            o2c_desktop.models.base.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_cursor")),
    )


def downgrade() -> None:
    op.drop_table("sync_cursor")
    op.drop_table("change_counter")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_index("uq_item_entity_external_id")
        batch_op.drop_column("external_id")
    for table in _SYNCED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_change_seq")
            batch_op.drop_column("change_seq")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE o2c_change_seq")
