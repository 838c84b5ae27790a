"""Command-line tools for district IT: ``flask seed-demo``, ``create-user``, ``import-roster`` …"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask
from flask import current_app

from consult.auth.models import Role
from consult.errors import ConsultError
from consult.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def fail(message: str) -> None:
    """Print a clear error and stop with a non-zero status (nothing is committed)."""
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def demo_allowed(app: Flask, allow_production: bool) -> bool:
    """Demo accounts share a published password: only in debug or testing mode, or when asked for."""
    return app.debug or app.testing or allow_production


@click.command("seed-demo")
@click.option(
    "--allow-production",
    is_flag=True,
    help="Seed even though the app runs neither in debug nor in testing mode (never on a real server).",
)
def seed_demo(allow_production: bool) -> None:
    """Build the Qingyang District demo (once) and print the demo accounts (with --debug only)."""
    from flask import current_app

    from consult.demo import DEMO_ACCOUNTS
    from consult.demo import DEMO_PASSWORD
    from consult.demo import seed

    if not demo_allowed(current_app, allow_production):
        fail(
            "the demo creates accounts with a published password; run it as `flask --debug seed-demo`"
            " on a development machine (or add --allow-production if you really mean it)"
        )
    created = seed()
    db.session.commit()
    if created:
        click.echo(
            f"Demo data created: {created.compounds} compounds, {created.dwellings} dwellings,"
            f" {created.consultations} consultations under way or done."
        )
    else:
        click.echo("The demo data is already there; nothing was changed.")
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for email, role, street in DEMO_ACCOUNTS:
        click.echo(f"  {email:<32} {role.value:<9} {street or ''}".rstrip())
    if created and created.residents:
        base = current_app.config["BASE_URL"].rstrip("/")
        click.echo("Demo residents (each card's link, or its code typed at /code):")
        for resident in created.residents:
            card = resident.card
            click.echo(f"  {resident.description}: {base}/r/{card.token}  (code {card.printed_code})")


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="The person's name as shown to others.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--street", help="Street (街道) of a community worker.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user_command(email: str, name: str, role: str, street: str | None, password: str) -> None:
    """Create a staff account."""
    from consult.auth.services import create_user
    from consult.compounds.services import find_street

    try:
        street_obj = find_street(street) if street else None
        user = create_user(email, name, password, Role(role), street_obj)
    except ConsultError as error:
        fail(str(error))
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@click.command("create-compound")
@click.option("--street", required=True, help="The street (街道) the compound is in.")
@click.option("--name", required=True, help="The compound's name (小区/院落).")
@click.option("--cluster", help="The cluster (片区) it is renovated with.")
@click.option("--year-built", type=int)
@click.option("--plan-year", type=int)
def create_compound_command(
    street: str, name: str, cluster: str | None, year_built: int | None, plan_year: int | None
) -> None:
    """Create a compound and print its id."""
    from consult.compounds.services import create_compound
    from consult.compounds.services import ensure_cluster
    from consult.compounds.services import find_street

    try:
        street_obj = find_street(street)
        cluster_obj = ensure_cluster(street_obj.district, cluster) if cluster else None
        compound = create_compound(
            street_obj, name, cluster=cluster_obj, year_built=year_built, plan_year=plan_year
        )
    except ConsultError as error:
        fail(str(error))
    db.session.commit()
    click.echo(compound.id)


@click.command("import-roster")
@click.argument("compound")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
def import_roster_command(compound: str, file: Path, dry_run: bool) -> None:
    """Import a roster file (CSV or XLSX) into COMPOUND (its id or exact name)."""
    from consult.compounds.services import find_compound
    from consult.roster.parse import RosterRejected
    from consult.roster.services import import_file

    try:
        target = find_compound(compound)
        plan = import_file(target, file.read_bytes(), file.name, "cli", dry_run=dry_run)
    except RosterRejected as rejected:
        db.session.rollback()
        click.echo(f"Error: {file.name} was rejected; nothing was written.", err=True)
        for problem in rejected.problems:
            click.echo(f"  {problem.describe()}", err=True)
        sys.exit(1)
    except ConsultError as error:
        fail(str(error))
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was written. Applying this file would:")
    else:
        db.session.commit()
        click.echo(f"Imported {file.name} into {target.name}:")
    for kind, counts in plan.counts().items():
        click.echo(
            f"  {kind:<10} {counts.created:>6} created {counts.updated:>6} updated"
            f" {counts.unchanged:>6} unchanged"
        )
    if plan.dwellings_not_in_file:
        click.echo(f"  {plan.dwellings_not_in_file} dwellings already recorded are not in this file; kept.")


@click.command("cards")
@click.argument("compound")
@click.option("--building", help="Only this building's residents.")
@click.option("--unit", help="Only this unit of the building.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def cards_command(compound: str, building: str | None, unit: str | None, out: Path) -> None:
    """Print invitation cards (A4 PDF, 8 a page) for COMPOUND; these residents' earlier cards stop working."""
    from consult.compounds.services import find_compound
    from consult.db import utcnow
    from consult.residents.cards import cards_pdf
    from consult.residents.services import card_for
    from consult.residents.services import card_people
    from consult.residents.services import issue_cards

    if unit and not building:
        fail("--unit needs --building")
    try:
        target = find_compound(compound)
    except ConsultError as error:
        fail(str(error))
    people = card_people(target, building, unit)
    if not people:
        fail("nobody is registered there yet: import the roster first")
    issued = issue_cards(people, target, "cli", utcnow())
    pdf = cards_pdf([card_for(i, target.name) for i in issued], target.name)
    out.write_bytes(pdf)
    db.session.commit()
    click.echo(f"{len(issued)} cards for {target.name} written to {out}.")


@click.command("remind-closing")
def remind_closing_command() -> None:
    """Queue the "closes in two days" notices of open rounds (run it from cron, e.g. hourly)."""
    from consult.db import utcnow
    from consult.rounds.notices import remind_closing

    queued = remind_closing(utcnow())
    db.session.commit()
    click.echo(f"{queued} reminders queued.")


@click.group("audit")
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; name the first broken entry (exit status 1)."""
    from consult.audit.services import verify_chain

    check = verify_chain()
    if not check.ok:
        click.echo(f"Broken at entry {check.broken_id}: {check.problem}.", err=True)
        click.echo(f"{check.entries} entries before it are intact.", err=True)
        sys.exit(1)
    click.echo(f"{check.entries} entries, chain intact. Head: {check.head}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Write a copy of the database to FILE, sealed with a key derived from DATA_KEY (or SECRET_KEY); the
    app may keep running."""
    from consult.backup import backup
    from consult.backup import backup_key
    from consult.crypto import data_key

    db.session.remove()
    try:
        backup(db.engine.url.render_as_string(hide_password=False), file, backup_key(data_key()))
    except ConsultError as error:
        fail(str(error))
    click.echo(f"Backup written to {file}.")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm that the database's content is replaced.")
@click.option("--old-data-key", help="The DATA_KEY of the time the backup was written (base64).")
@click.option("--old-secret-key", help="The SECRET_KEY of that time (while DATA_KEY was not set).")
def restore_command(file: Path, yes: bool, old_data_key: str | None, old_secret_key: str | None) -> None:
    """Replace the database's content by the backup in FILE; then check the audit chain. A backup
    written under keys since changed opens with the old one given."""
    from consult.audit.services import verify_chain
    from consult.backup import backup_key
    from consult.backup import restore
    from consult.crypto import data_key
    from consult.crypto import key_of

    if not yes:
        fail("restoring replaces everything in the database; add --yes to go on")
    if old_data_key and old_secret_key:
        fail("give one old key: --old-data-key or --old-secret-key")
    try:
        key = key_of(old_data_key, old_secret_key or "") if old_data_key or old_secret_key else data_key()
    except ValueError as error:
        fail(f"--old-data-key: {error}")
    url = db.engine.url.render_as_string(hide_password=False)
    db.session.remove()
    db.engine.dispose()
    try:
        restore(file, url, backup_key(key))
    except ConsultError as error:
        fail(str(error))
    check = verify_chain()
    if not check.ok:
        fail(f"restored, but the audit chain is broken at entry {check.broken_id}")
    click.echo(f"Restored from {file}: {check.entries} audit entries, head {check.head}.")


@click.command("sbom")
def sbom_command() -> None:
    """Print the inventory of the runtime packages (CycloneDX 1.5 JSON) from requirements.lock."""
    from consult.sbom import bom

    click.echo(json.dumps(bom(), indent=2, ensure_ascii=False))


@click.command("grant-app-role")
@click.argument("role")
def grant_app_role_command(role: str) -> None:
    """PostgreSQL: give ROLE, the role the app serves with, exactly what it may do with every table now
    in the schema (run it as the tables' owner, after each `flask db upgrade`): read and write, but only
    append to the audit log, the ballots and the consensus records, and own nothing."""
    from sqlalchemy import inspect
    from sqlalchemy import text

    from consult.grants import grant_statements

    if db.engine.dialect.name != "postgresql":
        fail("only PostgreSQL has roles: SQLite is one file, opened by the app alone")
    if db.session.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is None:
        fail(f"there is no role {role!r}: create it first (CREATE ROLE {role} LOGIN PASSWORD '…')")
    tables = inspect(db.engine).get_table_names()
    try:
        statements = grant_statements(role, tables)
    except ValueError as error:
        fail(str(error))
    for statement in statements:
        db.session.execute(text(statement))
    db.session.commit()
    click.echo(f"{role} may now use the {len(tables)} tables as the app needs; it owns none of them.")


@click.group("keys")
def keys() -> None:
    """The application's keys: make a new set, or see which are set apart from SECRET_KEY."""


#: each key with how it is made: a random secret text, or 32 random bytes in base64 (DATA_KEY)
KEYS = {"SECRET_KEY": "text", "DATA_KEY": "bytes", "CODE_KEY": "text", "VOTE_EXPORT_KEY": "text"}


@keys.command("new")
def keys_new() -> None:
    """Print a new set of keys (256 random bits each) as environment lines, for a new deployment or
    for the one key being replaced; nothing is stored or changed."""
    for name, kind in KEYS.items():
        value = (
            base64.b64encode(secrets.token_bytes(32)).decode()
            if kind == "bytes"
            else secrets.token_urlsafe(32)
        )
        click.echo(f"{name}={value}")


@keys.command("check")
def keys_check() -> None:
    """Which keys are set on their own and which are derived from SECRET_KEY (whose change would then
    change them too), without showing any. Exits 1 when SECRET_KEY itself is unfit to serve with."""
    from consult.safety import weak_secret

    weakness = weak_secret(current_app.config["SECRET_KEY"])
    click.echo(f"SECRET_KEY: {'unfit: ' + weakness if weakness else 'set'}")
    for name in (key for key in KEYS if key != "SECRET_KEY"):
        state = "set on its own" if current_app.config.get(name) else "derived from SECRET_KEY"
        click.echo(f"{name}: {state}")
    if weakness:
        raise SystemExit(1)


@click.command("reencrypt")
@click.option("--old-data-key", help="The DATA_KEY the values were sealed with (base64).")
@click.option(
    "--old-secret-key", help="The SECRET_KEY whose derived key sealed them (while DATA_KEY was not set)."
)
def reencrypt_command(old_data_key: str | None, old_secret_key: str | None) -> None:
    """After DATA_KEY (or, while it is unset, SECRET_KEY) changed: seal the stored phone numbers and
    e-mail addresses again under the current key, and compute the addresses' digests again (under
    CODE_KEY or SECRET_KEY), all or nothing, then the stored photos of paper
    ballots and authorities, each file at once. Running it again changes nothing (or completes a run
    that stopped among the photos). E-mails' unsubscribe links made before stop working; backups keep
    the key they were written under (flask restore --old-data-key)."""
    from consult.audit.services import record
    from consult.crypto import UnreadableValue
    from consult.crypto import key_of
    from consult.crypto import reencrypt
    from consult.crypto import reseal_files
    from consult.notify.services import refresh_address_digests
    from consult.voting.services import stored_photos

    if bool(old_data_key) == bool(old_secret_key):
        fail("give the old key: --old-data-key or --old-secret-key (one of them)")
    try:
        old = key_of(old_data_key, old_secret_key or "")
    except ValueError as error:  # not base64, or not 32 bytes
        fail(f"--old-data-key: {error}")
    try:
        done = reencrypt(old)
    except UnreadableValue as error:
        fail(f"{error} opens with neither the old key nor the current one; nothing was changed")
    digests = refresh_address_digests()
    record("cli", "keys.reencrypted", changed=done.changed, current=done.current, digests=digests)
    db.session.commit()
    click.echo(f"{done.changed} values sealed under the current key; {done.current} were already.")
    try:
        files = reseal_files(stored_photos(), old)
    except UnreadableValue as error:
        fail(f"{error} opens with neither the old key nor the current one; the files before it are done")
    record("cli", "keys.files_resealed", changed=files.changed, current=files.current)
    db.session.commit()
    click.echo(f"{files.changed} photos sealed under the current key; {files.current} were already.")


@click.group("translate")
def translate() -> None:
    """Message catalogues: extract, update, compile."""


def _pybabel(*args: str) -> None:
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), *args], check=True, cwd=ROOT)  # noqa: S603


def extract_args(output: str) -> list[str]:
    """pybabel's arguments to collect every marked string (templates/_macros included) into ``output``."""
    return [
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "--no-location",
        "--sort-output",
        "--ignore-dirs",
        ".* __pycache__ node_modules",
        "-o",
        output,
        ".",
    ]


@translate.command("extract")
def translate_extract() -> None:
    """Collect every marked string into translations/messages.pot."""
    _pybabel(*extract_args("translations/messages.pot"))


@translate.command("update")
def translate_update() -> None:
    """Extract, then merge new strings into every catalogue."""
    translate_extract.callback()  # type: ignore[misc]
    _pybabel(
        "update",
        "-i",
        "translations/messages.pot",
        "-d",
        "translations",
        "--no-fuzzy-matching",
        "--ignore-obsolete",
    )


@translate.command("compile")
def translate_compile() -> None:
    """Compile every catalogue to the .mo files the app reads."""
    _pybabel("compile", "-d", "translations", "--statistics")


def register(app: Flask) -> None:
    from consult.dossier.cli import commands as dossier_commands
    from consult.notify.cli import commands as notify_commands
    from consult.retention.cli import purge_command
    from consult.voting.cli import commands as voting_commands

    for command in (
        seed_demo,
        create_user_command,
        create_compound_command,
        import_roster_command,
        cards_command,
        remind_closing_command,
        audit,
        backup_command,
        restore_command,
        reencrypt_command,
        keys,
        grant_app_role_command,
        sbom_command,
        translate,
        purge_command,
        *notify_commands,
        *voting_commands,
        *dossier_commands,
    ):
        app.cli.add_command(command)
