"""``flask outbox run|status`` (the worker) and ``flask notify test ADDRESS``."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from consult.db import utcnow
from consult.extensions import db
from consult.notify import rules
from consult.notify.emails import render_email
from consult.notify.mailer import DEFAULT_SEND_TIMEOUT
from consult.notify.mailer import Email
from consult.notify.mailer import Mailer
from consult.notify.mailer import MailError
from consult.notify.mailer import get_mailer
from consult.notify.services import default_worker_id
from consult.notify.services import purge
from consult.notify.services import send_pending
from consult.notify.services import setting
from consult.notify.services import status_counts

outbox = AppGroup("outbox", help="The outbox of notices: run the worker that sends them, or count them.")
notify = AppGroup("notify", help="Notices: check that mail goes out.")


def _mailer() -> Mailer:
    try:
        return get_mailer()
    except ValueError as error:  # e.g. MAIL_BACKEND=sendgrid without SENDGRID_API_KEY
        raise click.ClickException(str(error)) from None


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and Ctrl-C finish the message in hand, hand the rest of the batch back, then stop."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@outbox.command("run")
@click.option("--once", is_flag=True, help="Send everything that is due now, then stop (for cron).")
@click.option("--batch", type=click.IntRange(min=1), help="Messages claimed at a time [NOTIFY_BATCH_SIZE].")
@click.option("--poll", type=click.FloatRange(min=0), help="Seconds to sleep when nothing is due.")
@click.option("--lease", type=click.FloatRange(min=0.1), help="Seconds a claim lasts [NOTIFY_LEASE_SECONDS].")
@click.option("--worker-id", help="Name of this worker in the outbox (default host:pid).")
def run_command(
    once: bool, batch: int | None, poll: float | None, lease: float | None, worker_id: str | None
) -> None:
    """Send pending notices through the configured backend, with retries."""
    mailer = _mailer()
    batch = batch or int(setting("NOTIFY_BATCH_SIZE"))
    poll = float(setting("NOTIFY_POLL_SECONDS")) if poll is None else poll
    lease_td = timedelta(seconds=lease or float(setting("NOTIFY_LEASE_SECONDS")))
    worker_id = worker_id or default_worker_id()
    timeout = float(current_app.config.get("SENDGRID_TIMEOUT", DEFAULT_SEND_TIMEOUT))
    if current_app.config.get("MAIL_BACKEND") == "sendgrid" and not rules.lease_is_long_enough(
        lease_td, batch, timeout
    ):
        click.echo(
            f"Warning: a lease of {lease_td.total_seconds():g}s is shorter than {batch} sends of up to"
            f" {timeout:g}s; a slow batch could be taken over and sent twice.",
            err=True,
        )
    click.echo(f"Outbox worker {worker_id} ({current_app.config.get('MAIL_BACKEND')}) started.", err=True)
    stop = threading.Event()
    totals = {"sent": 0, "retrying": 0, "failed": 0}
    with _stop_on_signals(stop):
        while not stop.is_set():
            try:
                report = send_pending(
                    mailer, utcnow(), batch=batch, worker_id=worker_id, lease=lease_td, stop=stop.is_set
                )
            except SQLAlchemyError:
                if once:
                    raise
                current_app.logger.exception("outbox worker: database error; trying again")
                stop.wait(max(poll, 1.0))
                continue
            for key in totals:
                totals[key] += len(getattr(report, key))
            if report.claimed:
                click.echo(
                    f"{time.strftime('%H:%M:%S')} sent {len(report.sent)}, retrying {len(report.retrying)},"
                    f" failed {len(report.failed)}",
                    err=True,
                )
            elif once:
                break
            else:
                stop.wait(poll)
    click.echo(
        f"Outbox worker {worker_id} stopped: sent {totals['sent']}, retrying {totals['retrying']},"
        f" failed {totals['failed']}.",
        err=True,
    )


@outbox.command("purge")
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True)
def purge_command(days: int) -> None:
    """Delete sent and cancelled messages older than DAYS days (failed ones stay until re-sent)."""
    removed = purge(utcnow() - timedelta(days=days))
    db.session.commit()
    click.echo(f"Deleted {removed} messages older than {days} days.")


@outbox.command("status")
def status_command() -> None:
    """Count the messages in the outbox by status."""
    for status, count in status_counts().items():
        click.echo(f"{status.value:<10} {count:>8}")


@notify.command("test")
@click.argument("address")
@click.option("--locale", help="Language of the message (default BABEL_DEFAULT_LOCALE).")
def test_command(address: str, locale: str | None) -> None:
    """Send a test message to ADDRESS through the configured backend, now (not through the outbox)."""
    address = rules.normalise_address(address)
    if not rules.is_plausible_address(address):
        raise click.BadParameter("not an e-mail address", param_hint="ADDRESS")
    languages = current_app.config["LANGUAGES"]
    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    if locale not in languages:
        raise click.BadParameter(f"use one of {', '.join(languages)}", param_hint="--locale")
    rendered = render_email("test", locale, {"unsubscribe_url": None})
    backend = current_app.config.get("MAIL_BACKEND")
    try:
        _mailer().send(Email(to=address, subject=rendered.subject, text=rendered.text, html=rendered.html))
    except MailError as error:
        click.echo(f"Error: the test message to {address} was not sent: {error}", err=True)
        sys.exit(1)
    click.echo(f"Sent a test message to {address} through {backend}.")


commands: list[click.Command] = [outbox, notify]
