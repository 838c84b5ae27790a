"""CPU time and SQL statements per request, in-process, of the pages behind the throughput figures.

    .venv/bin/python bench/page_costs.py [--requests 300]     # SQLite; DATABASE_URL=… for PostgreSQL

Where ``bench/vote_throughput.py`` says how many requests a second gunicorn serves, this says where a
request's time goes, without HTTP: a bare Flask view, the simplest page of the app (the code form), the
resident home and a whole ballot (``POST /me/vote/<round>``), each sent ``--requests`` times through the
test client by 10 signed-in residents of the bench's compound, after a warm-up. CPU time
(``time.process_time``) is less disturbed than wall time by other work on the machine; a vote's durable
commit waits on the disk, which CPU time does not show.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import vote_throughput
from flask import Flask
from sqlalchemy import event

from consult import create_app
from consult.extensions import db
from consult.voting import services as voting_services
from consult.voting import views as voting_views
from consult.voting.services import register_with_engine


def cost(send: Callable[[int], Any], n: int, statements: list[int]) -> tuple[float, float]:
    """(CPU ms per request, statements per request) over ``n`` requests after ``n // 10`` of warm-up."""
    for i in range(n // 10):
        send(i)
    statements[0] = 0
    started = time.process_time()
    for i in range(n):
        send(i)
    return (time.process_time() - started) / n * 1000, statements[0] / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='tongxin-costs-')}/b.sqlite"
    register_with_engine()
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": vote_throughput.SECRET, "MAIL_BACKEND": "memory"}
    )
    statements = [0]
    with app.app_context():
        db.create_all()
        round_id, tokens = vote_throughput.build_load_compound(20)
        db.session.remove()

        def count(*_args: Any) -> None:
            statements[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)

    residents = []
    for token in tokens[:10]:
        client = app.test_client()
        assert client.get(f"/r/{token}").status_code == 302
        page = client.get(f"/me/vote/{round_id}").get_data(as_text=True)
        fields = sorted(set(re.findall(r'name="(q\d+)"[^>]*type="radio" value="([a-z_]+)"', page)))
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert csrf is not None
        choices: dict[str, list[str]] = {}
        for field, value in fields:
            choices.setdefault(field, []).append(value)
        residents.append((client, csrf.group(1), choices))

    def get(path: str) -> Callable[[int], Any]:
        def send(i: int) -> None:
            assert residents[i % len(residents)][0].get(path).status_code == 200

        return send

    def vote(i: int) -> None:
        client, csrf, choices = residents[i % len(residents)]
        ballot = {"csrf_token": csrf, **{f: values[i % len(values)] for f, values in choices.items()}}
        cookie = client.get_cookie("session")
        assert cookie is not None
        assert client.post(f"/me/vote/{round_id}", data=ballot).status_code == 302
        # as the throughput bench's client does: the cookie answered (with "vote saved" to show on the
        # next page) is not kept, so that messages do not pile up in the session
        client.set_cookie("session", cookie.value)

    bare = Flask("hello")
    bare.add_url_rule("/hello", "hello", lambda: "hello")
    bare_client = bare.test_client()

    rows = {
        "bare Flask view": cost(lambda i: bare_client.get("/hello"), args.requests, [0]),
        "code form (GET /code)": cost(get("/code"), args.requests, statements),
        "resident home, kept (GET /me)": cost(get("/me"), args.requests, statements),
    }
    app.config["RESIDENT_PAGE_CACHE"] = 0
    app.extensions.pop("resident_pages", None)
    rows["resident home, rendered"] = cost(get("/me"), args.requests, statements)
    phases = BallotPhases()
    rows["whole ballot (POST /me/vote)"] = cost(vote, args.requests, statements)
    print(f"database: {url.split('@')[-1]}; {args.requests} requests each")
    print(f"{'request':<30} {'CPU ms':>7} {'SQL':>5}")
    for name, (ms, sql) in rows.items():
        print(f"{name:<30} {ms:>7.2f} {sql:>5.1f}")
    print("\nwhere a ballot's CPU time goes (ms per ballot; nested steps are part of those above them)")
    for name, ms in phases.per_request(args.requests + args.requests // 10):
        print(f"  {name:<40} {ms:>6.2f}")


class BallotPhases:
    """CPU time spent in the steps of a ballot, by wrapping the functions the view and service call."""

    STEPS = (
        (voting_views, "commit_with_retry", "cast and commit"),
        (voting_services, "cast_online", "  cast_online"),
        (voting_services, "_record_acts", "    the ballots (read, replace, insert)"),
        (voting_services, "record", "    the audit entry"),
        (voting_services, "prepare_to", "    the receipt e-mail, rendered"),
        (voting_services, "issue_receipt", "    the receipt"),
        (voting_services, "_lock_owner", "    the owner's lock"),
        (voting_services, "settings_of", "    the compound's settings"),
        (voting_views, "ballot_form", "the form, built and checked"),
        (voting_services, "owner_questions", "the owner's questions"),
        (voting_views, "has_acknowledged_privacy", "the privacy notice read?"),
    )

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        for module, name, label in self.STEPS:
            setattr(module, name, self._timed(getattr(module, name), label))

    def _timed(self, function: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.process_time() - started

        return timed

    def per_request(self, n: int) -> list[tuple[str, float]]:
        return [(label, self.spent.get(label, 0.0) / n * 1000) for _m, _n, label in self.STEPS]


if __name__ == "__main__":
    main()
