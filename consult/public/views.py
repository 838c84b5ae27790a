"""Public pages of a compound (公示): no code needed, aggregates only, no personal data."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from sqlalchemy import func
from sqlalchemy import select

from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.services import coverages
from consult.district.rules import stage_label
from consult.district.services import stages
from consult.dossier.rules import group_digest
from consult.dossier.services import record_notice
from consult.dossier.views import returned_context
from consult.experts.services import closed_summary
from consult.extensions import db
from consult.public.limits import poster_pdfs
from consult.public.limits import public_pages
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.services import compound_rounds
from consult.rounds.services import current_round
from consult.rounds.services import latest_attempts
from consult.schemes.rules import public_sees
from consult.voting.services import results_visible

bp = Blueprint("public", __name__, url_prefix="/p")


def public_compound(compound_id: int) -> Compound:
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        abort(404)
    return compound


def public_url(compound: Compound) -> str:
    """The notice page's address, from the configured base URL (never from the request's Host)."""
    return current_app.config["BASE_URL"].rstrip("/") + f"/p/{compound.id}"


@bp.get("/<int:compound_id>")
@public_pages
def notice(compound_id: int) -> Any:
    compound = public_compound(compound_id)
    cover = coverages([compound.id])[compound.id]
    buildings = db.session.scalar(select(func.count(Building.id)).where(Building.compound_id == compound.id))
    every_round = compound_rounds(compound.id)
    rounds = latest_attempts(compound, every_round)
    # a vote that failed once it had closed (the plan voted down) keeps its result public, beside its repeat
    voted_down = [
        r
        for r in every_round
        if r.kind is RoundKind.VOTE and r.state is RoundState.FAILED and results_visible(r, staff=False)
    ]
    panels = [
        summary
        for r in rounds
        if r.kind is RoundKind.SCHEME and public_sees(r.state) and (summary := closed_summary(r)) is not None
    ]
    return render_template(
        "public/notice.html",
        compound=compound,
        coverage=cover,
        buildings=buildings,
        stage=stage_label(stages({compound.id: cover})[compound.id]),
        rounds=rounds,
        voted_down=voted_down,
        current=current_round(compound, rounds),
        panels=panels,
        record=record_notice(compound.id),
        group_digest=group_digest,
        **returned_context(compound.id, public=True),
    )


@bp.get("/<int:compound_id>/poster")
@public_pages
def poster(compound_id: int) -> Any:
    from consult.residents.cards import poster_html

    compound = public_compound(compound_id)
    return poster_html(compound.name, public_url(compound))


@bp.get("/<int:compound_id>/poster.pdf")
@public_pages
@poster_pdfs
def poster_pdf(compound_id: int) -> Any:
    from consult.residents.cards import poster_pdf as render_poster

    compound = public_compound(compound_id)
    pdf = render_poster(compound.name, public_url(compound))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename=poster-{compound.id}.pdf"},
    )
