#!/usr/bin/env python3
"""Recount a Tongxin vote from its export, independently of the application.

    python scripts/recount.py ballots.json [--json]
    python scripts/recount.py ballots.csv  [--json]

The file is what ``flask export-ballots`` writes: for every question, every owner in its scope (a
pseudonym), the owner's floor area in that scope, and the choice that counts for them ("" for an owner
who did not vote). A dwelling whose owner is not known is there as an owner of its own who never votes,
so it counts in the owners and the area like any owner who did not vote. Only the standard library is
used, and nothing of the application: the rules are written out again here from DESIGN.md ("Vote
rules"), in exact arithmetic.

- Participation: voters' area / total area and voters / owners, each against its bar.
- Approval: approving area and approving owners against the voters' (or, with base "all", every owner's).
- A bar "2/3" means at least two thirds; ">1/2" strictly more than half; an empty bar does not apply.
- A choice question is counted per option (that option = approve, another = against, abstain = takes
  part); it is decided when exactly one option passes.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

BARS = ("participation_area", "participation_count", "approval_area", "approval_count")


def read_export(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """(questions, rows) from a JSON or CSV export."""
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return data["questions"], data["rows"]
    questions: dict[int, dict[str, Any]] = {}
    rows = []
    with path.open(newline="", encoding="utf-8") as f:
        for line in csv.DictReader(f):
            qid = int(line["question"])
            questions.setdefault(
                qid,
                {
                    "id": qid,
                    "kind": line["kind"],
                    "options": [o for o in line["options"].split("|") if o],
                    "rule": {
                        "key": line["rule"],
                        **{bar: line[bar] for bar in BARS},
                        "approval_base": line["approval_base"],
                    },
                },
            )
            if line["owner"]:
                rows.append(
                    {"question": qid, "owner": line["owner"], "area": line["area"], "choice": line["choice"]}
                )
    return list(questions.values()), rows


def bar_met(text: str, part: Fraction, whole: Fraction) -> bool | None:
    """None when the bar does not apply; a whole of nothing never meets a bar."""
    text = text.strip()
    if not text:
        return None
    strict = text.startswith(">")
    need = Fraction(text.lstrip(">=").strip())
    if whole == 0:
        return False
    return (
        part * need.denominator > need.numerator * whole
        if strict
        else part * need.denominator >= need.numerator * whole
    )


def count(
    rule: dict[str, str], areas: dict[str, Fraction], approving: set[str], voters: set[str]
) -> dict[str, Any]:
    voters = voters & areas.keys()
    approving = approving & voters
    total_area = sum(areas.values(), Fraction(0))
    voters_area = sum((areas[o] for o in voters), Fraction(0))
    yes_area = sum((areas[o] for o in approving), Fraction(0))
    if rule.get("approval_base", "voters") == "all":
        base_n, base_area = len(areas), total_area
    else:
        base_n, base_area = len(voters), voters_area
    checks = {
        "participation_area": bar_met(rule["participation_area"], voters_area, total_area),
        "participation_count": bar_met(
            rule["participation_count"], Fraction(len(voters)), Fraction(len(areas))
        ),
        "approval_area": bar_met(rule["approval_area"], yes_area, base_area),
        "approval_count": bar_met(rule["approval_count"], Fraction(len(approving)), Fraction(base_n)),
    }
    applied = {name: met for name, met in checks.items() if met is not None}
    return {
        "owners": len(areas),
        "area": str(Decimal(total_area.numerator) / Decimal(total_area.denominator)),
        "voters": len(voters),
        "approving": len(approving),
        "bars": applied,
        "passed": all(applied.values()),
    }


def recount(questions: list[dict[str, Any]], rows: list[dict[str, str]]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for q in questions:
        mine = [r for r in rows if int(r["question"]) == int(q["id"])]
        areas: dict[str, Fraction] = {}
        choices: dict[str, str] = {}
        for r in mine:
            areas[r["owner"]] = areas.get(r["owner"], Fraction(0)) + Fraction(Decimal(r["area"]))
            if r["choice"]:
                choices[r["owner"]] = r["choice"]
        voters = set(choices)
        if q["kind"] == "yes_no":
            one = count(q["rule"], areas, {o for o, c in choices.items() if c == "yes"}, voters)
            results[str(q["id"])] = {"passed": one["passed"], "carried": None, "tallies": {"yes": one}}
        else:
            tallies = {
                option: count(q["rule"], areas, {o for o, c in choices.items() if c == option}, voters)
                for option in q["options"]
            }
            passing = [option for option, t in tallies.items() if t["passed"]]
            carried = passing[0] if len(passing) == 1 else None
            results[str(q["id"])] = {"passed": carried is not None, "carried": carried, "tallies": tallies}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="the export (.json or .csv) of flask export-ballots")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    questions, rows = read_export(args.file)
    results = recount(questions, rows)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    for q in questions:
        result = results[str(q["id"])]
        verdict = "PASSED" if result["passed"] else "NOT PASSED"
        carried = f" ({result['carried']})" if result["carried"] else ""
        print(f"question {q['id']}: {verdict}{carried}")
        for key, t in result["tallies"].items():
            bars = ", ".join(f"{name} {'met' if met else 'NOT met'}" for name, met in t["bars"].items())
            print(
                f"  {key}: owners {t['owners']} ({t['area']} m²), voters {t['voters']},"
                f" approving {t['approving']}; {bars}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
