"""staff accounts: a first password given by an administrator must be changed at the first sign-in

Revision ID: d3f6b8a2c4e1
Revises: c5e9a1d3f7b2
Create Date: 2026-11-27 23:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3f6b8a2c4e1'
down_revision = 'c5e9a1d3f7b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('password_change_due', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('password_change_due')
