"""Domain errors and the HTTP error pages."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from flask import Flask
from flask import Response
from flask import render_template
from flask import request
from flask.globals import request_ctx


class ConsultError(Exception):
    """A rule was broken; the message is shown to the person who broke it."""


class NotFound(ConsultError):
    """The thing does not exist, or this person may not know that it does."""


def _can_build_urls() -> bool:
    return request_ctx.url_adapter is not None


def register(app: Flask) -> None:
    def page(code: int) -> Any:
        def handler(error: Exception) -> Any:
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
