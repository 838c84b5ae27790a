"""What the result pages show: every figure of a question's tally, in words, exact fractions and
percentages, with the bars to draw against their thresholds. Built here so that templates only draw."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from consult.ui import area as area_text
from consult.voting.counting import ABSTAIN
from consult.voting.counting import Channel
from consult.voting.counting import QuestionKind
from consult.voting.counting import Scope
from consult.voting.counting import fraction_text
from consult.voting.counting import percent
from consult.voting.counting import permille
from consult.voting.models import VoteQuestion
from consult.voting.rules import BarResult
from consult.voting.rules import ConsentRule
from consult.voting.rules import Tally
from consult.voting.rules import Threshold
from consult.voting.rules import answers_public
from consult.voting.services import QuestionResult


@dataclass(frozen=True)
class ChartRow:
    """A row of the shared bar chart (``_macros/charts.html``)."""

    label: str
    value: str
    permille: int


@dataclass(frozen=True)
class BarView:
    """One bar of a consent rule, as computed."""

    name: str
    label: str
    part: str
    whole: str
    fraction: str
    percent: str
    threshold: str
    threshold_percent: str
    threshold_permille: int
    permille: int
    met: bool
    #: the share rounds to within a hundredth of a percent of the threshold: the exact fraction decides
    #: what the percentages cannot show (66.67% may be exactly 2/3, or just below it)
    near: bool = False


@dataclass(frozen=True)
class Section:
    """A tally shown in full: one per yes/no question, one per option of a choice question."""

    title: str
    figures: list[tuple[str, str]]
    bars: list[BarView]
    passed: bool
    reasons: list[str]
    #: how many of the owners in scope are dwellings whose owner is not known ("" when none)
    unknown_note: str = ""


@dataclass(frozen=True)
class QuestionView:
    id: int
    prompt: str
    scope: str
    rule: list[str]
    passed: bool
    verdict: str
    sections: list[Section]
    answers: list[ChartRow]
    channels: str
    extra: dict[str, Any] = field(default_factory=dict)
    #: a public result of too few voters: its outcome and turnout only, not how they answered
    withheld: bool = False


def threshold_words(threshold: Threshold) -> str:
    if threshold.strict:
        return _("more than %(fraction)s", fraction=fraction_text(threshold.fraction))
    return _("at least %(fraction)s", fraction=fraction_text(threshold.fraction))


def bar_label(name: str) -> str:
    return {
        "participation_area": _("Participation by floor area"),
        "participation_count": _("Participation by owners"),
        "approval_area": _("Approval by floor area"),
        "approval_count": _("Approval by owners"),
    }[name]


def rule_lines(rule: ConsentRule) -> list[str]:
    """The rule in words, one bar a line."""
    lines = []
    for name in ("participation_area", "participation_count", "approval_area", "approval_count"):
        threshold = getattr(rule, name)
        if threshold is None:
            continue
        if name.startswith("approval"):
            among = (
                _("of the owners who voted")
                if rule.approval_base.value == "voters"
                else _("of all owners in scope")
            )
        else:
            among = _("of all owners in scope")
        lines.append(
            _(
                "%(bar)s: %(threshold)s %(among)s",
                bar=bar_label(name),
                threshold=threshold_words(threshold),
                among=among,
            )
        )
    return lines


def scope_text(question: VoteQuestion) -> str:
    if question.scope is Scope.UNIT and question.unit is not None:
        return _(
            "Owners of building %(building)s, unit %(unit)s",
            building=question.unit.building.label,
            unit=question.unit.label,
        )
    if question.scope is Scope.BUILDING and question.building is not None:
        return _("Owners of building %(building)s", building=question.building.label)
    return _("Owners of the whole compound")


def answer_label(question: VoteQuestion, key: str, locale: str) -> str:
    if key == ABSTAIN:
        return _("Abstain")
    if question.kind is QuestionKind.YES_NO:
        return _("Yes") if key == "yes" else _("No")
    return question.option_label(key, locale) or key


def _amount(name: str, value: Fraction) -> str:
    if name.endswith("_area"):
        return _("%(area)s m²", area=area_text(Decimal(value.numerator) / Decimal(value.denominator)))
    return _("%(count)s owners", count=value)


def bar_view(bar: BarResult) -> BarView:
    value = bar.value
    return BarView(
        name=bar.name,
        label=bar_label(bar.name),
        part=_amount(bar.name, bar.part) if bar.name.endswith("_area") else str(bar.part),
        whole=_amount(bar.name, bar.whole),
        fraction=fraction_text(value) if value is not None else "–",
        percent=percent(value) if value is not None else "–",
        threshold=("> " if bar.threshold.strict else "≥ ") + fraction_text(bar.threshold.fraction),
        threshold_percent=percent(bar.threshold.fraction),
        threshold_permille=permille(bar.threshold.fraction),
        permille=permille(value),
        met=bar.met,
        near=value is not None and abs(value - bar.threshold.fraction) < Fraction(1, 10_000),
    )


def _reason(bar: BarView) -> str:
    return _(
        "%(bar)s is %(percent)s (%(fraction)s), short of %(threshold)s.",
        bar=bar.label,
        percent=bar.percent,
        fraction=bar.fraction,
        threshold=bar.threshold,
    )


def unknown_note(result: Tally) -> str:
    """Why the owners in scope are more than the roster's owners: dwellings without a known owner."""
    if not result.unknown:
        return ""
    return unknown_owners_note(result.unknown)


def unknown_owners_note(count: int) -> str:
    """The line that says how many owners in scope are dwellings whose owner is not known."""
    return ngettext(
        "Of these owners, %(num)s is a dwelling whose owner is not known: it counts as an owner who did"
        " not vote.",
        "Of these owners, %(num)s are dwellings whose owner is not known: each counts as an owner who"
        " did not vote.",
        count,
    )


def section(title: str, result: Tally, approving_label: str, against_label: str | None = None) -> Section:
    """A question's count as figures and bars. On a question of several options, each option is
    counted on its own: ``against_label`` names the owners who chose another one."""
    bars = [bar_view(b) for b in result.bars]
    figures = [
        (_("Owners in scope"), str(result.owners)),
        (_("Their floor area"), _("%(area)s m²", area=area_text(result.area))),
        (_("Owners who voted"), str(result.voters)),
        (_("Floor area of those who voted"), _("%(area)s m²", area=area_text(result.voters_area))),
        (approving_label, str(result.approving)),
        (_("Floor area approving"), _("%(area)s m²", area=area_text(result.approving_area))),
        (against_label or _("Against"), str(result.against)),
        (_("Abstaining"), str(result.abstaining)),
    ]
    reasons = [_reason(b) for b in bars if not b.met]
    if result.voters == 0:
        reasons.insert(0, _("Nobody voted."))
    return Section(title, figures, bars, result.passed, reasons, unknown_note(result))


def turnout_section(result: Tally, passed: bool) -> Section:
    """Who took part, and nothing of how: the participation bars and figures of a question."""
    bars = [bar_view(b) for b in result.bars if b.name.startswith("participation")]
    figures = [
        (_("Owners in scope"), str(result.owners)),
        (_("Their floor area"), _("%(area)s m²", area=area_text(result.area))),
        (_("Owners who voted"), str(result.voters)),
        (_("Floor area of those who voted"), _("%(area)s m²", area=area_text(result.voters_area))),
    ]
    reasons = [_reason(b) for b in bars if not b.met]
    if result.voters == 0:
        reasons.insert(0, _("Nobody voted."))
    return Section(_("Participation"), figures, bars, passed, reasons, unknown_note(result))


def question_view(result: QuestionResult, locale: str, *, public: bool = False) -> QuestionView:
    """A question's result; on a public page (``public``), where too few owners voted to keep each
    vote secret, its outcome and turnout only (``rules.answers_public``)."""
    question, outcome = result.question, result.outcome
    voters = sum(result.counts.values())
    withheld = public and not answers_public(voters)
    if question.kind is QuestionKind.YES_NO:
        verdict = _("Passed.") if outcome.passed else _("Not passed.")
    else:
        verdict = (
            _("Decided: %(option)s.", option=answer_label(question, outcome.carried, locale))
            if outcome.carried
            else _("Not decided: no single option met the bars.")
        )
    if withheld:
        sections = [turnout_section(next(iter(outcome.tallies.values())), outcome.passed)]
    elif question.kind is QuestionKind.YES_NO:
        sections = [section(_("The count"), outcome.tallies["yes"], _("Owners approving"))]
    else:
        sections = [
            section(
                _("Option: %(option)s", option=answer_label(question, key, locale)),
                tally,
                _("Owners choosing this option"),
                _("Owners choosing another option"),
            )
            for key, tally in outcome.tallies.items()
        ]
    answers = (
        []
        if withheld
        else [
            ChartRow(
                answer_label(question, key, locale),
                f"{n} · {percent(Fraction(n, voters), 1)}" if voters else "0",
                permille(Fraction(n, voters)) if voters else 0,
            )
            for key, n in result.counts.items()
        ]
    )
    channels = _(
        "%(online)s online, %(paper)s on paper",
        online=result.channels.get(Channel.ONLINE, 0),
        paper=result.channels.get(Channel.PAPER, 0),
    )
    return QuestionView(
        id=question.id,
        prompt=question.prompt(locale),
        scope=scope_text(question),
        rule=rule_lines(question.consent_rule),
        passed=outcome.passed,
        verdict=verdict,
        sections=sections,
        answers=answers,
        channels=channels,
        withheld=withheld,
    )
