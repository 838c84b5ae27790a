"""Two workers, each keeping its own home pages, on one database: a ballot cast through one worker is on
the home page the other serves next, and a neighbour's ballot leaves it kept. Through real servers, on an
SQLite file and on PostgreSQL when DATABASE_URL names one."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event
from werkzeug.serving import make_server

from consult import create_app
from consult.extensions import db
from consult.voting import services
from tests.conftest import empty_database
from tests.voting.scenario import build_vote
from tests.voting.test_concurrency import DATABASES
from tests.voting.test_concurrency import Browser
from tests.voting.test_concurrency import csrf_token

VOTE_LINK = "Vote on the renovation plan (round 3)"


def open_now(page: str) -> str:
    return page.split("Open for you now", 1)[1].split("What you have answered", 1)[0]


@pytest.fixture(params=DATABASES)
def workers(request: pytest.FixtureRequest) -> Iterator[tuple[list[Flask], list[str]]]:
    """Two apps (two page caches, as two gunicorn workers have) served on one database."""
    tmp = None
    if request.param == "postgresql":
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith("postgres"):
            pytest.skip("DATABASE_URL does not name a PostgreSQL database")
    else:
        tmp = tempfile.mkdtemp(prefix="tongxin-workers-")
        url = f"sqlite:///{tmp}/pages.sqlite"
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "workers", "MAIL_BACKEND": "memory"}
    apps = [create_app({**config, "TESTING": False}) for _worker in range(2)]
    services.register_with_engine()
    with apps[0].app_context():
        db.create_all()
        empty_database()
    servers = [make_server("127.0.0.1", 0, app, threaded=True) for app in apps]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    yield apps, [f"127.0.0.1:{s.server_port}" for s in servers]
    for server in servers:
        server.shutdown()
    for thread in threads:
        thread.join(timeout=10)
    with apps[0].app_context():
        empty_database()
    for app in apps:
        with app.app_context():
            db.engine.dispose()
    if tmp:
        for path in Path(tmp).iterdir():
            path.unlink()
        os.rmdir(tmp)


def ballot(round_, owner_id: int) -> dict[str, str]:
    return {
        f"q{q.id}": "yes" if q.kind.value == "yes_no" else "company"
        for q in services.owner_questions(round_, owner_id)
    }


def at(browser: Browser, host: str) -> Browser:
    """The same browser (its cookie) talking to another worker."""
    other = Browser(host)
    other.cookie = browser.cookie
    return other


def test_a_ballot_through_one_worker_shows_on_the_others_kept_page(workers):
    (app, other), (first, second) = workers
    statements: list[str] = []
    with other.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: statements.append(sql))
    with app.app_context():
        scenario = build_vote()
        round_id = scenario.round.id
        owner = scenario.cards["张伟"].person.owner
        choices = ballot(scenario.round, owner.id)
        neighbours = ballot(scenario.round, scenario.cards["李娜"].person.owner.id)
        mine, neighbour = scenario.cards["张伟"].token, scenario.cards["李娜"].token
    me, them = Browser(first), Browser(first)
    assert me.request("GET", f"/r/{mine}")[0] == 302
    assert them.request("GET", f"/r/{neighbour}")[0] == 302
    for browser in (me, at(me, second)):  # each worker makes the page, then keeps it
        for _again in range(2):
            status, page = browser.request("GET", "/me")
            assert status == 200
            assert VOTE_LINK in open_now(page)
    kept = at(me, second).request("GET", "/me")[1]

    # a neighbour votes through the first worker: the second still serves the kept page
    status, form = them.request("GET", f"/me/vote/{round_id}")
    assert status == 200
    assert (
        them.request("POST", f"/me/vote/{round_id}", {"csrf_token": csrf_token(form), **neighbours})[0] == 302
    )
    statements.clear()
    assert at(me, second).request("GET", "/me")[1] == kept
    assert len(statements) == 1  # the card's check: the page itself was kept

    # I vote through the first worker: the second worker's next page shows it
    status, form = me.request("GET", f"/me/vote/{round_id}")
    assert me.request("POST", f"/me/vote/{round_id}", {"csrf_token": csrf_token(form), **choices})[0] == 302
    me.request("GET", "/me")  # the "vote saved" message is shown once
    page = at(me, second).request("GET", "/me")[1]
    assert VOTE_LINK not in open_now(page)
    assert VOTE_LINK in page.split("What you have answered", 1)[1]
