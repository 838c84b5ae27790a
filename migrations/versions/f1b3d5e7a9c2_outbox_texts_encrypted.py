"""outbox: the subject and texts of queued e-mails are stored encrypted (the subject needs more room)

Rows written before are read as they are, and sealed by the next `flask reencrypt`.

Revision ID: f1b3d5e7a9c2
Revises: e7a2c9d4b6f8
Create Date: 2026-11-27 23:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1b3d5e7a9c2'
down_revision = 'e7a2c9d4b6f8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('subject', existing_type=sa.String(length=400), type_=sa.Text(), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('subject', existing_type=sa.Text(), type_=sa.String(length=400), existing_nullable=False)
