"""Pages of the needs survey: the workers' builder and results (with the decisions and publishing), the
resident's answer page and needs list, and the public needs list (aggregates only)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from fractions import Fraction
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.db import utcnow
from consult.errors import commit_or_refuse
from consult.extensions import db
from consult.paper.services import survey_addressees
from consult.public.limits import public_pages
from consult.residents.access import current_invitation
from consult.residents.access import resident_required
from consult.residents.services import has_acknowledged_privacy
from consult.rounds.models import Round
from consult.rounds.rules import Action
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.rules import TransitionRefused
from consult.rounds.services import apply
from consult.rounds.services import latest_published
from consult.rounds.services import participation
from consult.scoping import staff_round_or_404
from consult.surveys import services
from consult.surveys.catalogue import category_label
from consult.surveys.charts import BarRow
from consult.surveys.charts import share_bar
from consult.surveys.forms import DecisionForm
from consult.surveys.forms import QuestionForm
from consult.surveys.forms import answer_form
from consult.surveys.models import NeedDecision
from consult.surveys.models import Survey
from consult.surveys.models import SurveyAnswer
from consult.surveys.rules import DECISION_LABELS
from consult.surveys.rules import QUESTION_KIND_LABELS
from consult.surveys.rules import WILLINGNESS_LABELS
from consult.surveys.rules import Decision
from consult.surveys.rules import NeedRow
from consult.surveys.rules import NeedsList
from consult.surveys.rules import QuestionKind
from consult.surveys.rules import Willingness
from consult.surveys.rules import WillingnessTally
from consult.surveys.rules import percent_text
from consult.surveys.rules import top_codes

bp = Blueprint("surveys", __name__)

STAFF_READ = (Role.WORKER, Role.REVIEWER, Role.ADMIN)
STAFF_EDIT = (Role.WORKER, Role.ADMIN)
#: resident pages: personal, never cached, their address never sent to another site
RESIDENT_ENDPOINTS = {"surveys.answer", "surveys.resident_needs"}


@bp.after_request
def private_page(response: Response) -> Response:
    """Every page here but the public needs list is personal or for staff: never cached."""
    if request.endpoint != "surveys.public_needs":
        response.headers["Cache-Control"] = "no-store"
    if request.endpoint in RESIDENT_ENDPOINTS:
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _actor() -> str:
    return f"user:{current_user.id}"


# --- what the needs list pages show


@dataclass
class NeedLine:
    code: str
    name: str
    count: int
    share: str
    rank: int
    tied: bool
    top: bool
    decision: NeedDecision | None


@dataclass
class CategoryView:
    label: str
    lines: list[NeedLine]
    bars: list[BarRow]


@dataclass
class WillingnessLine:
    label: str
    count: int
    share: str
    share_of_dwellings: str


@dataclass
class NeedsView:
    respondents: int
    naming: int
    dwellings: int
    #: (name, households reporting it in any answer, of them only in an answer since replaced)
    hazards: list[tuple[str, int, int]]
    categories: list[CategoryView]
    willingness: list[WillingnessLine]
    willingness_bars: list[BarRow]
    decided: int = 0
    top: int = 0
    lines: list[NeedLine] = field(default_factory=list)


def needs_view(survey: Survey, needs: NeedsList, tally: WillingnessTally, locale: str) -> NeedsView:
    names = {i.code: i.name(locale) for i in survey.items}
    decisions = services.decisions_of(survey)
    top = set(top_codes(needs))
    categories = []
    all_lines = []
    for category, rows in needs.by_category:
        lines = [_line(row, names, row.code in top, decisions.get(row.code)) for row in rows]
        all_lines.extend(lines)
        bars = [share_bar(line.name, line.count, row.share) for line, row in zip(lines, rows, strict=True)]
        categories.append(CategoryView(category_label(category), lines, bars))
    willingness = [
        WillingnessLine(
            str(WILLINGNESS_LABELS[w]),
            tally.count(w),
            percent_text(tally.share(w)),
            percent_text(tally.share_of_dwellings(w)),
        )
        for w in Willingness
    ]
    return NeedsView(
        respondents=needs.respondents,
        naming=needs.naming,
        dwellings=tally.dwellings,
        hazards=[(names[h.code], h.count, h.earlier) for h in needs.hazards],
        categories=categories,
        willingness=willingness,
        willingness_bars=[
            share_bar(str(WILLINGNESS_LABELS[w]), tally.count(w), tally.share(w)) for w in Willingness
        ],
        decided=sum(1 for code in top if code in decisions),
        top=len(top),
        lines=all_lines,
    )


def _line(row: NeedRow, names: dict[str, str], top: bool, decision: NeedDecision | None) -> NeedLine:
    return NeedLine(
        row.code, names[row.code], row.count, percent_text(row.share), row.rank, row.tied, top, decision
    )


# --- workers


def _staff_round(compound_id: int, round_id: int) -> tuple[Compound, Round]:
    return staff_round_or_404(compound_id, round_id, RoundKind.NEEDS)


def _staff_survey(compound_id: int, round_id: int) -> tuple[Compound, Round, Survey]:
    compound, round_ = _staff_round(compound_id, round_id)
    survey = services.survey_of(round_)
    if survey is None:
        abort(404)
    return compound, round_, survey


def _may_edit() -> bool:
    return current_user.role in STAFF_EDIT


def _builder_page(compound: Compound, round_: Round, form: QuestionForm) -> str:
    survey = services.survey_of(round_)
    return render_template(
        "surveys/builder.html",
        compound=compound,
        round=round_,
        survey=survey,
        form=form,
        may_edit=_may_edit(),
        editable=survey is not None and services.is_editable(survey),
        draft=round_.state is RoundState.DRAFT,
        locale=_locale(),
        kind_labels=QUESTION_KIND_LABELS,
        safety=[i for i in survey.items if i.category.value == "safety"] if survey else [],
        groups=_catalogue_groups(survey) if survey else [],
    )


def _catalogue_groups(survey: Survey) -> list[tuple[str, list[Any]]]:
    groups: dict[str, list[Any]] = {}
    for item in survey.items:
        if item.category.value != "safety":
            groups.setdefault(category_label(item.category), []).append(item)
    return list(groups.items())


@bp.get("/compounds/<int:compound_id>/rounds/<int:round_id>/survey")
@role_required(*STAFF_READ)
def builder(compound_id: int, round_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    return _builder_page(compound, round_, QuestionForm())


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/survey/create")
@role_required(*STAFF_EDIT)
def create(compound_id: int, round_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    try:
        services.create_survey(round_, _actor(), utcnow())
    except services.SurveyError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(
            _("The survey is ready, with the catalogue of needs. Add your own questions if you need them."),
            "success",
        )
    return redirect(url_for("surveys.builder", compound_id=compound.id, round_id=round_.id))


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/survey/questions")
@role_required(*STAFF_EDIT)
def add_question(compound_id: int, round_id: int) -> Any:
    compound, round_, survey = _staff_survey(compound_id, round_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            services.add_question(
                survey,
                QuestionKind(form.kind.data),
                form.prompt_zh.data or "",
                form.prompt_en.data,
                form.options(),
                bool(form.required.data),
                _actor(),
            )
        except services.SurveyError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The question is added."), "success")
        return redirect(url_for("surveys.builder", compound_id=compound.id, round_id=round_.id))
    return _builder_page(compound, round_, form), 422


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/survey/questions/<int:question_id>/delete")
@role_required(*STAFF_EDIT)
def remove_question(compound_id: int, round_id: int, question_id: int) -> Any:
    compound, round_, survey = _staff_survey(compound_id, round_id)
    try:
        services.remove_question(survey, question_id, _actor())
    except services.SurveyError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("The question is removed."), "success")
    return redirect(url_for("surveys.builder", compound_id=compound.id, round_id=round_.id))


@dataclass
class ExtraResult:
    prompt: str
    kind: QuestionKind
    bars: list[BarRow]
    texts: list[str]


def _once_per_person(answers: list[SurveyAnswer], words: list[str]) -> list[str]:
    """Residents' own words, each written once: an owner's answer is saved for each of their dwellings,
    but they wrote it once."""
    seen = set()
    kept = []
    for answer, text in zip(answers, words, strict=True):
        key = (answer.owner_id, answer.occupant_id, text)
        if text and key not in seen:
            seen.add(key)
            kept.append(text)
    return kept


def _extra_results(survey: Survey, answers: list[SurveyAnswer], locale: str) -> list[ExtraResult]:
    results = []
    for question in survey.questions:
        key = str(question.id)
        given = [a.extra[key] for a in answers if key in a.extra]
        if question.kind is QuestionKind.TEXT:
            texts = _once_per_person(answers, [str(a.extra.get(key, "")) for a in answers])
            results.append(ExtraResult(question.prompt(locale), question.kind, [], texts))
            continue
        counts: Counter[int] = Counter()
        for value in given:
            counts.update(value if isinstance(value, list) else [value])
        bars = [
            share_bar(o.label(locale), counts[o.id], _share(counts[o.id], len(answers)))
            for o in question.options
        ]
        results.append(ExtraResult(question.prompt(locale), question.kind, bars, []))
    return results


@dataclass
class DangerLine:
    """One answer's report of danger on the workers' results page."""

    hazards: list[str]
    note: str
    #: reported in an answer that a later answer of the household replaced
    earlier: bool


def _danger_lines(survey: Survey, locale: str) -> list[DangerLine]:
    """Every danger reported in the round, replaced answers included, each written once per person (an
    owner's answer is saved for each of their dwellings, but they reported it once)."""
    names = {i.code: i.name(locale) for i in survey.items}
    seen = set()
    lines = []
    for report in services.danger_reports(survey):
        answer = report.answer
        who = ("paper", answer.dwelling_id) if answer.on_paper else (answer.owner_id, answer.occupant_id)
        key = (who, report.codes, report.note, report.earlier)
        if key in seen:
            continue
        seen.add(key)
        lines.append(DangerLine([names[code] for code in report.codes], report.note, report.earlier))
    return lines


def _share(count: int, total: int) -> Fraction:
    return Fraction(count, total) if total else Fraction(0)


def _results_page(
    compound: Compound, round_: Round, survey: Survey, failed: tuple[str, DecisionForm] | None = None
) -> str:
    locale = _locale()
    answers = services.current_answers(survey)
    view = needs_view(survey, services.needs_list(survey), services.willingness_tally(survey), locale)
    forms = {}
    for line in view.lines:
        if failed is not None and failed[0] == line.code:
            forms[line.code] = failed[1]
            continue
        data = (
            {"decision": line.decision.decision.value, "reason": line.decision.reason}
            if line.decision
            else {}
        )
        forms[line.code] = DecisionForm(prefix=line.code, formdata=None, data=data)
    return render_template(
        "surveys/results.html",
        compound=compound,
        round=round_,
        survey=survey,
        view=view,
        part=participation(round_),
        on_paper=sum(1 for a in answers if a.on_paper),
        extras=_extra_results(survey, answers, locale),
        dangers=_danger_lines(survey, locale),
        forms=forms,
        may_edit=_may_edit(),
        may_decide=services.may_decide(survey) and _may_edit(),
        decision_labels=DECISION_LABELS,
        blocker=services.answer_blocker(round_) if round_.state is RoundState.CLOSED else None,
    )


@bp.get("/compounds/<int:compound_id>/rounds/<int:round_id>/survey/results")
@role_required(*STAFF_READ)
def results(compound_id: int, round_id: int) -> Any:
    compound, round_ = _staff_round(compound_id, round_id)
    survey = services.survey_of(round_)
    if survey is None:  # nothing to show yet: the builder says so
        return redirect(url_for("surveys.builder", compound_id=compound.id, round_id=round_.id))
    return _results_page(compound, round_, survey)


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/survey/decisions/<code>")
@role_required(*STAFF_EDIT)
def decide(compound_id: int, round_id: int, code: str) -> Any:
    compound, round_, survey = _staff_survey(compound_id, round_id)
    if code not in {i.code for i in survey.items}:
        abort(404)
    form = DecisionForm(prefix=code)
    if form.validate_on_submit():
        try:
            services.record_decision(
                survey, code, Decision(form.decision.data), form.reason.data or "", _actor(), utcnow()
            )
        except services.SurveyError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The decision is recorded."), "success")
        return redirect(
            url_for("surveys.results", compound_id=compound.id, round_id=round_.id) + f"#need-{code}"
        )
    return _results_page(compound, round_, survey, (code, form)), 422


@bp.post("/compounds/<int:compound_id>/rounds/<int:round_id>/survey/publish")
@role_required(*STAFF_EDIT)
def publish(compound_id: int, round_id: int) -> Any:
    """Publish the needs list: the round's PUBLISH action, refused while a top need has no decision."""
    compound, round_, _survey = _staff_survey(compound_id, round_id)
    commit_or_refuse(
        lambda: apply(round_, Action.PUBLISH, _actor(), utcnow()),
        _("The needs list is published."),
        TransitionRefused,
    )
    return redirect(url_for("surveys.results", compound_id=compound.id, round_id=round_.id))


@dataclass
class AnswerShown:
    """The home's answer that counts, as the paper entry page shows it before it is replaced."""

    at: datetime
    on_paper: bool
    willingness: str
    needs: list[str]
    hazards: list[str]
    note: str
    #: the worker's own questions: (prompt, what was answered)
    extras: list[tuple[str, str]]


def _answer_shown(survey: Survey, answer: SurveyAnswer, locale: str) -> AnswerShown:
    names = {i.code: i.name(locale) for i in survey.items}
    extras = []
    for question in survey.questions:
        value = answer.extra.get(str(question.id))
        if value is None:
            continue
        if question.kind is QuestionKind.TEXT:
            extras.append((question.prompt(locale), str(value)))
            continue
        chosen = set(value) if isinstance(value, list) else {value}
        labels = [o.label(locale) for o in question.options if o.id in chosen]
        extras.append((question.prompt(locale), " · ".join(labels)))
    return AnswerShown(
        at=answer.submitted_at,
        on_paper=answer.on_paper,
        willingness=str(WILLINGNESS_LABELS[answer.willingness]),
        needs=[names.get(code, code) for code in answer.needs],
        hazards=[names.get(code, code) for code in answer.hazards],
        note=answer.hazard_note,
        extras=extras,
    )


@bp.route("/compounds/<int:compound_id>/rounds/<int:round_id>/survey/paper", methods=["GET", "POST"])
@role_required(*STAFF_EDIT)
def paper_answer(compound_id: int, round_id: int) -> Any:
    """A worker enters a signed paper survey for one dwelling (``?dwelling=``; without it, the page asks
    which). The answer is marked as paper and audited; it counts like an online one.

    When the home already has an answer, the page shows it (when, online or on paper, and its choices),
    and the paper survey replaces it only when the worker ticks the confirmation box; the form carries
    the id of the answer shown, so an answer given meanwhile is not replaced unseen."""
    compound, round_, survey = _staff_survey(compound_id, round_id)
    locale = _locale()
    homes = survey_addressees(compound.id, locale)
    dwelling_id = request.args.get("dwelling", type=int)
    home = next((h for h in homes if h.id == dwelling_id), None)
    if dwelling_id is not None and home is None:
        abort(404)
    now = utcnow()
    is_open = services.is_open(round_, now)
    current = services.current_answer(survey, home.id) if home and is_open else None
    form = (
        answer_form(survey, services.spec_of(survey), locale, replacing=current is not None)
        if home and is_open
        else None
    )
    if form is not None and form.validate_on_submit():
        dwelling = db.session.get(Dwelling, home.id)  # type: ignore[union-attr]
        replaces = _confirmed_replacement(form) if current is not None else None
        try:
            services.enter_paper_answer(survey, dwelling, form.values(), _actor(), now, replaces=replaces)  # type: ignore[arg-type]
        except services.InvalidAnswer as invalid:
            db.session.rollback()
            for name, problem in invalid.problems.items():
                form[name].errors = [*form[name].errors, problem]
        except services.ReplaceNotConfirmed:
            # the home's answer changed after the page was shown: show the answer now, ask again
            db.session.rollback()
            current = services.current_answer(survey, home.id)  # type: ignore[union-attr]
            if not hasattr(form, "replace_confirmed"):
                form = answer_form(survey, services.spec_of(survey), locale, replacing=True)
            form.replace_confirmed.data = False
            form.replace_confirmed.errors = [
                _(
                    "This home's answer changed while you were entering the sheet. "
                    "Read the answer above, then confirm again."
                )
            ]
        except services.SurveyError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The paper survey of %(home)s is saved.", home=home.place), "success")  # type: ignore[union-attr]
            return redirect(url_for("surveys.paper_answer", compound_id=compound.id, round_id=round_.id))
    if form is not None and current is not None:
        form.replaces.data = str(current.id)  # the answer shown here is the one a save replaces
    return render_template(
        "surveys/paper_answer.html",
        compound=compound,
        round=round_,
        form=form,
        homes=homes,
        home=home,
        is_open=is_open,
        shown=_answer_shown(survey, current, locale) if current is not None else None,
    ), 422 if form is not None and form.errors else 200


def _confirmed_replacement(form: Any) -> int | None:
    """The id of the answer the worker confirmed replacing: the one the page showed, box ticked."""
    posted = form.replaces.data or ""
    return int(posted) if form.replace_confirmed.data and posted.isdigit() else None


# --- residents


def resident_survey_or_404(round_id: int) -> tuple[Any, Round, Survey]:
    """The signed-in resident's card, a survey round of their compound that has opened, and its survey;
    else 404."""
    invitation = current_invitation()
    assert invitation is not None
    round_ = db.session.get(Round, round_id)
    if (
        round_ is None
        or round_.compound_id != invitation.compound_id
        or round_.kind is not RoundKind.NEEDS
        or round_.state is RoundState.DRAFT
    ):
        abort(404)
    survey = services.survey_of(round_)
    if survey is None:
        abort(404)
    return invitation, round_, survey


@bp.route("/me/survey/<int:round_id>", methods=["GET", "POST"])
@resident_required
def answer(round_id: int) -> Any:
    invitation, round_, survey = resident_survey_or_404(round_id)
    if not has_acknowledged_privacy(invitation):
        flash(_("Please read how we use your information first."), "info")
        return redirect(url_for("residents.home"))
    now = utcnow()
    locale = _locale()
    if not services.is_open(round_, now):
        if request.method == "POST":
            flash(_("This survey is closed: answers can no longer be given or changed."), "error")
            return redirect(url_for("surveys.answer", round_id=round_.id))
        published = round_.state in (RoundState.NOTICE, RoundState.DONE)
        return render_template(
            "surveys/closed.html", round=round_, compound=round_.compound, published=published
        )
    own = services.own_answer(survey, invitation) if request.method == "GET" else None
    form = answer_form(survey, services.spec_of(survey), locale, answer=own)
    if form.validate_on_submit():
        try:
            services.submit_answer(survey, invitation, form.values(), now)
        except services.InvalidAnswer as invalid:
            for name, problem in invalid.problems.items():
                form[name].errors = [*form[name].errors, problem]
        except services.SurveyError as error:
            flash(str(error), "error")
            return redirect(url_for("surveys.answer", round_id=round_.id))
        else:
            db.session.commit()
            flash(_("Thank you. Your answer is saved. You can change it until the survey closes."), "success")
            return redirect(url_for("residents.home"))
    status = 422 if form.errors else 200
    return render_template(
        "surveys/answer.html",
        form=form,
        round=round_,
        compound=round_.compound,
        homes=services.household_status(survey, invitation, locale),
        answered_before=own is not None,
    ), status


@bp.get("/me/needs/<int:round_id>")
@resident_required
def resident_needs(round_id: int) -> Any:
    _invitation, round_, survey = resident_survey_or_404(round_id)
    if round_.state not in (RoundState.NOTICE, RoundState.DONE):
        abort(404)
    view = needs_view(survey, services.needs_list(survey), services.willingness_tally(survey), _locale())
    return render_template("surveys/resident_needs.html", compound=round_.compound, round=round_, view=view)


# --- public


@bp.get("/p/<int:compound_id>/needs")
@public_pages
def public_needs(compound_id: int) -> Any:
    """The published needs list of the compound: totals only, no name, no resident's words."""
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        abort(404)
    round_ = latest_published(compound.id, RoundKind.NEEDS)
    survey = services.survey_of(round_) if round_ is not None else None
    view = None
    if round_ is not None and survey is not None:
        view = needs_view(survey, services.needs_list(survey), services.willingness_tally(survey), _locale())
    return render_template("surveys/public_needs.html", compound=compound, round=round_, view=view)
