"""Expert panels: forming them (district reviewers, admins), declaring conflicts and scoring (experts),
the chair's opinion, and the results with their chart. Experts see only the panels they are on."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from consult.auth.decorators import role_required
from consult.auth.models import Role
from consult.auth.models import User
from consult.errors import NotFound
from consult.errors import commit_or_refuse
from consult.experts import services
from consult.experts.forms import AGGREGATION_LABELS
from consult.experts.forms import VERDICT_LABELS
from consult.experts.forms import ActionForm
from consult.experts.forms import ConflictForm
from consult.experts.forms import OpinionForm
from consult.experts.forms import PanelForm
from consult.experts.forms import RemarkForm
from consult.experts.forms import ReopenForm
from consult.experts.forms import rubric_form
from consult.experts.forms import score_form
from consult.experts.models import Criterion
from consult.experts.models import Panel
from consult.experts.models import PanelMember
from consult.experts.models import Score
from consult.experts.rules import Aggregation
from consult.experts.rules import CriterionSpec
from consult.experts.rules import Verdict
from consult.experts.rules import may_write_opinion
from consult.experts.rules import with_new_criterion
from consult.experts.services import PanelRefused
from consult.extensions import db
from consult.forms import ConfirmForm
from consult.rounds.models import Round
from consult.schemes.models import Scheme
from consult.schemes.services import version_name

bp = Blueprint("experts", __name__)

EVERYONE = (Role.EXPERT, Role.REVIEWER, Role.ADMIN)
#: one colour per scheme in the chart (SVG attributes, not styles)
COLOURS = ("#0b5cad", "#b35900", "#1b6b2f", "#7a1f7a", "#5c5c5c", "#a3001b")


def _panel_or_404(panel_id: int) -> Panel:
    try:
        return services.get_panel_for(current_user, panel_id)
    except NotFound:
        abort(404)


def _scheme_or_404(panel: Panel, scheme_id: int) -> Scheme:
    try:
        return services.scheme_of(panel, scheme_id)
    except NotFound:
        abort(404)


def _member_or_403(panel: Panel) -> PanelMember:
    member = services.member_of(panel, current_user)
    if member is None:
        abort(403)
    return member


def criterion_names(criteria: list[Criterion]) -> dict[int, str]:
    zh = str(get_locale() or "zh_CN").startswith("zh")
    return {c.id: c.name_zh if zh else c.name_en for c in criteria}


def figure(value: Fraction | None, places: int = 2) -> str:
    """A Fraction shown as a decimal, rounded half up (display only; the figure stays exact)."""
    if value is None:
        return "—"
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def deviation(variance: Fraction) -> str:
    """The standard deviation shown to two places (the flag itself compares the exact variance)."""
    exact = Decimal(variance.numerator) / Decimal(variance.denominator)
    return str(exact.sqrt().quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@bp.app_template_filter("score_figure")
def score_figure(value: Fraction | None, places: int = 2) -> str:
    """For templates outside this package (the round 2 answer pages): ``figure``."""
    return figure(value, places)


def _commit(change: Callable[[], object], done: str) -> bool:
    """A panel's change committed, or its refusal said (``commit_or_refuse``); whether it was made."""
    return commit_or_refuse(change, done, PanelRefused).made


def _may_manage(panel: Panel) -> bool:
    return services.manages(current_user, panel)


@bp.get("/experts")
@role_required(*EVERYONE)
def index() -> Any:
    return render_template("experts/index.html", panels=services.panels_for(current_user))


@bp.route("/experts/rounds/<int:round_id>/panels/new", methods=["GET", "POST"])
@role_required(*services.OVERSEERS)
def new_panel(round_id: int) -> Any:
    round_ = db.get_or_404(Round, round_id)
    experts = list(db.session.scalars(select(User).where(User.role == Role.EXPERT).order_by(User.name)))
    form = PanelForm()
    choices = [SelectChoice(u.id, f"{u.name} <{u.email}>") for u in experts]
    form.members.choices = choices
    form.chair.choices = choices
    form.representatives.choices = choices
    existing = services.panel_of(round_)
    if existing is not None:
        return redirect(url_for("experts.panel", panel_id=existing.id))
    if form.validate_on_submit():
        by_id = {u.id: u for u in experts}
        members = [by_id[i] for i in form.members.data]
        chosen = set(form.members.data)
        representatives = [by_id[i] for i in form.representatives.data or [] if i not in chosen]
        try:
            panel = services.form_panel(
                round_,
                by_id[form.chair.data],
                members,
                current_user,
                aggregation=Aggregation(form.aggregation.data),
                resident_representatives=representatives,
            )
        except PanelRefused as refused:
            flash(str(refused), "error")
        else:
            db.session.commit()
            flash(_("The panel is formed and its members are invited."), "success")
            return redirect(url_for("experts.panel", panel_id=panel.id))
    return render_template("experts/new_panel.html", form=form, round=round_)


@bp.get("/experts/panels/<int:panel_id>")
@role_required(*EVERYONE)
def panel(panel_id: int) -> Any:
    panel = _panel_or_404(panel_id)
    member = services.member_of(panel, current_user)
    rows = []
    opinion_pens: set[int] = set()  # the schemes whose opinion this user writes
    for scheme in services.schemes_of(panel):
        declared = services.declaration(member, scheme) if member else None
        scored = len(services.scores_by(member, scheme)) if member else 0
        remark = services.remark_of(member, scheme) if member else None
        rows.append((scheme, declared, scored, services.opinion_on(panel, scheme), remark))
        if services.writes_opinion(panel, scheme, current_user):
            opinion_pens.add(scheme.id)
    return render_template(
        "experts/panel.html",
        panel=panel,
        member=member,
        rows=rows,
        names=criterion_names(panel.criteria),
        may_manage=_may_manage(panel),
        may_see=services.may_see_results(panel, current_user),
        action=ActionForm(),
        close_form=ConfirmForm(),
        reopen_form=ReopenForm(),
        may_reopen=panel.closed and services.may_reopen(panel),
        may_write_opinion=may_write_opinion(panel.round.state),
        opinion_pens=opinion_pens,
        aggregation_label=AGGREGATION_LABELS[panel.aggregation],
        verdict_labels=VERDICT_LABELS,
    )


@bp.route("/experts/panels/<int:panel_id>/rubric", methods=["GET", "POST"])
@role_required(*EVERYONE)
def rubric(panel_id: int) -> Any:
    panel = _panel_or_404(panel_id)
    if not _may_manage(panel):
        abort(403)
    names = criterion_names(panel.criteria)
    form = rubric_form(panel.criteria, names)
    if form.validate_on_submit():
        specs = [
            CriterionSpec(
                c.key, c.name_zh, c.name_en, form[f"weight_{c.id}"].data, form[f"scale_{c.id}"].data
            )
            for c in panel.criteria
            if not form[f"remove_{c.id}"].data
        ]
        name_zh, name_en = (form.new_name_zh.data or "").strip(), (form.new_name_en.data or "").strip()
        if name_zh and form.new_weight.data:
            specs = with_new_criterion(
                specs, name_zh, name_en, form.new_weight.data, form.new_scale.data or 10
            )
        elif name_zh or name_en or form.new_weight.data:
            form.new_name_zh.errors = [_("A new criterion needs its name in Chinese and its weight.")]
            return render_template("experts/rubric.html", panel=panel, form=form, names=names), 422
        if _commit(lambda: services.set_rubric(panel, specs, current_user), _("The rubric is saved.")):
            return redirect(url_for("experts.panel", panel_id=panel.id))
    return render_template("experts/rubric.html", panel=panel, form=form, names=names)


@bp.post("/experts/panels/<int:panel_id>/rubric/freeze")
@role_required(*EVERYONE)
def freeze(panel_id: int) -> Any:
    panel = _panel_or_404(panel_id)
    if not _may_manage(panel):
        abort(403)
    if ActionForm().validate_on_submit():
        services.freeze_rubric(panel, current_user)
        db.session.commit()
        flash(_("The rubric is frozen."), "success")
    return redirect(url_for("experts.panel", panel_id=panel.id))


@bp.route("/experts/panels/<int:panel_id>/schemes/<int:scheme_id>/conflict", methods=["GET", "POST"])
@role_required(*EVERYONE)
def conflict(panel_id: int, scheme_id: int) -> Any:
    panel = _panel_or_404(panel_id)
    member = _member_or_403(panel)
    scheme = _scheme_or_404(panel, scheme_id)
    earlier = services.declaration(member, scheme)
    form = ConflictForm(
        data={"declared": "yes" if earlier.declared else "no", "reason": earlier.reason} if earlier else None
    )
    if form.validate_on_submit():
        try:
            services.declare(member, scheme, form.declared.data == "yes", form.reason.data or "")
        except PanelRefused as refused:
            flash(str(refused), "error")
        else:
            db.session.commit()
            if form.declared.data == "yes":
                flash(_("Your conflict of interest is recorded; you will not score this scheme."), "success")
                return redirect(url_for("experts.panel", panel_id=panel.id))
            return redirect(url_for("experts.score", panel_id=panel.id, scheme_id=scheme.id))
    return render_template("experts/conflict.html", panel=panel, scheme=scheme, form=form)


@bp.route("/experts/panels/<int:panel_id>/schemes/<int:scheme_id>/score", methods=["GET", "POST"])
@role_required(*EVERYONE)
def score(panel_id: int, scheme_id: int) -> Any:
    panel = _panel_or_404(panel_id)
    member = _member_or_403(panel)
    scheme = _scheme_or_404(panel, scheme_id)
    declared = services.declaration(member, scheme)
    if declared is None:
        return redirect(url_for("experts.conflict", panel_id=panel.id, scheme_id=scheme.id))
    names = criterion_names(panel.criteria)
    form = score_form(panel.criteria, names)
    own = services.scores_by(member, scheme)
    if form.validate_on_submit():
        entries = {
            c.id: (form[f"value_{c.id}"].data, form[f"comment_{c.id}"].data or "") for c in panel.criteria
        }
        saved = _("Your scores for scheme %(label)s are saved.", label=scheme.label)
        if _commit(lambda: services.save_scores(member, scheme, entries), saved):
            return redirect(url_for("experts.panel", panel_id=panel.id))
    elif not form.is_submitted():
        for c in panel.criteria:
            if c.id in own:
                form[f"value_{c.id}"].data = own[c.id].value
                form[f"comment_{c.id}"].data = own[c.id].comment
    return render_template(
        "experts/score.html",
        panel=panel,
        scheme=scheme,
        form=form,
        declared=declared,
        locked=panel.closed or member.submission is not None or not member.scores,
        version=scheme.latest,
        version_name=version_name,
    )


@bp.post("/experts/panels/<int:panel_id>/submit")
@role_required(*EVERYONE)
def submit(panel_id: int) -> Any:
    panel = _panel_or_404(panel_id)
    member = _member_or_403(panel)
    if ActionForm().validate_on_submit():
        submitted = _("Your scores are submitted. You can now see the panel's results.")
        _commit(lambda: services.submit(member), submitted)
    return redirect(url_for("experts.panel", panel_id=panel.id))


@bp.post("/experts/panels/<int:panel_id>/close")
@role_required(*EVERYONE)
def close(panel_id: int) -> Any:
    panel = _panel_or_404(panel_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("Tick the box beside “Close the panel” to confirm."), "error")
    else:
        _commit(lambda: services.close(panel, current_user), _("The panel is closed."))
    return redirect(url_for("experts.panel", panel_id=panel.id))


@bp.post("/experts/panels/<int:panel_id>/reopen")
@role_required(*EVERYONE)
def reopen(panel_id: int) -> Any:
    """Open the closed panel again, its round being reopened by the district review (the chair or a
    district reviewer, with a reason and the box ticked)."""
    panel = _panel_or_404(panel_id)
    if not _may_manage(panel):
        abort(403)
    form = ReopenForm()
    if not form.validate_on_submit():
        flash(_("Say why the panel is reopened, and tick the box beside “Reopen the panel”."), "error")
    else:
        _commit(
            lambda: services.reopen(panel, current_user, form.reason.data or ""),
            _("The panel is reopened: its members may change their scores and submit again."),
        )
    return redirect(url_for("experts.panel", panel_id=panel.id))


@bp.route("/experts/panels/<int:panel_id>/schemes/<int:scheme_id>/remark", methods=["GET", "POST"])
@role_required(*EVERYONE)
def remark(panel_id: int, scheme_id: int) -> Any:
    """A member's say on a scheme: how a residents' representative is heard without scoring."""
    panel = _panel_or_404(panel_id)
    member = _member_or_403(panel)
    scheme = _scheme_or_404(panel, scheme_id)
    existing = services.remark_of(member, scheme)
    form = RemarkForm()
    if form.validate_on_submit():
        saved = _("Your remark on scheme %(label)s is saved.", label=scheme.label)
        if _commit(lambda: services.save_remark(member, scheme, form.body.data or ""), saved):
            return redirect(url_for("experts.panel", panel_id=panel.id))
    elif existing is not None and not form.is_submitted():
        form.body.data = existing.body
    return render_template(
        "experts/remark.html",
        panel=panel,
        scheme=scheme,
        form=form,
        locked=panel.closed,
        version=scheme.latest,
        version_name=version_name,
    )


@bp.post("/experts/panels/<int:panel_id>/members/<int:member_id>/score")
@role_required(*EVERYONE)
def grant(panel_id: int, member_id: int) -> Any:
    """Grant a residents' representative a score, or take it back."""
    panel = _panel_or_404(panel_id)
    if not _may_manage(panel):
        abort(403)
    member = next((m for m in panel.members if m.id == member_id), None)
    if member is None:
        abort(404)
    if ActionForm().validate_on_submit():
        _commit(
            lambda: services.grant_score(member, current_user, scores=not member.scores),
            _("Saved: who scores on this panel."),
        )
    return redirect(url_for("experts.panel", panel_id=panel.id))


@bp.route("/experts/panels/<int:panel_id>/schemes/<int:scheme_id>/opinion", methods=["GET", "POST"])
@role_required(*EVERYONE)
def opinion(panel_id: int, scheme_id: int) -> Any:
    panel = _panel_or_404(panel_id)
    scheme = _scheme_or_404(panel, scheme_id)
    if not services.writes_opinion(panel, scheme, current_user):
        abort(403)
    form = OpinionForm()
    existing = services.opinion_on(panel, scheme)
    if form.validate_on_submit():
        saved = _("The panel's opinion on scheme %(label)s is saved.", label=scheme.label)
        verdict, changes = Verdict(form.verdict.data), form.required_changes.data or ""
        if _commit(lambda: services.write_opinion(panel, scheme, current_user, verdict, changes), saved):
            return redirect(url_for("experts.panel", panel_id=panel.id))
    elif existing is not None and not form.is_submitted():
        form.verdict.data = existing.verdict.value
        form.required_changes.data = existing.required_changes
    return render_template("experts/opinion.html", panel=panel, scheme=scheme, form=form)


@bp.get("/experts/panels/<int:panel_id>/results")
@role_required(*EVERYONE)
def results(panel_id: int) -> Any:
    panel = _panel_or_404(panel_id)
    if not services.may_see_results(panel, current_user):
        member = services.member_of(panel, current_user)
        if member is None:
            abort(403)
        # a scoring member sees the others' scores once they have submitted theirs; a residents'
        # representative without a score, once the panel is closed
        if member.scores:
            flash(_("The panel's results open to you once you have submitted your scores."), "error")
        else:
            flash(_("The panel's results open to you once the panel is closed."), "error")
        return redirect(url_for("experts.panel", panel_id=panel.id))
    outcome = services.results(panel)
    names = criterion_names(panel.criteria)
    counted = services.counted_members(panel)
    individual = list(
        db.session.scalars(
            select(Score)
            .where(Score.member_id.in_([m.id for m in counted]))
            .order_by(Score.scheme_id, Score.id)
        )
    )
    return render_template(
        "experts/results.html",
        panel=panel,
        outcome=outcome,
        names=names,
        figure=figure,
        deviation=deviation,
        chart=profile_chart(panel, outcome, names),
        spread=spread_chart(outcome, services.expert_totals(panel)),
        remarks=services.remarks_on(panel),
        individual=individual,
        schemes={s.id: s for s in outcome.schemes},
        aggregation_label=AGGREGATION_LABELS[panel.aggregation],
        opinions={s.id: services.opinion_on(panel, s) for s in outcome.schemes},
        verdict_labels=VERDICT_LABELS,
    )


def profile_chart(panel: Panel, outcome: services.Results, names: dict[int, str]) -> dict[str, Any]:
    """Coordinates of the criterion-profile chart: per criterion a group of bars, one per scheme, each
    the criterion's aggregate as a share of its scale."""
    bar_h, gap, label_h, bar_max = 14, 2, 22, 240
    schemes = outcome.schemes
    groups = []
    y = 4
    for c in panel.criteria:
        bars = []
        for i, s in enumerate(schemes):
            fig = outcome.by_scheme[s.id].figures.get(c.key)
            share = fig.value / c.scale if fig else Fraction(0)
            bars.append(
                {
                    "label": s.label,
                    "y": y + label_h + i * (bar_h + gap),
                    "width": round(float(share * bar_max), 1),
                    "colour": COLOURS[i % len(COLOURS)],
                    "text": figure(fig.value if fig else None, 1),
                }
            )
        groups.append({"name": names[c.id], "y": y, "bars": bars})
        y += label_h + len(schemes) * (bar_h + gap) + 10
    return {"groups": groups, "height": max(y, 16), "bar_h": bar_h, "bar_max": bar_max, "width": 340}


def spread_chart(outcome: services.Results, totals: dict[int, dict[int, Fraction]]) -> dict[str, Any]:
    """Coordinates of the per-expert spread chart: for each scheme a 0–100 line with one dot per expert's
    own weighted total and a mark at the panel's total. Experts are numbered, never named."""
    left, right, row_h, top = 30, 320, 44, 24
    span = right - left
    numbers = {mid: n for n, mid in enumerate(sorted({m for t in totals.values() for m in t}), start=1)}
    rows = []
    y = top
    for s in outcome.schemes:
        own = totals.get(s.id, {})
        total = outcome.by_scheme[s.id].total
        dots = [
            {
                "x": round(left + float(value / 100) * span, 1),
                "number": numbers[mid],
                "text": figure(value, 1),
            }
            for mid, value in sorted(own.items(), key=lambda kv: (kv[1], kv[0]))
        ]
        rows.append(
            {
                "label": s.label,
                "y": y,
                "dots": dots,
                "mean_x": None if total is None else round(left + float(total / 100) * span, 1),
                "mean_text": figure(total, 1),
            }
        )
        y += row_h
    ticks = [{"x": left + span * t // 100, "text": str(t)} for t in (0, 25, 50, 75, 100)]
    return {"rows": rows, "ticks": ticks, "left": left, "right": right, "height": y + 4, "width": 340}
