"""Rendering a notice in its recipient's language, and the links it carries.

Each notice is one template, ``templates/email/<name>.html``, that extends ``email/_base.html`` and fills
the blocks ``subject``, ``text`` and ``html``. The base turns them into the macros ``subject()``, ``text()``
and ``html()``, which ``render_email`` calls on the template's module (indico's ``get_template_module``).
The template is HTML, so everything put into it is escaped; the subject and the text are unescaped again.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from flask import Flask
from flask import current_app
from flask_babel import force_locale
from flask_babel import format_date
from flask_babel import format_time
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

from consult import signing
from consult.crypto import decrypt
from consult.crypto import encrypt

UNSUBSCRIBE_SALT = "consult.notify.unsubscribe"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def html_lang(locale: str) -> str:
    return locale.replace("_", "-")


def when(value: datetime) -> str:
    """A date and time in the current locale and time zone: "March 3, 2025 9:00 AM", "2025年3月3日 09:00"."""
    return f"{format_date(value, 'long')} {format_time(value, 'short')}"


def _plain(rendered: str) -> str:
    """Undo the template's HTML escaping: plain text and subjects carry the characters themselves."""
    return html.unescape(str(rendered))


def _tidy_text(text: str) -> str:
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def render_email(
    name: str, locale: str, context: Mapping[str, Any], app: Flask | None = None
) -> RenderedEmail:
    """Render ``email/<name>.html`` in ``locale`` with ``context`` (and no request state)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with force_locale(locale):
        variables = {**context, "locale": locale, "html_lang": html_lang(locale), "when": when}
        module = app.jinja_env.get_template(f"email/{name}.html").make_module(variables)
        subject = " ".join(_plain(module.subject()).split())
        text = _tidy_text(_plain(module.text()))
        body = str(module.html()).strip() + "\n"
    return RenderedEmail(subject=subject, text=text, html=body)


def absolute_url(path: str, app: Flask | None = None) -> str:
    """A link for a message: the configured BASE_URL and a path on this site (never the request's host)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return app.config["BASE_URL"].rstrip("/") + path


def site_path(endpoint: str, app: Flask | None = None, **values: Any) -> str:
    """The path of ``endpoint``, built without a request (for a notice's ``path``)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return app.url_map.bind("localhost").build(endpoint, values)


def _serializer(app: Flask) -> URLSafeTimedSerializer:
    return signing.serializer(app.config["SECRET_KEY"], UNSUBSCRIBE_SALT)


def unsubscribe_token(address: str, locale: str, app: Flask | None = None) -> str:
    """A signed token holding the (normalised) address, encrypted so that whoever sees the link cannot
    read it, and the language of its messages."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return _serializer(app).dumps([encrypt(address, app), locale])


def read_unsubscribe_token(token: str, app: Flask | None = None) -> tuple[str, str] | None:
    """(address, locale) from a token this site signed less than ``UNSUBSCRIBE_LINK_DAYS`` ago, or None.
    A link signed before addresses were encrypted in it still reads (until it expires)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        data = _serializer(app).loads(token, max_age=app.config["UNSUBSCRIBE_LINK_DAYS"] * 86400)
    except BadSignature:  # a forged, altered or expired link (SignatureExpired is a BadSignature)
        return None
    if not (isinstance(data, list) and len(data) == 2 and all(isinstance(x, str) for x in data)):
        return None
    try:
        address = decrypt(data[0], app)
    except (InvalidTag, ValueError):  # sealed with a key this site no longer has
        return None
    return address, data[1]


def unsubscribe_url(address: str, locale: str, app: Flask | None = None) -> str:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    path = site_path("notify.unsubscribe", app, token=unsubscribe_token(address, locale, app))
    return absolute_url(path, app)
