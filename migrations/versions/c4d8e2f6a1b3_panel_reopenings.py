"""Panel reopenings: a closed expert panel opened again while its round, reopened by the district
review, takes its revised scheme (who, when, why, and the closing it undid).

Revision ID: c4d8e2f6a1b3
Revises: b2e6d4a8c1f3
Create Date: 2026-11-28 04:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e2f6a1b3'
down_revision = 'b2e6d4a8c1f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('panel_reopening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('panel_id', sa.Integer(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name=op.f('fk_panel_reopening_by_id_user_account')),
    sa.ForeignKeyConstraint(['panel_id'], ['expert_panel.id'], name=op.f('fk_panel_reopening_panel_id_expert_panel')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_reopening'))
    )
    with op.batch_alter_table('panel_reopening', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_reopening_panel_id'), ['panel_id'], unique=False)


def downgrade():
    with op.batch_alter_table('panel_reopening', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_reopening_panel_id'))

    op.drop_table('panel_reopening')
