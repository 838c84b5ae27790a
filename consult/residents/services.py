"""Residents' access: issuing and revoking card codes, exchanging a code for a session, the privacy notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm import selectinload

from consult.audit.services import record
from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.extensions import db
from consult.residents.cards import Card
from consult.residents.models import Invitation
from consult.residents.models import PrivacyAcknowledgement
from consult.residents.models import RevokeReason
from consult.residents.rules import derive_key
from consult.residents.rules import format_code
from consult.residents.rules import keyed_hash
from consult.residents.rules import new_short_code
from consult.residents.rules import new_token
from consult.residents.rules import place_label
from consult.residents.rules import places_label

#: the version of the privacy notice residents acknowledge; a new version asks again
PRIVACY_NOTICE_VERSION = "2026-11-27"  # the retention period and the purge stated


def code_key() -> bytes:
    """The key of the codes' hashes: ``CODE_KEY`` if set, else derived from ``SECRET_KEY``."""
    configured = current_app.config.get("CODE_KEY")
    return configured.encode() if configured else derive_key(current_app.config["SECRET_KEY"], "codes")


def token_hash(token: str) -> str:
    return keyed_hash(code_key(), "token", token)


def code_hash(code: str) -> str:
    return keyed_hash(code_key(), "code", code)


@dataclass(frozen=True)
class Person:
    """Someone a card is printed for: an owner (may vote) or a registered occupant (may not)."""

    owner: Owner | None
    occupant: Occupant | None
    dwellings: tuple[Dwelling, ...]

    @property
    def locale(self) -> str:
        person = self.owner or self.occupant
        return person.locale if person else "zh_CN"

    @property
    def name(self) -> str:
        person = self.owner or self.occupant
        return person.name if person else ""

    def place(self, locale: str | None = None) -> str:
        loc = locale or self.locale
        return places_label(
            [place_label(d.unit.building.label, d.unit.label, d.room, loc) for d in self.dwellings], loc
        )


@dataclass(frozen=True)
class IssuedCard:
    """A freshly issued code, in plain text: printed once, never stored."""

    person: Person
    invitation: Invitation
    token: str
    code: str

    @property
    def printed_code(self) -> str:
        return format_code(self.code)


def card_people(compound: Compound, building: str | None = None, unit: str | None = None) -> list[Person]:
    """Everyone a card is printed for in the compound (or one building, or one unit of it), in the order
    of their first dwelling: owners first at each door, then that dwelling's occupants."""
    query = (
        select(Dwelling)
        .join(StairUnit, Dwelling.unit_id == StairUnit.id)
        .join(Building, StairUnit.building_id == Building.id)
        .where(Building.compound_id == compound.id)
        .options(
            selectinload(Dwelling.owner),
            selectinload(Dwelling.occupants),
            selectinload(Dwelling.unit).selectinload(StairUnit.building),
        )
        .order_by(Building.sort_key, StairUnit.sort_key, Dwelling.sort_key)
    )
    if building is not None:
        query = query.where(Building.label == building)
    if unit is not None:
        query = query.where(StairUnit.label == unit)
    dwellings = db.session.scalars(query).all()
    owners: dict[int, list[Dwelling]] = {}
    people: list[Person | int] = []
    for dwelling in dwellings:
        if dwelling.owner is not None:
            if dwelling.owner_id not in owners:
                owners[dwelling.owner_id] = []
                people.append(dwelling.owner_id)
            owners[dwelling.owner_id].append(dwelling)
        people.extend(Person(None, occupant, (dwelling,)) for occupant in dwelling.occupants)
    return [Person(owners[p][0].owner, None, tuple(owners[p])) if isinstance(p, int) else p for p in people]


def _holders(people: list[Person]) -> list[tuple[Any, list[int]]]:
    """These people as the invitation column that names them and their ids: owners, then occupants."""
    return [
        (Invitation.owner_id, [p.owner.id for p in people if p.owner is not None]),
        (Invitation.occupant_id, [p.occupant.id for p in people if p.occupant is not None]),
    ]


def printed_since(people: list[Person], since: datetime) -> datetime | None:
    """When cards were last printed for any of these people, if after ``since``."""
    whose = [column.in_(ids) for column, ids in _holders(people) if ids]
    if not whose:
        return None
    latest = db.session.scalar(select(func.max(Invitation.issued_at)).where(or_(*whose)))
    return latest if latest is not None and latest > since else None


def issue_cards(people: list[Person], compound: Compound, actor: str, now: datetime) -> list[IssuedCard]:
    """New codes for these people; their earlier codes stop working (reprinted). Flushes."""
    holders = _holders(people)
    for column, ids in holders:
        if ids:
            db.session.execute(
                update(Invitation)
                .where(column.in_(ids), Invitation.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason=RevokeReason.REPRINTED)
                .execution_options(compound_id=compound.id)
            )
    key = code_key()
    cards = []
    for person in people:
        token, code = new_token(), new_short_code()
        invitation = Invitation(
            compound_id=compound.id,
            owner_id=person.owner.id if person.owner else None,
            occupant_id=person.occupant.id if person.occupant else None,
            token_hash=keyed_hash(key, "token", token),
            code_hash=keyed_hash(key, "code", code),
            issued_at=now,
            issued_by=actor,
        )
        cards.append(IssuedCard(person, invitation, token, code))
    db.session.add_all([c.invitation for c in cards])
    db.session.flush()
    owners, occupants = (len(ids) for _column, ids in holders)
    record(actor, "codes.issued", compound.id, owners=owners, occupants=occupants)
    return cards


def revoke(invitation: Invitation, reason: RevokeReason, actor: str, now: datetime) -> None:
    """This code stops working at once (a lost card)."""
    if invitation.revoked_at is None:
        invitation.revoked_at = now
        invitation.revoked_reason = reason
        db.session.flush()
        record(actor, "code.revoked", invitation.compound_id, invitation=invitation.id, reason=reason.value)


def active_cards(owner_ids: set[int], occupant_ids: set[int]) -> dict[tuple[str, int], Invitation]:
    """The working card of each of these people: keys ("owner", id) and ("occupant", id)."""
    found = db.session.scalars(
        select(Invitation).where(
            Invitation.revoked_at.is_(None),
            Invitation.owner_id.in_(owner_ids) | Invitation.occupant_id.in_(occupant_ids),
        )
    ).all()
    return {
        ("owner", i.owner_id) if i.owner_id is not None else ("occupant", i.occupant_id): i  # type: ignore[misc]
        for i in found
    }


def find_by_token(token: str) -> Invitation | None:
    return db.session.scalars(select(Invitation).where(Invitation.token_hash == token_hash(token))).first()


def find_by_code(code: str, compound_id: int | None = None) -> Invitation | None:
    query = select(Invitation).where(Invitation.code_hash == code_hash(code))
    if compound_id is not None:
        query = query.where(Invitation.compound_id == compound_id)
    return db.session.scalars(query).first()


def mark_used(invitation: Invitation, now: datetime) -> None:
    invitation.last_used_at = now
    db.session.flush()


def person_of(invitation: Invitation) -> Person:
    """The person a code belongs to, with their dwelling(s)."""
    if invitation.owner is not None:
        dwellings = db.session.scalars(
            select(Dwelling)
            .join(StairUnit, Dwelling.unit_id == StairUnit.id)
            .join(Building, StairUnit.building_id == Building.id)
            .where(Dwelling.owner_id == invitation.owner_id)
            .order_by(Building.sort_key, StairUnit.sort_key, Dwelling.sort_key)
            .options(contains_eager(Dwelling.unit).contains_eager(StairUnit.building))
        ).all()
        return Person(invitation.owner, None, tuple(dwellings))
    assert invitation.occupant is not None
    return Person(None, invitation.occupant, (invitation.occupant.dwelling,))


def _whose(invitation: Invitation) -> tuple[str, int | None]:
    """The column and id a card's acknowledgement is kept under: its owner's, else its occupant's."""
    if invitation.owner_id is not None:
        return "owner_id", invitation.owner_id
    return "occupant_id", invitation.occupant_id


@cache
def _acknowledged_query(column: str) -> Select[Any]:
    """Built once: every resident page asks."""
    person = getattr(PrivacyAcknowledgement, column)
    return select(PrivacyAcknowledgement.notice_version).where(person == bindparam("person"))


def has_acknowledged_privacy(invitation: Invitation) -> bool:
    column, person = _whose(invitation)
    version = db.session.scalars(_acknowledged_query(column), {"person": person}).first()
    return version == PRIVACY_NOTICE_VERSION


def acknowledge_privacy(invitation: Invitation, now: datetime) -> None:
    """Record, once per person and notice version, that the resident read the notice."""
    column, person = _whose(invitation)
    ack = db.session.scalars(
        select(PrivacyAcknowledgement).where(getattr(PrivacyAcknowledgement, column) == person)
    ).first()
    if ack is not None and ack.notice_version == PRIVACY_NOTICE_VERSION:
        return
    if ack is None:
        ack = PrivacyAcknowledgement(owner_id=invitation.owner_id, occupant_id=invitation.occupant_id)
        db.session.add(ack)
    ack.notice_version = PRIVACY_NOTICE_VERSION
    ack.at = now
    db.session.flush()
    record(
        f"resident:{invitation.id}",
        "privacy.acknowledged",
        invitation.compound_id,
        version=PRIVACY_NOTICE_VERSION,
    )


def card_for(issued: IssuedCard, compound_name: str) -> Card:
    """What is printed on one card, in the resident's language, with links from the configured BASE_URL."""
    base = current_app.config["BASE_URL"].rstrip("/")
    locale = issued.person.locale
    return Card(
        compound=compound_name,
        place=issued.person.place(locale),
        url=f"{base}/r/{issued.token}",
        code=issued.printed_code,
        code_url=f"{base}/code",
        locale=locale,
        occupant=issued.person.occupant is not None,
    )
