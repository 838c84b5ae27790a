"""Staff pages: the dashboard of compounds, a compound, one building."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.compounds.models import Building
from consult.compounds.models import Dwelling
from consult.compounds.models import StairUnit
from consult.compounds.services import building_coverages
from consult.compounds.services import coverages
from consult.compounds.services import visible_compounds
from consult.district.rules import stage_label
from consult.district.services import next_step_of
from consult.district.services import stages
from consult.dossier.views import returned_context
from consult.extensions import db
from consult.residents.services import active_cards
from consult.roster.owners import namesake_count
from consult.scoping import staff_compound_or_404

bp = Blueprint("compounds", __name__, url_prefix="/compounds")

STAFF = (Role.WORKER, Role.REVIEWER, Role.ADMIN, Role.EXPERT)
#: who reads the owners' own pages (names, dwellings, cards), not only the roster's figures
OWNER_READERS = (Role.WORKER, Role.REVIEWER, Role.ADMIN)


@bp.get("/")
@role_required(*STAFF)
def dashboard() -> Any:
    page = db.paginate(visible_compounds(current_user), per_page=50, error_out=False)
    cover = coverages(c.id for c in page.items)
    stage = stages(cover)
    rows = [(c, cover[c.id], stage_label(stage[c.id])) for c in page.items]
    return render_template("compounds/dashboard.html", page=page, rows=rows)


@bp.get("/<int:compound_id>")
@role_required(*STAFF)
def detail(compound_id: int) -> Any:
    compound = staff_compound_or_404(compound_id)
    cover = coverages([compound.id])[compound.id]
    buildings = db.session.scalars(
        select(Building)
        .where(Building.compound_id == compound.id)
        .options(selectinload(Building.units))
        .order_by(Building.sort_key)
    ).all()
    stage = stages({compound.id: cover})[compound.id]
    return render_template(
        "compounds/detail.html",
        compound=compound,
        coverage=cover,
        stage=stage_label(stage),
        step=next_step_of(compound, stage),
        buildings=buildings,
        building_cover=building_coverages(compound),
        namesakes=namesake_count(compound) if current_user.role in OWNER_READERS else 0,
        **returned_context(compound.id),
    )


@bp.get("/<int:compound_id>/buildings/<int:building_id>")
@role_required(*STAFF)
def building(compound_id: int, building_id: int) -> Any:
    compound = staff_compound_or_404(compound_id)
    building = db.session.scalars(
        select(Building)
        .where(Building.id == building_id, Building.compound_id == compound.id)
        .options(
            selectinload(Building.units)
            .selectinload(StairUnit.dwellings)
            .options(selectinload(Dwelling.owner), selectinload(Dwelling.occupants))
        )
    ).first()
    if building is None:
        abort(404)
    dwellings = [d for unit in building.units for d in unit.dwellings]
    return render_template(
        "compounds/building.html",
        compound=compound,
        building=building,
        cards=active_cards(
            {d.owner_id for d in dwellings if d.owner_id}, {o.id for d in dwellings for o in d.occupants}
        ),
        may_print=current_user.role in (Role.WORKER, Role.ADMIN),
        owner_pages=current_user.role in OWNER_READERS,
    )
