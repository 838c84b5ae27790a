"""Compounds with a roster and rounds in chosen states, for the district's and the API's tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import StairUnit
from consult.compounds.models import Street
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_cluster
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.models import Round
from consult.rounds.models import RoundEvent
from consult.rounds.rules import DEFAULT_ROUNDS
from consult.rounds.rules import RoundState

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)

HEADER = "楼栋,单元,房号,建筑面积,业主姓名,联系电话,身份\n"
#: four dwellings, every owner known; one has a tenant
FULL_ROSTER = HEADER + (
    "1,1,101,80.50,张伟,13800000001,业主\n"
    "1,1,102,70,李娜,,业主\n"
    "1,2,201,60.25,王芳,13900000002,业主\n"
    "1,2,202,65,赵强,,业主\n"
    "1,2,202,,孙丽,,租户\n"
)
#: the same, but the owner of 1-1-102 is not known yet
PARTIAL_ROSTER = HEADER + (
    "1,1,101,80.50,张伟,13800000001,业主\n"
    "1,1,102,70,,,业主\n"
    "1,2,201,60.25,王芳,13900000002,业主\n"
    "1,2,202,65,赵强,,业主\n"
)

D = RoundState.DRAFT
O = RoundState.OPEN  # noqa: E741
C = RoundState.CLOSED
N = RoundState.NOTICE
F = RoundState.FAILED
DONE = RoundState.DONE

#: (expected stage key, roster, attempts of each round (None: no rounds planned))
SCENARIOS: list[tuple[str, str | None, Sequence[Sequence[RoundState]] | None]] = [
    ("no_roster", None, None),
    ("roster_partial", PARTIAL_ROSTER, None),
    ("ready", FULL_ROSTER, [[D], [D], [D]]),
    ("round1_open", PARTIAL_ROSTER, [[O], [D], [D]]),
    ("round1_closed", FULL_ROSTER, [[C], [D], [D]]),
    ("round1_failed", FULL_ROSTER, [[F, D], [D], [D]]),
    ("round1_done", FULL_ROSTER, [[DONE], [D], [D]]),
    ("round2_notice", FULL_ROSTER, [[DONE], [N], [D]]),
    ("round2_open", FULL_ROSTER, [[DONE], [F, O], [D]]),
    ("round3_closed", FULL_ROSTER, [[DONE], [DONE], [C]]),
    ("consensus", FULL_ROSTER, [[DONE], [DONE], [DONE]]),
]


def roster(compound: Compound, csv_text: str) -> None:
    apply_rows(compound, parse_roster(csv_text.encode()), "test")


def rounds(compound: Compound, attempts: Sequence[Sequence[RoundState]], at: datetime = T0) -> list[Round]:
    """Rounds 1..n of the compound; each attempt in the state given, with one event at ``at``."""
    made: list[Round] = []
    for (number, kind, __, notice_days), states in zip(DEFAULT_ROUNDS, attempts, strict=False):
        previous: Round | None = None
        for attempt, state in enumerate(states, start=1):
            round_ = Round(
                compound_id=compound.id,
                number=number,
                attempt=attempt,
                kind=kind,
                state=state,
                opens_at=at,
                closes_at=at + timedelta(days=14),
                notice_days=notice_days,
                notice_ends_at=at if state in (RoundState.NOTICE, RoundState.DONE) else None,
                repeat_of_id=previous.id if previous else None,
            )
            db.session.add(round_)
            db.session.flush()
            db.session.add(
                RoundEvent(
                    round_id=round_.id,
                    actor="test",
                    action="set",
                    from_state=None,
                    to_state=state,
                    reason="",
                    at=at,
                )
            )
            made.append(round_)
            previous = round_
    db.session.flush()
    return made


def street(name: str = "草堂街道") -> Street:
    return ensure_street(ensure_district("青羊区"), name)


def compound_in(
    name: str,
    scenario: int,
    *,
    street_name: str = "草堂街道",
    cluster: str | None = "清溪",
    plan_year: int | None = 2023,
    at: datetime = T0,
    **kw: Any,
) -> Compound:
    """A compound in SCENARIOS[scenario] (flushed; the caller commits)."""
    district = ensure_district("青羊区")
    compound = create_compound(
        ensure_street(district, street_name),
        name,
        cluster=ensure_cluster(district, cluster) if cluster else None,
        plan_year=plan_year,
        year_built=1995,
        actor="test",
        **kw,
    )
    __, roster_csv, attempts = SCENARIOS[scenario % len(SCENARIOS)]
    if roster_csv:
        roster(compound, roster_csv)
    if attempts:
        rounds(compound, attempts, at)
    return compound


STREETS = ["草堂街道", "西御河街道", "少城街道"]
YEARS = [2022, 2023, 2024, None]


def many(
    count: int, at: datetime = T0, prefix: str = "院", scenarios: Sequence[int] | None = None
) -> list[Compound]:
    """``count`` compounds over three streets and four plan years, cycling through every scenario
    (or through ``scenarios``)."""
    made = [
        compound_in(
            f"{prefix}{i:03d}",
            scenarios[i] if scenarios else i,
            street_name=STREETS[i % len(STREETS)],
            cluster=["清溪", "红光", None][i % 3],
            plan_year=YEARS[i % len(YEARS)],
            at=at,
        )
        for i in range(count)
    ]
    db.session.commit()
    return made


def dwelling_ids(compound: Compound) -> list[int]:
    return list(
        db.session.scalars(
            select(Dwelling.id)
            .join(StairUnit, StairUnit.id == Dwelling.unit_id)
            .join(Building, Building.id == StairUnit.building_id)
            .where(Building.compound_id == compound.id)
            .order_by(Dwelling.id)
        )
    )
