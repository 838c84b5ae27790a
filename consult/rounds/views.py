"""Workers' pages of the round engine: the timeline, moving rounds on, participation, door-to-door lists."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.compounds.models import Building
from consult.compounds.models import StairUnit
from consult.db import utcnow
from consult.dossier.views import returned_context
from consult.errors import commit_or_refuse
from consult.extensions import db
from consult.rounds.forms import ActionForm
from consult.rounds.forms import PlanRoundsForm
from consult.rounds.forms import ScheduleForm
from consult.rounds.forms import day_end
from consult.rounds.forms import local_midnight
from consult.rounds.forms import schedule_days
from consult.rounds.models import Round
from consult.rounds.rules import Action
from consult.rounds.rules import RoundState
from consult.rounds.rules import TransitionRefused
from consult.rounds.services import apply
from consult.rounds.services import participation
from consult.rounds.services import plan_default_rounds
from consult.rounds.services import repeat
from consult.rounds.services import rounds_of
from consult.rounds.services import set_schedule
from consult.scoping import staff_compound_or_404
from consult.scoping import staff_round_or_404

bp = Blueprint("rounds", __name__)

STAFF = (Role.WORKER, Role.REVIEWER, Role.ADMIN)
RUNNERS = (Role.WORKER, Role.ADMIN)


def _round(compound: Any, round_id: int) -> Round:
    return staff_round_or_404(compound.id, round_id)[1]


def _actor() -> str:
    return f"user:{current_user.id}"


@bp.get("/compounds/<int:compound_id>/rounds")
@role_required(*STAFF)
def timeline(compound_id: int) -> Any:
    compound = staff_compound_or_404(compound_id)
    rounds = rounds_of(compound)
    return render_template(
        "rounds/timeline.html",
        compound=compound,
        rounds=rounds,
        participation={r.id: participation(r) for r in rounds},
        # a failed attempt is held again once: its repeat, by the attempt it repeats
        repeats={r.repeat_of_id: r for r in rounds if r.repeat_of_id is not None},
        plan_form=PlanRoundsForm(),
        action_form=ActionForm(),
        may_run=current_user.role in RUNNERS,
        actions=list(Action),
        **returned_context(compound.id),
    )


@bp.post("/compounds/<int:compound_id>/rounds/plan")
@role_required(*RUNNERS)
def plan(compound_id: int) -> Any:
    compound = staff_compound_or_404(compound_id)
    form = PlanRoundsForm()
    if not form.validate_on_submit() or form.start.data is None:
        flash(_("Choose the day the first round opens."), "error")
    else:
        start = local_midnight(form.start.data)
        commit_or_refuse(
            lambda: plan_default_rounds(compound, start, _actor()),
            _("The three rounds are planned. Check their dates."),
            TransitionRefused,
        )
    return redirect(url_for("rounds.timeline", compound_id=compound.id))


@bp.route("/compounds/<int:compound_id>/rounds/<int:round_id>/schedule", methods=["GET", "POST"])
@role_required(*RUNNERS)
def schedule(compound_id: int, round_id: int) -> Any:
    compound = staff_compound_or_404(compound_id)
    round_ = _round(compound, round_id)
    form = ScheduleForm(notice_days=round_.notice_days, **schedule_days(round_.opens_at, round_.closes_at))
    is_open = round_.state is RoundState.OPEN
    if is_open:  # it has opened: only a later close can be set
        form.opens.render_kw = {"readonly": True}
    if form.validate_on_submit() and form.opens.data and form.closes.data:
        try:
            set_schedule(
                round_,
                local_midnight(form.opens.data),
                day_end(form.closes.data),
                form.notice_days.data or 0,
                _actor(),
                utcnow(),
            )
            db.session.commit()
            flash(_("The dates are saved."), "success")
            return redirect(url_for("rounds.timeline", compound_id=compound.id))
        except TransitionRefused as refused:
            db.session.rollback()
            form.closes.errors = [str(refused.reason)]
    return render_template(
        "rounds/schedule.html", compound=compound, round=round_, form=form, is_open=is_open
    )


#: what a worker is told once an action is done
DONE = {
    Action.OPEN: lambda n: _("Round %(number)s is open: residents can take part now.", number=n),
    Action.CLOSE: lambda n: _("Round %(number)s is closed: no more answers are taken.", number=n),
    Action.PUBLISH: lambda n: _("Round %(number)s: the result is published and on public notice.", number=n),
    Action.FINISH: lambda n: _("Round %(number)s is finished.", number=n),
    Action.FAIL: lambda n: _("Round %(number)s is marked as failed: it can be repeated.", number=n),
}


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/<any(open,close,publish,finish,fail):action>")
@role_required(*RUNNERS)
def act(compound_id: int, round_id: int, action: str) -> Any:
    compound = staff_compound_or_404(compound_id)
    round_ = _round(compound, round_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    commit_or_refuse(
        lambda: apply(round_, Action(action), _actor(), utcnow(), form.reason.data or ""),
        DONE[Action(action)](round_.number),
        TransitionRefused,
    )
    return redirect(url_for("rounds.timeline", compound_id=compound.id))


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/repeat")
@role_required(*RUNNERS)
def repeat_round(compound_id: int, round_id: int) -> Any:
    compound = staff_compound_or_404(compound_id)
    round_ = _round(compound, round_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    made, again = commit_or_refuse(lambda: repeat(round_, _actor(), utcnow()), None, TransitionRefused)
    if made and again is not None:
        flash(
            _(
                "Round %(number)s will be held again (attempt %(attempt)s).",
                number=again.number,
                attempt=again.attempt,
            ),
            "success",
        )
    return redirect(url_for("rounds.timeline", compound_id=compound.id))


def _units(compound_id: int) -> list[StairUnit]:
    return list(
        db.session.scalars(
            select(StairUnit)
            .join(Building)
            .where(Building.compound_id == compound_id)
            .options(selectinload(StairUnit.building), selectinload(StairUnit.dwellings))
            .order_by(Building.sort_key, StairUnit.sort_key)
        )
    )


@bp.get("/compounds/<int:compound_id>/rounds/<int:round_id>/participation")
@role_required(*STAFF)
def participation_page(compound_id: int, round_id: int) -> Any:
    compound = staff_compound_or_404(compound_id)
    round_ = _round(compound, round_id)
    return render_template(
        "rounds/participation.html",
        compound=compound,
        round=round_,
        part=participation(round_),
        units=_units(compound.id),
    )


@bp.get("/compounds/<int:compound_id>/rounds/<int:round_id>/doors")
@role_required(*STAFF)
def doors(compound_id: int, round_id: int) -> Any:
    """A printable list of the doors still to knock on: rooms only, no names."""
    compound = staff_compound_or_404(compound_id)
    round_ = _round(compound, round_id)
    return render_template(
        "rounds/doors.html",
        compound=compound,
        round=round_,
        missing=participation(round_).missing,
        units=_units(compound.id),
    )
