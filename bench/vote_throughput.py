"""Throughput of the vote against a bare Flask "hello", served the same way in the same run, and the time
to count a 2,000-owner compound.

    .venv/bin/python bench/vote_throughput.py [--workers 2] [--requests 600] [--rounds 3] [--clients 8]
                                              [--owners 2000]
    DATABASE_URL=postgresql://postgres@127.0.0.1/scratch .venv/bin/python bench/vote_throughput.py

One gunicorn (sync workers, ``--workers``) serves both apps on loopback: the bare app at ``/bare/hello``
and Tongxin everywhere else. A pool of ``--clients`` threads sends a bounded number of requests to each of

- ``bare``: ``GET /bare/hello`` (a Flask app with one view returning "hello");
- ``home``: ``GET /me``, the resident's home page (signed-in residents, in turn), as served in a steady
  state: each resident has opened it before, so each worker holds it as rendered (``RESIDENT_PAGE_CACHE``);
- ``home, rendered``: the same page made afresh every time, from a second Tongxin with the page cache off
  (``/rendered/me``);
- ``vote``: ``POST /me/vote/<round>``, a whole ballot (5 questions, CSRF checked, receipt, audit entry,
  the e-mail notice queued), each resident changing their vote in turn;

and reports requests per second, the median of ``--rounds`` rounds, and the ratios home/bare (target
≥ 0.30) and vote/bare (≥ 0.25); the bare endpoint is measured in every round, beside each of the others.
A vote renders its voter's home page afresh, so the home pages are measured before the votes. Then it
builds a compound of ``--owners`` owners (some with two dwellings, the developer's unsold units as one
owner, tenants, 5 compound questions and a lift question per unit), fills in ballots for four owners in
five, and times ``count_round`` (the DB-backed count behind the result page, ``flask tally`` and the
export): the median of 5 runs (target < 200 ms).

The database is a new SQLite file in a temporary directory, or DATABASE_URL: point that at a scratch
database; the bench leaves its compounds there.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"


def serve_app() -> Any:
    """What gunicorn serves (``vote_throughput:serve_app()``): the bare app under /bare, Tongxin without
    its page cache under /rendered, Tongxin elsewhere."""
    from flask import Flask
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from consult import create_app
    from consult.voting.services import register_with_engine

    register_with_engine()
    bare = Flask("hello")

    @bare.get("/hello")
    def hello() -> str:
        return "hello"

    config = {
        "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
        "SECRET_KEY": SECRET,
        "MAIL_BACKEND": "memory",
    }
    rendered = create_app({**config, "RESIDENT_PAGE_CACHE": 0})
    served = DispatcherMiddleware(create_app(config), {"/bare": bare, "/rendered": rendered})
    gc.freeze()  # as wsgi.py does once the app is made
    return served


# --- data


def build_load_compound(residents: int) -> tuple[int, list[str]]:
    """A compound with ``residents`` owners of one dwelling each, the standard questions, round 3 open
    since yesterday, cards issued and the privacy notice acknowledged: (round id, card tokens)."""
    from consult.compounds.services import create_compound
    from consult.compounds.services import ensure_district
    from consult.compounds.services import ensure_street
    from consult.extensions import db
    from consult.residents.services import acknowledge_privacy
    from consult.residents.services import card_people
    from consult.residents.services import issue_cards
    from consult.roster.parse import parse_roster
    from consult.roster.services import apply_rows
    from consult.rounds.rules import Action
    from consult.rounds.rules import RoundState
    from consult.rounds.services import apply
    from consult.rounds.services import plan_default_rounds
    from consult.voting.services import add_standard_questions

    now = datetime.now(UTC)
    street = ensure_street(ensure_district("青羊区"), "草堂街道")
    compound = create_compound(street, f"压测小区{secrets.token_hex(3)}")
    lines = ["楼栋,单元,房号,建筑面积,业主姓名,邮箱"]
    for n in range(residents):
        lines.append(
            f"{n // 40 + 1},{n // 20 % 2 + 1},{n % 20 + 101},{60 + n % 50}.50,业主{n},o{n}@example.test"
        )
    apply_rows(compound, parse_roster("\n".join(lines).encode()), "bench")
    rounds = plan_default_rounds(compound, now - timedelta(days=90), "bench")
    for earlier in rounds[:2]:
        earlier.state = RoundState.DONE
    vote = rounds[2]
    vote.opens_at, vote.closes_at = now - timedelta(days=1), now + timedelta(days=14)
    add_standard_questions(vote, "bench", now - timedelta(days=2))
    apply(vote, Action.OPEN, "bench", now)
    cards = issue_cards(card_people(compound), compound, "bench", now)
    for card in cards:
        acknowledge_privacy(card.invitation, now)
    db.session.commit()
    return vote.id, [c.token for c in cards]


def build_tally_compound(owners: int, seed: int = 1) -> Any:
    """A closed vote of ``owners`` owners with ballots of four in five, inserted in bulk."""
    from sqlalchemy import insert
    from sqlalchemy import select

    from consult.compounds.models import Dwelling
    from consult.compounds.models import Owner
    from consult.compounds.services import create_compound
    from consult.compounds.services import ensure_district
    from consult.compounds.services import ensure_street
    from consult.extensions import db
    from consult.roster.parse import parse_roster
    from consult.roster.services import apply_rows
    from consult.rounds.models import Round
    from consult.rounds.rules import RoundKind
    from consult.rounds.rules import RoundState
    from consult.voting.counting import Channel
    from consult.voting.models import Ballot
    from consult.voting.models import BallotReceipt
    from consult.voting.receipts import new_receipt_code
    from consult.voting.services import add_standard_questions

    rng = random.Random(seed)
    now = datetime.now(UTC)
    street = ensure_street(ensure_district("青羊区"), "草堂街道")
    compound = create_compound(street, f"计票小区{secrets.token_hex(3)}")
    lines = ["楼栋,单元,房号,建筑面积,业主姓名,身份,业主编号"]
    room = 0
    for n in range(owners - 1):
        for _second in range(2 if n % 10 == 0 else 1):  # one owner in ten holds two dwellings
            building, unit, floor = room // 48 + 1, room // 24 % 2 + 1, room % 24
            lines.append(
                f"{building},{unit},{floor + 101},{rng.randint(4000, 12000) / 100},业主{n},业主,K{n}"
            )
            if rng.random() < 0.1:
                lines.append(f"{building},{unit},{floor + 101},,租户{room},租户,")
            room += 1
    for _unsold in range(6):  # the developer's unsold units: one owner
        lines.append(f"{room // 48 + 1},{room // 24 % 2 + 1},{room % 24 + 101},88.00,,开发商,")
        room += 1
    apply_rows(compound, parse_roster("\n".join(lines).encode()), "bench")
    round_ = Round(compound_id=compound.id, number=3, kind=RoundKind.VOTE, state=RoundState.DRAFT)
    db.session.add(round_)
    db.session.flush()
    add_standard_questions(round_, "bench", now)
    round_.state = RoundState.CLOSED
    db.session.flush()
    owner_ids = db.session.scalars(
        select(Owner.id).where(Owner.compound_id == compound.id).join(Dwelling).distinct()
    ).all()
    ballots = []
    for owner_id in owner_ids:
        if rng.random() >= 0.8:
            continue
        receipt = BallotReceipt(
            round_id=round_.id, code=new_receipt_code(), channel=Channel.ONLINE, created_at=now
        )
        db.session.add(receipt)
        db.session.flush()
        for question in questions_for(round_, owner_id):
            choice = (
                rng.choice(["yes", "yes", "yes", "no", "abstain"])
                if question.kind.value == "yes_no"
                else rng.choice(["company", "self_management", "other_manager", "abstain"])
            )
            ballots.append(
                {
                    "round_id": round_.id,
                    "question_id": question.id,
                    "owner_id": owner_id,
                    "choice": choice,
                    "channel": Channel.ONLINE,
                    "cast_at": now,
                    "recorded_at": now,
                    "actor": "bench",
                    "receipt_id": receipt.id,
                    "active": True,
                }
            )
    db.session.execute(insert(Ballot), ballots)
    db.session.commit()
    return round_, len(owner_ids), len(ballots)


_QUESTION_CACHE: dict[int, Any] = {}


def questions_for(round_: Any, owner_id: int) -> list[Any]:
    """``owner_questions`` without a query per owner (the bench's data building only)."""
    from consult.voting.services import holdings
    from consult.voting.services import in_scope
    from consult.voting.services import questions_of

    if round_.id not in _QUESTION_CACHE:
        held: dict[int, list[Any]] = {}
        for h in holdings(round_.compound_id):
            held.setdefault(h.owner_id, []).append(h)
        _QUESTION_CACHE[round_.id] = (questions_of(round_), held)
    questions, held = _QUESTION_CACHE[round_.id]
    return [q for q in questions if any(in_scope(q, h) for h in held.get(owner_id, []))]


# --- the client


class Resident:
    def __init__(self, host: str, token: str, round_id: int) -> None:
        self.host = host
        self.cookie = ""
        status, _page = self.request("GET", f"/r/{token}")
        assert status == 302, status
        status, page = self.request("GET", f"/me/vote/{round_id}")
        assert status == 200, status
        self.csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        self.fields = sorted(set(re.findall(r'name="(q\d+)"[^>]*type="radio" value="([a-z_]+)"', page)))

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> tuple[int, str]:
        return fetch(self.host, method, path, body, self.cookie, self)

    def ballot(self, n: int) -> dict[str, str]:
        by_field: dict[str, list[str]] = {}
        for field, value in self.fields:
            by_field.setdefault(field, []).append(value)
        return {"csrf_token": self.csrf, **{f: values[n % len(values)] for f, values in by_field.items()}}


def fetch(
    host: str, method: str, path: str, body: dict[str, str] | None = None, cookie: str = "", keep: Any = None
) -> tuple[int, str]:
    conn = http.client.HTTPConnection(host, timeout=60)
    headers = {"Cookie": cookie} if cookie else {}
    data = None
    if body is not None:
        data = urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    if keep is not None and response.getheader("Set-Cookie"):
        keep.cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    return response.status, text


def measure(name: str, calls: list[Any], clients: int, expect: int) -> float:
    """Requests per second over ``calls`` sent from ``clients`` threads; every answer must be ``expect``."""
    statuses: list[int] = []
    lock = threading.Lock()

    def run(call: Any) -> None:
        status = call()
        with lock:
            statuses.append(status)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(run, calls))
    elapsed = time.perf_counter() - started
    wrong = [s for s in statuses if s != expect]
    if wrong:
        raise SystemExit(f"{name}: {len(wrong)} answers were not {expect}: {sorted(set(wrong))}")
    return len(calls) / elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--requests", type=int, default=600, help="requests per round (default 600)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per endpoint; the median counts (3)")
    parser.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--residents", type=int, default=100, help="signed-in residents sending requests")
    parser.add_argument(
        "--owners", type=int, default=2000, help="owners of the compound counted (default 2000)"
    )
    args = parser.parse_args()

    from consult import create_app
    from consult.extensions import db
    from consult.voting.services import count_round
    from consult.voting.services import register_with_engine

    tmp = None
    url = os.environ.get("DATABASE_URL")
    if not url:
        tmp = tempfile.mkdtemp(prefix="tongxin-bench-")
        url = f"sqlite:///{tmp}/bench.sqlite"
    register_with_engine()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "MAIL_BACKEND": "memory"})
    with app.app_context():
        db.create_all()
        round_id, tokens = build_load_compound(args.residents)
        db.session.remove()
        db.engine.dispose()

    port = free_port()
    host = f"127.0.0.1:{port}"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "--chdir",
            str(ROOT / "bench"),
            "--workers",
            str(args.workers),
            "--bind",
            host,
            "--log-level",
            "warning",
            "vote_throughput:serve_app()",
        ],
        env={**os.environ, "BENCH_DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
    )
    try:
        for _attempt in range(100):
            try:
                if fetch(host, "GET", "/bare/hello")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        residents = [Resident(host, token, round_id) for token in tokens]
        n = args.requests

        def bare() -> int:
            return fetch(host, "GET", "/bare/hello")[0]

        def home(i: int, prefix: str = "") -> Any:
            return lambda: fetch(host, "GET", f"{prefix}/me", cookie=residents[i % len(residents)].cookie)[0]

        def vote(i: int) -> Any:
            resident = residents[i % len(residents)]
            return lambda: fetch(host, "POST", f"/me/vote/{round_id}", resident.ballot(i), resident.cookie)[0]

        # each resident opens their home page a few times first: every worker holds it (the workers share
        # the connections at random)
        warm = [home(i) for i in range(len(residents) * 4 * args.workers)]
        measure("warm-up", [bare] * 50 + [home(i, "/rendered") for i in range(50)] + warm, args.clients, 200)
        samples: dict[str, list[float]] = {"bare": [], "home": [], "home, rendered": [], "vote": []}
        for _round in range(args.rounds):  # the home pages first: a vote renders its voter's afresh
            samples["bare"].append(measure("bare", [bare] * n, args.clients, 200))
            samples["home"].append(measure("home", [home(i) for i in range(n)], args.clients, 200))
            rendered = [home(i, "/rendered") for i in range(n)]
            samples["home, rendered"].append(measure("home", rendered, args.clients, 200))
        measure("warm-up", [vote(i) for i in range(50)], args.clients, 302)
        for _round in range(args.rounds):
            samples["bare"].append(measure("bare", [bare] * n, args.clients, 200))
            samples["vote"].append(measure("vote", [vote(i) for i in range(n)], args.clients, 302))
        rates = {name: statistics.median(values) for name, values in samples.items()}
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"database: {url.split('@')[-1]}; gunicorn {args.workers} sync workers; {args.clients} client threads"
    )
    print(f"median of {args.rounds} rounds of {n} requests each (bare: {2 * args.rounds} rounds)")
    print(f"{'endpoint':<15} {'req/s':>8} {'ratio':>6}  {'rounds, req/s':<28} target")
    targets = {"home": ">= 0.30", "vote": ">= 0.25"}
    for name, rate in rates.items():
        each = " ".join(f"{v:.0f}" for v in samples[name])
        print(f"{name:<15} {rate:>8.1f} {rate / rates['bare']:>6.2f}  {each:<28} {targets.get(name, '')}")

    with app.app_context():
        from consult.rounds.models import Round

        round_, owners, ballots = build_tally_compound(args.owners)
        round_id = round_.id
        db.session.remove()
        gc.collect()
        gc.freeze()  # a worker counts with its start-up objects frozen (wsgi.py), not this bench's heap
        times = []
        for _run in range(5):
            db.session.remove()
            started = time.perf_counter()
            results = count_round(db.session.get(Round, round_id))
            times.append(time.perf_counter() - started)
        passed = sum(r.outcome.passed for r in results)
        print(
            f"count_round: {owners} owners, {len(results)} questions, {ballots} ballots:"
            f" median {statistics.median(times) * 1000:.1f} ms (min {min(times) * 1000:.1f} ms;"
            f" target < 200 ms); {passed} questions passed"
        )
        db.session.remove()
        db.engine.dispose()
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
