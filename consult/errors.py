"""Domain errors and the HTTP error pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from typing import Generic
from typing import NamedTuple
from typing import TypeVar

from flask import Flask
from flask import Response
from flask import flash
from flask import g
from flask import render_template
from flask import request
from flask.globals import request_ctx


class ConsultError(Exception):
    """A rule was broken; the message (``str(error)``, or ``message`` as given: it may be a lazy
    translation) is shown to the person who broke it."""

    @property
    def message(self) -> Any:
        return self.args[0] if self.args else ""


class NotFound(ConsultError):
    """The thing does not exist, or this person may not know that it does."""


T = TypeVar("T")


class Change(NamedTuple, Generic[T]):
    """Whether a change was made, and what it gave back (None when it was refused)."""

    made: bool
    result: T | None


def commit_or_refuse(
    change: Callable[[], T], done: str | None, refused: type[Exception] = ConsultError
) -> Change[T]:
    """A view's change: made, committed and ``done`` said; or, where a rule refuses it (``refused``),
    rolled back, with the refusal said instead, and nothing written."""
    from consult.extensions import db

    try:
        result = change()
    except refused as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return Change(False, None)
    db.session.commit()
    if done is not None:
        flash(done, "success")
    return Change(True, result)


def _can_build_urls() -> bool:
    return request_ctx.url_adapter is not None


def _who() -> str:
    """Who was refused, as the audit log names people: a staff account, a card, or nobody."""
    from flask import session
    from flask_login import current_user

    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    resident = session.get("resident")
    if isinstance(resident, dict) and isinstance(resident.get("id"), int):
        return f"resident:{resident['id']}"
    return "anonymous"


def log_refusal(app: Flask, code: int) -> None:
    """A refused request (403, 404, or 429: past a rate limit) at WARNING: the method, the path with any
    token redacted, and who. The query string is left out (it may carry personal data); so are cookies
    and forms."""
    from consult.logs import redact

    app.logger.warning("refused %s %s %s (%s)", code, request.method, redact(request.path), _who())


def register(app: Flask) -> None:
    def page(code: int) -> Any:
        def handler(error: Exception) -> Any:
            if code in (403, 404, 429):
                log_refusal(app, code)
            g.error_page = True  # the page's own address is not repeated in it (it may hold a token)
            if request.path.startswith("/api/"):  # the open data API answers in JSON, even unrouted
                body = {"error": {"status": code, "message": HTTPStatus(code).phrase}}
                return Response(json.dumps(body), code, mimetype="application/json")
            if request.url_rule is None and not _can_build_urls():
                # e.g. an untrusted Host: no page can be built for it, so answer in plain words
                return Response(f"{code} {HTTPStatus(code).phrase}\n", code, mimetype="text/plain")
            return render_template(f"errors/{code}.html"), code

        return handler

    for code in (400, 403, 404, 413, 429, 500):
        app.register_error_handler(code, page(code))
