"""Many ballots of one owner at the same instant, through a real threaded server: exactly one counts, every
one is kept in the history, and no request fails. On an SQLite file, and on PostgreSQL when DATABASE_URL
names one."""

from __future__ import annotations

import http.client
import os
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.serving import make_server

from consult import create_app
from consult.auth.models import Role
from consult.auth.models import User
from consult.auth.services import create_user as create_account
from consult.compounds.models import Compound
from consult.compounds.models import Owner
from consult.db import utcnow
from consult.errors import NotFound
from consult.extensions import db
from consult.roster.services import RosterFrozen
from consult.roster.services import apply_staged
from consult.roster.services import stage_upload
from consult.rounds.models import Round
from consult.rounds.rules import Action
from consult.rounds.services import apply
from consult.voting import services
from consult.voting.models import Ballot
from consult.voting.models import BallotReceipt
from consult.voting.models import PaperSheet
from consult.voting.models import Proxy
from tests.conftest import PASSWORD
from tests.conftest import empty_database
from tests.voting.conftest import ROSTER
from tests.voting.conftest import jpeg_with_exif
from tests.voting.scenario import build_vote

SUBMISSIONS = 100
DATABASES = ["sqlite-file", "postgresql"]


@pytest.fixture(params=DATABASES)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Flask, str]]:
    """The app on its own database, served by werkzeug with a thread per request, as in production."""
    tmp = None
    if request.param == "postgresql":
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith("postgres"):
            pytest.skip("DATABASE_URL does not name a PostgreSQL database")
    else:
        tmp = tempfile.mkdtemp(prefix="tongxin-concurrency-")
        url = f"sqlite:///{tmp}/vote.sqlite"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "concurrency",
            "MAIL_BACKEND": "memory",
            "TESTING": False,
        }
    )
    services.register_with_engine()  # before the first connection: WAL and a busy timeout on SQLite
    with app.app_context():
        db.create_all()
        empty_database()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        empty_database()
        db.engine.dispose()
    if tmp:
        for path in Path(tmp).iterdir():
            path.unlink()
        os.rmdir(tmp)


class Browser:
    """Just enough of a browser: one cookie jar, one request per connection."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.cookie = ""

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection(self.host, timeout=120)
        headers = {"Cookie": self.cookie, "Accept-Language": "en"}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        conn.close()
        cookie = response.getheader("Set-Cookie")
        if cookie and self is not None:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, text


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert found, "no CSRF token on the page"
    return found.group(1)


def test_simultaneous_ballots_of_one_owner_leave_exactly_one_counting(served):
    app, host = served
    with app.app_context():
        scenario = build_vote()
        round_id, compound_id = scenario.round.id, scenario.compound.id
        owner_id = scenario.cards["张伟"].person.owner.id
        questions = services.owner_questions(scenario.round, owner_id)
        token = scenario.cards["张伟"].token
    browser = Browser(host)
    assert browser.request("GET", f"/r/{token}")[0] == 302
    status, page = browser.request("GET", f"/me/vote/{round_id}")
    assert status == 200
    form = {"csrf_token": csrf_token(page)}
    cookie = browser.cookie

    statuses: list[int] = []
    start = threading.Barrier(SUBMISSIONS)

    def submit(n: int) -> None:
        mine = Browser(host)
        mine.cookie = cookie
        choice = "yes" if n % 2 else "no"
        body = {**form, **{f"q{q.id}": choice if q.kind.value == "yes_no" else "company" for q in questions}}
        start.wait()
        try:
            code, _page = mine.request("POST", f"/me/vote/{round_id}", body)
        except OSError:
            code = 0
        statuses.append(code)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(SUBMISSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)

    assert Counter(statuses) == {302: SUBMISSIONS}  # every ballot was taken: no 5xx, no refusal
    with app.app_context():
        active = db.session.execute(
            select(Ballot.question_id, func.count())
            .where(Ballot.owner_id == owner_id, Ballot.active.is_(True))
            .group_by(Ballot.question_id)
        ).all()
        assert sorted(n for _q, n in active) == [1] * len(questions)
        total = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.owner_id == owner_id))
        assert total == SUBMISSIONS * len(questions)  # every act kept
        receipts = db.session.scalar(
            select(func.count()).select_from(BallotReceipt).where(BallotReceipt.round_id == round_id)
        )
        assert receipts == SUBMISSIONS
        # the one counting is the last recorded, and each row names the one it replaced: one chain
        rows = db.session.scalars(
            select(Ballot)
            .where(Ballot.owner_id == owner_id, Ballot.question_id == questions[0].id)
            .order_by(Ballot.id)
        ).all()
        assert [b.active for b in rows] == [False] * (SUBMISSIONS - 1) + [True]
        assert [b.supersedes_id for b in rows] == [None, *[b.id for b in rows[:-1]]]
        assert db.session.get(Owner, owner_id).compound_id == compound_id


STARTERS = 6


def test_workers_starting_one_owners_paper_ballot_at_once_make_one_sheet(served, tmp_path):
    """Several workers start a "new" paper ballot for the same owner at the same instant (the paper
    waiting for its second entry): one sheet is made, every other worker is told of it and nothing else
    is written."""
    app, _host = served
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context():
        scenario = build_vote()
        round_id = scenario.round.id
        owner_id = scenario.cards["李娜"].person.owner.id
        day = scenario.round.opens_at.astimezone(services.local_zone()).date()
        choices = {
            q.id: "yes" if q.kind.value == "yes_no" else "company"
            for q in services.owner_questions(scenario.round, owner_id)
        }
        user_ids = [
            create_account(
                f"w{n}@example.test",
                f"工作人员{n}",
                PASSWORD,
                Role.WORKER,
                scenario.compound.street,
            ).id
            for n in range(STARTERS)
        ]
        db.session.commit()

    outcomes: list[str] = []
    start = threading.Barrier(STARTERS)

    def begin(user_id: int) -> None:
        with app.app_context():
            round_ = db.session.get(Round, round_id)
            owner = db.session.get(Owner, owner_id)
            worker = db.session.get(User, user_id)
            start.wait()
            try:
                services.enter_paper(
                    round_, owner, services.PaperValues(day, choices), jpeg_with_exif(), worker, utcnow()
                )
                db.session.commit()
                outcomes.append("made")
            except services.PaperPending:
                db.session.rollback()
                outcomes.append("pending")
            except Exception as error:
                db.session.rollback()
                outcomes.append(repr(error))

    threads = [threading.Thread(target=begin, args=(u,)) for u in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert Counter(outcomes) == {"made": 1, "pending": STARTERS - 1}, outcomes
    with app.app_context():
        sheets = db.session.scalars(select(PaperSheet).where(PaperSheet.owner_id == owner_id)).all()
        assert len(sheets) == 1
        assert len(sheets[0].entries) == 1
        assert len(list((tmp_path / "uploads").iterdir())) == 1


RECORDERS = 4


@pytest.mark.parametrize("case", ["named-proxy", "owner-proxy", "one-giver"])
def test_workers_recording_authorities_at_once_keep_the_limits(served, tmp_path, case):
    """Several workers record authorities at the same instant: of different owners for the same proxy
    (a person named on the paper, or an owner of the compound), or of one owner for different people.
    One is recorded (a proxy acts for one owner, an owner has one proxy), every other worker is refused
    with the reason, and nothing fails."""
    app, _host = served
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with app.app_context():
        scenario = build_vote()
        round_id = scenario.round.id
        people = ("李娜", "陈秀英", "周建国", "开发商")
        if case == "one-giver":
            people = ("李娜",) * RECORDERS
        givers = [scenario.cards[name].person.owner.id for name in people]
        proxy_owner_id = scenario.cards["张伟"].person.owner.id

    outcomes: list[str] = []
    start = threading.Barrier(RECORDERS)

    def record(n: int, owner_id: int) -> None:
        with app.app_context():
            round_ = db.session.get(Round, round_id)
            owner = db.session.get(Owner, owner_id)
            proxy_owner = db.session.get(Owner, proxy_owner_id) if case == "owner-proxy" else None
            name = f"王小明{n}" if case == "one-giver" else "王小明"
            photo = jpeg_with_exif()
            start.wait()
            try:
                services.record_proxy(
                    round_,
                    owner,
                    proxy_owner=proxy_owner,
                    proxy_name="" if proxy_owner else name,
                    photo=photo,
                    actor="user:1",
                    now=utcnow(),
                )
                db.session.commit()
                outcomes.append("recorded")
            except services.ProxyRefused:
                db.session.rollback()
                outcomes.append("refused")
            except Exception as error:
                db.session.rollback()
                outcomes.append(repr(error))

    threads = [threading.Thread(target=record, args=(n, o)) for n, o in enumerate(givers[:RECORDERS])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert Counter(outcomes) == {"recorded": 1, "refused": RECORDERS - 1}, outcomes
    with app.app_context():
        live = db.session.scalars(
            select(Proxy).where(Proxy.round_id == round_id, Proxy.revoked_at.is_(None))
        ).all()
        assert len(live) == 1


CLICKS = 4


def test_confirming_one_roster_upload_several_times_at_once_applies_it_once(served):
    """A worker clicks "Confirm the import" several times (or two workers confirm the same upload): the
    upload is applied once, every other confirmation finds it no longer waiting, and nothing fails."""
    app, _host = served
    with app.app_context():
        scenario = build_vote(open_now=False)
        compound_id = scenario.compound.id
        data = (ROSTER.replace("李娜", "李强") + "3,1,101,50.00,赵敏,,,业主,\n").encode()
        staged, _plan = stage_upload(scenario.compound, data, "名册.csv", None)
        db.session.commit()
        staged_id = staged.id

    outcomes: list[str] = []
    start = threading.Barrier(CLICKS)

    def confirm() -> None:
        with app.app_context():
            compound = db.session.get(Compound, compound_id)
            start.wait()
            try:
                apply_staged(compound, staged_id, "user:1")
                db.session.commit()
                outcomes.append("applied")
            except NotFound:
                db.session.rollback()
                outcomes.append("not waiting")
            except Exception as error:
                db.session.rollback()
                outcomes.append(repr(error))

    threads = [threading.Thread(target=confirm) for _ in range(CLICKS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert Counter(outcomes) == {"applied": 1, "not waiting": CLICKS - 1}, outcomes
    with app.app_context():
        owners = db.session.scalars(select(Owner).where(Owner.compound_id == compound_id)).all()
        assert sorted(o.name for o in owners) == sorted(
            ["张伟", "李强", "陈秀英", "开发商", "周建国", "赵敏"]
        )
        assert all(o.dwellings for o in owners)


def test_a_roster_confirmed_while_the_vote_opens_is_refused_or_lands_before_it(served):
    """A worker confirms a roster upload while another opens the vote: the vote opens first and the import
    is refused (the roster is frozen), never applied after the vote opened."""
    app, _host = served
    with app.app_context():
        scenario = build_vote(open_now=False)
        compound_id, round_id = scenario.compound.id, scenario.round.id
        data = (ROSTER + "3,1,101,50.00,赵敏,,,业主,\n").encode()
        staged, _plan = stage_upload(scenario.compound, data, "名册.csv", None)
        db.session.commit()
        staged_id = staged.id

    opened = threading.Event()
    outcome: list[str] = []

    def confirm() -> None:
        with app.app_context():
            compound = db.session.get(Compound, compound_id)
            opened.wait(timeout=30)
            try:
                apply_staged(compound, staged_id, "user:1")
                db.session.commit()
                outcome.append("applied")
            except RosterFrozen:
                db.session.rollback()
                outcome.append("frozen")
            except Exception as error:
                db.session.rollback()
                outcome.append(repr(error))

    thread = threading.Thread(target=confirm)
    thread.start()
    with app.app_context():
        vote = db.session.get(Round, round_id)
        apply(vote, Action.OPEN, "test", utcnow())
        db.session.flush()  # the vote is opening: not yet committed when the import runs
        opened.set()
        thread.join(timeout=1)  # the import waits for the opening (or, wrongly, goes ahead)
        db.session.commit()
    thread.join(timeout=60)

    assert outcome == ["frozen"]
    with app.app_context():
        assert not db.session.scalars(select(Owner).where(Owner.name == "赵敏")).all()
