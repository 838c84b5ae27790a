"""The Qingyang District (青羊区, Chengdu) demo: streets, clusters, compounds and generated households,
and consultations at every stage of the three rounds (三上三下).

Figures come from ``shared/data/qingyang.md``; the households and their answers are invented,
reproducibly (fixed seeds), and the rounds are timed back from the moment the demo is made.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from functools import partial

from sqlalchemy import select

from consult.auth.models import Role
from consult.auth.models import User
from consult.auth.services import create_user
from consult.compounds.models import Compound
from consult.compounds.models import District
from consult.compounds.models import OwnerKind
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_cluster
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.demo_drawings import site_plan
from consult.dossier.sample import DAYS_BEFORE
from consult.dossier.sample import Stage
from consult.dossier.sample import run_consultation
from consult.extensions import db
from consult.residents.services import IssuedCard
from consult.roster.parse import RosterRow
from consult.roster.parse import RowRole
from consult.roster.services import apply_rows
from consult.rounds.models import Round
from consult.rounds.rules import Action
from consult.rounds.services import apply
from consult.rounds.services import repeat

DISTRICT = "青羊区"
DEMO_PASSWORD = "tongxin-demo"  # noqa: S105  printed for the demo accounts, on purpose

STREETS = {
    "草堂街道": "caotang",
    "西御河街道": "xiyuhe",
    "草市街街道": "caoshijie",
    "少城街道": "shaocheng",
    "府南街道": "funan",
}

#: (email, role, street name or None)
DEMO_ACCOUNTS: list[tuple[str, Role, str | None]] = [
    ("admin@tongxin.demo", Role.ADMIN, None),
    ("reviewer@tongxin.demo", Role.REVIEWER, None),
    ("expert@tongxin.demo", Role.EXPERT, None),
    ("expert.wang@tongxin.demo", Role.EXPERT, None),
    ("expert.zhao@tongxin.demo", Role.EXPERT, None),
    *[(f"worker.{slug}@tongxin.demo", Role.WORKER, street) for street, slug in STREETS.items()],
]

#: (name, street, cluster or None, year built, plan year, buildings, dwellings, committee)
COMPOUNDS: list[tuple[str, str, str | None, int, int, int, int, str | None]] = [
    ("浣花小区", "草堂街道", "清溪", 1996, 2022, 22, 1236, "浣花小区院委会"),
    ("芳邻路2号小区", "草堂街道", "清溪", 1998, 2022, 6, 192, "芳邻路2号院委会"),
    ("清溪东路5号院", "草堂街道", "清溪", 1993, 2023, 3, 72, None),
    ("草堂东路12号院", "草堂街道", None, 1990, 2023, 4, 96, "草堂东路12号院委会"),
    ("青华路18号院", "草堂街道", "送仙桥", 1997, 2024, 5, 140, None),
    ("送仙桥小区", "草堂街道", "送仙桥", 1995, 2022, 8, 264, "送仙桥小区院委会"),
    ("西御街8号院", "西御河街道", "玉泉", 1988, 2022, 2, 48, "西御街8号院委会"),
    ("东城根上街24号院", "西御河街道", None, 1991, 2023, 3, 84, None),
    ("人民中路二段6号院", "西御河街道", None, 1989, 2023, 2, 56, None),
    ("羊市街31号院", "西御河街道", "玉泉", 1994, 2024, 4, 112, None),
    ("西马道街17号院", "西御河街道", "玉泉", 1992, 2024, 3, 66, None),
    ("玉泉街11号院", "西御河街道", "玉泉", 1990, 2025, 0, 0, None),
    ("骡马市街9号院", "草市街街道", "骡马市", 1987, 2022, 3, 90, "骡马市街9号院委会"),
    ("草市街40号院", "草市街街道", "骡马市", 1993, 2023, 4, 120, None),
    ("太升南路22号院", "草市街街道", "太升南路", 1996, 2023, 5, 150, None),
    ("白丝街3号院", "草市街街道", "太升南路", 1989, 2024, 2, 44, None),
    ("北大街28号院", "草市街街道", None, 1995, 2024, 3, 78, None),
    ("方池街15号院", "少城街道", "方池街—包家巷", 1986, 2022, 3, 72, "方池街15号院委会"),
    ("包家巷7号院", "少城街道", "方池街—包家巷", 1990, 2023, 2, 52, None),
    ("上翔街19号院", "少城街道", "上翔街", 1992, 2023, 3, 66, None),
    ("长顺上街66号院", "少城街道", None, 1994, 2024, 4, 104, None),
    ("泡桐树街5号院", "少城街道", "上翔街", 1991, 2025, 0, 0, None),
    ("红光小区", "府南街道", "红光", 1997, 2022, 7, 224, "红光小区院委会"),
    ("文庙西街14号院", "府南街道", None, 1993, 2023, 3, 81, None),
    ("琴台路7号院", "府南街道", "红光", 1995, 2024, 4, 128, None),
    ("百花中心站院落", "府南街道", "送仙桥", 1990, 2024, 3, 60, None),
    ("青羊正街21号院", "府南街道", "红光", 1998, 2025, 5, 150, None),
]

#: how far each compound's consultation has come (the others have not begun)
STAGES: dict[str, Stage] = {
    "芳邻路2号小区": Stage.APPROVED,
    "送仙桥小区": Stage.SUBMITTED,
    "骡马市街9号院": Stage.RESULT_NOTICE,
    "红光小区": Stage.VOTE_OPEN,
    "方池街15号院": Stage.SCHEMES_OPEN,
    "草堂东路12号院": Stage.NEEDS_NOTICE,
    "西御街8号院": Stage.NEEDS_OPEN,
}

#: compounds whose owners vote the plan down: the worker marks the vote failed, to be held again
VOTED_DOWN = {"草市街40号院": Stage.VOTE_CLOSED}

#: the share of households taking part; a round that takes answers now has heard from some of them
TURNOUT = {Stage.NEEDS_OPEN: 0.45, Stage.VOTE_OPEN: 0.7}

ACCOUNT_NAMES = {
    "admin@tongxin.demo": "系统管理员",
    "reviewer@tongxin.demo": "区更新局审核员",
    "expert@tongxin.demo": "规划专家",
    "expert.wang@tongxin.demo": "王工（结构）",
    "expert.zhao@tongxin.demo": "赵工（造价）",
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国淑珍玉兰德胜志红文斌海燕秀英永福婷立新凤琴"


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"


def household_rows(rng: random.Random, buildings: int, dwellings: int) -> list[RosterRow]:
    """A roster of ``dwellings`` flats spread over ``buildings`` buildings, as an office would list it."""
    rows: list[RosterRow] = []
    base, extra = divmod(dwellings, buildings)
    line = 1
    shared_owners: list[tuple[str, str, str | None]] = []  # (key, name, phone) holding several flats
    developer = rng.random() < 0.3
    for b in range(1, buildings + 1):
        count = base + (1 if b <= extra else 0)
        units = 4 if count >= 48 else 2
        per_floor = 2
        per_unit = -(-count // units)
        made = 0
        for u in range(1, units + 1):
            for i in range(per_unit):
                if made == count:
                    break
                floor, pos = divmod(i, per_floor)
                room = f"{floor + 1}{pos + 1:02d}"
                area = Decimal(rng.randrange(4200, 12800)) / 100
                line += 1
                roll = rng.random()
                key = name = phone = None
                role = RowRole.OWNER
                if developer and roll < 0.03:
                    role, name = RowRole.DEVELOPER, "开发商"
                elif roll < 0.06:
                    pass  # owner not yet known to the office
                elif roll < 0.12 and shared_owners:
                    key, name, phone = rng.choice(shared_owners)
                else:
                    name = _name(rng)
                    phone = _phone(rng) if rng.random() < 0.6 else None
                    if roll > 0.95:
                        key = f"QY{b:02d}{u}{room}"
                        shared_owners.append((key, name, phone))
                rows.append(
                    RosterRow(
                        line=line,
                        building=str(b),
                        unit=str(u),
                        room=room,
                        area=area,
                        role=role,
                        name=name,
                        phone=phone,
                        email=None,
                        owner_key=key,
                        co_owners=None,
                        locale="zh_CN",
                    )
                )
                if rng.random() < 0.08:
                    line += 1
                    rows.append(
                        RosterRow(
                            line=line,
                            building=str(b),
                            unit=str(u),
                            room=room,
                            area=None,
                            role=RowRole.OCCUPANT,
                            name=_name(rng),
                            phone=None,
                            email=None,
                            owner_key=None,
                            co_owners=None,
                            locale="zh_CN",
                        )
                    )
                made += 1
    return rows


@dataclass(frozen=True)
class DemoResident:
    """A demo resident whose card's link the demo prints: who they are, in words, and their card."""

    description: str
    card: IssuedCard


@dataclass(frozen=True)
class Seeded:
    compounds: int
    dwellings: int
    consultations: int
    residents: list[DemoResident]


def _residents(
    name: str, stage: Stage, cards: list[IssuedCard], taking_part: list[IssuedCard]
) -> list[DemoResident]:
    """One or two residents worth opening in a consultation that takes answers now."""
    answered = {card.invitation.id for card in taking_part}

    def first(voted: bool) -> IssuedCard | None:
        return next(
            (
                c
                for c in cards
                if c.person.owner is not None
                and c.person.owner.kind is not OwnerKind.DEVELOPER
                and (c.invitation.id in answered) is voted
            ),
            None,
        )

    found: list[tuple[str, IssuedCard | None]] = []
    if stage is Stage.VOTE_OPEN:
        found = [
            (f"{name}, an owner who has not voted yet", first(False)),
            (f"{name}, an owner who has voted (and may change the vote)", first(True)),
        ]
    elif stage in (Stage.NEEDS_OPEN, Stage.SCHEMES_OPEN):
        found = [(f"{name}, an owner who has not answered yet", first(False))]
    return [DemoResident(description, card) for description, card in found if card is not None]


def _hold_again(vote: Round, worker: User) -> None:
    """The plan was voted down: the worker marks the vote failed, and it is held again (a draft, to take
    a revised scheme); the history keeps both."""
    assert vote.closes_at is not None
    actor, at = f"user:{worker.id}", vote.closes_at + timedelta(days=1)
    apply(vote, Action.FAIL, actor, at, "改造方案未获通过：同意的业主不足四分之三。修改方案后重新表决。")
    repeat(vote, actor, at)


def _consult(
    compound: Compound,
    now: datetime,
    worker: User,
    reviewer: User,
    experts: list[User],
    *,
    seed: int,
    buildings: int,
) -> list[DemoResident]:
    """Run the compound's consultation to its stage; the residents worth opening in it."""
    name = compound.name
    stage = STAGES.get(name) or VOTED_DOWN[name]
    done = run_consultation(
        compound,
        now - timedelta(days=DAYS_BEFORE[stage], hours=2),
        worker,
        reviewer,
        experts,
        seed=seed,
        turnout=TURNOUT.get(stage, 0.9),
        yes_share=0.5 if name in VOTED_DOWN else 0.92,
        until=stage,
        drawing=partial(site_plan, buildings=buildings),
    )
    if name in VOTED_DOWN:
        _hold_again(done.rounds[-1], worker)
    return _residents(name, stage, done.cards, done.taking_part)


def seed(now: datetime | None = None) -> Seeded | None:
    """Create the demo district once; None when it already exists (flushes, the caller commits). The
    consultations in ``STAGES`` are timed back from ``now``, so that those taking answers are open."""
    if db.session.scalars(select(District.id).where(District.name == DISTRICT)).first() is not None:
        return None
    now = now or datetime.now(UTC)
    rng = random.Random(20211)  # noqa: S311  reproducible invented households, not secrets
    district = ensure_district(DISTRICT)
    streets = {name: ensure_street(district, name) for name in STREETS}
    users = {
        email: create_user(
            email,
            ACCOUNT_NAMES.get(email) or f"{street}社区工作者",
            DEMO_PASSWORD,
            role,
            streets[street] if street else None,
            actor="seed-demo",
        )
        for email, role, street in DEMO_ACCOUNTS
    }
    workers = {street: users[f"worker.{slug}@tongxin.demo"] for street, slug in STREETS.items()}
    experts = [users[email] for email, role, _ in DEMO_ACCOUNTS if role is Role.EXPERT]
    reviewer = users["reviewer@tongxin.demo"]
    dwellings = consultations = 0
    residents: list[DemoResident] = []
    for number, row in enumerate(COMPOUNDS):
        name, street, cluster, year_built, plan_year, n_buildings, n_dwellings, committee = row
        compound = create_compound(
            streets[street],
            name,
            cluster=ensure_cluster(district, cluster) if cluster else None,
            year_built=year_built,
            plan_year=plan_year,
            committee=committee,
            actor="seed-demo",
        )
        if not n_dwellings:  # a few compounds wait for their roster
            continue
        apply_rows(compound, household_rows(rng, n_buildings, n_dwellings), "seed-demo")
        dwellings += n_dwellings
        if name in STAGES or name in VOTED_DOWN:
            residents += _consult(
                compound, now, workers[street], reviewer, experts, seed=number, buildings=n_buildings
            )
            consultations += 1
    for cluster in ("清溪", "送仙桥", "方池街—包家巷", "上翔街", "骡马市", "太升南路", "红光", "玉泉"):
        ensure_cluster(district, cluster)
    return Seeded(len(COMPOUNDS), dwellings, consultations, residents)
