"""Configuration, read from environment variables.

SECRET_KEY          signs sessions and CSRF tokens; must be set in production
DATABASE_URL        SQLAlchemy URL; default an SQLite file in ``instance/``
                    (``postgresql://...`` is rewritten to use psycopg 3)
BASE_URL            the public address used in links and QR codes (e.g. https://tongxin.example.gov.cn);
                    when it is https://, the session cookie is Secure and named __Host-session
MAIL_BACKEND        console | sendgrid | memory
SENDGRID_API_KEY    key for the SendGrid backend
SENDGRID_HOST       SendGrid API address (default https://api.sendgrid.com; tests point it at a local server)
MAIL_FROM           sender address of notices
LANGUAGES           comma-separated locales offered (default "zh_CN,en")
BABEL_DEFAULT_LOCALE  locale when nothing else decides (default zh_CN)
MAX_CONTENT_LENGTH  largest accepted request body in bytes (default 16 MiB)
RATELIMIT_STORAGE_URI  where attempt counters live: memory:// (default, one process) or redis://host:6379
SYSLOG_ADDRESS      send the app's logs (every committed audit entry among them) and the request lines to
                    syslog: /dev/log (the machine's daemon, which may forward them over TLS) or host:port
                    (UDP; only a loopback host unless ALLOW_PLAINTEXT_BACKENDS=1); default: not sent
ALLOW_PLAINTEXT_BACKENDS  1: serve even though the database, the counters or SendGrid are reached over
                    a network without verified TLS (wsgi.py refuses that by default)
RESIDENT_CODE_LIMIT    wrong-code attempts allowed per client (default "10 per 15 minutes")
RESIDENT_COMPOUND_LIMIT  wrong-code attempts allowed per compound's code page (default "60 per hour")
STAFF_IDLE_MINUTES, STAFF_SESSION_HOURS  a staff session ends after this long unused (30) or in all (12)
TWO_STEP_ROLES      comma-separated staff roles that must use two-step sign-in, e.g. "admin,worker", or
                    "none": a person of such a role without it is sent to turn it on before anything
                    else (default: every staff role when wsgi.py serves the app; none in development)
PUBLIC_LIMIT        requests per client to the public notice pages, all together (default "300 per minute")
POSTER_LIMIT        poster PDFs per client (default "20 per minute"), on top of PUBLIC_LIMIT
API_LIMIT           requests per client to the open-data API (default "120 per minute")
LOGIN_LIMIT         wrong passwords allowed per client at the staff sign-in (default "10 per 15 minutes")
RESET_LIMIT         requests for a new-password link per client (default "5 per hour")
RESET_LINK_MINUTES  a new-password link works this long after it was sent (default 60), and once
FIRST_PASSWORD_DAYS  a first password an administrator gave stops working this many days after (default 7)
RESIDENT_SESSION_HOURS how long a resident stays signed in after scanning a card (default 12)
RESIDENT_IDLE_MINUTES  a resident's session ends after this long without a request (default 30)
RESIDENT_PAGE_CACHE    resident home pages each worker process keeps as rendered (default 2000; 0: none)
RESIDENT_PAGE_SECONDS  longest a kept page is served again (default 300)
DATA_KEY            key (32 bytes, base64) that encrypts phone numbers and e-mails at rest (default:
                    derived from SECRET_KEY; changing it makes stored contact details unreadable)
CODE_KEY            key of the invitation codes' hashes (default: derived from SECRET_KEY; changing it
                    invalidates every printed card)
PROXY_FIX_HOPS      number of reverse proxies in front (their X-Forwarded-For is trusted); default 0
STUCK_AFTER_DAYS    the district dashboard flags a compound this long in one stage (default 30)
UPLOAD_FOLDER       where scheme documents and ballot photos are kept (default instance/uploads)
UPLOAD_MAX_BYTES, UPLOAD_MAX_PIXELS  largest accepted document (10 MiB) and picture (40 million pixels)
TRUSTED_HOSTS       comma-separated host names the app answers to (default: any; set it in production)
CJK_FONT_PATH       a CJK font for PDFs (default: the bundled WenQuanYi Micro Hei)
BABEL_DEFAULT_TIMEZONE  time zone of dates shown and e-mailed (default Asia/Shanghai)
NOTIFY_MAX_ATTEMPTS     tries before a notice is marked failed (default 8)
NOTIFY_BACKOFF_BASE_SECONDS, NOTIFY_BACKOFF_CAP_SECONDS  retry delays: base × 2^n, at most the cap (30, 3600)
NOTIFY_LEASE_SECONDS    a claimed notice whose sender died is taken over after this (default 300)
NOTIFY_BATCH_SIZE, NOTIFY_POLL_SECONDS  the outbox worker's batch and idle wait (20, 5)
SENDGRID_TIMEOUT        seconds to wait for SendGrid (default 10)
UNSUBSCRIBE_LINK_DAYS   an e-mail's unsubscribe link works this many days after it was made (default 90)
RETENTION_DAYS          days after a compound's consultation ended before ``flask purge`` removes its
                        residents' personal data (default 1095, three years)
PROXY_LIMIT         how many other owners one proxy may act for in a round, unless the compound sets
                    another number (default 1)
VOTE_EXPORT_KEY     the key of the owners' pseudonyms in ``flask export-ballots`` (default: derived from
                    SECRET_KEY)
"""

import os
from datetime import timedelta


def database_url(raw: str | None) -> str:
    """Normalise a database URL: PostgreSQL goes through psycopg 3."""
    url = raw or "sqlite:///consult.sqlite"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    SENDGRID_API_KEY = os.environ.get("SENDGRID_API_KEY", "")
    SENDGRID_HOST = os.environ.get("SENDGRID_HOST", "https://api.sendgrid.com")
    MAIL_FROM = os.environ.get("MAIL_FROM", "noreply@tongxin.local")
    LANGUAGES = os.environ.get("LANGUAGES", "zh_CN,en").split(",")
    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "zh_CN")
    BABEL_TRANSLATION_DIRECTORIES = "../translations"
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024)))
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    ALLOW_PLAINTEXT_BACKENDS = os.environ.get("ALLOW_PLAINTEXT_BACKENDS", "") == "1"
    SYSLOG_ADDRESS = os.environ.get("SYSLOG_ADDRESS", "")
    RATELIMIT_HEADERS_ENABLED = True
    RESIDENT_CODE_LIMIT = os.environ.get("RESIDENT_CODE_LIMIT", "10 per 15 minutes")
    RESIDENT_COMPOUND_LIMIT = os.environ.get("RESIDENT_COMPOUND_LIMIT", "60 per hour")
    RESIDENT_SESSION_HOURS = int(os.environ.get("RESIDENT_SESSION_HOURS", "12"))
    RESIDENT_IDLE_MINUTES = int(os.environ.get("RESIDENT_IDLE_MINUTES", "30"))
    RESIDENT_PAGE_CACHE = int(os.environ.get("RESIDENT_PAGE_CACHE", "2000"))
    RESIDENT_PAGE_SECONDS = int(os.environ.get("RESIDENT_PAGE_SECONDS", "300"))
    CODE_KEY = os.environ.get("CODE_KEY", "")
    VOTE_EXPORT_KEY = os.environ.get("VOTE_EXPORT_KEY", "")
    PROXY_LIMIT = int(os.environ.get("PROXY_LIMIT", "1"))
    DATA_KEY = os.environ.get("DATA_KEY", "")
    PROXY_FIX_HOPS = int(os.environ.get("PROXY_FIX_HOPS", "0"))
    CJK_FONT_PATH = os.environ.get("CJK_FONT_PATH", "")
    STUCK_AFTER_DAYS = int(os.environ.get("STUCK_AFTER_DAYS", "30"))
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", "instance/uploads")
    UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
    UPLOAD_MAX_PIXELS = int(os.environ.get("UPLOAD_MAX_PIXELS", str(40_000_000)))
    TRUSTED_HOSTS = [h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()] or None
    BABEL_DEFAULT_TIMEZONE = os.environ.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "8"))
    NOTIFY_BACKOFF_BASE_SECONDS = int(os.environ.get("NOTIFY_BACKOFF_BASE_SECONDS", "30"))
    NOTIFY_BACKOFF_CAP_SECONDS = int(os.environ.get("NOTIFY_BACKOFF_CAP_SECONDS", "3600"))
    NOTIFY_LEASE_SECONDS = int(os.environ.get("NOTIFY_LEASE_SECONDS", "300"))
    NOTIFY_BATCH_SIZE = int(os.environ.get("NOTIFY_BATCH_SIZE", "20"))
    NOTIFY_POLL_SECONDS = float(os.environ.get("NOTIFY_POLL_SECONDS", "5"))
    SENDGRID_TIMEOUT = float(os.environ.get("SENDGRID_TIMEOUT", "10"))
    UNSUBSCRIBE_LINK_DAYS = int(os.environ.get("UNSUBSCRIBE_LINK_DAYS", "90"))
    RETENTION_DAYS = int(os.environ.get("RETENTION_DAYS", "1095"))
    STAFF_IDLE_MINUTES = int(os.environ.get("STAFF_IDLE_MINUTES", "30"))
    STAFF_SESSION_HOURS = int(os.environ.get("STAFF_SESSION_HOURS", "12"))
    TWO_STEP_ROLES = tuple(
        r.strip() for r in os.environ.get("TWO_STEP_ROLES", "").split(",") if r.strip() not in ("", "none")
    )
    PUBLIC_LIMIT = os.environ.get("PUBLIC_LIMIT", "300 per minute")
    POSTER_LIMIT = os.environ.get("POSTER_LIMIT", "20 per minute")
    API_LIMIT = os.environ.get("API_LIMIT", "120 per minute")
    LOGIN_LIMIT = os.environ.get("LOGIN_LIMIT", "10 per 15 minutes")
    RESET_LIMIT = os.environ.get("RESET_LIMIT", "5 per hour")
    RESET_LINK_MINUTES = int(os.environ.get("RESET_LINK_MINUTES", "60"))
    FIRST_PASSWORD_DAYS = int(os.environ.get("FIRST_PASSWORD_DAYS", "7"))
    SESSION_COOKIE_HTTPONLY = True
    #: the cookie is written when the session changes (a resident's last request is noted once a minute),
    #: not again with every page; it lasts as long as a resident's session may
    SESSION_REFRESH_EACH_REQUEST = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=int(os.environ.get("RESIDENT_SESSION_HOURS", "12")))
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
