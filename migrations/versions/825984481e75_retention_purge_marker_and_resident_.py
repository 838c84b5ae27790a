"""Retention purge marker on compounds, and a revocable session token on invitations

Revision ID: 825984481e75
Revises: e244be2e3ae4
Create Date: 2026-11-27 12:44:24.786341

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "825984481e75"
down_revision = "e244be2e3ae4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("compound", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_column("session_token")

    with op.batch_alter_table("compound", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
