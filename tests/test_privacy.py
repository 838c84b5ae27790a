"""Phone numbers and e-mail addresses are encrypted at rest; the application reads them back."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy import text

from consult.compounds.models import Owner
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows

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
