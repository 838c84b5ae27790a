"""Panel remarks (a residents' representative's say on a scheme); one expert panel per round.

Revision ID: fd4bcb9cceee
Revises: 5b0a7c1d9e21
Create Date: 2026-11-27 12:45:13.212585

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fd4bcb9cceee'
down_revision = '5b0a7c1d9e21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('panel_remark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['panel_member.id'], name=op.f('fk_panel_remark_member_id_panel_member')),
    sa.ForeignKeyConstraint(['scheme_id'], ['scheme.id'], name=op.f('fk_panel_remark_scheme_id_scheme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_remark')),
    sa.UniqueConstraint('member_id', 'scheme_id', name=op.f('uq_panel_remark_member_id_scheme_id'))
    )
    with op.batch_alter_table('panel_remark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_remark_member_id'), ['member_id'], unique=False)

    with op.batch_alter_table('expert_panel', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_panel_round_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_expert_panel_round_id'), ['round_id'])



def downgrade():
    with op.batch_alter_table('expert_panel', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_expert_panel_round_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_expert_panel_round_id'), ['round_id'], unique=False)

    with op.batch_alter_table('panel_remark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_remark_member_id'))

    op.drop_table('panel_remark')
