"""Time the district dashboard at Qingyang scale: 1,034 compounds, about 160,000 dwellings, three rounds each.

    .venv/bin/python bench/dashboard.py [--compounds 1034] [--requests 50] [--seed 1] [--parts]

The database is a new SQLite file in a temporary directory, or DATABASE_URL: point that at an empty
scratch PostgreSQL database (the bench writes rows with fixed ids and leaves them there). The district
is written with bulk inserts, not through the services (so no audit entries): streets and clusters of
shared/data/qingyang.md, plan years as the district planned them (415 compounds renovated 2015–2020,
then 50, 162, 186 and 221 in 2021–2024), rosters with a few owners still unknown and some tenants, three
rounds per compound in states that follow the plan year, their events, and answers to the open and
closed rounds (survey answers, scheme preferences, ballots) so that participation has rows to count.

Each page is requested through the Flask test client (in-process, no HTTP server), signed in as a
district reviewer; the figures are the wall time of the whole request (routing, queries, rendering) and
the number of SQL statements it sent.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text

from consult import create_app
from consult.auth.models import Role
from consult.auth.services import create_user
from consult.compounds.models import Building
from consult.compounds.models import Cluster
from consult.compounds.models import Compound
from consult.compounds.models import District
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.compounds.models import Street
from consult.compounds.rules import natural_key
from consult.extensions import db
from consult.rounds.models import Round
from consult.rounds.models import RoundEvent
from consult.rounds.rules import DEFAULT_ROUNDS
from consult.rounds.rules import RoundState
from consult.schemes.models import Scheme
from consult.schemes.models import SchemePreference
from consult.surveys.models import Survey
from consult.surveys.models import SurveyAnswer
from consult.surveys.rules import Willingness
from consult.voting.counting import Channel
from consult.voting.counting import Topic
from consult.voting.models import Ballot
from consult.voting.models import BallotReceipt
from consult.voting.models import VoteQuestion

STREETS = ["西御河街道", "草市街街道", "少城街道", "草堂街道", "府南街道"]
CLUSTERS = ["清溪", "送仙桥", "方池街—包家巷", "上翔街", "骡马市", "太升南路", "红光", "玉泉"]
#: plan year → compounds (qingyang.md: 415 renovated 2015–2020, then the 2021–2024 plan)
PLAN = {2015: 69, 2016: 69, 2017: 69, 2018: 69, 2019: 69, 2020: 70, 2021: 50, 2022: 162, 2023: 186, 2024: 221}
PASSWORD = "bench-password-1"

#: the stages a compound can be written in, as (round number or 0, state of that round)
PRE = ["no_roster", "roster_partial", "ready"]
STEPS = [
    (n, s)
    for n in (1, 2, 3)
    for s in (RoundState.OPEN, RoundState.CLOSED, RoundState.NOTICE, RoundState.DONE)
    if (n, s) != (3, RoundState.DONE)
] + [(4, RoundState.DONE)]  # (4, done): every round done, consensus


def pick_stage(rng: random.Random, year: int) -> str | tuple[int, RoundState]:
    """Early plan years are mostly done; the 2024 ones mostly wait for their roster or round 1."""
    if year <= 2021:
        return STEPS[-1] if rng.random() < 0.92 else rng.choice(STEPS[-5:])
    if year == 2022:
        return STEPS[-1] if rng.random() < 0.6 else rng.choice(STEPS[4:])
    if year == 2023:
        return rng.choice(STEPS) if rng.random() < 0.85 else rng.choice(PRE)
    return rng.choice(PRE) if rng.random() < 0.5 else rng.choice(STEPS[:6])


class Ids:
    """Explicit ids for bulk inserts into an empty database."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def next(self, table: str) -> int:
        self.last[table] = self.last.get(table, 0) + 1
        return self.last[table]


def generate(n_compounds: int, seed: int, now: datetime) -> dict[str, int]:
    rng = random.Random(seed)
    ids = Ids()
    rows: dict[Any, list[dict[str, Any]]] = {
        m: []
        for m in (
            District,
            Street,
            Cluster,
            Compound,
            Building,
            StairUnit,
            Owner,
            Dwelling,
            Occupant,
            Round,
            RoundEvent,
            Survey,
            SurveyAnswer,
            Scheme,
            SchemePreference,
            VoteQuestion,
            BallotReceipt,
            Ballot,
        )
    }
    rows[District].append({"id": 1, "name": "青羊区"})
    rows[Street] = [{"id": i + 1, "district_id": 1, "name": n} for i, n in enumerate(STREETS)]
    rows[Cluster] = [{"id": i + 1, "district_id": 1, "name": n} for i, n in enumerate(CLUSTERS)]
    years = [year for year, count in PLAN.items() for __ in range(count)]
    scale = n_compounds / len(years)
    years = [years[int(i / scale)] for i in range(n_compounds)]
    rng.shuffle(years)

    def add(model: Any, **values: Any) -> int:
        values.setdefault("id", ids.next(model.__tablename__))
        rows[model].append(values)
        return values["id"]

    for number, plan_year in enumerate(years, start=1):
        street = rng.randrange(len(STREETS)) + 1
        stage = pick_stage(rng, plan_year)
        created = now - timedelta(days=rng.randrange(400, 1800))
        cid = add(
            Compound,
            street_id=street,
            cluster_id=rng.randrange(len(CLUSTERS)) + 1 if rng.random() < 0.7 else None,
            name=f"{STREETS[street - 1][:3]}{number}号院",
            year_built=rng.randrange(1980, 2005),
            plan_year=plan_year,
            created_at=created,
        )
        # the roster: buildings of 2–3 units, six floors of two flats
        eligible_dwellings: list[int] = []
        owners: list[int] = []
        if stage != "no_roster":
            unknown = 0.0 if stage == "ready" else rng.uniform(0.01, 0.06)
            for b in range(1, rng.randrange(2, 10) + 1):
                bid = add(Building, compound_id=cid, label=str(b), sort_key=natural_key(str(b)))
                for u in range(1, rng.choice((2, 3)) + 1):
                    uid = add(StairUnit, building_id=bid, label=str(u), sort_key=natural_key(str(u)))
                    for floor in range(1, 7):
                        for flat in (1, 2):
                            room = f"{floor}{flat:02d}"
                            owner_id = None
                            if rng.random() >= unknown:
                                owner_id = add(
                                    Owner, compound_id=cid, name=f"业主{ids.last.get('owner', 0) + 1}"
                                )
                                owners.append(owner_id)
                            did = add(
                                Dwelling,
                                unit_id=uid,
                                room=room,
                                sort_key=natural_key(room),
                                area=Decimal(rng.randrange(4200, 12800)) / 100,
                                owner_id=owner_id,
                            )
                            tenant = rng.random() < 0.06
                            if tenant:
                                add(Occupant, dwelling_id=did, name=f"租户{did}")
                            if owner_id or tenant:
                                eligible_dwellings.append(did)
        # three rounds, in states that follow the stage
        reached, state = (0, RoundState.DRAFT) if isinstance(stage, str) else stage
        start = created + timedelta(days=rng.randrange(30, 300))
        for number, kind, days_open, notice_days in DEFAULT_ROUNDS:
            opens = start + timedelta(days=(number - 1) * 45)
            closes = opens + timedelta(days=days_open)
            if number < reached:
                round_state = RoundState.DONE
            elif number == reached:
                round_state = state
            else:
                round_state = RoundState.DRAFT
            attempts = [round_state]
            if round_state is not RoundState.DRAFT and rng.random() < 0.04:
                attempts = [RoundState.FAILED, round_state]  # a failed attempt, repeated
            previous = None
            for attempt, attempt_state in enumerate(attempts, start=1):
                rid = add(
                    Round,
                    compound_id=cid,
                    number=number,
                    attempt=attempt,
                    kind=kind,
                    state=attempt_state,
                    opens_at=opens,
                    closes_at=closes,
                    notice_days=notice_days,
                    published_at=closes + timedelta(days=3)
                    if attempt_state in (RoundState.NOTICE, RoundState.DONE)
                    else None,
                    notice_ends_at=closes + timedelta(days=3 + notice_days)
                    if attempt_state in (RoundState.NOTICE, RoundState.DONE)
                    else None,
                    repeat_of_id=previous,
                    created_at=created,
                )
                previous = rid
                path = [("plan", None, RoundState.DRAFT, created)]
                if attempt_state is not RoundState.DRAFT:
                    path.append(("open", RoundState.DRAFT, RoundState.OPEN, opens))
                order = [RoundState.OPEN, RoundState.CLOSED, RoundState.NOTICE, RoundState.DONE]
                if attempt_state in order:
                    for before, after in pairwise(order[: order.index(attempt_state) + 1]):
                        at = {RoundState.CLOSED: closes, RoundState.NOTICE: closes + timedelta(days=3)}.get(
                            after, closes + timedelta(days=3 + notice_days)
                        )
                        path.append((after.value, before, after, at))
                elif attempt_state is RoundState.FAILED:
                    path.append(("fail", RoundState.OPEN, RoundState.FAILED, closes))
                for action, before, after, at in path:
                    add(
                        RoundEvent,
                        round_id=rid,
                        at=min(at, now - timedelta(days=1)),
                        actor="bench",
                        action=action,
                        from_state=before,
                        to_state=after,
                        reason="",
                    )
                if attempt_state in (RoundState.OPEN, RoundState.CLOSED):
                    answer(add, rng, rid, kind.value, eligible_dwellings, owners, opens)
    with timer("insert"):
        for model, values in rows.items():
            for chunk in range(0, len(values), 5000):
                db.session.execute(insert(model), values[chunk : chunk + 5000])
        db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequences on
        for model in rows:
            table = model.__tablename__
            db.session.execute(
                func.setval(
                    func.pg_get_serial_sequence(table, "id"),
                    func.coalesce(select(func.max(model.id)).scalar_subquery(), 1),
                )
            )
        db.session.commit()
        # as autovacuum would have done by the time anyone looks: fresh statistics for the planner
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return {model.__tablename__: len(values) for model, values in rows.items()}


def answer(
    add: Any, rng: random.Random, rid: int, kind: str, dwellings: list[int], owners: list[int], at: datetime
) -> None:
    """Answers to an open or closed round: 40–85% of the households."""
    share = rng.uniform(0.4, 0.85)
    if kind == "needs":
        sid = add(Survey, round_id=rid, created_by="bench")
        for did in dwellings:
            if rng.random() < share:
                add(
                    SurveyAnswer, survey_id=sid, dwelling_id=did, willingness=Willingness.YES, submitted_at=at
                )
    elif kind == "scheme":
        scheme = add(Scheme, round_id=rid, label="A", title="方案A", created_by="bench")
        for did in dwellings:
            if rng.random() < share:
                add(SchemePreference, round_id=rid, dwelling_id=did, scheme_id=scheme, stated_at=at)
    else:
        qid = add(
            VoteQuestion,
            round_id=rid,
            position=1,
            topic=Topic.PLAN,
            prompt_zh="同意改造方案",
            rule={},
            created_by="bench",
        )
        for oid in owners:
            if rng.random() < share:
                receipt = add(
                    BallotReceipt, round_id=rid, code=f"B{rid:05d}{oid:06d}"[-12:], channel=Channel.ONLINE
                )
                add(
                    Ballot,
                    round_id=rid,
                    question_id=qid,
                    owner_id=oid,
                    choice="yes",
                    channel=Channel.ONLINE,
                    cast_at=at,
                    actor="bench",
                    receipt_id=receipt,
                )


TIMES: dict[str, float] = {}


@contextmanager
def timer(name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    TIMES[name] = time.perf_counter() - start


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


PAGES = [
    ("dashboard", "/district/"),
    ("dashboard, sorted by stage, page 5", "/district/?sort=stage&page=5"),
    ("dashboard, one street, stuck", "/district/?street=3&stuck=1"),
    ("CSV export", "/district/compounds.csv"),
    ("API /compounds?per_page=500", "/api/v1/compounds?per_page=500"),
    ("API /stages", "/api/v1/stages"),
]


def parts(n_requests: int) -> None:
    """The dashboard's two heaviest steps timed alone, in-process (medians): the roster figures of every
    compound (one aggregate over the district's dwellings) and the participation of every round that has
    begun (one query per kind of round)."""
    from consult.district.participation import participation_of
    from consult.district.services import roster_figures

    ids = list(db.session.scalars(select(Compound.id)))
    begun = db.session.execute(
        select(Round.id, Round.compound_id, Round.kind).where(Round.state != RoundState.DRAFT)
    ).all()
    figures = roster_figures(ids, select(Compound.id))
    eligible = {cid: f.eligible for cid, f in figures.items()}
    steps = {
        "roster figures, every compound": lambda: roster_figures(ids, select(Compound.id)),
        "participation, rounds begun": lambda: participation_of(begun, eligible),
    }
    by_kind = {
        kind: [r for r in begun if r.kind is kind] for kind in sorted({r.kind for r in begun}, key=str)
    }
    for kind, rows in by_kind.items():
        label = f"— of the {kind.value} rounds ({len(rows)})"
        steps[label] = lambda rows=rows: participation_of(rows, eligible)
    print(f"{'step (in-process, median)':<46} {'ms':>8}")
    for label, step in steps.items():
        times = []
        for __ in range(n_requests):
            start = time.perf_counter()
            step()
            times.append((time.perf_counter() - start) * 1000)
        print(f"{label:<46} {statistics.median(times):>8.1f}")


def run(url: str, n_compounds: int, n_requests: int, seed: int, with_parts: bool = False) -> None:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench"}
    )
    print(f"database: {url.split('@')[-1]}")
    with app.app_context():
        db.create_all()
        if db.session.scalar(select(func.count(Compound.id))):
            sys.exit("the database already holds compounds: give the bench an empty one")
        now = datetime.now(UTC)
        with timer("generate"):
            counts = generate(n_compounds, seed, now)
        create_user("bench.reviewer@example.test", "审核员", PASSWORD, Role.REVIEWER)
        db.session.commit()
        print(
            f"district: {counts['compound']} compounds, {counts['dwelling']} dwellings, "
            f"{counts['owner']} owners, "
            f"{counts['round']} rounds, {counts['round_event']} events, "
            f"{counts['survey_answer'] + counts['scheme_preference'] + counts['ballot']} answers "
            f"(written in {TIMES['generate']:.1f}s, of which inserts {TIMES['insert']:.1f}s)"
        )
        if with_parts:
            print()
            parts(n_requests)
        db.session.remove()
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    with app.app_context():
        response = client.post(
            "/auth/login", data={"email": "bench.reviewer@example.test", "password": PASSWORD}
        )
        assert response.status_code == 302, response.status_code
        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    print()
    print(
        f"{'page':<38} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'bytes':>9}"
    )
    for label, path in PAGES:
        times, queries = [], set()
        size = 0
        client.get(path)  # warm up: templates compiled, caches filled
        for __ in range(n_requests):
            statements.clear()
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            queries.add(len(statements))
            size = len(response.data)
        q = "/".join(str(n) for n in sorted(queries))
        print(
            f"{label:<38} {n_requests:>8} {statistics.median(times):>8.1f} {percentile(times, 0.95):>8.1f} "
            f"{max(times):>8.1f} {q:>8} {size:>9,}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=1034)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parts", action="store_true", help="also time the heaviest steps alone")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if url:
        run(url, args.compounds, args.requests, args.seed, args.parts)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.sqlite", args.compounds, args.requests, args.seed, args.parts)


if __name__ == "__main__":
    main()
