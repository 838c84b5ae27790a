"""Notices about rounds to the residents who left an e-mail address: a round opens, a round closes soon.

They go to the residents who may take part in the round: owners and occupants for a survey or comments,
owners only for the vote (occupants never vote); a reminder only to those whose household has not
answered yet."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func
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
from consult.rounds.models import RoundEvent
from consult.rounds.rules import Action
from consult.rounds.rules import RoundKind
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


def _dwellings_of(person: Owner | Occupant) -> list[int]:
    if isinstance(person, Occupant):
        return [person.dwelling_id]
    return [d.id for d in person.dwellings]


def notify_residents(round_: Round, kind: str, now: datetime, waiting: Collection[int]) -> int:
    """Queue one notice of ``kind`` to each resident with an address who may still answer for one of the
    dwellings ``waiting`` (occupants never, for the vote), in the same transaction as the event; a repeat
    for the same round is not queued twice, until the round is reopened. Returns how many were queued."""
    context = {
        "compound": round_.compound.name,
        "round_number": round_.number,
        "closes_at": round_.closes_at,
        "path": "/me",
    }
    waiting = set(waiting)
    # once the district review has reopened the round, it is announced and reminded again
    reopened = db.session.scalar(
        select(func.count(RoundEvent.id)).where(
            RoundEvent.round_id == round_.id, RoundEvent.action == Action.REOPEN.value
        )
    )
    dedupe_key = f"round:{round_.id}:{kind}" + (f":reopened{reopened}" if reopened else "")
    queued = 0
    for person in residents_of(round_.compound_id):
        if round_.kind is RoundKind.VOTE and isinstance(person, Occupant):
            continue
        if waiting.isdisjoint(_dwellings_of(person)):
            continue
        message = enqueue_to(person, kind, context, dedupe_key=dedupe_key, now=now)
        queued += message is not None
    return queued


def remind_closing(now: datetime) -> int:
    """Reminders for every open round that closes within two days (run it from cron, e.g. hourly), to
    the residents whose household has not answered yet."""
    from consult.rounds.services import participation  # the engine imports this module

    open_rounds = db.session.scalars(select(Round).where(Round.state == RoundState.OPEN)).all()
    return sum(
        notify_residents(r, "round_closing", now, participation(r).missing)
        for r in open_rounds
        if r.closes_at is not None and closing_reminder_due(r.closes_at, now)
    )
