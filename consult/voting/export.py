"""The vote as data for an independent check: the full computation of each question, and the counted
ballots with pseudonymous owners (a keyed hash: the same owner has the same pseudonym across the questions
of an export, and nobody without the key can tell who it is) for ``scripts/recount.py``. A dwelling whose
owner is not known is there as an owner of its own, with a pseudonym, its area and no choice: it counts as
an owner who did not vote."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from flask import current_app

from consult.residents.rules import derive_key
from consult.residents.rules import keyed_hash
from consult.rounds.models import Round
from consult.voting.counting import QuestionOutcome
from consult.voting.counting import fraction_text
from consult.voting.counting import rule_to_dict
from consult.voting.rules import Tally
from consult.voting.services import Roll
from consult.voting.services import count_round
from consult.voting.services import counted_ballots
from consult.voting.services import holdings
from consult.voting.services import questions_of

FORMAT = "tongxin-ballots/1"
CSV_COLUMNS = (
    "question",
    "kind",
    "options",
    "rule",
    "participation_area",
    "participation_count",
    "approval_area",
    "approval_count",
    "approval_base",
    "owner",
    "area",
    "choice",
    "channel",
)


def pseudonym_key() -> bytes:
    configured = current_app.config.get("VOTE_EXPORT_KEY")
    return (
        configured.encode() if configured else derive_key(current_app.config["SECRET_KEY"], "ballot-export")
    )


def pseudonym(key: bytes, round_id: int, owner_id: int) -> str:
    return keyed_hash(key, "owner", f"{round_id}:{owner_id}")[:20]


def export_data(round_: Round) -> dict[str, Any]:
    """Every owner in each question's scope with their area there (each dwelling without a known owner
    as an owner of its own), and the choice that counts for them ("" when they did not vote) and its
    channel."""
    key = pseudonym_key()
    roll = Roll(holdings(round_.compound_id))
    counted = counted_ballots(round_)
    questions, rows = [], []
    for question in questions_of(round_):
        questions.append(
            {
                "id": question.id,
                "position": question.position,
                "prompt": question.prompt_zh,
                "kind": question.kind.value,
                "options": question.option_keys,
                "scope": question.scope.value,
                "rule": question.rule,
            }
        )
        ballots = counted.get(question.id, {})
        for owner_id, area in sorted(roll.areas(question).items()):
            choice, channel = ballots.get(owner_id, ("", ""))
            rows.append(
                {
                    "question": question.id,
                    "owner": pseudonym(key, round_.id, owner_id),
                    "area": str(area),
                    "choice": choice,
                    "channel": str(channel),
                }
            )
    return {
        "format": FORMAT,
        "compound": {"id": round_.compound_id, "name": round_.compound.name},
        "round": {
            "id": round_.id,
            "number": round_.number,
            "attempt": round_.attempt,
            "state": round_.state.value,
        },
        "questions": questions,
        "rows": rows,
    }


def _question_columns(q: dict[str, Any]) -> list[Any]:
    """The CSV columns that describe a question and its rule (repeated on each of its rows)."""
    rule = q["rule"]
    return [
        q["id"],
        q["kind"],
        "|".join(q["options"]),
        rule["key"],
        rule["participation_area"],
        rule["participation_count"],
        rule["approval_area"],
        rule["approval_count"],
        rule["approval_base"],
    ]


def write_export(data: dict[str, Any], path: Path) -> None:
    """JSON or CSV, by the file's extension (CSV: one row per owner and question, the rule repeated)."""
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        return
    if path.suffix.lower() != ".csv":
        raise ValueError("the file must end in .csv or .json")
    questions = {q["id"]: q for q in data["questions"]}
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for row in data["rows"]:
            writer.writerow(
                [
                    *_question_columns(questions[row["question"]]),
                    row["owner"],
                    row["area"],
                    row["choice"],
                    row["channel"],
                ]
            )
        # a question nobody is in scope of still appears, with no owner
        in_rows = {row["question"] for row in data["rows"]}
        for q in data["questions"]:
            if q["id"] not in in_rows:
                writer.writerow([*_question_columns(q), "", "", "", ""])


def tally_dict(result: Tally) -> dict[str, Any]:
    return {
        "owners": result.owners,
        "unknown": result.unknown,
        "area": str(result.area),
        "voters": result.voters,
        "voters_area": str(result.voters_area),
        "approving": result.approving,
        "approving_area": str(result.approving_area),
        "against": result.against,
        "abstaining": result.abstaining,
        "bars": [
            {
                "name": bar.name,
                "threshold": ("> " if bar.threshold.strict else ">= ")
                + fraction_text(bar.threshold.fraction),
                "part": fraction_text(bar.part),
                "whole": fraction_text(bar.whole),
                "value": fraction_text(bar.value) if bar.value is not None else None,
                "met": bar.met,
            }
            for bar in result.bars
        ],
        "passed": result.passed,
    }


def outcome_dict(outcome: QuestionOutcome) -> dict[str, Any]:
    return {
        "passed": outcome.passed,
        "carried": outcome.carried,
        "tallies": {key: tally_dict(t) for key, t in outcome.tallies.items()},
    }


def tally_data(round_: Round) -> dict[str, Any]:
    """The full computation of every question of the round, as ``flask tally --json`` prints it."""
    questions = []
    for result in count_round(round_):
        q = result.question
        questions.append(
            {
                "id": q.id,
                "position": q.position,
                "prompt": q.prompt_zh,
                "kind": q.kind.value,
                "scope": q.scope.value,
                "building_id": q.building_id,
                "unit_id": q.unit_id,
                "rule": rule_to_dict(q.consent_rule),
                "answers": result.counts,
                "channels": {str(k): v for k, v in result.channels.items()},
                **outcome_dict(result.outcome),
            }
        )
    return {
        "compound": {"id": round_.compound_id, "name": round_.compound.name},
        "round": {
            "id": round_.id,
            "number": round_.number,
            "attempt": round_.attempt,
            "state": round_.state.value,
        },
        "questions": questions,
    }
