"""The district's view of every compound: stage, time in stage, progress against the plan, participation.

Every figure comes from a fixed number of aggregate queries, whatever the number of compounds: the
compounds, their roster figures (as ``coverages``), their rounds, when each round entered its present
state, and the participation of the open and closed rounds. Stages and the time in them are then worked
out in Python (``rules.stage_of``, ``rules.stage_and_since``), so filtering and sorting by stage happen here
too.
"""

from __future__ import annotations

from collections import Counter
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import current_app
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from consult.compounds.models import Building
from consult.compounds.models import Cluster
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import StairUnit
from consult.compounds.models import Street
from consult.district.participation import approval
from consult.district.participation import participation_of
from consult.district.rules import DEFAULT_STUCK_AFTER_DAYS
from consult.district.rules import PLAN_TARGETS
from consult.district.rules import ROUND_NUMBERS
from consult.district.rules import NextStep
from consult.district.rules import PlanProgress
from consult.district.rules import RosterCount
from consult.district.rules import RoundView
from consult.district.rules import Stage
from consult.district.rules import all_stages
from consult.district.rules import is_stuck
from consult.district.rules import mean_share
from consult.district.rules import next_step
from consult.district.rules import plan_progress
from consult.district.rules import record_decides
from consult.district.rules import stage_and_since
from consult.district.rules import stage_of
from consult.extensions import db
from consult.rounds.models import Round
from consult.rounds.models import RoundEvent
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.services import current_round
from consult.rounds.services import latest_attempts

SORTS = ("name", "street", "plan_year", "stage", "since")

#: rounds whose participation the district follows: taking answers, or closed and being answered
FOLLOWED_STATES = (RoundState.OPEN, RoundState.CLOSED)


def stuck_after_days() -> int:
    """Config STUCK_AFTER_DAYS: days in one stage before a compound is listed as stuck (default 30)."""
    value = current_app.config.get("STUCK_AFTER_DAYS", DEFAULT_STUCK_AFTER_DAYS)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return DEFAULT_STUCK_AFTER_DAYS


@dataclass(frozen=True)
class Filters:
    street: int | None = None
    cluster: int | None = None
    plan_year: int | None = None
    stage: str | None = None
    stuck: bool = False

    def place(self, row: CompoundRow) -> bool:
        """The street, cluster and plan year match (the stage and stuck filters aside)."""
        return (
            (self.street is None or row.street_id == self.street)
            and (self.cluster is None or row.cluster_id == self.cluster)
            and (self.plan_year is None or row.plan_year == self.plan_year)
        )

    def match(self, row: CompoundRow) -> bool:
        return (
            self.place(row)
            and (self.stage is None or row.stage.key == self.stage)
            and (not self.stuck or row.stuck)
        )

    def args(self) -> dict[str, Any]:
        """As GET parameters (for links that keep the filters)."""
        values = {
            "street": self.street,
            "cluster": self.cluster,
            "plan_year": self.plan_year,
            "stage": self.stage,
            "stuck": 1 if self.stuck else None,
        }
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class RoundRow:
    id: int
    compound_id: int
    number: int
    attempt: int
    kind: RoundKind
    state: RoundState
    opens_at: datetime | None
    closes_at: datetime | None
    notice_ends_at: datetime | None
    answered: int = 0
    eligible: int = 0

    @property
    def view(self) -> RoundView:
        return RoundView(self.number, self.attempt, self.state)


@dataclass
class CompoundRow:
    id: int
    name: str
    street_id: int
    street: str
    cluster_id: int | None
    cluster: str | None
    plan_year: int | None
    year_built: int | None
    coverage: RosterFigures
    stage: Stage
    #: when the compound entered its stage (``rules.stage_and_since``)
    since: datetime
    stuck: bool
    buildings: int = 0
    rounds: list[RoundRow] = field(default_factory=list)


@dataclass(frozen=True)
class RosterFigures:
    """The part of a compound's roster coverage (``compounds.rules.Coverage``) the district uses: its
    dwellings, those with a known owner, and their floor area. Owners and occupants are not counted,
    which spares ``coverages()``'s two other queries over every dwelling of the district."""

    dwellings: int
    owned: int
    total_area: Decimal
    owned_area: Decimal
    #: dwellings someone can answer for (a known owner or an occupant): participation's denominator
    eligible: int = 0

    @property
    def percent(self) -> int:
        """Dwellings with a known owner, as a whole percent rounded down (as ``Coverage.percent``)."""
        return self.owned * 100 // self.dwellings if self.dwellings else 0


def roster_figures(compound_ids: list[int], scope: Any = None) -> dict[int, RosterFigures]:
    """Dwellings, owned dwellings and floor areas of each compound, in one aggregate query (the first of
    ``compounds.services.coverages``). ``scope``: a query of the same compounds' ids, used in the SQL
    instead of the list (no bound parameter per compound)."""
    empty = RosterFigures(0, 0, Decimal(0), Decimal(0), 0)
    result = dict.fromkeys(compound_ids, empty)
    if not compound_ids:
        return result
    known = Dwelling.owner_id.is_not(None)
    query = (
        select(Building.compound_id)
        .join(StairUnit, StairUnit.building_id == Building.id)
        .join(Dwelling, Dwelling.unit_id == StairUnit.id)
        .where(Building.compound_id.in_(compound_ids if scope is None else scope))
        .group_by(Building.compound_id)
    )
    if db.session.get_bind().dialect.name == "sqlite":
        # no hash joins: look an occupant up (by its index) only for a dwelling with no known owner
        occupied: Any = exists().where(Occupant.dwelling_id == Dwelling.id)
    else:
        # the dwellings with an occupant, once each, hash-joined (not a lookup per dwelling)
        with_occupant = select(Occupant.dwelling_id.label("id")).distinct().subquery()
        query = query.outerjoin(with_occupant, with_occupant.c.id == Dwelling.id)
        occupied = with_occupant.c.id.is_not(None)
    rows = db.session.execute(
        query.add_columns(
            func.count(Dwelling.id),
            func.count(Dwelling.owner_id),
            func.coalesce(func.sum(Dwelling.area), 0),
            func.coalesce(func.sum(Dwelling.area).filter(known), 0),
            func.count(Dwelling.id).filter(or_(known, occupied)),
        )
    ).all()
    for cid, dwellings, owned, area, owned_area, eligible in rows:
        result[cid] = RosterFigures(dwellings, owned, Decimal(area), Decimal(owned_area), eligible)
    return result


def _compound_rows(where: Sequence[Any]) -> list[Any]:
    return list(
        db.session.execute(
            select(
                Compound.id,
                Compound.name,
                Compound.street_id,
                Street.name.label("street"),
                Compound.cluster_id,
                Cluster.name.label("cluster"),
                Compound.plan_year,
                Compound.year_built,
                Compound.created_at,
            )
            .join(Street, Street.id == Compound.street_id)
            .outerjoin(Cluster, Cluster.id == Compound.cluster_id)
            .where(*where)
            .order_by(Street.name, Compound.name, Compound.id)
        ).all()
    )


def stages(coverage: Mapping[int, RosterCount]) -> dict[int, Stage]:
    """Each compound's stage from its roster coverage and its rounds, as the district sees it: what the
    compound's own pages and its public notice show too (one query for the rounds of them all)."""
    rounds = _rounds(list(coverage))
    return {cid: stage_of(cover, [r.view for r in rounds.get(cid, [])]) for cid, cover in coverage.items()}


@dataclass(frozen=True)
class Step:
    """The compound's next step, the round it concerns (None before any), and why no consensus record
    may be submitted (for ``RECORD_BLOCKED``)."""

    kind: NextStep
    round: Round | None
    blocker: Any = None


def next_step_of(compound: Compound, stage: Stage) -> Step:
    """What the organisers of the compound do next, at ``stage`` (from ``stages``)."""
    from consult.dossier.services import statuses  # the record builds on the rounds, not the other way
    from consult.dossier.services import submit_blocker

    attempts = latest_attempts(compound)
    last = max((r.number for r in attempts), default=0)
    record = blocker = None
    if record_decides(stage, last):
        found = statuses([compound.id]).get(compound.id)
        record = found[1].value if found else None
        if record not in ("approved", "submitted"):
            blocker = submit_blocker(compound)
    return Step(next_step(stage, last, record, blocker is None), current_round(compound, attempts), blocker)


def _rounds(scope: Any) -> dict[int, list[RoundRow]]:
    by_compound: dict[int, list[RoundRow]] = defaultdict(list)
    rows = db.session.execute(
        select(
            Round.id,
            Round.compound_id,
            Round.number,
            Round.attempt,
            Round.kind,
            Round.state,
            Round.opens_at,
            Round.closes_at,
            Round.notice_ends_at,
        )
        .where(Round.compound_id.in_(scope))
        .order_by(Round.compound_id, Round.number, Round.attempt)
    ).all()
    for row in rows:
        by_compound[row.compound_id].append(RoundRow(*row))
    return by_compound


def _state_entries(scope: Any) -> dict[int, datetime]:
    """When each round of these compounds that has left its draft entered its present state: its latest
    event into that state (a reopened round: its reopening), by round id."""
    rows = db.session.execute(
        select(RoundEvent.round_id, func.max(RoundEvent.at))
        .join(Round, Round.id == RoundEvent.round_id)
        .where(
            Round.compound_id.in_(scope),
            Round.state != RoundState.DRAFT,
            RoundEvent.to_state == Round.state,
        )
        .group_by(RoundEvent.round_id)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def _building_counts(scope: Any) -> dict[int, int]:
    rows = db.session.execute(
        select(Building.compound_id, func.count(Building.id))
        .where(Building.compound_id.in_(scope))
        .group_by(Building.compound_id)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def _with_participation(
    rounds: dict[int, list[RoundRow]], which: str, cover: dict[int, RosterFigures]
) -> None:
    """Fill in answered/eligible of the followed rounds ("followed"), of every round that has begun
    ("begun"), or of none ("none"). ``cover`` holds each compound's eligible dwellings already."""
    if which == "none":
        return
    wanted = [
        (r.id, r.compound_id, r.kind)
        for rows in rounds.values()
        for r in rows
        if r.state in FOLLOWED_STATES or (which == "begun" and r.state is not RoundState.DRAFT)
    ]
    counted = participation_of(wanted, {cid: figures.eligible for cid, figures in cover.items()})
    for cid, rows in rounds.items():
        rounds[cid] = [
            replace(r, answered=counted[r.id][0], eligible=counted[r.id][1]) if r.id in counted else r
            for r in rows
        ]


def district_rows(
    now: datetime,
    stuck_after_days: int,
    *,
    compound_id: int | None = None,
    buildings: bool = False,
    participation: str = "followed",
) -> list[CompoundRow]:
    """Every compound of the district (or the one ``compound_id``), with its stage and time in stage.

    ``participation``: count it for the open and closed rounds ("followed"), for every round begun
    ("begun"), or not at all ("none").
    """
    where = [] if compound_id is None else [Compound.id == compound_id]
    compounds = _compound_rows(where)
    if not compounds:
        return []
    #: the same compounds, as SQL: every query below filters on it (never a list of a thousand ids)
    scope = select(Compound.id).where(*where).scalar_subquery()
    cover = roster_figures([c.id for c in compounds], scope)
    rounds = _rounds(scope)
    _with_participation(rounds, participation, cover)
    entries = _state_entries(scope)
    counts = _building_counts(scope) if buildings else {}
    rows = []
    for c in compounds:
        own_rounds = rounds.get(c.id, [])
        views = [replace(r.view, entered=entries.get(r.id)) for r in own_rounds]
        stage, since = stage_and_since(cover[c.id], views, c.created_at)
        rows.append(
            CompoundRow(
                id=c.id,
                name=c.name,
                street_id=c.street_id,
                street=c.street,
                cluster_id=c.cluster_id,
                cluster=c.cluster,
                plan_year=c.plan_year,
                year_built=c.year_built,
                coverage=cover[c.id],
                stage=stage,
                since=since,
                stuck=is_stuck(stage, since, now, stuck_after_days),
                buildings=counts.get(c.id, 0),
                rounds=own_rounds,
            )
        )
    return rows


def sort_rows(rows: Iterable[CompoundRow], sort: str, descending: bool = False) -> list[CompoundRow]:
    """Rows by one column; ties keep street and name order, and the id makes the order total."""
    keys = {
        "name": lambda r: (r.name, r.street, r.id),
        "street": lambda r: (r.street, r.name, r.id),
        "plan_year": lambda r: (r.plan_year is None, r.plan_year or 0, r.street, r.name, r.id),
        "stage": lambda r: (r.stage.rank, r.street, r.name, r.id),
        "since": lambda r: (r.since, r.street, r.name, r.id),
    }
    return sorted(rows, key=keys.get(sort, keys["street"]), reverse=descending)


def stage_counts(rows: Iterable[CompoundRow]) -> list[tuple[Stage, int]]:
    """How many compounds are in each stage: every stage of the default rounds, then any other present."""
    counts = Counter(row.stage for row in rows)
    numbers = set(ROUND_NUMBERS) | {s.number for s in counts if s.number is not None}
    return [(stage, counts.get(stage, 0)) for stage in all_stages(numbers)]


def progress(rows: Iterable[CompoundRow]) -> list[PlanProgress]:
    return plan_progress(((row.plan_year, row.stage) for row in rows), PLAN_TARGETS)


@dataclass(frozen=True)
class ParticipationSummary:
    """The mean participation of the followed rounds of one round number (each round weighs the same)."""

    number: int
    rounds: int
    mean: Fraction | None

    @property
    def percent(self) -> int | None:
        return None if self.mean is None else int(self.mean * 100)


def participation_summary(rows: Iterable[CompoundRow]) -> list[ParticipationSummary]:
    """Mean participation of the open and closed rounds, per round number and in all (number 0)."""
    by_number: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in rows:
        for r in row.rounds:
            if r.state in FOLLOWED_STATES:
                by_number[r.number].append((r.answered, r.eligible))
    summary = [
        ParticipationSummary(n, len(by_number[n]), mean_share(by_number[n])) for n in sorted(by_number)
    ]
    every = [part for parts in by_number.values() for part in parts]
    return [ParticipationSummary(0, len(every), mean_share(every)), *summary]


def approval_summary(rows: Iterable[CompoundRow]) -> Fraction | None:
    """Mean approval of the closed vote rounds, when the voting area has registered its hook."""
    ids = [
        r.id for row in rows for r in row.rounds if r.kind is RoundKind.VOTE and r.state in FOLLOWED_STATES
    ]
    shares = approval(ids)
    if not shares:
        return None
    return sum(shares.values(), Fraction(0)) / len(shares)


def stuck_rows(rows: Iterable[CompoundRow]) -> list[CompoundRow]:
    """Compounds stuck in their stage, longest first."""
    return sorted((r for r in rows if r.stuck), key=lambda r: (r.since, r.street, r.name, r.id))


@dataclass(frozen=True)
class Choices:
    streets: list[tuple[int, str]]
    clusters: list[tuple[int, str]]
    plan_years: list[int]


def filter_choices() -> Choices:
    """What the filters offer: every street and cluster, every plan year in use or planned."""
    streets = [
        (r.id, r.name) for r in db.session.execute(select(Street.id, Street.name).order_by(Street.name))
    ]
    clusters = [
        (r.id, r.name) for r in db.session.execute(select(Cluster.id, Cluster.name).order_by(Cluster.name))
    ]
    years = set(
        db.session.scalars(select(Compound.plan_year).where(Compound.plan_year.is_not(None)).distinct())
    )
    return Choices(streets, clusters, sorted(years | set(PLAN_TARGETS)))


@dataclass(frozen=True)
class StreetSummary:
    id: int
    name: str
    compounds: int
    dwellings: int
    consensus: int


def street_summaries(rows: Iterable[CompoundRow]) -> list[StreetSummary]:
    """Per street: compounds, dwellings in the rosters, compounds with consensus (streets without any
    compound included)."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        t = totals[row.street_id]
        t[0] += 1
        t[1] += row.coverage.dwellings
        t[2] += row.stage.is_final
    streets = db.session.execute(select(Street.id, Street.name).order_by(Street.name, Street.id)).all()
    return [StreetSummary(sid, name, *totals.get(sid, [0, 0, 0])) for sid, name in streets]


@dataclass
class Page:
    """One page of a list already in memory (the attributes of Flask-SQLAlchemy's pagination)."""

    items: list[CompoundRow]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def paginate(rows: Sequence[CompoundRow], page: int, per_page: int) -> Page:
    """The page asked for, or the last one when it is past the end."""
    total = len(rows)
    last = max(1, -(-total // per_page))
    page = min(max(1, page), last)
    start = (page - 1) * per_page
    return Page(list(rows[start : start + per_page]), page, per_page, total)
