"""The compound's content version: every committed change is traced to its compound, whatever the table;
nothing moves on a rollback; a bulk statement that names no compound moves them all."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy import update

from consult.audit.services import record
from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.compounds.versions import ABOVE
from consult.compounds.versions import NOT_SHOWN
from consult.compounds.versions import _parent_keys
from consult.compounds.versions import touch_owners
from consult.extensions import db
from consult.residents.models import PrivacyAcknowledgement
from consult.rounds.models import Round
from consult.rounds.models import RoundEvent
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState


def versions() -> dict[str, int]:
    db.session.expire_all()
    return {
        name: version for name, version in db.session.execute(select(Compound.name, Compound.content_version))
    }


@pytest.fixture
def two(create_compound) -> tuple[Compound, Compound]:
    return create_compound("浣花小区"), create_compound("锦里小区")


def test_every_table_leads_to_its_compound_or_is_listed():
    for table in db.metadata.sorted_tables:
        if table.name in NOT_SHOWN | ABOVE | {"compound", "alembic_version"}:
            continue
        assert _parent_keys(table), f"{table.name}: no way to its compound"


def test_a_change_moves_only_its_own_compound(two):
    huanhua, jinli = two
    before = versions()
    building = Building(compound_id=huanhua.id, label="1", sort_key="1")
    db.session.add(building)
    db.session.commit()
    after = versions()
    assert after["浣花小区"] == before["浣花小区"] + 1
    assert after["锦里小区"] == before["锦里小区"]

    # two steps away (stairwell unit → building → compound), and a round's row (event → round)
    db.session.add(StairUnit(building_id=building.id, label="1", sort_key="1"))
    round_ = Round(compound_id=jinli.id, number=1, kind=RoundKind.NEEDS, state=RoundState.DRAFT)
    db.session.add(round_)
    db.session.commit()
    round_id = round_.id
    db.session.expunge_all()  # the rows are looked up in the database, not found in the session
    db.session.add(RoundEvent(round_id=round_id, actor="test", action="open", to_state=RoundState.OPEN))
    db.session.commit()
    last = versions()
    assert last["浣花小区"] == after["浣花小区"] + 1
    assert last["锦里小区"] == after["锦里小区"] + 2


def test_an_unsaved_change_moves_nothing(two):
    huanhua, _jinli = two
    before = versions()
    db.session.add(Building(compound_id=huanhua.id, label="9", sort_key="9"))
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert versions() == before


def test_the_audit_log_and_a_lock_move_nothing(two):
    huanhua, _jinli = two
    before = versions()
    record("test", "something.looked.at", huanhua.id)
    db.session.execute(
        update(Compound)
        .where(Compound.id == huanhua.id)
        .values(name=Compound.name)
        .execution_options(compound_id=None)
    )
    db.session.commit()
    assert versions() == before


def test_a_bulk_statement_naming_no_compound_moves_them_all(two):
    huanhua, jinli = two
    before = versions()
    db.session.execute(update(Compound).where(Compound.id == jinli.id).values(committee="院委会"))
    db.session.commit()
    after = versions()
    assert all(after[name] == before[name] + 1 for name in before)
    db.session.execute(
        update(Compound)
        .where(Compound.id == huanhua.id)
        .values(purged_at=datetime.now(UTC))
        .execution_options(compound_id=huanhua.id)
    )
    db.session.commit()
    last = versions()
    assert (last["浣花小区"], last["锦里小区"]) == (after["浣花小区"] + 1, after["锦里小区"])


def test_a_ballot_moves_its_owner_and_their_proxy_not_the_compound(two):
    huanhua, _jinli = two
    voter = Owner(compound_id=huanhua.id, name="张伟")
    other = Owner(compound_id=huanhua.id, name="李娜")
    db.session.add_all([voter, other])
    db.session.commit()
    before = versions()
    touch_owners(db.session, [voter.id])  # what a ballot of the voter does (bulk insert, owner named)
    db.session.commit()
    db.session.expire_all()
    assert (voter.content_version, other.content_version) == (1, 0)
    assert versions() == before


def test_an_occupants_acknowledgement_moves_only_their_compound(two):
    huanhua, _jinli = two
    building = Building(compound_id=huanhua.id, label="1", sort_key="1")
    db.session.add(building)
    db.session.flush()
    unit = StairUnit(building_id=building.id, label="1", sort_key="1")
    db.session.add(unit)
    db.session.flush()
    dwelling = Dwelling(unit_id=unit.id, room="101", sort_key="101", area=Decimal("60.00"))
    db.session.add(dwelling)
    db.session.flush()
    tenant = Occupant(dwelling_id=dwelling.id, name="王芳")
    db.session.add(tenant)
    db.session.commit()
    tenant_id = tenant.id
    db.session.expunge_all()  # four steps to the compound, each looked up in the database
    before = versions()
    db.session.add(PrivacyAcknowledgement(occupant_id=tenant_id, notice_version="1"))
    db.session.commit()
    after = versions()
    assert (after["浣花小区"], after["锦里小区"]) == (before["浣花小区"] + 1, before["锦里小区"])
