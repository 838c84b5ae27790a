"""Workers' pages of the round engine: the timeline, moving rounds on, participation, door-to-door lists."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

bp = Blueprint("rounds", __name__)
