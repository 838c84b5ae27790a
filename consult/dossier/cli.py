"""``flask dossier COMPOUND [--version N] --out FILE.pdf [--lang zh|en]``: the same PDF as the page."""

from __future__ import annotations

from pathlib import Path

import click

from consult.errors import ConsultError


@click.command("dossier")
@click.argument("compound")
@click.option("--version", "version", type=int, help="The record's version (default: the latest).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def dossier_command(compound: str, version: int | None, out: Path, lang: str) -> None:
    """Write the dossier PDF of COMPOUND's consensus record (its id, or its name)."""
    from consult.cli import fail
    from consult.compounds.services import find_compound
    from consult.dossier import services

    try:
        found = find_compound(compound)
    except ConsultError as error:
        fail(str(error))
        return
    record = (
        services.record_version(found.id, version)
        if version is not None
        else services.latest_record(found.id)
    )
    if record is None:
        fail(f"{found.name} has no consensus record" + (f" version {version}" if version else ""))
        return
    data = services.dossier_pdf(record, "zh_CN" if lang == "zh" else "en")
    out.write_bytes(data)
    click.echo(f"{out}: {found.name}, version {record.version}, digest {record.digest}, {len(data):,} bytes")


commands = [dossier_command]
