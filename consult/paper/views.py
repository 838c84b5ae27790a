"""Printable paper versions of the survey (round 1) and the ballot (round 3): A4, large type, the same
items in the same order as online, boxes to tick, a signature line and a date. Staff print them for the
compound or one building; a resident prints their own. A worker then enters the signed sheet through the
paper paths (``surveys.paper_answer``, ``voting.paper_new``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask_babel import get_locale

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.compounds.models import Compound
from consult.extensions import db
from consult.paper import services
from consult.residents.access import current_invitation
from consult.residents.access import resident_required
from consult.residents.services import person_of
from consult.rounds.models import Round
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.scoping import staff_round_or_404
from consult.surveys import services as surveys
from consult.surveys.forms import answer_form
from consult.surveys.models import Survey
from consult.surveys.views import resident_survey_or_404
from consult.voting import services as voting
from consult.voting.forms import ballot_form
from consult.voting.forms import question_fields
from consult.voting.present import scope_text

bp = Blueprint("paper", __name__)

RUNNERS = (Role.WORKER, Role.ADMIN)


@bp.after_request
def private_page(response: Response) -> Response:
    """Sheets name homes: never cached, their address sent to no other site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _building_id(compound: Compound) -> int | None:
    """The building asked for with ``?building=``, or None for the whole compound (404 if not its own)."""
    building_id = request.args.get("building", type=int)
    if building_id is not None and building_id not in {b.id for b in services.buildings(compound.id)}:
        abort(404)
    return building_id


# --- the survey


def _survey_page(
    compound: Compound, round_: Round, survey: Survey, sheets: list[Any], staff: bool, building_id: int | None
) -> str:
    locale = _locale()
    form = answer_form(survey, surveys.spec_of(survey), locale, meta={"csrf": False})
    return render_template(
        "paper/survey.html",
        compound=compound,
        round=round_,
        form=form,
        sheets=sheets,
        staff=staff,
        buildings=services.buildings(compound.id) if staff else [],
        building_id=building_id,
        retention_days=current_app.config["RETENTION_DAYS"],
    )


@bp.get("/compounds/<int:compound_id>/rounds/<int:round_id>/survey/print")
@role_required(*RUNNERS)
def survey_sheets(compound_id: int, round_id: int) -> Any:
    """Paper surveys for every dwelling of the compound, or of one building (``?building=``)."""
    compound, round_ = staff_round_or_404(compound_id, round_id, RoundKind.NEEDS)
    survey = surveys.survey_of(round_)
    if survey is None:
        abort(404)
    building_id = _building_id(compound)
    sheets = services.survey_addressees(compound.id, _locale(), building_id)
    return _survey_page(compound, round_, survey, sheets, True, building_id)


@bp.get("/me/survey/<int:round_id>/print")
@resident_required
def my_survey(round_id: int) -> Any:
    """The resident's own paper survey: one sheet for each of their homes."""
    invitation, round_, survey = resident_survey_or_404(round_id)
    mine = {d.id for d in person_of(invitation).dwellings}
    sheets = services.survey_addressees(round_.compound_id, _locale(), dwelling_ids=mine)
    return _survey_page(round_.compound, round_, survey, sheets, False, None)


# --- the ballot


def _ballot_page(
    compound: Compound, round_: Round, sheets: list[Any], staff: bool, building_id: int | None
) -> str:
    locale = _locale()
    questions = voting.questions_of(round_)
    ballots = []
    for sheet in sheets:
        mine = voting.owner_questions(round_, sheet.id, questions)
        if not mine:
            continue
        form = ballot_form(mine, locale, meta={"csrf": False})
        ballots.append((sheet, list(zip(mine, question_fields(form, mine), strict=True))))
    return render_template(
        "paper/ballot.html",
        compound=compound,
        round=round_,
        ballots=ballots,
        scopes={q.id: scope_text(q) for q in questions},
        staff=staff,
        buildings=services.buildings(compound.id) if staff else [],
        building_id=building_id,
        retention_days=current_app.config["RETENTION_DAYS"],
    )


@bp.get("/compounds/<int:compound_id>/votes/<int:round_id>/print")
@role_required(*RUNNERS)
def ballot_sheets(compound_id: int, round_id: int) -> Any:
    """Paper ballots for every owner of the compound, or the owners of one building (``?building=``)."""
    compound, round_ = staff_round_or_404(compound_id, round_id, RoundKind.VOTE)
    building_id = _building_id(compound)
    sheets = services.ballot_addressees(compound.id, _locale(), building_id)
    return _ballot_page(compound, round_, sheets, True, building_id)


@bp.get("/me/vote/<int:round_id>/print")
@resident_required
def my_ballot(round_id: int) -> Any:
    """The owner's own paper ballot: the same questions as their online ballot."""
    invitation = current_invitation()
    assert invitation is not None
    if not invitation.may_vote or invitation.owner_id is None:
        abort(403)  # an occupant's card: never a ballot
    round_ = db.session.get(Round, round_id)
    if (
        round_ is None
        or round_.compound_id != invitation.compound_id
        or round_.kind is not RoundKind.VOTE
        or round_.state is RoundState.DRAFT
    ):
        abort(404)
    sheets = services.ballot_addressees(round_.compound_id, _locale(), owner_id=invitation.owner_id)
    return _ballot_page(round_.compound, round_, sheets, False, None)
