"""How long a request for a new-password link takes with and without an account at the address.

    .venv/bin/python bench/reset_timing.py [--requests 300]     # SQLite; DATABASE_URL=… for PostgreSQL

The answer is the same either way; this measures whether its time tells the two apart. Requests go
through the test client (in-process, no HTTP server), in alternation: one for the address of an account,
one for an address no account has, ``--requests`` of each after a warm-up, and the medians are printed.
Use a scratch PostgreSQL database: the audit log is append-only, so the bench's rows stay.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consult import create_app
from consult.auth.models import Role
from consult.auth.services import create_user
from consult.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='tongxin-reset-')}/r.sqlite"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret-of-some-length",
            "MAIL_BACKEND": "memory",
            "RESET_LIMIT": "1000000 per hour",
            "WTF_CSRF_ENABLED": False,
        }
    )
    known = f"known-{os.getpid()}@example.test"
    with app.app_context():
        db.create_all()
        create_user(known, "王五", "long enough pw", Role.ADMIN)
        db.session.commit()
    client = app.test_client()

    def timed(address: str) -> float:
        started = time.perf_counter()
        assert client.post("/auth/reset", data={"email": address}).status_code == 302
        return time.perf_counter() - started

    for n in range(args.requests // 10):
        timed(known)
        timed(f"warm-{n}@example.test")
    with_account, without = [], []
    for n in range(args.requests):
        with_account.append(timed(known))
        without.append(timed(f"nobody-{os.getpid()}-{n}@example.test"))
    a, b = statistics.median(with_account) * 1000, statistics.median(without) * 1000
    print(f"database: {url.split('@')[-1]}; {args.requests} requests each, medians")
    print(f"an account has the address  {a:6.2f} ms")
    print(f"no account has it           {b:6.2f} ms")
    print(f"difference                  {a - b:6.2f} ms")


if __name__ == "__main__":
    main()
