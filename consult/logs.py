"""Logging that never writes a resident's card token, an e-mail's unsubscribe token, a new-password
link's token, or what is sent to SendGrid; and, with SYSLOG_ADDRESS, the app's and the request logs
sent to the machine's syslog (or a collector), where they are kept apart from the app (G8)."""

from __future__ import annotations

import logging
import re
from logging.handlers import SysLogHandler
from typing import Any

#: the secret part of a card's link, /r/<token>, of an unsubscribe link (it names an e-mail address) and
#: of a new-password link
_TOKEN_IN_PATH = re.compile(r"(/r/|/notify/unsubscribe/|/auth/reset/)[A-Za-z0-9_.\-]+")


def redact(text: str) -> str:
    return _TOKEN_IN_PATH.sub(r"\1[redacted]", text)


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    """Rewrites log records (message and arguments) so that no card token reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _clean(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_clean(value) for value in record.args)
        return True


#: the loggers that write request lines: Flask's development server and gunicorn
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


#: SendGrid's HTTP client logs each request's headers (the API key) and body (the address and the text)
#: at DEBUG: never written, whatever the level of the loggers above it
QUIET_LOGGERS = ("python_http_client",)


def install_redaction() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


#: what is sent to syslog: the app's loggers (the audit log's committed entries among them) and the
#: request lines
SHIPPED_LOGGERS = ("consult", *REQUEST_LOGGERS)
_shipping: dict[str, logging.Handler] = {}


def syslog_address(address: str) -> str | tuple[str, int]:
    """A Unix socket's path (``/dev/log``: the machine's syslog daemon, which may forward over TLS), or
    ``host:port`` (UDP); ValueError for anything else."""
    if address.startswith("/"):
        return address
    host, _colon, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"SYSLOG_ADDRESS must be a socket path or host:port, not {address!r}")
    return host.strip("[]"), int(port)


def ship_to_syslog(address: str) -> logging.Handler:
    """Send the app's logs from INFO up, and the request lines, to syslog at ``address``, redacted as
    everywhere; once per process whatever the number of apps made."""
    if address in _shipping:
        return _shipping[address]
    handler = SysLogHandler(address=syslog_address(address), facility=SysLogHandler.LOG_LOCAL0)
    handler.setFormatter(logging.Formatter("tongxin[%(process)d]: %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    handler.setLevel(logging.INFO)
    app_logger = logging.getLogger("consult")
    if app_logger.getEffectiveLevel() > logging.INFO:
        app_logger.setLevel(logging.INFO)
    for name in SHIPPED_LOGGERS:
        logging.getLogger(name).addHandler(handler)
    _shipping[address] = handler
    return handler
