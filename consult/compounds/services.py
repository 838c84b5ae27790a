"""Use-cases on compounds: who may see which, their coverage, creating them."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select

from consult.audit.services import record
from consult.auth.models import Role
from consult.auth.models import User
from consult.compounds.models import Building
from consult.compounds.models import Cluster
from consult.compounds.models import Compound
from consult.compounds.models import District
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.compounds.models import Street
from consult.compounds.rules import Coverage
from consult.errors import ConsultError
from consult.errors import NotFound
from consult.extensions import db


def visible_compounds(user: User) -> Select[tuple[Compound]]:
    """The compounds this staff member may see: a worker their street's, reviewers and admins all."""
    query = select(Compound).join(Compound.street).order_by(Street.name, Compound.name)
    if user.role in (Role.REVIEWER, Role.ADMIN):
        return query
    if user.role is Role.WORKER and user.street_id is not None:
        return query.where(Compound.street_id == user.street_id)
    return query.where(False)  # experts see compounds through their panels only


def get_compound_for(user: User, compound_id: int) -> Compound:
    """The compound, if this user may see it; otherwise NotFound (a 404 that leaks nothing)."""
    compound = db.session.scalars(visible_compounds(user).where(Compound.id == compound_id)).first()
    if compound is None:
        raise NotFound("no such compound")
    return compound


def coverages(compound_ids: Iterable[int]) -> dict[int, Coverage]:
    """Roster coverage of each compound, from three aggregate queries whatever their number."""
    ids = list(compound_ids)
    if not ids:
        return {}
    dwelling_rows = db.session.execute(
        select(
            Building.compound_id,
            func.count(Dwelling.id),
            func.count(Dwelling.owner_id),
            func.coalesce(func.sum(Dwelling.area), 0),
            func.coalesce(func.sum(Dwelling.area).filter(Dwelling.owner_id.is_not(None)), 0),
        )
        .join(StairUnit, StairUnit.building_id == Building.id)
        .join(Dwelling, Dwelling.unit_id == StairUnit.id)
        .where(Building.compound_id.in_(ids))
        .group_by(Building.compound_id)
    ).all()
    owner_counts = dict(
        db.session.execute(
            select(Owner.compound_id, func.count(func.distinct(Owner.id)))
            .join(Dwelling, Dwelling.owner_id == Owner.id)
            .where(Owner.compound_id.in_(ids))
            .group_by(Owner.compound_id)
        ).all()
    )
    occupant_counts = dict(
        db.session.execute(
            select(Building.compound_id, func.count(Occupant.id))
            .join(StairUnit, StairUnit.building_id == Building.id)
            .join(Dwelling, Dwelling.unit_id == StairUnit.id)
            .join(Occupant, Occupant.dwelling_id == Dwelling.id)
            .where(Building.compound_id.in_(ids))
            .group_by(Building.compound_id)
        ).all()
    )
    result = {cid: Coverage(0, 0, Decimal(0), Decimal(0), 0, 0) for cid in ids}
    for cid, dwellings, owned, area, owned_area in dwelling_rows:
        result[cid] = Coverage(
            dwellings=dwellings,
            owned=owned,
            total_area=Decimal(area),
            owned_area=Decimal(owned_area),
            owners=owner_counts.get(cid, 0),
            occupants=occupant_counts.get(cid, 0),
        )
    return result


def building_coverages(compound: Compound) -> dict[int, Coverage]:
    """Coverage of each building of a compound."""
    rows = db.session.execute(
        select(
            Building.id,
            func.count(Dwelling.id),
            func.count(Dwelling.owner_id),
            func.coalesce(func.sum(Dwelling.area), 0),
            func.coalesce(func.sum(Dwelling.area).filter(Dwelling.owner_id.is_not(None)), 0),
            func.count(func.distinct(Dwelling.owner_id)),
        )
        .join(StairUnit, StairUnit.building_id == Building.id)
        .join(Dwelling, Dwelling.unit_id == StairUnit.id)
        .where(Building.compound_id == compound.id)
        .group_by(Building.id)
    ).all()
    return {
        bid: Coverage(n, owned, Decimal(area), Decimal(owned_area), owners, 0)
        for bid, n, owned, area, owned_area, owners in rows
    }


def find_compound(ref: str) -> Compound:
    """A compound by its id or its exact name (for the command line)."""
    ref = ref.strip()
    if ref.isdigit():
        compound = db.session.get(Compound, int(ref))
        if compound is not None:
            return compound
    matches = db.session.scalars(select(Compound).where(Compound.name == ref)).all()
    if not matches:
        raise NotFound(f"no compound with id or name {ref!r}")
    if len(matches) > 1:
        ids = ", ".join(str(c.id) for c in matches)
        raise ConsultError(f"several compounds are named {ref!r} (ids {ids}); give the id")
    return matches[0]


def find_street(name: str) -> Street:
    matches = db.session.scalars(select(Street).where(Street.name == name.strip())).all()
    if not matches:
        raise NotFound(f"no street named {name!r}")
    if len(matches) > 1:
        raise ConsultError(f"several streets are named {name!r}")
    return matches[0]


def ensure_district(name: str) -> District:
    district = db.session.scalars(select(District).where(District.name == name)).first()
    if district is None:
        district = District(name=name)
        db.session.add(district)
        db.session.flush()
    return district


def ensure_street(district: District, name: str) -> Street:
    street = db.session.scalars(
        select(Street).where(Street.district_id == district.id, Street.name == name)
    ).first()
    if street is None:
        street = Street(district=district, name=name)
        db.session.add(street)
        db.session.flush()
    return street


def ensure_cluster(district: District, name: str) -> Cluster:
    cluster = db.session.scalars(
        select(Cluster).where(Cluster.district_id == district.id, Cluster.name == name)
    ).first()
    if cluster is None:
        cluster = Cluster(district=district, name=name)
        db.session.add(cluster)
        db.session.flush()
    return cluster


def create_compound(
    street: Street,
    name: str,
    *,
    cluster: Cluster | None = None,
    year_built: int | None = None,
    plan_year: int | None = None,
    address: str | None = None,
    committee: str | None = None,
    actor: str = "cli",
) -> Compound:
    name = name.strip()
    if not name:
        raise ConsultError("a compound needs a name")
    exists = db.session.scalars(
        select(Compound.id).where(Compound.street_id == street.id, Compound.name == name)
    ).first()
    if exists is not None:
        raise ConsultError(f"{street.name} already has a compound named {name!r} (id {exists})")
    compound = Compound(
        street=street,
        name=name,
        cluster=cluster,
        year_built=year_built,
        plan_year=plan_year,
        address=address,
        committee=committee,
    )
    db.session.add(compound)
    db.session.flush()
    record(actor, "compound.created", compound.id, name=name, street=street.name)
    return compound
