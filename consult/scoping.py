"""What a staff member may open, for views: the compound and round of a URL, or 404 (which leaks nothing)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from consult.compounds.models import Compound
from consult.compounds.services import get_compound_for
from consult.errors import NotFound
from consult.extensions import db
from consult.rounds.models import Round
from consult.rounds.rules import RoundKind


def staff_compound_or_404(compound_id: int) -> Compound:
    """The compound, if the signed-in staff member may see it (a worker: their street's only)."""
    try:
        return get_compound_for(current_user, compound_id)
    except NotFound:
        abort(404)


def staff_round_or_404(
    compound_id: int, round_id: int, kind: RoundKind | None = None
) -> tuple[Compound, Round]:
    """The compound and one of its rounds (of ``kind`` when given), if the staff member may see them."""
    compound = staff_compound_or_404(compound_id)
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_.compound_id != compound.id or (kind is not None and round_.kind is not kind):
        abort(404)
    return compound, round_
