"""Fixtures of the vote: a compound with owners of one and of several dwellings, a tenant, the developer's
unsold units and a dwelling without a known owner; its three rounds, the vote (round 3) ready to open."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from consult.auth.models import Role
from consult.compounds.models import Owner
from consult.compounds.models import OwnerKind
from consult.extensions import db
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.models import Round
from consult.rounds.rules import Action
from consult.rounds.rules import RoundState
from consult.rounds.services import apply
from consult.rounds.services import plan_default_rounds
from consult.voting.services import register_with_engine

ROSTER = (
    "楼栋,单元,房号,建筑面积,业主姓名,联系电话,邮箱,身份,业主编号\n"
    "1,1,101,80.50,张伟,13812341234,zhang@example.test,业主,A1\n"
    "1,1,102,66.00,张伟,13812341234,zhang@example.test,业主,A1\n"
    "1,1,102,,王芳,13900001111,,租户,\n"
    "1,2,201,90.25,李娜,,,业主,\n"
    "1,2,202,70.00,陈秀英,,,业主,\n"
    "2,1,101,75.00,,,,开发商,\n"
    "2,1,102,75.00,,,,开发商,\n"
    "2,1,201,60.00,周建国,,,业主,\n"
    "2,1,202,55.55,,,,业主,\n"
)


def jpeg_with_exif(colour: str = "white") -> bytes:
    """A small JPEG photo that carries EXIF (a camera make and a GPS block), as a phone's would."""
    image = Image.new("RGB", (64, 48), colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 40.0, 0.0)}  # GPSInfo
    out = BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _engine_hooks(app):
    register_with_engine()


@pytest.fixture
def uploads(app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


@pytest.fixture
def roster(compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    return compound


@pytest.fixture
def owners(roster) -> dict[str, Owner]:
    found = db.session.scalars(select(Owner).where(Owner.compound_id == roster.id)).all()
    return {("开发商" if o.kind is OwnerKind.DEVELOPER else o.name): o for o in found}


@pytest.fixture
def vote(roster, uploads) -> Round:
    """Round 3 of the compound, in draft, open from yesterday for two weeks; rounds 1 and 2 done."""
    now = datetime.now(UTC)
    rounds = plan_default_rounds(roster, now - timedelta(days=90), "test")
    for earlier in rounds[:2]:
        earlier.state = RoundState.DONE
    third = rounds[2]
    third.opens_at = now - timedelta(days=1)
    third.closes_at = now + timedelta(days=14)
    db.session.commit()
    return third


def open_round(round_: Round) -> None:
    apply(round_, Action.OPEN, "test", round_.opens_at + timedelta(hours=1))
    db.session.commit()


def close_round(round_: Round) -> None:
    apply(round_, Action.CLOSE, "test", round_.closes_at)
    db.session.commit()


def publish_round(round_: Round) -> None:
    apply(round_, Action.PUBLISH, "test", round_.closes_at + timedelta(days=1))
    db.session.commit()


@pytest.fixture
def cards(roster) -> dict[str, Any]:
    issued = issue_cards(card_people(roster), roster, "test", datetime.now(UTC))
    db.session.commit()
    return {
        ("开发商" if c.person.owner and c.person.owner.kind is OwnerKind.DEVELOPER else c.person.name): c
        for c in issued
    }


@pytest.fixture
def resident(client, cards):
    """Sign a resident in by their card (privacy notice acknowledged), in the language asked."""

    def _sign_in(name: str, lang: str | None = None) -> Any:
        client.get(f"/r/{cards[name].token}")
        client.post("/me/privacy")
        if lang:
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        return cards[name].invitation

    return _sign_in


@pytest.fixture
def workers(create_user, street):
    return {
        "a": create_user("a@example.test", Role.WORKER, street, name="甲"),
        "b": create_user("b@example.test", Role.WORKER, street, name="乙"),
        "c": create_user("c@example.test", Role.WORKER, street, name="丙"),
        "admin": create_user("admin@example.test", Role.ADMIN, None, name="主管"),
        "reviewer": create_user("reviewer@example.test", Role.REVIEWER, None, name="区审"),
    }
