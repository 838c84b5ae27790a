"""Small guards shared by every area."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url


def local_target(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


#: host names that do not leave the machine
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
#: PostgreSQL's sslmodes that check the server's certificate
VERIFIED_SSLMODES = frozenset({"verify-ca", "verify-full"})


def plaintext_backends(config: Mapping[str, Any]) -> list[str]:
    """The back-end services this configuration reaches over a network without TLS that checks the
    server's certificate: the database, the rate-limit counters, SendGrid and syslog, each named with its host
    (never its password). Loopback hosts and Unix sockets do not count."""
    found = []
    database = make_url(config["SQLALCHEMY_DATABASE_URI"])
    host = database.query.get("host") or database.host  # libpq takes ?host= (a socket folder) first
    if (
        database.get_backend_name() == "postgresql"
        and not _local(str(host) if host else None)
        and database.query.get("sslmode") not in VERIFIED_SSLMODES
    ):
        found.append(f"the database at {host} (add sslmode=verify-full to DATABASE_URL)")
    counters = urlsplit(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if (
        counters.scheme != "memory"
        and not _local(counters.hostname)
        and (counters.scheme != "rediss" or "ssl_cert_reqs=none" in counters.query.lower())
    ):
        found.append(f"the rate-limit counters at {counters.hostname} (use rediss://)")
    if config.get("MAIL_BACKEND") == "sendgrid":
        sendgrid = urlsplit(config.get("SENDGRID_HOST") or "")
        if sendgrid.scheme != "https" and not _local(sendgrid.hostname):
            found.append(f"SendGrid at {sendgrid.hostname} (use https://)")
    if config.get("SYSLOG_ADDRESS") and not config["SYSLOG_ADDRESS"].startswith("/"):
        host = config["SYSLOG_ADDRESS"].rpartition(":")[0].strip("[]")
        if not _local(host):
            found.append(f"syslog at {host} (send to /dev/log and let the daemon forward over TLS)")
    return found


def _local(host: str | None) -> bool:
    """No host (a Unix socket, or the driver's default one), a socket path, or a loopback name."""
    return not host or host.startswith("/") or host in LOOPBACK


#: the guesses (log10) below which a secret key is refused: about 40 bits
MIN_SECRET_GUESSES_LOG10 = 12


def weak_secret(secret: str) -> str | None:
    """Why ``secret`` (SECRET_KEY) is not fit to serve with, or None. Every key the app derives from it
    (card codes, contact details, backups, sessions) is only as strong as it is."""
    if secret in ("", "dev") or len(secret) < 16:
        return "it is the development value, or shorter than 16 characters"
    from zxcvbn import zxcvbn

    if zxcvbn(secret[:100])["guesses_log10"] < MIN_SECRET_GUESSES_LOG10:
        return "it is easy to guess (a repeated word, a sequence or a common phrase)"
    return None
