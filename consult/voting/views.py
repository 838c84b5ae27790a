"""Pages of the vote: the owner's ballot and receipt, the public result and list of receipts, and the
workers' pages (questions, paper ballots by double entry, proxies, results once closed)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from typing import TypeVar

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.auth.services import staff_name
from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import Owner
from consult.compounds.models import OwnerKind
from consult.compounds.models import StairUnit
from consult.compounds.services import get_compound_for
from consult.db import utcnow
from consult.errors import NotFound
from consult.errors import commit_or_refuse
from consult.extensions import db
from consult.paper.rules import ballot_sheet_code
from consult.public.limits import public_pages
from consult.residents.access import current_invitation
from consult.residents.access import resident_required
from consult.residents.rules import place_label
from consult.residents.services import has_acknowledged_privacy
from consult.rounds.models import Round
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.services import latest_published
from consult.scoping import staff_round_or_404
from consult.ui import mask_name
from consult.voting import services
from consult.voting.counting import Precedence
from consult.voting.counting import QuestionKind
from consult.voting.counting import Scope
from consult.voting.counting import Topic
from consult.voting.counting import custom_rule
from consult.voting.forms import ChooseEntryForm
from consult.voting.forms import ChooseOwnerForm
from consult.voting.forms import EmptyForm
from consult.voting.forms import InspectForm
from consult.voting.forms import ProxyForm
from consult.voting.forms import QuestionForm
from consult.voting.forms import SettingsForm
from consult.voting.forms import ballot_form
from consult.voting.forms import paper_form
from consult.voting.forms import question_fields
from consult.voting.forms import select_choices
from consult.voting.models import Ballot
from consult.voting.models import BallotReceipt
from consult.voting.models import PaperSheet
from consult.voting.models import Proxy
from consult.voting.models import SheetState
from consult.voting.present import answer_label
from consult.voting.present import question_view
from consult.voting.present import rule_lines
from consult.voting.present import scope_text
from consult.voting.receipts import format_receipt
from consult.voting.receipts import owner_receipts
from consult.voting.receipts import read_receipt
from consult.voting.receipts import receipt_statuses
from consult.voting.rules import MIN_PUBLIC_VOTERS
from consult.voting.rules import PRESETS
from consult.voting.services import InvalidBallot
from consult.voting.services import PaperValues
from consult.voting.services import VotingError

bp = Blueprint("voting", __name__)

STAFF = (Role.WORKER, Role.REVIEWER, Role.ADMIN)
RUNNERS = (Role.WORKER, Role.ADMIN)
#: how often a transaction that met a concurrent one is tried again
RETRIES = 8

T = TypeVar("T")


def commit_with_retry(work: Callable[[], T]) -> T:
    """Run ``work`` and commit; when a concurrent transaction got in the way (SQLite's lock timed out, a
    PostgreSQL deadlock or serialization failure, the unique index of active ballots), roll back and run
    it again, a little later each time."""
    for attempt in range(1, RETRIES + 1):
        try:
            result = work()
            db.session.commit()
            return result
        except (OperationalError, IntegrityError):
            db.session.rollback()
            if attempt == RETRIES:
                raise
            time.sleep(random.uniform(0.005, 0.02) * attempt)  # noqa: S311  jitter, not a secret
    raise AssertionError("unreachable")


def locale() -> str:
    return str(get_locale() or "zh_CN")


@bp.after_request
def private_page(response: Response) -> Response:
    """Ballots, receipts and entries are never cached, and their addresses leak to no other site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- residents


def _resident_round(round_id: int) -> tuple[Any, Round]:
    invitation = current_invitation()
    assert invitation is not None
    if not invitation.may_vote:
        abort(403)  # an occupant's card: surveys and comments only, never a ballot
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_.compound_id != invitation.compound_id or round_.kind is not RoundKind.VOTE:
        abort(404)
    return invitation, round_


@bp.route("/me/vote/<int:round_id>", methods=["GET", "POST"])
@resident_required
def ballot(round_id: int) -> Any:
    return _ballot(round_id, None)


@bp.route("/me/vote/<int:round_id>/for/<int:owner_id>", methods=["GET", "POST"])
@resident_required
def ballot_for(round_id: int, owner_id: int) -> Any:
    return _ballot(round_id, owner_id)


def _ballot(round_id: int, for_owner_id: int | None) -> Any:
    invitation, round_ = _resident_round(round_id)
    try:
        owner, proxy = services.voter_for(round_, invitation, for_owner_id)
    except services.NotEligible:
        abort(404)
    if not has_acknowledged_privacy(invitation):
        flash(_("Please read how we use your information first."), "info")
        return redirect(url_for("residents.home"))
    viewer = invitation.owner_id if proxy else None  # a proxy sees only the ballots they cast
    now = utcnow()
    if not services.is_open(round_, now):
        return render_template(
            "voting/closed.html",
            round=round_,
            compound=round_.compound,
            receipts=owner_receipts(round_, owner.id, viewer),
        )
    questions = services.owner_questions(round_, owner.id)
    if not questions:
        return render_template("voting/nothing.html", round=round_, compound=round_.compound)
    # a sent ballot fills the form itself; the choices counting now only fill a fresh one
    current = services.my_choices(round_, owner.id, viewer) if request.method == "GET" else {}
    form = ballot_form(questions, locale(), data={f"q{qid}": b.choice for qid, b in current.items()})
    if form.validate_on_submit():
        choices = {q.id: form[f"q{q.id}"].data for q in questions}
        owner_id = owner.id
        try:
            code = commit_with_retry(
                lambda: (
                    services.cast_online(
                        db.session.get(Round, round_id),  # type: ignore[arg-type]
                        invitation,
                        choices,
                        utcnow(),
                        for_owner_id=owner_id if proxy else None,
                        questions=questions,
                    ).code
                )  # read before the commit expires it
            )
        except InvalidBallot as invalid:
            db.session.rollback()
            for key, message in invalid.problems.items():
                if key in form:
                    form[key].errors = [str(message)]
        except VotingError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("residents.home"))
        else:
            flash(_("Your vote is saved."), "success")
            return redirect(url_for("voting.receipt", round_id=round_id, code=code))
    status = 422 if form.errors else 200
    return (
        render_template(
            "voting/ballot.html",
            round=round_,
            compound=round_.compound,
            form=form,
            fields=list(zip(questions, question_fields(form, questions), strict=True)),
            scopes={q.id: scope_text(q) for q in questions},
            rules={q.id: rule_lines(q.consent_rule) for q in questions},
            proxy=proxy,
            owner_name=mask_name(owner.name),
            voted=bool(current),
            receipts=owner_receipts(round_, owner.id, viewer),
            plan_round=latest_published(round_.compound_id, RoundKind.SCHEME),
        ),
        status,
    )


@bp.get("/me/vote/<int:round_id>/receipt/<code>")
@resident_required
def receipt(round_id: int, code: str) -> Any:
    """A receipt, shown to the owner whose ballot it is (or to their proxy who cast it)."""
    invitation, round_ = _resident_round(round_id)
    found = db.session.scalars(
        select(BallotReceipt).where(BallotReceipt.round_id == round_.id, BallotReceipt.code == code)
    ).first()
    if found is None:
        abort(404)
    ballots = db.session.scalars(
        select(Ballot).where(Ballot.receipt_id == found.id).order_by(Ballot.question_id)
    ).all()
    if not ballots:
        abort(404)
    owner_id = ballots[0].owner_id
    # a proxy sees the ballots they cast while their authority stands, never the owner's own
    cast_by = db.session.get(Proxy, ballots[0].proxy_id) if ballots[0].proxy_id is not None else None
    allowed = owner_id == invitation.owner_id or (
        cast_by is not None
        and cast_by.proxy_owner_id == invitation.owner_id
        and services.proxy_for(round_, owner_id, invitation.owner_id) is not None
    )
    if not allowed:
        abort(404)
    lines = [
        (b.question.prompt(locale()), answer_label(b.question, b.choice, locale()), b.active) for b in ballots
    ]
    return render_template(
        "voting/receipt.html",
        round=round_,
        compound=round_.compound,
        receipt=found,
        printed=format_receipt(found.code),
        lines=lines,
        counted=any(b.active for b in ballots),
    )


# --- public pages (no code needed; aggregates only)


def _public_round(compound_id: int, round_id: int) -> tuple[Compound, Round]:
    compound = db.session.get(Compound, compound_id)
    round_ = db.session.get(Round, round_id)
    if (
        compound is None
        or round_ is None
        or round_.compound_id != compound.id
        or round_.kind is not RoundKind.VOTE
    ):
        abort(404)
    return compound, round_


def receipts_public(round_: Round) -> bool:
    """The list of receipts is public once the round has closed."""
    if round_.state in (RoundState.CLOSED, RoundState.NOTICE, RoundState.DONE):
        return True
    return round_.state is RoundState.FAILED and services.closed_before(round_)


@bp.get("/p/<int:compound_id>/result/<int:round_id>")
@public_pages
def public_result(compound_id: int, round_id: int) -> Any:
    compound, round_ = _public_round(compound_id, round_id)
    visible = services.results_visible(round_, staff=False)
    results = services.count_round(round_) if visible else []
    return render_template(
        "voting/result.html",
        compound=compound,
        round=round_,
        visible=visible,
        questions=[question_view(r, locale(), public=True) for r in results],
        participation=services.vote_participation(round_) if visible else None,
        public=True,
        min_public_voters=MIN_PUBLIC_VOTERS,
    )


@bp.get("/p/<int:compound_id>/receipts/<int:round_id>")
@public_pages
def public_receipts(compound_id: int, round_id: int) -> Any:
    compound, round_ = _public_round(compound_id, round_id)
    visible = receipts_public(round_)
    statuses = receipt_statuses(round_) if visible else []
    typed = request.args.get("code", "")
    looked_up = None
    if visible and typed:
        code = read_receipt(typed)
        looked_up = next((s for s in statuses if s.code == code), None) if code else None
    return render_template(
        "voting/receipts.html",
        compound=compound,
        round=round_,
        visible=visible,
        statuses=statuses,
        typed=typed,
        looked_up=looked_up,
    )


# --- staff


def _actor() -> str:
    return f"user:{current_user.id}"


def _staff_round(compound_id: int, round_id: int) -> tuple[Compound, Round]:
    return staff_round_or_404(compound_id, round_id, RoundKind.VOTE)


def _places(compound: Compound) -> list[tuple[str, str]]:
    units = db.session.scalars(
        select(StairUnit)
        .join(Building)
        .where(Building.compound_id == compound.id)
        .options(selectinload(StairUnit.building))
        .order_by(Building.sort_key, StairUnit.sort_key)
    ).all()
    buildings: dict[int, Building] = {}
    for unit in units:
        buildings.setdefault(unit.building_id, unit.building)
    return [(f"b{b.id}", _("Building %(b)s", b=b.label)) for b in buildings.values()] + [
        (f"u{u.id}", _("Building %(b)s, unit %(u)s", b=u.building.label, u=u.label)) for u in units
    ]


def _owner_choices(compound: Compound) -> list[tuple[str, str]]:
    """Owners by the number on their paper ballot and the first of their dwellings: "B2812 · 3栋2单元501室 ·
    陈*" (a person's name masked even for staff lists; the developer holding unsold units is named as
    such)."""
    rows = db.session.execute(
        select(Owner.id, Owner.name, Owner.kind, Building.label, StairUnit.label, Dwelling.room)
        .join(Dwelling, Dwelling.owner_id == Owner.id)
        .join(StairUnit, Dwelling.unit_id == StairUnit.id)
        .join(Building, StairUnit.building_id == Building.id)
        .where(Owner.compound_id == compound.id)
        .order_by(Building.sort_key, StairUnit.sort_key, Dwelling.sort_key)
    ).all()
    seen: dict[int, str] = {}
    for owner_id, name, kind, building, unit, room in rows:
        if owner_id not in seen:
            who = _("The developer (unsold units)") if kind is OwnerKind.DEVELOPER else mask_name(name)
            seen[owner_id] = (
                f"{ballot_sheet_code(owner_id)} · {place_label(building, unit, room, locale())} · {who}"
            )
    return [(str(i), label) for i, label in seen.items()]


@bp.get("/compounds/<int:compound_id>/votes/<int:round_id>")
@role_required(*STAFF)
def manage(compound_id: int, round_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    questions = services.questions_of(round_)
    may_run = current_user.role in RUNNERS
    return render_template(
        "voting/manage.html",
        compound=compound,
        round=round_,
        questions=questions,
        scopes={q.id: scope_text(q) for q in questions},
        rules={q.id: rule_lines(q.consent_rule) for q in questions},
        options={q.id: [answer_label(q, k, locale()) for k in q.choices] for q in questions},
        may_run=may_run,
        editable=may_run and round_.state is RoundState.DRAFT,
        form=QuestionForm(places=_places(compound)),
        button=EmptyForm(),
        participation=services.vote_participation(round_),
        sheets=services.open_sheets(round_),
        results_visible=services.results_visible(round_, staff=True),
        settings=services.settings_of(compound.id),
    )


@bp.post("/compounds/<int:compound_id>/votes/<int:round_id>/questions")
@role_required(*RUNNERS)
def add_question(compound_id: int, round_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    form = QuestionForm(places=_places(compound))
    if not form.validate_on_submit():
        flash(_("Please correct the question."), "error")
        return redirect(url_for("voting.manage", compound_id=compound.id, round_id=round_.id))
    try:
        if form.rule.data == "custom":
            rule = custom_rule(
                form.participation_area.data or "",
                form.participation_count.data or "",
                form.approval_area.data or "",
                form.approval_count.data or "",
                form.approval_base.data or "voters",
            )
        else:
            rule = PRESETS[form.rule.data or "civil_code_major"]
    except (ValueError, ZeroDivisionError):
        flash(_("A bar is a fraction such as 2/3 or >1/2, and a rule needs an approval bar."), "error")
        return redirect(url_for("voting.manage", compound_id=compound.id, round_id=round_.id))
    place = form.place.data or ""
    scope = Scope(form.scope.data or "compound")
    building_id = int(place[1:]) if place.startswith("b") else None
    unit_id = int(place[1:]) if place.startswith("u") else None
    commit_or_refuse(
        lambda: services.add_question(
            round_,
            topic=Topic(form.topic.data),
            kind=QuestionKind(form.kind.data),
            prompt_zh=form.prompt_zh.data or "",
            prompt_en=form.prompt_en.data,
            options=form.option_rows(),
            scope=scope,
            building_id=building_id,
            unit_id=unit_id,
            rule=rule,
            actor=_actor(),
            now=utcnow(),
        ),
        _("The question is added."),
        VotingError,
    )
    return redirect(url_for("voting.manage", compound_id=compound.id, round_id=round_.id))


def _add_questions(compound_id: int, round_id: int, add: Callable[[Round, str, datetime], list[Any]]) -> Any:
    """A button that adds a set of questions at once (``add(round, actor, now)``)."""
    compound, round_ = _staff_round(compound_id, round_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    made, added = commit_or_refuse(lambda: add(round_, _actor(), utcnow()), None, VotingError)
    if made:
        flash(_("%(count)s questions are added.", count=len(added or [])), "success")
    return redirect(url_for("voting.manage", compound_id=compound.id, round_id=round_.id))


@bp.post("/compounds/<int:compound_id>/votes/<int:round_id>/questions/standard")
@role_required(*RUNNERS)
def add_standard(compound_id: int, round_id: int) -> Any:
    return _add_questions(compound_id, round_id, services.add_standard_questions)


@bp.post("/compounds/<int:compound_id>/votes/<int:round_id>/questions/carry-over")
@role_required(*RUNNERS)
def carry_over_questions(compound_id: int, round_id: int) -> Any:
    return _add_questions(compound_id, round_id, services.carry_over_questions)


@bp.post("/compounds/<int:compound_id>/votes/<int:round_id>/questions/<int:question_id>/remove")
@role_required(*RUNNERS)
def remove_question(compound_id: int, round_id: int, question_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    commit_or_refuse(
        lambda: services.remove_question(round_, question_id, _actor()),
        _("The question is removed."),
        VotingError,
    )
    return redirect(url_for("voting.manage", compound_id=compound.id, round_id=round_.id))


@bp.get("/compounds/<int:compound_id>/votes/<int:round_id>/results")
@role_required(*STAFF)
def results(compound_id: int, round_id: int) -> Any:
    """The count, once the round is closed; while it is open, participation only (staff included)."""
    compound, round_ = _staff_round(compound_id, round_id)
    visible = services.results_visible(round_, staff=True)
    views = [question_view(r, locale()) for r in services.count_round(round_)] if visible else []
    return render_template(
        "voting/result.html",
        compound=compound,
        round=round_,
        visible=visible,
        questions=views,
        participation=services.vote_participation(round_),
        blocker=services.answer_blocker(round_) if visible else None,
        public=False,
    )


def _who(actor: str) -> str:
    """A log's actor as a person: the staff member's name, "resident", or the actor as written."""
    if actor.startswith("resident:"):
        return _("online, with a card")
    return staff_name(actor) or actor


@bp.route("/compounds/<int:compound_id>/votes/<int:round_id>/inspect", methods=["GET", "POST"])
@role_required(*STAFF)
def inspect(compound_id: int, round_id: int) -> Any:
    """One owner's ballots, for a worker or reviewer who states why; each look is logged and listed."""
    compound, round_ = _staff_round(compound_id, round_id)
    owners = _owner_choices(compound)
    form = InspectForm(owners=owners)
    history = None
    if form.validate_on_submit():
        try:
            history = services.inspect_ballots(round_, int(form.owner.data), _actor(), form.reason.data or "")
        except VotingError as error:
            db.session.rollback()
            form.reason.errors = [str(error)]
        else:
            db.session.commit()
    questions = {q.id: q for q in services.questions_of(round_)}
    places = dict(owners)
    status = 422 if form.errors else 200
    return (
        render_template(
            "voting/inspect.html",
            compound=compound,
            round=round_,
            form=form,
            open=services.results_visible(round_, staff=True),
            owner=places.get(form.owner.data or "") if history is not None else None,
            history=[
                {
                    "question": questions[b.question_id].prompt(locale()),
                    "choice": answer_label(questions[b.question_id], b.choice, locale()),
                    "channel": b.channel,
                    "cast_at": b.cast_at,
                    "recorded_at": b.recorded_at,
                    "by": _who(b.actor),
                    "counts": b.active,
                    "sheet_id": b.sheet_id,
                }
                for b in history or []
            ],
            log=[
                {"at": i.at, "who": _who(i.actor), "owner": places.get(str(i.owner_id)), "reason": i.reason}
                for i in services.inspections(round_)
            ],
        ),
        status,
    )


@bp.route("/compounds/<int:compound_id>/votes/settings", methods=["GET", "POST"])
@role_required(*RUNNERS)
def settings(compound_id: int) -> Any:
    try:
        compound = get_compound_for(current_user, compound_id)
    except NotFound:
        abort(404)
    current = services.settings_of(compound.id)
    form = SettingsForm(precedence=current.precedence.value)
    if form.validate_on_submit():
        try:
            services.save_settings(
                compound, Precedence(form.precedence.data), form.proxy_limit.data, _actor(), utcnow()
            )
            db.session.commit()
            flash(_("The settings are saved."), "success")
            return redirect(url_for("voting.settings", compound_id=compound.id))
        except VotingError as error:
            db.session.rollback()
            form.precedence.errors = [str(error)]
    return render_template(
        "voting/settings.html",
        compound=compound,
        form=form,
        current=current,
        default_limit=int(current_app.config.get("PROXY_LIMIT", services.DEFAULT_PROXY_LIMIT)),
        rounds=services.vote_rounds(compound.id),
    )


# --- paper ballots


def _sheet(round_: Round, sheet_id: int) -> PaperSheet:
    sheet = db.session.get(PaperSheet, sheet_id)
    if sheet is None or sheet.round_id != round_.id:
        abort(404)
    return sheet


def _owner_place(owner: Owner) -> str:
    first = db.session.execute(
        select(Building.label, StairUnit.label, Dwelling.room)
        .join(StairUnit, Dwelling.unit_id == StairUnit.id)
        .join(Building, StairUnit.building_id == Building.id)
        .where(Dwelling.owner_id == owner.id)
        .order_by(Building.sort_key, StairUnit.sort_key, Dwelling.sort_key)
        .limit(1)
    ).first()
    place = place_label(*first, locale()) if first else ""
    return f"{place} · {mask_name(owner.name)}"


def _paper_values(form: Any, questions: list[Any]) -> PaperValues:
    return PaperValues(
        signed_on=form.signed_on.data,
        choices={q.id: form[f"q{q.id}"].data for q in questions},
        proxy_id=int(form.proxy.data) if form.proxy.data else None,
    )


def _apply_problems(form: Any, invalid: InvalidBallot) -> None:
    for key, message in invalid.problems.items():
        target = {"proxy": "proxy", "signed_on": "signed_on"}.get(key, key)
        if target in form:
            form[target].errors = [str(message)]
        else:
            flash(str(message), "error")


@bp.get("/compounds/<int:compound_id>/votes/<int:round_id>/paper")
@role_required(*RUNNERS)
def paper(compound_id: int, round_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    sheets = services.sheets_of(round_)
    return render_template(
        "voting/paper.html",
        compound=compound,
        round=round_,
        sheets=[(s, _owner_place(s.owner), services.may_enter(s, current_user)) for s in sheets],
        form=ChooseOwnerForm(owners=_owner_choices(compound), meta={"csrf": False}),
        takes_paper=round_.state in (RoundState.OPEN, RoundState.CLOSED),
    )


def _to_unsettled_sheet(compound: Compound, round_: Round, sheet: PaperSheet) -> Any:
    """Send a worker who started a new paper ballot to the owner's sheet that is not settled yet: the
    paper is entered a second time there (by a worker who did not enter it), not as a new sheet."""
    if sheet.state is SheetState.MISMATCH:
        flash(
            _(
                "This owner's paper ballot has entries that differ: settle it here (a third entry or a"
                " supervisor's decision) before starting another."
            ),
            "info",
        )
    elif services.may_enter(sheet, current_user):
        flash(_("This owner's paper ballot is waiting for its second entry: enter it here."), "info")
    else:
        flash(
            _(
                "This owner's paper ballot is waiting for its second entry, which another worker makes:"
                " you made the first."
            ),
            "info",
        )
    return redirect(
        url_for("voting.paper_sheet", compound_id=compound.id, round_id=round_.id, sheet_id=sheet.id)
    )


def _earlier_acts_notes(acts: services.EarlierActs) -> list[str]:
    """What the worker is told before entering a new paper ballot for an owner who already voted."""
    notes = []
    if acts.paper_sheet_id is not None and acts.paper_signed_on is not None:
        notes.append(
            _(
                "This owner already has a confirmed paper ballot (ballot %(id)s, signed on %(date)s). Enter"
                " a new one only for a paper the owner signed again: it counts only if signed on %(date)s"
                " or later.",
                id=acts.paper_sheet_id,
                date=acts.paper_signed_on.isoformat(),
            )
        )
    if acts.online_at is not None:
        day = acts.online_at.astimezone(services.local_zone()).date().isoformat()
        if acts.precedence is Precedence.PAPER:
            notes.append(
                _(
                    "This owner also voted online (last on %(date)s): under this compound's rule a"
                    " confirmed paper ballot counts instead.",
                    date=day,
                )
            )
        elif acts.precedence is Precedence.ONLINE:
            notes.append(
                _(
                    "This owner also voted online (last on %(date)s): under this compound's rule the"
                    " online ballot counts, not a paper one.",
                    date=day,
                )
            )
        else:
            notes.append(
                _(
                    "This owner also voted online (last on %(date)s): a paper ballot counts instead only if"
                    " signed on %(date)s or later.",
                    date=day,
                )
            )
    return notes


@bp.route("/compounds/<int:compound_id>/votes/<int:round_id>/paper/new", methods=["GET", "POST"])
@role_required(*RUNNERS)
def paper_new(compound_id: int, round_id: int) -> Any:
    """The first entry of a paper ballot: the owner is chosen on the list page (``?owner=``). While the
    owner has a sheet not yet settled, the worker is sent to it instead."""
    compound, round_ = _staff_round(compound_id, round_id)
    owner = db.session.get(Owner, request.args.get("owner", type=int) or 0)
    if owner is None or owner.compound_id != compound.id:
        abort(404)
    unsettled = services.unsettled_sheet(round_, owner.id)
    if unsettled is not None:
        return _to_unsettled_sheet(compound, round_, unsettled)
    questions = services.owner_questions(round_, owner.id)
    proxies = [p for p in services.live_proxies(round_) if p.owner_id == owner.id]
    form = paper_form(questions, proxies, locale(), photo=True)
    if form.validate_on_submit():
        values = _paper_values(form, questions)
        photo = form.photo.data.read()  # type: ignore[attr-defined]
        try:
            sheet = services.enter_paper(round_, owner, values, photo, current_user, utcnow())
            db.session.commit()
            flash(_("First entry saved. Another worker now enters the same ballot."), "success")
            return redirect(
                url_for("voting.paper", compound_id=compound.id, round_id=round_.id, _anchor=f"s{sheet.id}")
            )
        except InvalidBallot as invalid:
            db.session.rollback()
            _apply_problems(form, invalid)
        except services.PaperPending as pending:  # another worker started this owner's sheet meanwhile
            db.session.rollback()
            return _to_unsettled_sheet(compound, round_, pending.sheet)
        except VotingError as error:
            db.session.rollback()
            flash(str(error), "error")
    return (
        render_template(
            "voting/paper_entry.html",
            compound=compound,
            round=round_,
            form=form,
            fields=list(zip(questions, question_fields(form, questions), strict=True)),
            owner_label=_owner_place(owner),
            sheet=None,
            earlier=_earlier_acts_notes(services.earlier_acts(round_, owner.id)),
        ),
        422 if form.errors else 200,
    )


@bp.route("/compounds/<int:compound_id>/votes/<int:round_id>/paper/<int:sheet_id>", methods=["GET", "POST"])
@role_required(*RUNNERS)
def paper_sheet(compound_id: int, round_id: int, sheet_id: int) -> Any:
    """A sheet: the next independent entry (for a worker who has not entered it), or, when entries
    differ, both side by side and the ways to resolve it."""
    compound, round_ = _staff_round(compound_id, round_id)
    sheet = _sheet(round_, sheet_id)
    owner = sheet.owner
    questions = services.owner_questions(round_, owner.id)
    proxies = [p for p in services.live_proxies(round_) if p.owner_id == owner.id]
    may_enter = services.may_enter(sheet, current_user)
    form = paper_form(questions, proxies, locale(), photo=False)
    if request.method == "POST":
        if not may_enter:
            abort(403)
        if form.validate_on_submit():
            try:
                services.add_entry(sheet, _paper_values(form, questions), current_user, utcnow())
                db.session.commit()
                if sheet.state is SheetState.CONFIRMED:
                    flash(_("The entries match: the paper ballot counts."), "success")
                else:
                    flash(_("The entries differ. A third entry or a supervisor decides."), "error")
                return redirect(
                    url_for(
                        "voting.paper_sheet", compound_id=compound.id, round_id=round_.id, sheet_id=sheet.id
                    )
                )
            except InvalidBallot as invalid:
                db.session.rollback()
                _apply_problems(form, invalid)
            except VotingError as error:
                db.session.rollback()
                flash(str(error), "error")
    # a counted paper ballot is how its owner voted: its entries and its photo are shown again only to
    # whoever states a reason (a logged look, once the vote has closed), as for any other ballot
    counted = sheet.state is SheetState.CONFIRMED
    comparison = _comparison(sheet, questions) if sheet.state is SheetState.MISMATCH else None
    choose = ChooseEntryForm()
    choose.entry.choices = select_choices([(str(e.id), _("Entry %(n)s", n=e.number)) for e in sheet.entries])
    return (
        render_template(
            "voting/paper_entry.html",
            compound=compound,
            round=round_,
            form=form if may_enter and sheet.state is not SheetState.CONFIRMED else None,
            fields=list(zip(questions, question_fields(form, questions), strict=True)),
            owner_label=_owner_place(owner),
            sheet=sheet,
            entered_already=not counted and not may_enter,
            comparison=comparison,
            photo_shown=not counted or services.has_looked(round_, owner.id, _actor()),
            choose=choose
            if services.is_supervisor(current_user) and sheet.state is SheetState.MISMATCH
            else None,
        ),
        422 if form.errors else 200,
    )


def _comparison(sheet: PaperSheet, questions: list[Any]) -> list[tuple[str, list[str], bool]]:
    """Rows of the side-by-side view: what each entry read, and whether the entries differ there."""
    rows = []
    entries = list(sheet.entries)

    def row(label: str, values: list[str]) -> None:
        rows.append((label, values, len(set(values)) > 1))

    row(_("Signed on"), [e.signed_on.isoformat() for e in entries])
    row(_("Signed by"), [e.proxy.proxy_name if e.proxy else _("The owner") for e in entries])
    for question in questions:
        row(
            question.prompt(locale()),
            [answer_label(question, e.choices.get(str(question.id), ""), locale()) for e in entries],
        )
    row(_("Entered by"), [e.entered_by.name for e in entries])
    return rows


@bp.post("/compounds/<int:compound_id>/votes/<int:round_id>/paper/<int:sheet_id>/choose")
@role_required(Role.ADMIN)
def paper_choose(compound_id: int, round_id: int, sheet_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    sheet = _sheet(round_, sheet_id)
    form = ChooseEntryForm()
    form.entry.choices = select_choices([(str(e.id), str(e.number)) for e in sheet.entries])
    if not form.validate_on_submit():
        flash(_("Choose an entry and say why."), "error")
    else:
        commit_or_refuse(
            lambda: services.choose_entry(
                sheet, int(form.entry.data), current_user, form.reason.data or "", utcnow()
            ),
            _("Decided: the paper ballot counts as chosen."),
            VotingError,
        )
    return redirect(
        url_for("voting.paper_sheet", compound_id=compound.id, round_id=round_.id, sheet_id=sheet.id)
    )


def _photo(stored_name: str) -> Any:
    picture = services.photo_bytes(stored_name)
    if picture is None:
        abort(404)
    mimetype = "image/png" if stored_name.endswith(".png") else "image/jpeg"
    return Response(picture, mimetype=mimetype)


@bp.get("/compounds/<int:compound_id>/votes/<int:round_id>/paper/<int:sheet_id>/photo")
@role_required(*RUNNERS)
def paper_photo(compound_id: int, round_id: int, sheet_id: int) -> Any:
    _compound, round_ = _staff_round(compound_id, round_id)
    sheet = _sheet(round_, sheet_id)
    if sheet.state is SheetState.CONFIRMED and not services.has_looked(round_, sheet.owner_id, _actor()):
        abort(403)  # a counted ballot's photo shows how the owner voted: only after a logged look
    return _photo(sheet.photo)


# --- proxies


@bp.route("/compounds/<int:compound_id>/votes/<int:round_id>/proxies", methods=["GET", "POST"])
@role_required(*RUNNERS)
def proxies(compound_id: int, round_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    owners = _owner_choices(compound)
    form = ProxyForm(owners=owners)
    if form.validate_on_submit():
        owner = db.session.get(Owner, int(form.owner.data))
        proxy_owner = db.session.get(Owner, int(form.proxy_owner.data)) if form.proxy_owner.data else None
        try:
            if owner is None:
                raise VotingError(_("Choose the owner."))
            services.record_proxy(
                round_,
                owner,
                proxy_owner=proxy_owner,
                proxy_name=form.proxy_name.data or "",
                photo=form.photo.data.read(),
                actor=_actor(),
                now=utcnow(),
            )
            db.session.commit()
            flash(_("The authority is recorded."), "success")
            return redirect(url_for("voting.proxies", compound_id=compound.id, round_id=round_.id))
        except VotingError as error:
            db.session.rollback()
            form.owner.errors = [str(error)]
    labels = dict(owners)
    return (
        render_template(
            "voting/proxies.html",
            compound=compound,
            round=round_,
            form=form,
            proxies=[
                (p, labels.get(str(p.owner_id), ""), mask_name(p.proxy_name))
                for p in services.live_proxies(round_)
            ],
            button=EmptyForm(),
        ),
        422 if form.errors else 200,
    )


def _proxy(round_: Round, proxy_id: int) -> Proxy:
    proxy = db.session.get(Proxy, proxy_id)
    if proxy is None or proxy.round_id != round_.id:
        abort(404)
    return proxy


@bp.post("/compounds/<int:compound_id>/votes/<int:round_id>/proxies/<int:proxy_id>/revoke")
@role_required(*RUNNERS)
def revoke_proxy(compound_id: int, round_id: int, proxy_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.revoke_proxy(_proxy(round_, proxy_id), _actor(), utcnow())
    db.session.commit()
    flash(_("The authority is revoked."), "success")
    return redirect(url_for("voting.proxies", compound_id=compound.id, round_id=round_.id))


@bp.get("/compounds/<int:compound_id>/votes/<int:round_id>/proxies/<int:proxy_id>/photo")
@role_required(*RUNNERS)
def proxy_photo(compound_id: int, round_id: int, proxy_id: int) -> Any:
    _compound, round_ = _staff_round(compound_id, round_id)
    return _photo(_proxy(round_, proxy_id).authority_photo)
