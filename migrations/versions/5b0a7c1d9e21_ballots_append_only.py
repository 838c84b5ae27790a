"""ballots append-only in the database

Revision ID: 5b0a7c1d9e21
Revises: 12f86c30f9f3
Create Date: 2026-11-27 13:05:00

The database refuses to delete a ballot, or to change one beyond lifting its ``active`` mark once (when a
later ballot takes its place): the same triggers as ``consult/voting/models.py`` installs on a new database.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b0a7c1d9e21'
down_revision = '12f86c30f9f3'
branch_labels = None
depends_on = None

SQLITE = ["CREATE TRIGGER ballot_no_delete BEFORE DELETE ON ballot BEGIN SELECT RAISE(ABORT, 'ballots are append-only: only the active mark of a replaced ballot may be lifted'); END", "CREATE TRIGGER ballot_no_change BEFORE UPDATE ON ballot WHEN NOT (OLD.active = 1 AND NEW.active = 0 AND NEW.id IS OLD.id AND NEW.round_id IS OLD.round_id AND NEW.question_id IS OLD.question_id AND NEW.owner_id IS OLD.owner_id AND NEW.choice IS OLD.choice AND NEW.channel IS OLD.channel AND NEW.cast_at IS OLD.cast_at AND NEW.recorded_at IS OLD.recorded_at AND NEW.actor IS OLD.actor AND NEW.receipt_id IS OLD.receipt_id AND NEW.proxy_id IS OLD.proxy_id AND NEW.sheet_id IS OLD.sheet_id AND NEW.supersedes_id IS OLD.supersedes_id) BEGIN SELECT RAISE(ABORT, 'ballots are append-only: only the active mark of a replaced ballot may be lifted'); END"]

POSTGRESQL = ["CREATE OR REPLACE FUNCTION ballot_append_only() RETURNS trigger AS $$ BEGIN IF TG_OP = 'UPDATE' AND OLD.active AND NOT NEW.active AND (NEW.id, NEW.round_id, NEW.question_id, NEW.owner_id, NEW.choice, NEW.channel, NEW.cast_at, NEW.recorded_at, NEW.actor, NEW.receipt_id, NEW.proxy_id, NEW.sheet_id, NEW.supersedes_id) IS NOT DISTINCT FROM (OLD.id, OLD.round_id, OLD.question_id, OLD.owner_id, OLD.choice, OLD.channel, OLD.cast_at, OLD.recorded_at, OLD.actor, OLD.receipt_id, OLD.proxy_id, OLD.sheet_id, OLD.supersedes_id) THEN RETURN NEW; END IF; RAISE EXCEPTION 'ballots are append-only: only the active mark of a replaced ballot may be lifted'; END; $$ LANGUAGE plpgsql", 'CREATE TRIGGER ballot_append_only BEFORE UPDATE OR DELETE ON ballot FOR EACH ROW EXECUTE FUNCTION ballot_append_only()']


def upgrade():
    statements = POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ballot_append_only ON ballot")
        op.execute("DROP FUNCTION IF EXISTS ballot_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ballot_no_delete")
        op.execute("DROP TRIGGER IF EXISTS ballot_no_change")
