"""Domain errors and the HTTP error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import render_template


class ConsultError(Exception):
    """A rule was broken; the message is shown to the person who broke it."""


class NotFound(ConsultError):
    """The thing does not exist, or this person may not know that it does."""


def register(app: Flask) -> None:
    def page(code: int) -> Any:
        def handler(error: Exception) -> Any:
            return render_template(f"errors/{code}.html"), code

        return handler

    for code in (400, 403, 404, 413, 429, 500):
        app.register_error_handler(code, page(code))
