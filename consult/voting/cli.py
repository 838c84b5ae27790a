"""``flask tally`` and ``flask export-ballots``: the count, and the ballots for an independent recount.

Both refuse while the vote is open: results are hidden from everyone until the round closes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from consult.errors import ConsultError
from consult.extensions import db
from consult.rounds.models import Round


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _vote_round(compound_ref: str, number: int | None, attempt: int | None) -> Round:
    from consult.compounds.services import find_compound
    from consult.voting.services import results_visible
    from consult.voting.services import vote_rounds

    compound = find_compound(compound_ref)
    rounds = [
        r
        for r in vote_rounds(compound.id)
        if (number is None or r.number == number) and (attempt is None or r.attempt == attempt)
    ]
    if not rounds:
        raise ConsultError(f"{compound.name} has no such vote round")
    round_ = rounds[-1]  # the latest attempt
    if not results_visible(round_, staff=True):
        raise ConsultError(
            f"round {round_.number} (attempt {round_.attempt}) is {round_.state.value}: "
            "results are hidden until the round closes"
        )
    return round_


@click.command("tally")
@click.argument("compound")
@click.option("--round", "number", type=int, help="The round's number (default: the latest vote round).")
@click.option("--attempt", type=int, help="The attempt of a repeated round (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Print the full computation as JSON.")
def tally_command(compound: str, number: int | None, attempt: int | None, as_json: bool) -> None:
    """Count the vote of COMPOUND (its id or exact name) once its round has closed."""
    from consult.voting.export import tally_data

    try:
        data = tally_data(_vote_round(compound, number, attempt))
    except ConsultError as error:
        _fail(str(error))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"{data['compound']['name']}, round {data['round']['number']} ({data['round']['state']})")
    for q in data["questions"]:
        verdict = "PASSED" if q["passed"] else "NOT PASSED"
        carried = f" ({q['carried']})" if q["carried"] else ""
        click.echo(
            f"\n{q['position']}. {q['prompt']}  [{q['scope']}, {q['rule']['key']}]: {verdict}{carried}"
        )
        for key, t in q["tallies"].items():
            label = "" if q["kind"] == "yes_no" else f"  option {key}:"
            unknown = f", {t['unknown']} of them not known" if t["unknown"] else ""
            click.echo(
                f"{label}  owners {t['owners']}{unknown} ({t['area']} m²),"
                f" voters {t['voters']} ({t['voters_area']} m²),"
                f" approving {t['approving']} ({t['approving_area']} m²), against {t['against']},"
                f" abstaining {t['abstaining']}"
            )
            for bar in t["bars"]:
                mark = "met" if bar["met"] else "NOT met"
                click.echo(
                    f"    {bar['name']:<20} {bar['part']} / {bar['whole']} = {bar['value']}"
                    f"  needs {bar['threshold']}: {mark}"
                )


@click.command("export-ballots")
@click.argument("compound")
@click.option("--round", "number", type=int, required=True, help="The round's number.")
@click.option("--attempt", type=int, help="The attempt of a repeated round (default: the latest).")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write: .csv or .json.",
)
def export_ballots_command(compound: str, number: int, attempt: int | None, out: Path) -> None:
    """Write the counted ballots of COMPOUND's vote with pseudonymous owners, for scripts/recount.py."""
    from consult.voting.export import export_data
    from consult.voting.export import write_export

    if out.suffix.lower() not in (".csv", ".json"):
        _fail("the file must end in .csv or .json")
    try:
        data = export_data(_vote_round(compound, number, attempt))
    except ConsultError as error:
        _fail(str(error))
    write_export(data, out)
    click.echo(f"Wrote {len(data['rows'])} rows ({len(data['questions'])} questions) to {out}.")


commands = [tally_command, export_ballots_command]
