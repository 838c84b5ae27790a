"""Owners corrected by hand. Without an owner key (业主编号) each dwelling of the roster has its own owner;
a worker who knows that two of them are one person merges them, and separates a dwelling again from an
owner who is not its owner after all. Each is recorded with the worker's reason.

Only key-less owners of the same name are merged or separated: an owner key is corrected in the roster
(dwellings sharing a key are one owner), and a name that differs is not one person on the roster. Both
hold on a re-import: a key-less owner stays the owner of each dwelling whose row names them
(``services._diff``). Like an import, neither is possible once a vote has frozen the roster.

Everything here only flushes; the caller commits, or rolls back on any exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import selectinload

from consult.audit.models import AuditEntry
from consult.audit.services import record
from consult.auth.services import staff_name
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import Owner
from consult.compounds.models import OwnerKind
from consult.compounds.models import StairUnit
from consult.db import queue_for_writing
from consult.db import utcnow
from consult.errors import ConsultError
from consult.errors import NotFound
from consult.extensions import db
from consult.residents.models import Invitation
from consult.residents.models import RevokeReason
from consult.residents.services import revoke
from consult.roster.services import ensure_not_frozen
from consult.roster.services import named_in_votes
from consult.rounds.models import Round
from consult.rounds.rules import RoundState
from consult.schemes.models import SchemeComment
from consult.surveys.models import SurveyAnswer
from consult.voting.models import Proxy


class OwnerRefused(ConsultError):
    """A merge or a separation that the rules refuse; the message says why."""


@dataclass(frozen=True)
class OwnerFacts:
    """What the rules need to know of an owner."""

    id: int
    compound_id: int
    kind: OwnerKind
    key: str | None
    name: str
    dwellings: int

    @classmethod
    def of(cls, owner: Owner) -> OwnerFacts:
        return cls(owner.id, owner.compound_id, owner.kind, owner.key, owner.name, len(owner.dwellings))


# --- the rules


def _by_hand_refusal(owner: OwnerFacts) -> Any:
    if owner.kind is not OwnerKind.PERSON:
        return _l("The developer's unsold units are one owner already.")
    if owner.key is not None:
        return _l(
            "This owner has an owner key: dwellings are one owner when they share a key. Correct the keys "
            "in the roster and import it again."
        )
    return None


def merge_refusal(keep: OwnerFacts, other: OwnerFacts) -> Any:
    """Why ``other`` cannot be merged into ``keep`` (None: it can)."""
    if keep.id == other.id:
        return _l("That is the same owner.")
    if keep.compound_id != other.compound_id:
        return _l("Only owners of one compound can be merged.")
    refusal = _by_hand_refusal(keep) or _by_hand_refusal(other)
    if refusal is not None:
        return refusal
    if keep.name != other.name:
        return _l(
            "Only owners of the same name are merged: correct the name in the roster and import it again "
            "first."
        )
    return None


def separation_refusal(owner: OwnerFacts) -> Any:
    """Why a dwelling cannot be separated from ``owner`` (None: it can)."""
    refusal = _by_hand_refusal(owner)
    if refusal is not None:
        return refusal
    if owner.dwellings < 2:
        return _l("This owner holds one dwelling only.")
    return None


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason:
        raise OwnerRefused(_l("Say how you know: the reason is kept with the change."))
    return reason


# --- reading


def _with_places() -> Any:
    """Load an owner's dwellings with their unit and building (for ``place``)."""
    return selectinload(Owner.dwellings).selectinload(Dwelling.unit).selectinload(StairUnit.building)


def _mergeable(compound_id: int) -> tuple[Any, ...]:
    """Conditions on the owners that may be merged by hand (``_by_hand_refusal`` in SQL): the compound's
    key-less persons holding a dwelling (not one kept, holding nothing, for a past vote's records)."""
    return (
        Owner.compound_id == compound_id,
        Owner.key.is_(None),
        Owner.kind == OwnerKind.PERSON,
        Owner.dwellings.any(),
    )


def owner_in(compound: Compound, owner_id: int) -> Owner:
    """The owner, with their dwellings and where they are, if they are of this compound."""
    owner = db.session.scalars(
        select(Owner).where(Owner.id == owner_id, Owner.compound_id == compound.id).options(_with_places())
    ).first()
    if owner is None:
        raise NotFound("no such owner in this compound")
    return owner


def _namesake_names(compound_id: int) -> Any:
    """The names that two key-less owners of the compound, each holding a dwelling, have in common."""
    return (
        select(Owner.name)
        .where(*_mergeable(compound_id))
        .group_by(Owner.name)
        .having(func.count(Owner.id) > 1)
    )


def namesake_count(compound: Compound) -> int:
    """How many names two key-less owners of the compound have in common (one query)."""
    return db.session.scalar(select(func.count()).select_from(_namesake_names(compound.id).subquery())) or 0


def namesakes(compound: Compound) -> list[tuple[str, list[Owner]]]:
    """The key-less owners of the compound who share their name with another, by name: the owners a
    worker may have to merge (or not: 张伟 is a common name)."""
    found = db.session.scalars(
        select(Owner)
        .where(*_mergeable(compound.id), Owner.name.in_(_namesake_names(compound.id)))
        .options(_with_places())
        .order_by(Owner.name, Owner.id)
    ).all()
    groups: dict[str, list[Owner]] = {}
    for owner in found:
        groups.setdefault(owner.name, []).append(owner)
    return list(groups.items())


def same_name_owners(owner: Owner) -> list[Owner]:
    """The other key-less owners of the compound with the same name: who might be the same person."""
    if _by_hand_refusal(OwnerFacts.of(owner)) is not None:
        return []
    return list(
        db.session.scalars(
            select(Owner)
            .where(*_mergeable(owner.compound_id), Owner.id != owner.id, Owner.name == owner.name)
            .options(_with_places())
            .order_by(Owner.id)
        )
    )


@dataclass(frozen=True)
class OwnerChange:
    """A merge or a separation that concerns an owner, as the audit log keeps it."""

    at: datetime
    by: str | None  # the staff member's name
    action: str  # "merged" (``other`` became this owner), "merged_into", "separated", "separated_from"
    other: int  # the other owner's id
    dwellings: list[str]  # building-unit-room of the dwellings that moved
    reason: str


def history(owner: Owner) -> list[OwnerChange]:
    """The merges and separations that concern the owner, oldest first (from the audit log)."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.compound_id == owner.compound_id,
            AuditEntry.action.in_(("owner.merged", "owner.separated")),
        )
        .order_by(AuditEntry.id)
    ).all()
    changes = []
    places: dict[int, str] = {}
    for entry in entries:
        detail = json.loads(entry.detail)
        if entry.action == "owner.merged":
            ends = (detail["owner"], detail["merged"], "merged", "merged_into")
            moved = detail["dwellings"]
        else:
            ends = (detail["owner"], detail["new_owner"], "separated", "separated_from")
            moved = [detail["dwelling"]]
        if owner.id not in ends[:2]:
            continue
        for dwelling_id in moved:
            if dwelling_id not in places:
                dwelling = db.session.get(Dwelling, dwelling_id)
                places[dwelling_id] = place(dwelling) if dwelling is not None else str(dwelling_id)
        mine = owner.id == ends[0]
        changes.append(
            OwnerChange(
                at=entry.at,
                by=staff_name(entry.actor),
                action=ends[2] if mine else ends[3],
                other=ends[1] if mine else ends[0],
                dwellings=[places[d] for d in moved],
                reason=detail["reason"],
            )
        )
    return changes


def existing(owner_ids: set[int]) -> set[int]:
    """Those of these owners that are still in the roster."""
    if not owner_ids:
        return set()
    return set(db.session.scalars(select(Owner.id).where(Owner.id.in_(owner_ids))))


def place(dwelling: Dwelling) -> str:
    """Building-unit-room, as the roster writes it."""
    return f"{dwelling.unit.building.label}-{dwelling.unit.label}-{dwelling.room}"


# --- changing


def merge_owners(compound: Compound, keep: Owner, other: Owner, reason: str, actor: str) -> list[int]:
    """``other`` is ``keep``: their dwellings, comments and survey answers become ``keep``'s, and contact
    details ``keep`` lacks are taken from ``other``. ``other`` is then deleted with their cards, unless a
    vote's records name them: they are then kept, holding nothing, with their cards switched off.
    Returns the ids of the dwellings that moved."""
    ensure_not_frozen(compound, hold=True)
    _hold(keep, other)
    refusal = merge_refusal(OwnerFacts.of(keep), OwnerFacts.of(other))
    if refusal is not None:
        raise OwnerRefused(refusal)
    if _live_proxies(other):
        raise OwnerRefused(
            _l(
                "A proxy for the coming vote names the owner to merge: revoke it first, and record it again "
                "for this owner once they are merged."
            )
        )
    reason = _reason(reason)
    moved = sorted(d.id for d in other.dwellings)
    for dwelling in list(other.dwellings):
        dwelling.owner = keep
    taken = []
    for field in ("phone", "email", "co_owners"):
        if not getattr(keep, field) and getattr(other, field):
            setattr(keep, field, getattr(other, field))
            taken.append(field)
    db.session.flush()
    for model in (SchemeComment, SurveyAnswer):
        db.session.execute(
            update(model)
            .where(model.owner_id == other.id)
            .values(owner_id=keep.id)
            .execution_options(compound_id=compound.id, synchronize_session=False)
        )
    kept = bool(named_in_votes([other.id]))
    if kept:
        now = utcnow()
        cards = db.session.scalars(
            select(Invitation).where(Invitation.owner_id == other.id, Invitation.revoked_at.is_(None))
        ).all()
        for card in cards:
            revoke(card, RevokeReason.MERGED, actor, now)
    else:
        db.session.execute(
            delete(Owner).where(Owner.id == other.id).execution_options(compound_id=compound.id)
        )
        db.session.expunge(other)
    db.session.flush()
    record(
        actor,
        "owner.merged",
        compound.id,
        owner=keep.id,
        merged=other.id,
        dwellings=moved,
        contact_taken=taken,
        merged_kept=kept,
        reason=reason,
    )
    return moved


_CHANGED = _l("These owners changed meanwhile: open the page again.")


def _hold(*owners: Owner) -> None:
    """Hold the owners' rows until the transaction ends and read them afresh, with their dwellings: a
    change racing with this one (a merge, a separation, an import) is waited for, then seen. PostgreSQL
    locks the rows, in the order of their ids; SQLite queues for its one writer."""
    queue_for_writing(db.session)
    ids = sorted({owner.id for owner in owners})
    held = db.session.scalars(
        select(Owner)
        .where(Owner.id.in_(ids))
        .order_by(Owner.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    if len(held) != len(ids):
        raise OwnerRefused(_CHANGED)
    for owner in owners:
        db.session.refresh(owner, ["dwellings"])


def _live_proxies(owner: Owner) -> bool:
    """Whether a proxy not revoked, of a vote not yet held, names the owner (as giver or as proxy)."""
    return (
        db.session.scalar(
            select(Proxy.id)
            .join(Round, Round.id == Proxy.round_id)
            .where(
                or_(Proxy.owner_id == owner.id, Proxy.proxy_owner_id == owner.id),
                Proxy.revoked_at.is_(None),
                Round.state == RoundState.DRAFT,
            )
            .limit(1)
        )
        is not None
    )


def separate_dwelling(compound: Compound, dwelling: Dwelling, reason: str, actor: str) -> Owner:
    """The dwelling's owner is not the owner of their other dwellings: it gets an owner of its own, of
    the same name, without contact details or a card (the next roster import brings its row's details;
    a worker prints the card). Returns the new owner."""
    ensure_not_frozen(compound, hold=True)
    owner = dwelling.owner
    if owner is None or owner.compound_id != compound.id:
        raise NotFound("the dwelling has no owner in this compound")
    _hold(owner)
    if dwelling not in owner.dwellings:
        raise OwnerRefused(_CHANGED)
    refusal = separation_refusal(OwnerFacts.of(owner))
    if refusal is not None:
        raise OwnerRefused(refusal)
    reason = _reason(reason)
    own = Owner(compound_id=compound.id, kind=OwnerKind.PERSON, name=owner.name, locale=owner.locale)
    db.session.add(own)
    dwelling.owner = own
    db.session.flush()
    record(
        actor,
        "owner.separated",
        compound.id,
        owner=owner.id,
        new_owner=own.id,
        dwelling=dwelling.id,
        reason=reason,
    )
    return own
