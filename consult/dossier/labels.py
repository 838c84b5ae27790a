"""Words for the coded values a record holds (states, topics, outcomes …), for its page and its PDF.

A snapshot keeps codes ("done", "lift", "partly"), never words, so one frozen version reads in any
language."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult.dossier.rules import SECTION_LABELS
from consult.dossier.rules import STATUS_LABELS
from consult.ui import colon
from consult.voting.counting import below_the_law
from consult.voting.counting import percent

LABELS: dict[str, dict[str, Any]] = {
    "kind": {
        "needs": _l("Needs survey and needs list"),
        "scheme": _l("Schemes, comments and answers"),
        "vote": _l("Final vote and consensus record"),
    },
    "state": {
        "draft": _l("Being prepared"),
        "open": _l("Open for residents"),
        "closed": _l("Closed, result being prepared"),
        "notice": _l("Result published, on public notice"),
        "done": _l("Done"),
        "failed": _l("Failed"),
    },
    #: the round history's actions (``RoundEvent.action``), as the rounds' timeline names them
    "action": {
        "plan": _l("Planned"),
        "open": _l("Open the round"),
        "close": _l("Close the round"),
        "publish": _l("Publish the result"),
        "finish": _l("End the notice period"),
        "fail": _l("Mark as failed"),
        "repeat": _l("Repeat"),
        "reopen": _l("Reopened after the district review"),
        "overtaken": _l("Overtaken: an earlier round was reopened, this one is held again"),
    },
    "topic": {
        "plan": _l("Renovation plan"),
        "lift": _l("Lift"),
        "management": _l("Property management mode"),
        "pact": _l("Residents' pact"),
        "funding": _l("Residents' share of the cost"),
        "other": _l("Other"),
    },
    "category": {
        "safety": _l("Safety items"),
        "basic": _l("Basic items"),
        "improvement": _l("Improvement items"),
        "enhancement": _l("Enhancement items"),
    },
    "need_decision": {"in_scheme": _l("Enters the scheme"), "not_now": _l("Not now")},
    "outcome": {"adopted": _l("Adopted"), "partly": _l("Partly adopted"), "not_adopted": _l("Not adopted")},
    "author": {"owner": _l("Owner"), "occupant": _l("Occupant")},
    "verdict": {
        "recommend": _l("Recommend"),
        "with_changes": _l("Recommend with changes"),
        "not_recommend": _l("Do not recommend"),
    },
    "aggregation": {
        "mean": _l("Mean"),
        "trimmed_mean": _l("Trimmed mean"),
        "mixed": _l("Trimmed mean where five or more experts scored a criterion, otherwise the mean"),
    },
    "management": {
        "company": _l("A property management company"),
        "other_manager": _l("Another manager"),
        "self_management": _l("The owners manage it themselves"),
    },
    "choice": {"yes": _l("Yes"), "no": _l("No"), "abstain": _l("Abstain")},
    "bar": {
        "participation_area": _l("Participation by area"),
        "participation_count": _l("Participation by owners"),
        "approval_area": _l("Approval by area"),
        "approval_count": _l("Approval by owners"),
    },
    "passed": {True: _l("Passed"), False: _l("Not passed"), None: "–"},
    "section": dict(SECTION_LABELS),
    "status": {status.value: text for status, text in STATUS_LABELS.items()},
}


def label(group: str, key: Any) -> str:
    """The word for ``key`` in ``group``; the code itself when there is none."""
    found = LABELS.get(group, {}).get(key)
    return str(found) if found is not None else ("–" if key is None else str(key))


def bar_lines(tally: Mapping[str, Any]) -> list[str]:
    """Each bar of a stored tally in words: "Participation by area: 2.33% (≥ 66.67%) ✗"."""
    lines = []
    for bar in tally["bars"]:
        whole = Fraction(bar["whole"])
        reached = percent(Fraction(bar["part"]) / whole) if whole else "–"
        sign = ">" if bar["strict"] else "≥"
        lines.append(
            f"{label('bar', bar['name'])}{colon()}{reached} ({sign} {percent(Fraction(bar['threshold']))}) "
            + ("✓" if bar["met"] else "✗")
        )
    return lines


def below_the_law_text(topic: str, rule: Mapping[str, Any]) -> str | None:
    """What a worker or a reviewer is told of a question whose rule is below the law's, or None."""
    laxer = below_the_law(topic, rule)
    if not laxer:
        return None
    return _(
        "This rule is below the Civil Code's (art. 278) for this decision: %(bars)s.",
        bars=_("; ").join(label("bar", name) for name in laxer),
    )
