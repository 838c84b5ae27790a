"""paper ballots: an owner has at most one sheet per round still waiting for its second entry or a decision

A partial unique index on (round_id, owner_id) over the sheets not yet confirmed. Sheets that break it
(a paper entered twice as two sheets before this rule) are not merged or removed here: each is a signed
ballot with its photo, and only a worker's entry or a supervisor's decision settles it. The upgrade then
stops and names them; settle them (enter them again, or decide between entries), then upgrade again.

Revision ID: b2e6d4a8c1f3
Revises: a4c8e2f6b1d3
Create Date: 2026-11-28 02:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b2e6d4a8c1f3'
down_revision = 'a4c8e2f6b1d3'
branch_labels = None
depends_on = None

UNSETTLED = "state <> 'confirmed'"


def upgrade():
    clashes = op.get_bind().execute(
        sa.text(
            "SELECT round_id, owner_id, COUNT(*) FROM paper_sheet"
            f" WHERE {UNSETTLED} GROUP BY round_id, owner_id HAVING COUNT(*) > 1"
            " ORDER BY round_id, owner_id"
        )
    ).all()
    if clashes:
        listed = "; ".join(f"round {r}, owner {o}: {n} sheets" for r, o, n in clashes)
        raise RuntimeError(
            "Owners with more than one paper sheet waiting for its second entry or a decision"
            f" ({listed}). Settle those sheets first, then upgrade again."
        )
    with op.batch_alter_table('paper_sheet', schema=None) as batch_op:
        batch_op.create_index(
            'uq_paper_sheet_unsettled',
            ['round_id', 'owner_id'],
            unique=True,
            sqlite_where=sa.text(UNSETTLED),
            postgresql_where=sa.text(UNSETTLED),
        )


def downgrade():
    with op.batch_alter_table('paper_sheet', schema=None) as batch_op:
        batch_op.drop_index(
            'uq_paper_sheet_unsettled', sqlite_where=sa.text(UNSETTLED), postgresql_where=sa.text(UNSETTLED)
        )
