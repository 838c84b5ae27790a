"""Configuration, read from environment variables.

SECRET_KEY          signs sessions and CSRF tokens; must be set in production
DATABASE_URL        SQLAlchemy URL; default an SQLite file in ``instance/``
                    (``postgresql://...`` is rewritten to use psycopg 3)
BASE_URL            the public address used in links and QR codes (e.g. https://tongxin.example.gov.cn)
MAIL_BACKEND        console | sendgrid | memory
SENDGRID_API_KEY    key for the SendGrid backend
SENDGRID_HOST       SendGrid API address (default https://api.sendgrid.com; tests point it at a local server)
MAIL_FROM           sender address of notices
LANGUAGES           comma-separated locales offered (default "zh_CN,en")
BABEL_DEFAULT_LOCALE  locale when nothing else decides (default zh_CN)
MAX_CONTENT_LENGTH  largest accepted request body in bytes (default 16 MiB)
"""

import os


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
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
