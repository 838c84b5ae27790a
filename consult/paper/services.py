"""Who gets a paper sheet: the dwellings (survey) and the owners (ballot) of a compound or one building,
in the order of the roster. Read only."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from consult.compounds.models import Building
from consult.compounds.models import Dwelling
from consult.compounds.models import Owner
from consult.compounds.models import OwnerKind
from consult.compounds.models import StairUnit
from consult.extensions import db
from consult.paper.rules import ballot_sheet_code
from consult.paper.rules import in_building
from consult.paper.rules import survey_sheet_code
from consult.residents.rules import place_label
from consult.ui import mask_name


@dataclass(frozen=True)
class Addressee:
    """The head of one paper sheet: its short number, where, and for whom (a masked name)."""

    code: str
    place: str
    name: str
    id: int


def _places(compound_id: int) -> list[tuple[Dwelling, str, str, int]]:
    rows = db.session.execute(
        select(Dwelling, Building.label, StairUnit.label, Building.id)
        .join(StairUnit, Dwelling.unit_id == StairUnit.id)
        .join(Building, StairUnit.building_id == Building.id)
        .where(Building.compound_id == compound_id)
        .order_by(Building.sort_key, StairUnit.sort_key, Dwelling.sort_key)
    ).all()
    return [(d, b, u, bid) for d, b, u, bid in rows]


def buildings(compound_id: int) -> list[Building]:
    return list(
        db.session.scalars(
            select(Building).where(Building.compound_id == compound_id).order_by(Building.sort_key)
        )
    )


def addressee_name(owner: Owner) -> str:
    """Whom a printed sheet is for: the owner's masked name (张*), or the developer holding unsold units
    named as such (its company name masked would read as a person's)."""
    return _("The developer (unsold units)") if owner.kind is OwnerKind.DEVELOPER else mask_name(owner.name)


def survey_addressees(
    compound_id: int, locale: str, building_id: int | None = None, dwelling_ids: set[int] | None = None
) -> list[Addressee]:
    """One paper survey per dwelling (of one building, or of the given dwellings, when asked)."""
    sheets = []
    for dwelling, building, unit, bid in _places(compound_id):
        if not in_building([bid], building_id):
            continue
        if dwelling_ids is not None and dwelling.id not in dwelling_ids:
            continue
        owner = addressee_name(dwelling.owner) if dwelling.owner else ""
        sheets.append(
            Addressee(
                survey_sheet_code(dwelling.id),
                place_label(building, unit, dwelling.room, locale),
                owner,
                dwelling.id,
            )
        )
    return sheets


def ballot_addressees(
    compound_id: int, locale: str, building_id: int | None = None, owner_id: int | None = None
) -> list[Addressee]:
    """One paper ballot per owner with a dwelling in scope (the whole compound or one building); an
    owner of several dwellings gets one sheet listing them all."""
    places: dict[int, list[str]] = {}
    buildings_of: dict[int, list[int]] = {}
    owners: dict[int, Owner] = {}
    for dwelling, building, unit, bid in _places(compound_id):
        if dwelling.owner is None or (owner_id is not None and dwelling.owner_id != owner_id):
            continue
        owners[dwelling.owner.id] = dwelling.owner
        places.setdefault(dwelling.owner.id, []).append(place_label(building, unit, dwelling.room, locale))
        buildings_of.setdefault(dwelling.owner.id, []).append(bid)
    return [
        Addressee(ballot_sheet_code(oid), ", ".join(places[oid]), addressee_name(owner), oid)
        for oid, owner in owners.items()
        if in_building(buildings_of[oid], building_id)
    ]
