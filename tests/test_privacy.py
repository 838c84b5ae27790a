"""Phone numbers and e-mail addresses are encrypted at rest; the application reads them back."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy import text

from consult.audit.models import AuditEntry
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.crypto import FILE_MAGIC
from consult.crypto import data_key
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from tests.notify.conftest import round_context

ROSTER = (
    "楼栋,单元,房号,建筑面积,业主姓名,联系电话,邮箱,身份\n1,1,101,80,张伟,13812341234,zw@example.test,业主\n"
)


def test_contact_details_are_encrypted_at_rest(compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    raw = db.session.execute(text("SELECT phone, email FROM owner")).one()
    assert "1381234" not in raw.phone
    assert "example.test" not in raw.email
    assert raw.phone.startswith("v1:")
    db.session.expire_all()
    owner = db.session.scalars(select(Owner)).one()
    assert (owner.phone, owner.email) == ("13812341234", "zw@example.test")


def test_the_same_number_is_stored_differently_each_time(compound):
    apply_rows(compound, parse_roster((ROSTER + "1,1,102,70,李娜,13812341234,,业主\n").encode()), "test")
    db.session.commit()
    stored = db.session.scalars(text("SELECT phone FROM owner ORDER BY id")).all()
    assert stored[0] != stored[1]  # a fresh nonce each time: equal numbers cannot be matched up


def test_a_re_import_of_the_same_file_changes_nothing(compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    plan = apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    assert plan.owners.unchanged == 1
    assert plan.owners.updated == 0


ROSTER_TWO = (
    "楼栋,单元,房号,建筑面积,业主姓名,联系电话,邮箱,身份\n"
    "1,1,101,80,张伟,13812341234,zw@example.test,业主\n"
    "1,1,102,70,李娜,13900001111,,业主\n"
    "1,1,102,,王芳,13700002222,wf@example.test,租户\n"
)
NEW_KEY = base64.b64encode(bytes(range(32))).decode()


def stored_contacts() -> list[tuple[str | None, ...]]:
    owners = db.session.execute(text("SELECT phone, email FROM owner ORDER BY id")).all()
    occupants = db.session.execute(text("SELECT phone, email FROM occupant ORDER BY id")).all()
    return [tuple(row) for row in [*owners, *occupants]]


def readable_contacts() -> list[tuple[str | None, ...]]:
    db.session.expire_all()
    owners = db.session.scalars(select(Owner).order_by(Owner.id)).all()
    occupants = db.session.scalars(select(Occupant).order_by(Occupant.id)).all()
    return [(p.phone, p.email) for p in [*owners, *occupants]]


def test_a_new_data_key_seals_every_contact_again_all_or_nothing(app, compound, runner):
    apply_rows(compound, parse_roster(ROSTER_TWO.encode()), "test")
    db.session.commit()
    plain = readable_contacts()
    assert plain == [
        ("13812341234", "zw@example.test"),
        ("13900001111", None),
        ("13700002222", "wf@example.test"),
    ]
    before = stored_contacts()
    app.config["DATA_KEY"] = NEW_KEY  # the operator sets a key of its own: the old one was derived
    with pytest.raises(InvalidTag):
        readable_contacts()
    db.session.rollback()

    refused = runner.invoke(args=["reencrypt", "--old-secret-key", "not the secret"])
    assert refused.exit_code == 1
    assert "owner.phone of row" in refused.output
    assert "nothing was changed" in refused.output
    assert stored_contacts() == before

    done = runner.invoke(args=["reencrypt", "--old-secret-key", "test"])
    assert done.exit_code == 0, done.output
    assert "5 values sealed under the current key; 0 were already." in done.output
    assert readable_contacts() == plain
    after = stored_contacts()
    assert all(value is None or value.startswith("v1:") for row in after for value in row)
    assert all(a != b for a, b in zip(after, before, strict=True))
    again = runner.invoke(args=["reencrypt", "--old-secret-key", "test"])
    assert "0 values sealed under the current key; 5 were already." in again.output
    assert stored_contacts() == after  # the second run changed nothing
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc())).all()
    assert actions[:2] == ["keys.files_resealed", "keys.reencrypted"]


def test_stored_photos_are_sealed_again_under_a_new_key_file_by_file(app, tmp_path):
    from consult.crypto import UnreadableValue
    from consult.crypto import file_key
    from consult.crypto import open_file_bytes
    from consult.crypto import reseal_files
    from consult.crypto import seal_file_bytes

    old = data_key()
    sealed_before, legacy = tmp_path / "a.jpg", tmp_path / "b.jpg"
    sealed_before.write_bytes(seal_file_bytes(b"signed ballot", file_key(old)))
    legacy.write_bytes(b"stored before sealing began")
    app.config["DATA_KEY"] = NEW_KEY
    with pytest.raises(InvalidTag):
        open_file_bytes(sealed_before.read_bytes())

    done = reseal_files([sealed_before, legacy], old)
    assert (done.changed, done.current) == (2, 0)
    assert open_file_bytes(sealed_before.read_bytes()) == b"signed ballot"
    assert open_file_bytes(legacy.read_bytes()) == b"stored before sealing began"
    assert legacy.read_bytes().startswith(FILE_MAGIC)
    again = reseal_files([sealed_before, legacy], old)
    assert (again.changed, again.current) == (0, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "b.jpg"]  # no partial file left

    stranger = tmp_path / "c.jpg"
    stranger.write_bytes(seal_file_bytes(b"x", file_key(bytes(32))))
    with pytest.raises(UnreadableValue):
        reseal_files([stranger], old)


def test_reencrypting_needs_exactly_one_well_formed_old_key(runner):
    for args in ([], ["--old-secret-key", "a", "--old-data-key", NEW_KEY], ["--old-data-key", "c2hvcnQ="]):
        result = runner.invoke(args=["reencrypt", *args])
        assert result.exit_code == 1
        assert "Error:" in result.output


def test_a_new_secret_key_seals_and_digests_the_outbox_addresses_again(app, runner):
    from consult.notify import services as notify

    notify.unsubscribe("zw@example.test")
    queued = notify.enqueue(
        "round_closing", "wf@example.test", "zh_CN", round_context(), dedupe_key="round:1:closing"
    )
    db.session.commit()
    assert queued is not None
    app.config["SECRET_KEY"] = "a new secret, long and made up"
    assert not notify.is_unsubscribed("zw@example.test")  # the old digest is not found under the new key
    db.session.rollback()

    done = runner.invoke(args=["reencrypt", "--old-secret-key", "test"])
    assert done.exit_code == 0, done.output
    assert notify.is_unsubscribed("zw@example.test")
    again = notify.enqueue(
        "round_closing", "wf@example.test", "zh_CN", round_context(), dedupe_key="round:1:closing"
    )
    assert again is not None
    assert again.id == queued.id
    assert again.to_address == "wf@example.test"
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "keys.reencrypted").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert json.loads(entry.detail)["digests"] == 2


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张华", "张*"),
        ("张建华", "张*"),
        ("张", "张*"),
        ("欧阳娜娜", "欧*"),
        ("阿卜杜·热合曼", "阿*"),
        ("Zhang Wei", "Z*"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_name_is_shown_as_its_first_character_and_a_star(name, masked):
    from consult.ui import mask_name

    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("+8613812341234", "+86*******1234"),
        ("028-87654321", "028*****4321"),
        ("87654321", "****4321"),  # a local landline: at least four digits stay hidden
        ("7654321", "****321"),
        ("123456", "******"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_phone_number_keeps_at_least_four_characters_hidden(phone, masked):
    from consult.ui import mask_phone

    assert mask_phone(phone) == masked
