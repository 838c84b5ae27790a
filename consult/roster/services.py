"""Importing a roster into a compound: plan what it changes, apply it, stage an upload for confirmation.

Everything here only flushes; the caller commits, or rolls back on any exception so nothing is written.
The compound's buildings, units, dwellings, owners and occupants are loaded with five queries, compared
with the file in memory, and written in bulk: no query per row.

Matching on a re-import: a dwelling by (building, unit, room); an owner by key when the row has one; a
key-less owner is the dwelling's current key-less owner when the name is the same, otherwise a new owner
(the old one is deleted once it holds no dwelling, unless a vote's records name them: then they are kept,
holding nothing, so that the history of that vote stands). The occupants of each dwelling in the file
become the file's, matched by name. Dwellings the file does not mention are kept.
"""

from __future__ import annotations

import hashlib
import json
import ntpath
import posixpath
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import union
from sqlalchemy import update

from consult.audit.services import record
from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.compounds.models import OwnerKind
from consult.compounds.models import StairUnit
from consult.compounds.rules import natural_key
from consult.db import utcnow
from consult.errors import ConsultError
from consult.errors import NotFound
from consult.extensions import db
from consult.roster.models import ImportState
from consult.roster.models import RosterImport
from consult.roster.parse import DEFAULT_LOCALE
from consult.roster.parse import DEVELOPER_KEY
from consult.roster.parse import DEVELOPER_NAME
from consult.roster.parse import RosterRejected
from consult.roster.parse import RosterRow
from consult.roster.parse import RowRole
from consult.roster.parse import check_rows
from consult.roster.parse import parse_roster
from consult.rounds.models import Round
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.voting.models import Ballot
from consult.voting.models import PaperSheet
from consult.voting.models import Proxy

KINDS = ("buildings", "units", "dwellings", "owners", "occupants")

DwellingKey = tuple[str, str, str]


@dataclass
class Counts:
    """What an import does to one kind of record. ``deleted``: key-less owners left without a dwelling,
    occupants no longer listed for their dwelling (buildings, units and dwellings are never deleted)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted


@dataclass
class ImportPlan:
    """What applying a roster does (or did) to a compound."""

    rows: int = 0
    buildings: Counts = field(default_factory=Counts)
    units: Counts = field(default_factory=Counts)
    dwellings: Counts = field(default_factory=Counts)
    owners: Counts = field(default_factory=Counts)
    occupants: Counts = field(default_factory=Counts)
    #: dwellings already recorded that the file does not mention: kept as they are
    dwellings_not_in_file: int = 0

    def counts(self) -> dict[str, Counts]:
        return {kind: getattr(self, kind) for kind in KINDS}

    @property
    def has_changes(self) -> bool:
        return any(counts.changed for counts in self.counts().values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportPlan:
        return cls(
            rows=data.get("rows", 0),
            dwellings_not_in_file=data.get("dwellings_not_in_file", 0),
            **{kind: Counts(**data.get(kind, {})) for kind in KINDS},
        )


# --- the compound as it stands


@dataclass
class _Existing:
    buildings: dict[str, Building]
    units: dict[tuple[str, str], StairUnit]
    dwellings: dict[DwellingKey, Dwelling]
    owners: dict[int, Owner]
    owners_by_key: dict[str, Owner]
    occupants: dict[int, dict[str, Occupant]]


def _load(compound: Compound) -> _Existing:
    """The compound's roster, five queries whatever its size."""
    buildings = db.session.scalars(select(Building).where(Building.compound_id == compound.id)).all()
    units = db.session.scalars(
        select(StairUnit).join(Building).where(Building.compound_id == compound.id)
    ).all()
    dwellings = db.session.scalars(
        select(Dwelling).join(StairUnit).join(Building).where(Building.compound_id == compound.id)
    ).all()
    owners = db.session.scalars(select(Owner).where(Owner.compound_id == compound.id)).all()
    occupants = db.session.scalars(
        select(Occupant)
        .join(Dwelling)
        .join(StairUnit)
        .join(Building)
        .where(Building.compound_id == compound.id)
    ).all()
    building_label = {b.id: b.label for b in buildings}
    unit_key = {u.id: (building_label[u.building_id], u.label) for u in units}
    by_dwelling: dict[int, dict[str, Occupant]] = {}
    for occupant in occupants:
        by_dwelling.setdefault(occupant.dwelling_id, {})[occupant.name] = occupant
    return _Existing(
        buildings={b.label: b for b in buildings},
        units={unit_key[u.id]: u for u in units},
        dwellings={(*unit_key[d.unit_id], d.room): d for d in dwellings},
        owners={o.id: o for o in owners},
        owners_by_key={o.key: o for o in owners if o.key is not None},
        occupants=by_dwelling,
    )


# --- the file, grouped by dwelling


@dataclass
class _Dwelling:
    key: DwellingKey
    area: Decimal
    owner: RosterRow | None  # the owner or developer row
    occupants: list[RosterRow]


@dataclass(frozen=True)
class _OwnerValues:
    kind: OwnerKind
    name: str
    phone: str | None
    email: str | None
    co_owners: str | None
    locale: str

    @classmethod
    def of(cls, owner: Owner) -> _OwnerValues:
        return cls(owner.kind, owner.name, owner.phone, owner.email, owner.co_owners, owner.locale)


def _group(rows: Sequence[RosterRow]) -> dict[DwellingKey, _Dwelling]:
    groups: dict[DwellingKey, _Dwelling] = {}
    for row in rows:
        group = groups.setdefault(row.dwelling_key, _Dwelling(row.dwelling_key, Decimal(0), None, []))
        if row.role is RowRole.OCCUPANT:
            group.occupants.append(row)
        else:
            group.owner = row
    for group in groups.values():
        area = group.owner.area if group.owner is not None else None
        if area is None:
            area = next(row.area for row in group.occupants if row.area is not None)
        group.area = area
    return groups


def _first(rows: Sequence[RosterRow], attr: str) -> Any:
    return next((getattr(row, attr) for row in rows if getattr(row, attr) is not None), None)


def _owner_values(rows: Sequence[RosterRow]) -> dict[tuple[str, ...], tuple[str | None, _OwnerValues]]:
    """What each owner named in the file should be: token → (key, values). The developer's token is
    ("developer",), a keyed owner's ("key", key); a key-less owner is its dwelling's ("row", *dwelling)."""
    keyed: dict[tuple[str, ...], list[RosterRow]] = {}
    for row in rows:
        if row.role is RowRole.DEVELOPER:
            keyed.setdefault((DEVELOPER_KEY,), []).append(row)
        elif row.role is RowRole.OWNER and row.owner_key is not None:
            keyed.setdefault(("key", row.owner_key), []).append(row)
    values: dict[tuple[str, ...], tuple[str | None, _OwnerValues]] = {}
    for token, group in keyed.items():
        named = [row for row in group if row.name is not None]
        lead = named[0] if named else group[0]
        developer = token == (DEVELOPER_KEY,)
        values[token] = (
            DEVELOPER_KEY if developer else token[1],
            _OwnerValues(
                kind=OwnerKind.DEVELOPER if developer else OwnerKind.PERSON,
                name=lead.name or DEVELOPER_NAME,
                phone=_first(group, "phone"),
                email=_first(group, "email"),
                co_owners=None if developer else _first(group, "co_owners"),
                locale=lead.locale,
            ),
        )
    for row in rows:
        if row.role is RowRole.OWNER and row.owner_key is None and row.name is not None:
            values[("row", *row.dwelling_key)] = (
                None,
                _OwnerValues(OwnerKind.PERSON, row.name, row.phone, row.email, row.co_owners, row.locale),
            )
    return values


def _combined(named: Sequence[_OwnerValues]) -> _OwnerValues:
    """One owner's values from the rows that name them (a key-less owner of several dwellings, merged by
    a worker, is named by each of their rows): the first row's, with contact details from any row."""
    lead = named[0]
    return replace(
        lead,
        phone=next((v.phone for v in named if v.phone), None),
        email=next((v.email for v in named if v.email), None),
        co_owners=next((v.co_owners for v in named if v.co_owners), None),
    )


def _owner_token(row: RosterRow | None) -> tuple[str, ...] | None:
    if row is None:
        return None
    if row.role is RowRole.DEVELOPER:
        return (DEVELOPER_KEY,)
    if row.owner_key is not None:
        return ("key", row.owner_key)
    if row.name is None:
        return None  # the owner is not known
    return ("row", *row.dwelling_key)


# --- the difference


@dataclass
class _Diff:
    plan: ImportPlan
    groups: dict[DwellingKey, _Dwelling]
    new_buildings: list[str] = field(default_factory=list)
    new_units: list[tuple[str, str]] = field(default_factory=list)
    sort_keys: list[tuple[Building | StairUnit, str]] = field(default_factory=list)
    new_owners: dict[tuple[str, ...], tuple[str | None, _OwnerValues]] = field(default_factory=dict)
    owner_updates: list[tuple[Owner, _OwnerValues]] = field(default_factory=list)
    #: dwelling → ("id", owner id) | ("new", token) | None
    owner_of: dict[DwellingKey, tuple[str, Any] | None] = field(default_factory=dict)
    new_dwellings: list[DwellingKey] = field(default_factory=list)
    dwelling_updates: list[tuple[Dwelling, DwellingKey]] = field(default_factory=list)
    new_occupants: list[tuple[DwellingKey, RosterRow]] = field(default_factory=list)
    occupant_updates: list[tuple[Occupant, RosterRow]] = field(default_factory=list)
    occupant_deletes: list[int] = field(default_factory=list)
    owner_deletes: list[int] = field(default_factory=list)


class RosterFrozen(ConsultError):
    """The roster cannot change: a vote of the compound has opened, and its ballots are counted against
    the roster as it stood then."""


#: the states of a vote round that freeze the roster (a failed vote does not: its repeat may use a
#: corrected roster, which freezes again when the repeat opens)
FREEZING = (RoundState.OPEN, RoundState.CLOSED, RoundState.NOTICE, RoundState.DONE)


def freezing_vote(compound_id: int, *, hold: bool = False) -> int | None:
    """The number of the vote round that keeps the compound's roster from changing, if any (the first
    one). ``hold`` (before changing the roster): keep the compound's votes from opening until this
    transaction ends, so that no vote opens under a changing roster. PostgreSQL share-locks the vote
    rounds' rows (a vote opening meanwhile is waited for, then seen open); SQLite has one writer at a
    time."""
    query = (
        select(Round.number, Round.state)
        .where(Round.compound_id == compound_id, Round.kind == RoundKind.VOTE)
        .order_by(Round.number, Round.attempt)
    )
    if hold:
        query = query.with_for_update(read=True, of=Round)
    return next((number for number, state in db.session.execute(query) if state in FREEZING), None)


def ensure_not_frozen(compound: Compound, *, hold: bool = False) -> None:
    number = freezing_vote(compound.id, hold=hold)
    if number is not None:
        raise RosterFrozen(
            _l(
                "The roster is frozen since the vote of round %(number)s opened: the ballots are counted "
                "against the roster as it stood then.",
                number=number,
            )
        )


def _diff(compound: Compound, rows: Sequence[RosterRow], *, hold: bool = False) -> tuple[_Existing, _Diff]:
    """Compare the file with the compound; touches no model (so planning writes nothing). ``hold``: see
    ``freezing_vote``."""
    ensure_not_frozen(compound, hold=hold)
    problems = check_rows(rows)
    if problems:
        raise RosterRejected(problems)
    now = _load(compound)
    groups = _group(rows)
    diff = _Diff(plan=ImportPlan(rows=len(rows)), groups=groups)
    plan = diff.plan

    for label in dict.fromkeys(key[0] for key in groups):
        building = now.buildings.get(label)
        if building is None:
            diff.new_buildings.append(label)
            plan.buildings.created += 1
        elif building.sort_key != natural_key(label):
            diff.sort_keys.append((building, natural_key(label)))
            plan.buildings.updated += 1
        else:
            plan.buildings.unchanged += 1
    for unit_key in dict.fromkeys(key[:2] for key in groups):
        unit = now.units.get(unit_key)
        if unit is None:
            diff.new_units.append(unit_key)
            plan.units.created += 1
        elif unit.sort_key != natural_key(unit_key[1]):
            diff.sort_keys.append((unit, natural_key(unit_key[1])))
            plan.units.updated += 1
        else:
            plan.units.unchanged += 1

    # owners: which one each dwelling of the file goes to
    wanted = _owner_values(rows)
    touched: dict[int, list[_OwnerValues]] = {}
    for key, group in groups.items():
        token = _owner_token(group.owner)
        if token is None:
            diff.owner_of[key] = None
            continue
        owner_key, values = wanted[token]
        existing = now.owners_by_key.get(owner_key) if owner_key is not None else None
        if owner_key is None and key in now.dwellings:
            current = now.owners.get(now.dwellings[key].owner_id or 0)
            if (
                current is not None
                and current.key is None
                and current.kind is OwnerKind.PERSON
                and current.name == values.name
            ):
                existing = current
        if existing is None:
            diff.owner_of[key] = ("new", token)
            diff.new_owners.setdefault(token, (owner_key, values))
        else:
            diff.owner_of[key] = ("id", existing.id)
            touched.setdefault(existing.id, []).append(values)
    plan.owners.created = len(diff.new_owners)
    for owner_id, named in touched.items():
        owner = now.owners[owner_id]
        values = _combined(named)
        if _OwnerValues.of(owner) != values:
            diff.owner_updates.append((owner, values))
            plan.owners.updated += 1
        else:
            plan.owners.unchanged += 1

    # dwellings, and which key-less owners they leave holding nothing
    holdings = Counter(d.owner_id for d in now.dwellings.values() if d.owner_id is not None)
    left: set[int] = set()
    for key, group in groups.items():
        dwelling = now.dwellings.get(key)
        target = diff.owner_of[key]
        if dwelling is None:
            diff.new_dwellings.append(key)
            plan.dwellings.created += 1
            continue
        same_owner = dwelling.owner_id is None if target is None else target == ("id", dwelling.owner_id)
        if dwelling.area == group.area and same_owner:
            plan.dwellings.unchanged += 1
            continue
        diff.dwelling_updates.append((dwelling, key))
        plan.dwellings.updated += 1
        if not same_owner:
            if dwelling.owner_id is not None:
                holdings[dwelling.owner_id] -= 1
                left.add(dwelling.owner_id)
            if target is not None and target[0] == "id":
                holdings[target[1]] += 1
    emptied = [
        owner_id
        for owner_id in sorted(left)
        if holdings[owner_id] == 0
        and now.owners[owner_id].key is None
        and now.owners[owner_id].kind is OwnerKind.PERSON
    ]
    in_votes = named_in_votes(emptied)
    diff.owner_deletes.extend(owner_id for owner_id in emptied if owner_id not in in_votes)
    plan.owners.deleted = len(diff.owner_deletes)
    plan.dwellings_not_in_file = sum(1 for key in now.dwellings if key not in groups)

    # occupants: the file's list for each dwelling it mentions, matched by name
    for key, group in groups.items():
        dwelling = now.dwellings.get(key)
        current = dict(now.occupants.get(dwelling.id, {})) if dwelling is not None else {}
        for row in group.occupants:
            occupant = current.pop(row.name or "", None)
            if occupant is None:
                diff.new_occupants.append((key, row))
                plan.occupants.created += 1
            elif (occupant.phone, occupant.email, occupant.locale) != (row.phone, row.email, row.locale):
                diff.occupant_updates.append((occupant, row))
                plan.occupants.updated += 1
            else:
                plan.occupants.unchanged += 1
        diff.occupant_deletes.extend(occupant.id for occupant in current.values())
    plan.occupants.deleted = len(diff.occupant_deletes)
    return now, diff


def named_in_votes(owner_ids: Sequence[int]) -> set[int]:
    """Those of these owners whom a vote's records name (ballots, paper sheets, authorities given or
    held): they stay in the roster, holding nothing, as the history of that vote refers to them."""
    if not owner_ids:
        return set()
    named = union(
        select(Ballot.owner_id).where(Ballot.owner_id.in_(owner_ids)),
        select(PaperSheet.owner_id).where(PaperSheet.owner_id.in_(owner_ids)),
        select(Proxy.owner_id).where(Proxy.owner_id.in_(owner_ids)),
        select(Proxy.proxy_owner_id).where(Proxy.proxy_owner_id.in_(owner_ids)),
    )
    return set(db.session.scalars(select(named.subquery().c[0])))


def plan_rows(compound: Compound, rows: Sequence[RosterRow]) -> ImportPlan:
    """What applying these rows would do; writes nothing."""
    return _diff(compound, rows)[1].plan


def apply_rows(
    compound: Compound,
    rows: Sequence[RosterRow],
    actor: str,
    *,
    filename: str | None = None,
    sha256: str | None = None,
) -> ImportPlan:
    """Create and update the compound's roster from these rows, and record it in the audit log."""
    now, diff = _diff(compound, rows, hold=True)
    groups = diff.groups
    session = db.session

    for label in diff.new_buildings:
        now.buildings[label] = Building(compound_id=compound.id, label=label, sort_key=natural_key(label))
    session.add_all([now.buildings[label] for label in diff.new_buildings])
    for labelled, sort_key in diff.sort_keys:
        labelled.sort_key = sort_key
    new_owners: dict[tuple[str, ...], Owner] = {}
    for token, (key, values) in diff.new_owners.items():
        new_owners[token] = Owner(compound_id=compound.id, key=key, **_columns(values))
    session.add_all(new_owners.values())
    for owner, values in diff.owner_updates:
        for column, value in _columns(values).items():
            if getattr(owner, column) != value:
                setattr(owner, column, value)
    session.flush()

    for building_label, unit_label in diff.new_units:
        now.units[(building_label, unit_label)] = StairUnit(
            building_id=now.buildings[building_label].id, label=unit_label, sort_key=natural_key(unit_label)
        )
    session.add_all([now.units[key] for key in diff.new_units])
    session.flush()

    def owner_id(key: DwellingKey) -> int | None:
        target = diff.owner_of[key]
        if target is None:
            return None
        return target[1] if target[0] == "id" else new_owners[target[1]].id

    for key in diff.new_dwellings:
        now.dwellings[key] = Dwelling(
            unit_id=now.units[key[:2]].id,
            room=key[2],
            sort_key=natural_key(key[2]),
            area=groups[key].area,
            owner_id=owner_id(key),
        )
    session.add_all([now.dwellings[key] for key in diff.new_dwellings])
    for dwelling, key in diff.dwelling_updates:
        if dwelling.area != groups[key].area:
            dwelling.area = groups[key].area
        if dwelling.owner_id != owner_id(key):
            dwelling.owner_id = owner_id(key)
    session.flush()

    if diff.occupant_deletes:
        session.execute(
            delete(Occupant)
            .where(Occupant.id.in_(diff.occupant_deletes))
            .execution_options(compound_id=compound.id)
        )
    for occupant, row in diff.occupant_updates:
        occupant.phone, occupant.email, occupant.locale = row.phone, row.email, row.locale
    session.add_all(
        [
            Occupant(
                dwelling_id=now.dwellings[key].id,
                name=row.name or "",
                phone=row.phone,
                email=row.email,
                locale=row.locale,
            )
            for key, row in diff.new_occupants
        ]
    )
    if diff.owner_deletes:
        session.execute(
            delete(Owner).where(Owner.id.in_(diff.owner_deletes)).execution_options(compound_id=compound.id)
        )
    session.flush()

    detail: dict[str, Any] = diff.plan.to_dict()
    if filename is not None:
        detail["filename"] = filename
    if sha256 is not None:
        detail["sha256"] = sha256
    record(actor, "roster.imported", compound.id, **detail)
    return diff.plan


def _columns(values: _OwnerValues) -> dict[str, Any]:
    return {
        "kind": values.kind,
        "name": values.name,
        "phone": values.phone,
        "email": values.email,
        "co_owners": values.co_owners,
        "locale": values.locale or DEFAULT_LOCALE,
    }


# --- uploads


def clean_filename(filename: str) -> str:
    """The file's own name, without a browser's or Windows path ("C:\\fakepath\\名册.xlsx" → "名册.xlsx")."""
    name = ntpath.basename(posixpath.basename(filename or "")).strip()
    return (name or "roster")[:200]


def stage_upload(
    compound: Compound, data: bytes, filename: str, user_id: int | None
) -> tuple[RosterImport, ImportPlan]:
    """Check an uploaded file and keep it for the worker to confirm. RosterRejected stores nothing."""
    rows = parse_roster(data)
    plan = plan_rows(compound, rows)
    staged = RosterImport(
        compound_id=compound.id,
        uploaded_by_id=user_id,
        filename=clean_filename(filename),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        state=ImportState.PREVIEWED,
        summary=json.dumps(plan.to_dict()),
    )
    db.session.add(staged)
    db.session.flush()
    return staged, plan


def apply_staged(compound: Compound, import_id: int, actor: str) -> ImportPlan:
    """Apply a previewed upload of this compound, then drop the file (its digest stays). A second
    confirmation of the same upload waits for the first, then finds it no longer waiting (NotFound)."""
    # take the write lock before reading the compound: the upload's row on PostgreSQL, the database's
    # on SQLite (whose SELECT ... FOR UPDATE does nothing)
    db.session.execute(
        update(RosterImport)
        .where(RosterImport.id == import_id, RosterImport.compound_id == compound.id)
        .values(state=RosterImport.state)
        .execution_options(synchronize_session=False, compound_id=compound.id)
    )
    staged = db.session.scalars(
        select(RosterImport)
        .where(
            RosterImport.id == import_id,
            RosterImport.compound_id == compound.id,
            RosterImport.state == ImportState.PREVIEWED,
        )
        .with_for_update()
    ).first()
    if staged is None or staged.content is None:
        raise NotFound("no such roster upload waiting to be applied")
    plan = apply_rows(
        compound, parse_roster(staged.content), actor, filename=staged.filename, sha256=staged.sha256
    )
    staged.state = ImportState.APPLIED
    staged.applied_at = utcnow()
    staged.summary = json.dumps(plan.to_dict())
    staged.content = None
    db.session.flush()
    return plan


def import_file(
    compound: Compound, data: bytes, filename: str, actor: str, dry_run: bool = False
) -> ImportPlan:
    """Import a file at once (the command line). A dry run only plans; otherwise the import is kept in
    the history of uploads, without the file."""
    rows = parse_roster(data)
    if dry_run:
        return plan_rows(compound, rows)
    digest = hashlib.sha256(data).hexdigest()
    name = clean_filename(filename)
    plan = apply_rows(compound, rows, actor, filename=name, sha256=digest)
    db.session.add(
        RosterImport(
            compound_id=compound.id,
            uploaded_by_id=None,
            filename=name,
            sha256=digest,
            content=None,
            state=ImportState.APPLIED,
            summary=json.dumps(plan.to_dict()),
            applied_at=utcnow(),
        )
    )
    db.session.flush()
    return plan
