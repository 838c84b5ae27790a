"""Notices about rounds to the residents who left an e-mail address: a round opens, a round closes soon."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from consult.compounds.models import Building
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.extensions import db
from consult.notify.rules import closing_reminder_due
from consult.notify.services import enqueue_to
from consult.rounds.models import Round
from consult.rounds.rules import RoundState


def residents_of(compound_id: int) -> list[Owner | Occupant]:
    """Every owner and registered occupant of the compound (those without an address are skipped later)."""
    owners = db.session.scalars(select(Owner).where(Owner.compound_id == compound_id)).all()
    occupants = db.session.scalars(
        select(Occupant)
        .join(Dwelling, Occupant.dwelling_id == Dwelling.id)
        .join(StairUnit, Dwelling.unit_id == StairUnit.id)
        .join(Building, StairUnit.building_id == Building.id)
        .where(Building.compound_id == compound_id)
    ).all()
    return [*owners, *occupants]


def notify_residents(round_: Round, kind: str, now: datetime) -> int:
    """Queue one notice of ``kind`` to each resident with an address, in the same transaction as the
    event; a repeat for the same round is not queued twice. Returns how many were queued."""
    context = {
        "compound": round_.compound.name,
        "round_number": round_.number,
        "closes_at": round_.closes_at,
        "path": "/me",
    }
    queued = 0
    for person in residents_of(round_.compound_id):
        message = enqueue_to(person, kind, context, dedupe_key=f"round:{round_.id}:{kind}", now=now)
        queued += message is not None
    return queued


def remind_closing(now: datetime) -> int:
    """Reminders for every open round that closes within two days (run it from cron, e.g. hourly)."""
    open_rounds = db.session.scalars(select(Round).where(Round.state == RoundState.OPEN)).all()
    return sum(
        notify_residents(r, "round_closing", now)
        for r in open_rounds
        if r.closes_at is not None and closing_reminder_due(r.closes_at, now)
    )
