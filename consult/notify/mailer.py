"""Mail backends: SendGrid (production), console (development), memory (tests).

``MAIL_BACKEND`` picks one; ``get_mailer(app)`` builds it once and keeps it in
``app.extensions["consult_mailer"]``.
"""

from __future__ import annotations

import http.client
import sys
import threading
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from typing import Protocol
from typing import TextIO

from flask import Flask
from flask import current_app
from python_http_client import Client
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg
from sendgrid.helpers.mail import Header
from sendgrid.helpers.mail import Mail

from consult.notify.rules import is_retryable
from consult.notify.rules import parse_retry_after

EXTENSION_KEY = "consult_mailer"
DEFAULT_SEND_TIMEOUT = 10.0


@dataclass(frozen=True)
class Email:
    """One message to one address, ready to send."""

    to: str
    subject: str
    text: str
    html: str | None = None
    #: the outbox row it comes from, sent along (SendGrid custom arg ``outbox_id``) to trace duplicates
    outbox_id: int | None = None
    #: for non-essential notices: sent as the List-Unsubscribe header
    unsubscribe_url: str | None = None


class MailError(Exception):
    """The message was not accepted. ``retryable`` says whether trying again may help."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = True,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class Mailer(Protocol):
    def send(self, email: Email) -> None: ...


class _Unfollowed(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError: an answer like any other


class _UnredirectedClient(Client):
    """SendGrid's HTTP client, whose redirects are answers, never followed: urllib would follow a 301,
    302 or 303 to any host with the API key among the headers (V15.3.2). The client makes a child for
    each segment of the path (``client.mail.send``), each of this class too."""

    _opener = urllib.request.build_opener(_Unfollowed)

    def _build_client(self, name: str | None = None) -> Client:
        child = super()._build_client(name)
        child.__class__ = _UnredirectedClient
        return child

    def _make_request(self, opener: Any, request: Any, timeout: float | None = None) -> Any:
        return super()._make_request(self._opener, request, timeout=timeout)


class SendGridMailer:
    """Sends through SendGrid's v3 API with its official client; ``host`` may point elsewhere (tests)."""

    def __init__(
        self,
        api_key: str,
        sender: str,
        host: str = "https://api.sendgrid.com",
        timeout: float = DEFAULT_SEND_TIMEOUT,
    ) -> None:
        if not api_key:
            raise ValueError("SENDGRID_API_KEY is not set")
        self.api_key = api_key
        self.sender = sender
        self.host = host.rstrip("/")
        self.timeout = timeout

    def message(self, email: Email) -> Mail:
        mail = Mail(
            from_email=self.sender,
            to_emails=email.to,
            subject=email.subject,
            plain_text_content=email.text,
            html_content=email.html,
        )
        if email.outbox_id is not None:
            mail.custom_arg = CustomArg("outbox_id", str(email.outbox_id))
        if email.unsubscribe_url:
            mail.header = Header("List-Unsubscribe", f"<{email.unsubscribe_url}>")
        return mail

    def send(self, email: Email) -> None:
        # A client per message: the client keeps per-request state and workers may share this mailer.
        client = SendGridAPIClient(self.api_key, host=self.host)
        client.client.__class__ = _UnredirectedClient
        client.client.timeout = self.timeout
        try:
            response = client.send(self.message(email))
        except HTTPError as error:
            status = int(error.status_code)
            body = error.body.decode("utf-8", "replace") if isinstance(error.body, bytes) else str(error.body)
            headers = error.headers
            wait = parse_retry_after(headers.get("Retry-After") if headers is not None else None)
            raise MailError(
                f"SendGrid answered {status}: {body[:300]}",
                status=status,
                retryable=is_retryable(status),
                retry_after=wait,
            ) from None
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out, garbled
            raise MailError(f"SendGrid unreachable: {error!r}"[:400]) from None
        if not 200 <= response.status_code < 300:
            raise MailError(f"SendGrid answered {response.status_code}", status=response.status_code)


class ConsoleMailer:
    """Development: prints each message instead of sending it."""

    def __init__(self, sender: str, stream: TextIO | None = None) -> None:
        self.sender = sender
        self.stream = stream

    def send(self, email: Email) -> None:
        stream = self.stream or sys.stdout
        lines = [
            "-" * 72,
            f"From: {self.sender}",
            f"To: {email.to}",
            f"Subject: {email.subject}",
        ]
        if email.outbox_id is not None:
            lines.append(f"X-Outbox-Id: {email.outbox_id}")
        if email.unsubscribe_url:
            lines.append(f"List-Unsubscribe: <{email.unsubscribe_url}>")
        lines += ["", email.text, "-" * 72]
        stream.write("\n".join(lines) + "\n")
        stream.flush()


class MemoryMailer:
    """Tests: keeps every message in ``outbox``."""

    def __init__(self) -> None:
        self.outbox: list[Email] = []
        self._lock = threading.Lock()

    def send(self, email: Email) -> None:
        with self._lock:
            self.outbox.append(email)


def build_mailer(config: Any) -> Mailer:
    """The backend ``MAIL_BACKEND`` names, configured from ``config``."""
    backend = config.get("MAIL_BACKEND", "console")
    sender = config.get("MAIL_FROM", "noreply@tongxin.local")
    if backend == "sendgrid":
        return SendGridMailer(
            config.get("SENDGRID_API_KEY", ""),
            sender,
            host=config.get("SENDGRID_HOST") or "https://api.sendgrid.com",
            timeout=float(config.get("SENDGRID_TIMEOUT", DEFAULT_SEND_TIMEOUT)),
        )
    if backend == "console":
        return ConsoleMailer(sender)
    if backend == "memory":
        return MemoryMailer()
    raise ValueError(f"unknown MAIL_BACKEND {backend!r}: use sendgrid, console or memory")


def get_mailer(app: Flask | None = None) -> Mailer:
    """The app's mailer, built on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    mailer = app.extensions.get(EXTENSION_KEY)
    if mailer is None:
        mailer = app.extensions.setdefault(EXTENSION_KEY, build_mailer(app.config))
    return mailer
