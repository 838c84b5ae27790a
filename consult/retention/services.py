"""Purging the personal data of compounds whose consultation ended longer ago than ``RETENTION_DAYS``.

What goes, in one transaction per run:

- owners' and occupants' names (a masked form stays: 张*), co-owners, phones, e-mails and owner keys;
- proxies' names (masked) and the photos of proxy authorities and paper ballots (rows keep the files'
  SHA-256, the files themselves are removed once the transaction is committed);
- invitation codes, and with them every resident session (a session is bound to its invitation);
- outbox messages to the e-mail addresses of those people.

What stays: dwellings, areas and rooms; ballots as pseudonymous rows (owner ids, choices, receipts), so
every tally recomputes the same; survey answers, comments and their answers; the audit log, which is
append-only and holds no resident's name, phone or e-mail (see docs/security.md, "Retention").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from consult.audit.services import record
from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.extensions import db
from consult.notify.models import OutboxMessage
from consult.notify.rules import normalise_address
from consult.notify.services import address_digest
from consult.residents.models import Invitation
from consult.retention.rules import FINAL
from consult.retention.rules import RoundEnd
from consult.retention.rules import consultation_end
from consult.retention.rules import mask_name
from consult.retention.rules import masked_names
from consult.retention.rules import purge_due
from consult.rounds.models import Round
from consult.rounds.models import RoundEvent
from consult.voting.models import PaperSheet
from consult.voting.models import Proxy


class StillOpen:
    """What an end source returns when, by its own measure, the consultation has not ended yet."""


STILL_OPEN = StillOpen()

#: Further sources of a compound's end, called with the compound id after the rounds say it ended. Each
#: returns None (nothing to say), a time (the consultation ended no earlier than that) or STILL_OPEN.
#: The consensus record's approval is meant to plug in here: ``register_end(record_approved_at)``.
EndSource = Callable[[int], datetime | StillOpen | None]
END_SOURCES: list[EndSource] = []


def register_end(source: EndSource) -> None:
    if source not in END_SOURCES:
        END_SOURCES.append(source)


def rounds_ended_at(compound_id: int) -> datetime | None:
    """When the compound's rounds ended (see ``retention.rules``), from the rounds' recorded history."""
    rounds = db.session.scalars(select(Round).where(Round.compound_id == compound_id)).all()
    if not rounds:
        return None
    ended = dict(
        db.session.execute(
            select(RoundEvent.round_id, func.max(RoundEvent.at))
            .where(RoundEvent.round_id.in_([r.id for r in rounds]), RoundEvent.to_state.in_(FINAL))
            .group_by(RoundEvent.round_id)
        ).all()
    )
    return consultation_end([RoundEnd(r.number, r.attempt, r.kind, r.state, ended.get(r.id)) for r in rounds])


def consultation_ended_at(compound_id: int) -> datetime | None:
    """When the compound's consultation ended: the rounds first, then every registered source."""
    end = rounds_ended_at(compound_id)
    if end is None:
        return None
    for source in END_SOURCES:
        said = source(compound_id)
        if isinstance(said, StillOpen):
            return None
        if said is not None and said > end:
            end = said
    return end


@dataclass
class Purge:
    """What a purge of one compound removed (or, in a dry run, would remove)."""

    compound_id: int
    compound_name: str
    ended_at: datetime
    owners: int = 0
    occupants: int = 0
    invitations: int = 0
    proxies: int = 0
    photos: int = 0
    outbox: int = 0
    #: stored file names to remove once the transaction is committed
    files: list[str] = field(default_factory=list)


def due_compounds(now: datetime, retention_days: int) -> list[tuple[Compound, datetime]]:
    """Compounds not yet purged whose consultation ended more than ``retention_days`` ago."""
    due = []
    for compound in db.session.scalars(
        select(Compound).where(Compound.purged_at.is_(None)).order_by(Compound.id)
    ):
        ended = consultation_ended_at(compound.id)
        if ended is not None and purge_due(ended, now, retention_days):
            due.append((compound, ended))
    return due


def purge_compound(compound: Compound, ended_at: datetime, actor: str, now: datetime) -> Purge:
    """Remove or mask the personal data of one compound (flushes; the caller commits, then removes
    ``Purge.files`` with ``remove_files``)."""
    result = Purge(compound.id, compound.name, ended_at)
    addresses: set[str] = set()

    owners = db.session.scalars(select(Owner).where(Owner.compound_id == compound.id)).all()
    for owner in owners:
        if owner.email:
            addresses.add(normalise_address(owner.email))
        owner.name = mask_name(owner.name)
        owner.co_owners = None
        owner.phone = None
        owner.email = None
        owner.key = None
    result.owners = len(owners)

    occupants = db.session.scalars(
        select(Occupant)
        .join(Dwelling, Occupant.dwelling_id == Dwelling.id)
        .join(StairUnit, Dwelling.unit_id == StairUnit.id)
        .join(Building, StairUnit.building_id == Building.id)
        .where(Building.compound_id == compound.id)
        .order_by(Occupant.dwelling_id, Occupant.id)
    ).all()
    by_dwelling: dict[int, list[Occupant]] = {}
    for occupant in occupants:
        if occupant.email:
            addresses.add(normalise_address(occupant.email))
        occupant.phone = None
        occupant.email = None
        by_dwelling.setdefault(occupant.dwelling_id, []).append(occupant)
    for group in by_dwelling.values():
        # two steps, so that no masked name meets a full one still in the dwelling (unique per dwelling)
        masked_group = masked_names([o.name for o in group])
        for placeholder, occupant in enumerate(group):
            occupant.name = f"#{placeholder}"
        db.session.flush()
        for occupant, masked in zip(group, masked_group, strict=True):
            occupant.name = masked
    result.occupants = len(occupants)

    round_ids = select(Round.id).where(Round.compound_id == compound.id)
    for proxy in db.session.scalars(select(Proxy).where(Proxy.round_id.in_(round_ids))):
        proxy.proxy_name = mask_name(proxy.proxy_name)
        if proxy.authority_photo:
            result.files.append(proxy.authority_photo)
            proxy.authority_photo = ""
        result.proxies += 1
    for sheet in db.session.scalars(select(PaperSheet).where(PaperSheet.round_id.in_(round_ids))):
        if sheet.photo:
            result.files.append(sheet.photo)
            sheet.photo = ""
    result.photos = len(result.files)

    result.invitations = (
        db.session.scalar(select(func.count(Invitation.id)).where(Invitation.compound_id == compound.id)) or 0
    )
    db.session.execute(
        delete(Invitation)
        .where(Invitation.compound_id == compound.id)
        .execution_options(compound_id=compound.id)
    )
    if addresses:
        digests = {address_digest(address) for address in addresses}
        result.outbox = (
            db.session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.address_digest.in_(digests))
            )
            or 0
        )
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.address_digest.in_(digests)))

    compound.purged_at = now
    db.session.flush()
    record(
        actor,
        "retention.purged",
        compound.id,
        ended_at=ended_at.isoformat(),
        owners=result.owners,
        occupants=result.occupants,
        invitations=result.invitations,
        proxies=result.proxies,
        photos=result.photos,
        outbox=result.outbox,
    )
    return result


def purge_due_compounds(now: datetime, retention_days: int, actor: str) -> list[Purge]:
    """Purge every compound that is due (flushes; the caller commits, then removes the files)."""
    return [
        purge_compound(compound, ended, actor, now) for compound, ended in due_compounds(now, retention_days)
    ]


def remove_files(stored_names: list[str]) -> int:
    """Remove stored photos (after the commit); returns how many files were there."""
    from consult.schemes.uploads import stored_path

    removed = 0
    for name in stored_names:
        path = stored_path(name)
        if path is not None:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
