"""Counting a vote beyond the bare tally, as pure functions: how a question's consent rule is stored, how a
choice question is counted, and which of an owner's ballots counts. No Flask, no database.

Choice questions (the property management mode: a company, another manager, or the owners themselves)
are counted **per option** with the question's consent rule: for option *k*, an owner who chose *k*
approves, an owner who chose another option is against, an owner who abstained takes part without
approving. The question is decided when exactly one option passes; it then carries that option. With
the presets' strict "over half" approval at most one option can pass, so a choice question under
``civil_code_ordinary`` is exactly the yes/no question "option *k*?" asked of every voter at once.

Which ballot counts, when an owner has several acts on a question (an online vote changed, a paper
ballot, both): the compound's precedence says, and the acts are ordered by a key (``act_key``); the
greatest key counts, and a later recording wins a tie (among online ballots, always: ``prevails``).
With the default ``later_signed`` the key is the time of the act: an online ballot's submission time, or
a paper ballot's signing day taken as the **end of that day** in the district's time zone (so on the
day a paper is signed, the paper prevails).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any

from consult.voting.rules import PRESETS
from consult.voting.rules import Base
from consult.voting.rules import Choice
from consult.voting.rules import ConsentRule
from consult.voting.rules import Tally
from consult.voting.rules import Threshold
from consult.voting.rules import laxer_bars
from consult.voting.rules import tally

ABSTAIN = Choice.ABSTAIN.value
BAR_NAMES = ("participation_area", "participation_count", "approval_area", "approval_count")


class QuestionKind(enum.StrEnum):
    YES_NO = "yes_no"
    CHOICE = "choice"  # one option among several, or abstain


class Topic(enum.StrEnum):
    PLAN = "plan"  # the renovation plan (the scheme as revised)
    LIFT = "lift"  # a lift for one stairwell unit
    MANAGEMENT = "management"  # the property management mode
    PACT = "pact"  # the residents' pact (管理规约)
    FUNDING = "funding"  # the residents' share of the cost
    OTHER = "other"


#: the preset the law sets for each kind of decision (民法典 278): a compound's own rule below it is
#: shown as such to the workers and the district review
LEGAL_MINIMUM: dict[Topic, str] = {
    Topic.PLAN: "civil_code_major",
    Topic.LIFT: "civil_code_major",
    Topic.FUNDING: "civil_code_major",
    Topic.MANAGEMENT: "civil_code_ordinary",
    Topic.PACT: "civil_code_ordinary",
}


def below_the_law(topic: str, rule: Mapping[str, Any]) -> list[str]:
    """The bars of a question's stored rule lower than the law's for its kind of decision."""
    minimum = LEGAL_MINIMUM.get(Topic(topic))
    return laxer_bars(rule_from_dict(rule), PRESETS[minimum]) if minimum else []


class Scope(enum.StrEnum):
    COMPOUND = "compound"
    BUILDING = "building"
    UNIT = "unit"


class Channel(enum.StrEnum):
    ONLINE = "online"
    PAPER = "paper"


class Precedence(enum.StrEnum):
    """Which act counts when an owner voted both online and on paper."""

    LATER_SIGNED = "later_signed"  # the later act, by the time it was made (the default)
    PAPER = "paper"  # a confirmed paper ballot always prevails over online ones
    ONLINE = "online"  # an online ballot always prevails over paper ones


#: the options of the property management question (民法典 284: a company, another manager, or themselves)
MANAGEMENT_OPTIONS: tuple[str, ...] = ("company", "other_manager", "self_management")


# --- consent rules as stored values


def threshold_text(threshold: Threshold | None) -> str:
    """``2/3`` (at least), ``>1/2`` (strictly more), or "" where the bar does not apply."""
    if threshold is None:
        return ""
    return f"{'>' if threshold.strict else ''}{threshold.fraction}"


def parse_threshold(text: str) -> Threshold | None:
    """The reverse of ``threshold_text``; ValueError on anything else (a fraction between 0 and 1)."""
    text = text.strip()
    if not text:
        return None
    strict = text.startswith(">")
    value = Fraction(text.removeprefix(">").removeprefix("=").strip())
    if not 0 < value <= 1:
        raise ValueError(f"a bar is a fraction between 0 and 1, not {text!r}")
    return Threshold(value, strict)


def rule_to_dict(rule: ConsentRule) -> dict[str, str]:
    """A rule as stored with its question: a copy, so a later change of a preset changes no vote held."""
    stored = {name: threshold_text(getattr(rule, name)) for name in BAR_NAMES}
    return {"key": rule.key, **stored, "approval_base": rule.approval_base.value}


def rule_from_dict(data: Mapping[str, Any]) -> ConsentRule:
    bars = [parse_threshold(str(data.get(name) or "")) for name in BAR_NAMES]
    return ConsentRule(str(data["key"]), *bars, approval_base=Base(data.get("approval_base", "voters")))


def preset_dict(key: str) -> dict[str, str]:
    return rule_to_dict(PRESETS[key])


def custom_rule(
    participation_area: str,
    participation_count: str,
    approval_area: str,
    approval_count: str,
    approval_base: str = "voters",
) -> ConsentRule:
    """A rule of the compound's own, from its bars as text; ValueError when a bar cannot be read or
    when no approval bar is set (a vote that cannot be rejected is no vote)."""
    rule = ConsentRule(
        "custom",
        parse_threshold(participation_area),
        parse_threshold(participation_count),
        parse_threshold(approval_area),
        parse_threshold(approval_count),
        Base(approval_base),
    )
    if rule.approval_area is None and rule.approval_count is None:
        raise ValueError("a rule needs an approval bar")
    return rule


# --- questions and their answers


def valid_choices(kind: QuestionKind, options: Iterable[str] = ()) -> tuple[str, ...]:
    if kind is QuestionKind.YES_NO:
        return (Choice.YES.value, Choice.NO.value, ABSTAIN)
    return (*options, ABSTAIN)


@dataclass(frozen=True)
class QuestionOutcome:
    """A question's result: one tally for a yes/no question (under "yes"), one per option for a choice
    question; ``passed`` and, for a choice question, the option ``carried``."""

    kind: QuestionKind
    tallies: dict[str, Tally]
    passed: bool
    carried: str | None

    @property
    def main(self) -> Tally:
        """The tally that decides (the carried option's, else the first)."""
        return self.tallies[self.carried] if self.carried else next(iter(self.tallies.values()))


def option_view(ballots: Mapping[int, str], option: str) -> dict[int, Choice]:
    """The ballots of a choice question seen as yes/no/abstain on one option."""
    return {
        owner: Choice.YES if choice == option else Choice.ABSTAIN if choice == ABSTAIN else Choice.NO
        for owner, choice in ballots.items()
    }


def count_question(
    kind: QuestionKind,
    options: Iterable[str],
    rule: ConsentRule,
    areas: Mapping[int, Decimal],
    ballots: Mapping[int, str],
) -> QuestionOutcome:
    """The outcome of one question: ``areas`` are the owners in scope, ``ballots`` each owner's counted
    choice (ballots of owners outside the scope are ignored by ``tally``)."""
    if kind is QuestionKind.YES_NO:
        result = tally(rule, areas, {o: Choice(c) for o, c in ballots.items()})
        return QuestionOutcome(kind, {Choice.YES.value: result}, result.passed, None)
    tallies = {option: tally(rule, areas, option_view(ballots, option)) for option in options}
    carried = [option for option, t in tallies.items() if t.passed]
    if len(carried) == 1:
        return QuestionOutcome(kind, tallies, True, carried[0])
    return QuestionOutcome(kind, tallies, False, None)


def choice_counts(kind: QuestionKind, options: Iterable[str], ballots: Iterable[str]) -> dict[str, int]:
    """How many voters chose each answer, in the order of the answers."""
    counts = dict.fromkeys(valid_choices(kind, options), 0)
    for choice in ballots:
        counts[choice] = counts.get(choice, 0) + 1
    return counts


# --- which act counts


def paper_time(signed_on: date, zone: tzinfo) -> datetime:
    """A paper ballot's time for precedence: the last instant of its signing day, in the local zone."""
    return datetime.combine(signed_on + timedelta(days=1), time(0), tzinfo=zone) - timedelta(microseconds=1)


def act_key(precedence: Precedence, channel: Channel, at: datetime) -> tuple[int, datetime]:
    """The order of an owner's acts on a question: the greatest counts (a tie goes to the later one)."""
    if precedence is Precedence.PAPER:
        return (int(channel is Channel.PAPER), at)
    if precedence is Precedence.ONLINE:
        return (int(channel is Channel.ONLINE), at)
    return (0, at)


def prevails(
    precedence: Precedence, new: tuple[Channel, datetime], current: tuple[Channel, datetime]
) -> bool:
    """Whether a new act takes the place of the one that counts now (a tie goes to the new one). A new
    online ballot always replaces an online one: ballots of one owner are recorded one at a time, so the
    one recorded later is the owner's later word, even when two requests read the clock out of order."""
    if new[0] is Channel.ONLINE and current[0] is Channel.ONLINE:
        return True
    return act_key(precedence, *new) >= act_key(precedence, *current)


# --- showing numbers


def percent(value: Fraction, places: int = 2) -> str:
    """A fraction as a percentage, rounded half up: 2/3 → "66.67%"."""
    scale = 10**places
    units = (value * 100 * scale + Fraction(1, 2)).__floor__()
    whole, part = divmod(units, scale)
    return f"{whole}.{part:0{places}d}%" if places else f"{whole}%"


def fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def permille(value: Fraction | None) -> int:
    """A share between 0 and 1 as a whole permille, rounded half up (for drawing)."""
    if value is None:
        return 0
    clamped = min(max(value, Fraction(0)), Fraction(1))
    return int((clamped * 1000 + Fraction(1, 2)).__floor__())
