"""content versions: a compound's grows with every committed change its residents' pages may show, an
owner's with their ballots

Revision ID: a7c3e5f1b2d4
Revises: 5d5e365bf327
Create Date: 2026-11-27 16:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e5f1b2d4'
down_revision = '5d5e365bf327'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('owner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('owner', schema=None) as batch_op:
        batch_op.drop_column('content_version')
    with op.batch_alter_table('compound', schema=None) as batch_op:
        batch_op.drop_column('content_version')
