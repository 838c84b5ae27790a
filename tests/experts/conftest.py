"""Expert panel fixtures: a compound's scheme round with two schemes, a district reviewer, five experts."""

from __future__ import annotations

from typing import Any

import pytest

from consult.auth.models import Role
from consult.auth.models import User
from consult.db import utcnow
from consult.extensions import db
from consult.rounds.rules import RoundKind
from consult.rounds.services import plan_default_rounds
from consult.schemes.services import add_scheme


@pytest.fixture(autouse=True)
def upload_folder(app, tmp_path):
    folder = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(folder)
    return folder


@pytest.fixture
def scheme_round(compound: Any):
    rounds = plan_default_rounds(compound, utcnow(), "test")
    round_ = next(r for r in rounds if r.kind is RoundKind.SCHEME)
    add_scheme(round_, "Lift on the north side", "test")
    add_scheme(round_, "Lift on the south side", "test")
    db.session.commit()
    return round_


@pytest.fixture
def reviewer(create_user) -> User:
    return create_user("reviewer@example.test", Role.REVIEWER, None, name="王审")


@pytest.fixture
def experts(create_user) -> list[User]:
    return [create_user(f"expert{i}@example.test", Role.EXPERT, None, name=f"专家{i}") for i in range(1, 6)]
