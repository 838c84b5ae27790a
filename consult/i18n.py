"""Languages: which locale a request is served in, and the language switch."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import current_app
from flask import g
from flask import has_request_context
from flask import redirect
from flask import request
from flask import session
from flask_login import current_user

from consult.safety import local_target

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}

bp = Blueprint("i18n", __name__)


#: what a visitor chose about the display; kept when a sign-in starts a fresh session
PREFERENCES = ("lang", "large_type")


def fresh_session() -> None:
    """Drop everything the session held (a new session at every sign-in), but the display preferences."""
    kept = {key: session[key] for key in PREFERENCES if key in session}
    session.clear()
    session.update(kept)


def select_locale() -> str:
    """The user's own choice, then the session's, then the browser's, then the default (zh_CN).

    Babel expands ``zh_CN`` to ``zh_Hans_CN``, which is why the Chinese catalogue lives in
    ``translations/zh_Hans_CN``."""
    if not has_request_context():  # the command line and background work
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    user_locale = getattr(current_user, "locale", None) if current_user else None
    for choice in (user_locale, session.get("lang")):
        if choice in languages:
            return choice
    best = request.accept_languages.best_match(languages)
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    """The BCP 47 tag for ``<html lang>``: zh_CN → zh-CN."""
    return locale.replace("_", "-")


#: pages whose own address holds a secret: a switch of language from there goes back to the start
SECRET_PATHS = {"residents.enter_link", "notify.unsubscribe"}


def current_place() -> str:
    """Where the language and large-type switches come back to: this page, unless its address holds a
    token (a card's link, an unsubscribe link) or the page is an error, which goes back to the start."""
    if not has_request_context():
        return "/"
    if g.get("error_page") or request.endpoint in SECRET_PATHS:
        return "/"
    return request.full_path if request.query_string else request.path


def inject_locale() -> dict[str, Any]:
    locale = select_locale()
    return {
        "here": current_place(),
        "large_type": bool(session.get("large_type")),
        "current_locale": locale,
        "html_lang": html_lang(locale),
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]],
    }


@bp.post("/display/large-type")
def toggle_large_type() -> Any:
    """Large type on or off, remembered for the session; works without JavaScript."""
    session["large_type"] = not session.get("large_type")
    return redirect(local_target(request.form.get("next"), default="/"))


@bp.post("/lang/<code>")
def switch(code: str) -> Any:
    """Remember a language for this session (and on a signed-in user's account)."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            from consult.extensions import db

            current_user.locale = code
            db.session.commit()
    return redirect(local_target(request.form.get("next"), default="/"))
