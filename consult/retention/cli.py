"""``flask purge``: remove the personal data of compounds whose retention period is over."""

from __future__ import annotations

import click
from flask import current_app

from consult.extensions import db


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be purged; write and remove nothing.")
def purge_command(dry_run: bool) -> None:
    """Purge the residents' personal data of compounds whose consultation ended more than RETENTION_DAYS
    ago (names masked; phones, e-mails, codes, sessions, photos and their e-mails removed)."""
    from consult.db import utcnow
    from consult.retention.services import purge_due_compounds
    from consult.retention.services import remove_files

    days = current_app.config["RETENTION_DAYS"]
    purges = purge_due_compounds(utcnow(), days, "cli:purge")
    for purge in purges:
        click.echo(
            f"{purge.compound_name} (id {purge.compound_id}, ended {purge.ended_at:%Y-%m-%d}):"
            f" {purge.owners} owners, {purge.occupants} occupants, {purge.invitations} codes,"
            f" {purge.proxies} proxies, {purge.photos} photos, {purge.outbox} e-mails"
        )
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run: {len(purges)} compounds would be purged; nothing was written.")
        return
    db.session.commit()
    removed = remove_files([name for purge in purges for name in purge.files])
    click.echo(f"{len(purges)} compounds purged (retention {days} days); {removed} photo files removed.")
