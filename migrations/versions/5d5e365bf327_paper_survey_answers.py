"""paper survey answers: a survey answer entered by a worker from a paper sheet

Revision ID: 5d5e365bf327
Revises: 825984481e75
Create Date: 2026-11-27 12:44:08.323123

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d5e365bf327'
down_revision = '825984481e75'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_paper', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('entered_by', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.drop_column('entered_by')
        batch_op.drop_column('on_paper')
