"""outbox and unsubscribes: addresses stored encrypted, found by a keyed digest

The rows already there are sealed and digested here, with the keys the application is configured with
(the formulas are written out below, as they were when this ran: an encrypted value is "v1:" and the
base64 of a 12-byte nonce and the AES-GCM sealed text; a digest is the HMAC-SHA256 of
"address:<normalised address>" under the codes' key).

Revision ID: a4c8e2f6b1d3
Revises: f1b3d5e7a9c2
Create Date: 2026-11-28 01:40:00.000000

"""
import base64
import hashlib
import hmac
import os

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app


# revision identifiers, used by Alembic.
revision = 'a4c8e2f6b1d3'
down_revision = 'f1b3d5e7a9c2'
branch_labels = None
depends_on = None

PREFIX = "v1:"


def _keys():
    config = current_app.config
    secret = config["SECRET_KEY"]
    code_key = config.get("CODE_KEY")
    code_key = code_key.encode() if code_key else hmac.new(secret.encode(), b"codes", hashlib.sha256).digest()
    data_key = config.get("DATA_KEY")
    data_key = (
        base64.b64decode(data_key)
        if data_key
        else hmac.new(secret.encode(), b"contact details", hashlib.sha256).digest()
    )
    return data_key, code_key


def _seal(data_key, plain):
    if plain.startswith(PREFIX):
        return plain  # sealed already
    nonce = os.urandom(12)
    return PREFIX + base64.b64encode(nonce + AESGCM(data_key).encrypt(nonce, plain.encode(), PREFIX.encode())).decode()


def _open(data_key, stored):
    if not stored.startswith(PREFIX):
        return stored
    raw = base64.b64decode(stored[len(PREFIX):])
    return AESGCM(data_key).decrypt(raw[:12], raw[12:], PREFIX.encode()).decode()


def _digest(code_key, address):
    return hmac.new(code_key, f"address:{address.strip().lower()}".encode(), hashlib.sha256).hexdigest()


def _rows(table, column, seal=True):
    """Each row's address sealed (or opened) and its digest, in place."""
    data_key, code_key = _keys()
    bind = op.get_bind()
    t = sa.table(table, sa.column('id', sa.Integer), sa.column(column, sa.String), sa.column('address_digest', sa.String))
    for row_id, stored in bind.execute(sa.select(t.c.id, t.c[column])).all():
        plain = _open(data_key, stored)
        bind.execute(
            sa.update(t)
            .where(t.c.id == row_id)
            .values({column: _seal(data_key, plain) if seal else plain, 'address_digest': _digest(code_key, plain)})
        )


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_digest', sa.String(length=64), nullable=True))
        batch_op.alter_column('to_address', existing_type=sa.String(length=200), type_=sa.String(length=400), existing_nullable=False)
    with op.batch_alter_table('notify_unsubscribe', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_digest', sa.String(length=64), nullable=True))
        batch_op.alter_column('address', existing_type=sa.String(length=200), type_=sa.String(length=400), existing_nullable=False)

    _rows('outbox_message', 'to_address')
    _rows('notify_unsubscribe', 'address')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('address_digest', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint('uq_outbox_message_dedupe_key_to_address', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_message_dedupe_key_address_digest'), ['dedupe_key', 'address_digest'])
        batch_op.create_index('ix_outbox_message_address_digest', ['address_digest'], unique=False)
    with op.batch_alter_table('notify_unsubscribe', schema=None) as batch_op:
        batch_op.alter_column('address_digest', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint('uq_notify_unsubscribe_address', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_notify_unsubscribe_address_digest'), ['address_digest'])


def downgrade():
    with op.batch_alter_table('notify_unsubscribe', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notify_unsubscribe_address_digest'), type_='unique')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_address_digest')
        batch_op.drop_constraint(batch_op.f('uq_outbox_message_dedupe_key_address_digest'), type_='unique')

    _rows('outbox_message', 'to_address', seal=False)
    _rows('notify_unsubscribe', 'address', seal=False)

    with op.batch_alter_table('notify_unsubscribe', schema=None) as batch_op:
        batch_op.alter_column('address', existing_type=sa.String(length=400), type_=sa.String(length=200), existing_nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_notify_unsubscribe_address'), ['address'])
        batch_op.drop_column('address_digest')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('to_address', existing_type=sa.String(length=400), type_=sa.String(length=200), existing_nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_message_dedupe_key_to_address'), ['dedupe_key', 'to_address'])
        batch_op.drop_column('address_digest')
